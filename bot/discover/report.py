"""Settings for any address: the knowledge base first, discovery for other domains; shown.

`settings_with_discovery` gives the `mailhelp settings --discover --json` object (the
settings contract plus `source` and the steps); `render_discovered` the same for a
person to read.
"""

from __future__ import annotations

from typing import Any

from bot.answer import SECURITY_LABELS, provider_notes, settings_for
from bot.check.errors import CheckRefused
from bot.check.messages import catalogue as check_messages
from bot.discover.discovery import Discoverer, Discovery, Step
from bot.discover.found import domain_of
from bot.discover.texts import text
from bot.kb import Server


async def settings_with_discovery(discoverer: Discoverer, text: str,
                                  lang: str) -> dict[str, Any]:
    """The settings object for an address (or a bare domain), with `source` and `steps`;
    CheckRefused when `text` is neither."""
    text = text.strip()
    known = settings_for(discoverer.knowledge, text)
    if known.provider is not None:
        return {**known.as_json(lang), "source": "knowledge", "steps": []}
    domain = domain_of(text)
    address = f"{text.rpartition('@')[0]}@{domain}" if "@" in text else domain
    discovery = await discoverer.discover(domain)
    return discovered_json(discoverer, address, discovery, lang)


def discovered_json(discoverer: Discoverer, address: str, discovery: Discovery,
                    lang: str) -> dict[str, Any]:
    found = discovery.found
    provider = discoverer.knowledge.providers.get(found.provider or "") if found else None
    servers: tuple[Server, ...] = found.servers if found else ()
    if provider is not None:
        username: str | None = provider.login_for(address) if "@" in address else None
        notes = provider_notes(provider, lang)
    else:
        username = address if "@" in address and found else None
        notes = []
    if found is not None:
        notes.insert(0, text("sources", found.source, lang, via=found.via,
                             name=found.name or ""))
    else:
        notes.append(text("ui", "nothing_found", lang, domain=discovery.domain))
    return {
        "address": address,
        "provider": provider.id if provider else None,
        "name": (found.name or (provider.name if provider else None)) if found else None,
        "servers": [{"protocol": s.protocol, "host": s.host, "port": s.port,
                     "security": s.security} for s in servers],
        "username": username,
        "notes": notes,
        "source": discovery.source,
        "steps": [{"step": s.source, "outcome": s.outcome, "code": s.code or None,
                   "detail": _detail(s, lang) or None} for s in discovery.steps],
    }


def _detail(step: Step, lang: str) -> str:
    """A refusal in the person's language (the check's texts); other details as they are."""
    if step.outcome == "refused":
        return check_messages().refusal(CheckRefused(step.code, **step.params), lang)
    return step.detail


def render_discovered(settings: dict[str, Any], lang: str) -> str:
    """The settings object as lines a person reads: servers, login, notes, steps."""
    lines: list[str] = []
    name = settings["name"]
    lines.append(f"{name} ({settings['address']})" if name else settings["address"])
    servers = settings["servers"]
    width = max((len(s["host"]) for s in servers), default=0)
    for s in servers:
        lines.append(f"  {s['protocol'].upper():5} {s['host']:{width}}  {s['port']:>5}  "
                     f"{SECURITY_LABELS[s['security']]}")
    if settings["username"]:
        lines.append(text("ui", "login", lang, login=settings["username"]))
    lines += [f"- {note}" for note in settings["notes"]]
    if settings["steps"]:
        lines.append(text("ui", "steps_heading", lang))
        for step in settings["steps"]:
            outcome = text("outcomes", step["outcome"], lang, detail=step["detail"] or "")
            lines.append(f"  {text('steps', step['step'], lang)}: {outcome}")
    return "\n".join(lines)


