"""Render knowledge for a person: a topic's answer and a provider's settings, in one language.

Plain text with numbered steps: the terminal prints it as is, and every channel can
show it without markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import translations, translator
from bot.kb import Knowledge, Provider, Server, Topic

SECURITY_LABELS = {"ssl": "SSL/TLS", "starttls": "STARTTLS", "none": "—"}


@dataclass(frozen=True)
class Settings:
    """A provider's settings for one address, as `mailhelp settings --json` prints them."""

    address: str
    provider: Provider | None
    servers: tuple[Server, ...]
    username: str | None

    def as_json(self, lang: str = "en") -> dict[str, object]:
        p = self.provider
        return {
            "address": self.address,
            "provider": p.id if p else None,
            "name": p.name if p else None,
            "servers": [
                {"protocol": s.protocol, "host": s.host, "port": s.port, "security": s.security}
                for s in self.servers
            ],
            "username": self.username,
            "notes": provider_notes(p, lang) if p else [],
        }


def settings_for(knowledge: Knowledge, address: str) -> Settings:
    """The settings for an address (or a bare domain); no provider when the domain is unknown."""
    address = address.strip()
    domain = address.rpartition("@")[2].lower()
    provider = knowledge.provider_for_domain(domain) if domain else None
    if provider is None:
        return Settings(address, None, (), None)
    return provider_settings(provider, address)


def provider_settings(provider: Provider, address: str = "") -> Settings:
    """A provider's settings for an address (or bare domain); without one, for its first
    domain (host templates stay as written when it has none)."""
    domain = address.rpartition("@")[2].lower()
    if not domain:
        domain = provider.domains[0] if provider.domains else "{domain}"
    login = provider.login_for(address) if "@" in address else None
    return Settings(address or provider.name, provider, provider.servers_for(domain), login)


def provider_notes(provider: Provider, lang: str) -> list[str]:
    """Everything a person should know besides host and port, in one language."""
    _ = translator(lang)
    notes = [provider.closed[lang]] if provider.closed else []
    if provider.app_password == "always":
        notes.append(_("Mail programs need an app password, not your usual password."))
    elif provider.app_password == "with_2fa":
        notes.append(_("With two-step verification on, mail programs need an app password."))
    if provider.app_password != "never" and provider.app_password_url:
        notes.append(_("Create an app password here: {url}").format(url=provider.app_password_url))
    if provider.enable:
        notes.append(_("First switch IMAP/POP3 access on: {where}").format(
            where=provider.enable[lang]))
    notes += [note[lang] for note in provider.notes]
    notes += [_("Dated, not recommended: {text}").format(text=note[lang])
              for note in provider.legacy]
    return notes


def render_settings(settings: Settings, lang: str, with_notes: bool = True) -> str:
    _ = translator(lang)
    p = settings.provider
    if p is None:
        return _(
            "I do not know the mail settings for {address}. Ask the mail provider, or run "
            "the live check to see which mail ports the server answers on: "
            "mailhelp check {domain}"
        ).format(address=settings.address, domain=settings.address.rpartition("@")[2])
    lines = [p.name if settings.address == p.name else f"{p.name} ({settings.address})"]
    if p.closed:  # no servers to show: the closure notice is the whole answer
        return "\n".join([*lines, p.closed[lang]])
    width = max(len(s.host) for s in settings.servers)
    for s in settings.servers:
        lines.append(f"  {s.protocol.upper():5} {s.host:{width}}  {s.port:>5}  "
                     f"{SECURITY_LABELS[s.security]}")
    if settings.username:
        lines.append(_("Login: {login}").format(login=settings.username))
    if with_notes:
        lines += [f"- {note}" for note in provider_notes(p, lang)]
        lines.append(_("Sources: {sources}").format(sources=", ".join(p.sources)))
    return "\n".join(lines)


def render_topic(topic: Topic, lang: str, provider: Provider | None) -> str:
    """A topic's title and numbered steps, the provider's variant when it has one."""
    catalog = translations(lang)
    lines = [topic.title[lang], ""]
    steps = topic.steps_for(lang, provider.id if provider else None)
    lines += [f"{i}. {step}" for i, step in enumerate(steps, 1)]
    if provider and topic.kind == "recovery" and (provider.trash_days or provider.spam_days):
        lines.append("")
        if provider.trash_days:
            lines.append(catalog.ngettext(
                "{name} keeps deleted letters for {days} day.",
                "{name} keeps deleted letters for {days} days.", provider.trash_days,
            ).format(name=provider.name, days=provider.trash_days))
        if provider.spam_days:
            lines.append(catalog.ngettext(
                "{name} keeps spam for {days} day.",
                "{name} keeps spam for {days} days.", provider.spam_days,
            ).format(name=provider.name, days=provider.spam_days))
    return "\n".join(lines)
