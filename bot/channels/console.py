"""The terminal channel: `mailhelp chat`. Buttons become numbered choices.

Interactive on a terminal; otherwise it reads one message per line and prints the
replies to each, so a conversation can be scripted. It only translates: typed lines into
events, replies into text. The live check, discovery and domain check actions run for
real.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TextIO

from bot.channels.dns_actions import KINDS as DNS_KINDS
from bot.channels.dns_actions import DnsActions
from bot.check import CheckLimiter, CheckPolicy, CheckRefused, check_report
from bot.check.report import refusal_text, render_findings, render_table
from bot.check.results import CheckReport
from bot.config import load_config
from bot.conversation import Conversations, UnknownSession
from bot.dialog import Button, Event, Press, Reply, Text
from bot.events import parse_command

QUIT = ("/quit", "/exit")


def read_event(line: str, buttons: tuple[Button, ...]) -> Event:
    """A typed line as an event: a button number, a /command, or text."""
    line = line.strip()
    if line.isdigit() and 1 <= int(line) <= len(buttons):
        return Press(buttons[int(line) - 1].value)
    return parse_command(line) or Text(line)


def render(reply: Reply) -> str:
    lines = [reply.text] if reply.text else []
    lines += [f"  [{i}] {button.label}" for i, button in enumerate(reply.buttons, 1)]
    return "\n".join(lines)


def live_check(target: str, lang: str) -> str:
    """The live check of a target, as the chat shows it (an address on a domain the
    knowledge base does not know: its discovered servers)."""
    actions = _dns_actions()

    async def run() -> CheckReport:
        servers = await actions.check_servers(target, "local")
        return await check_report(target, actions.discoverer.policy, providers=servers,
                                  resolver=actions.check_resolver)

    try:
        report = asyncio.run(run())
    except CheckRefused as refused:
        return refusal_text(refused, lang)
    return render_table(report) + "\n\n" + render_findings(report, lang)


def dns_action(kind: str, target: str, lang: str) -> str:
    """Discovery or the domain check, as the chat shows it."""
    return asyncio.run(_dns_actions().reply(kind, target, lang, "local"))


def _dns_actions() -> DnsActions:
    """Discovery over MAILHELP_RESOLVER (else the system's) and the configured policy."""
    config = load_config()
    policy = CheckPolicy(allow_private=config.check_allow_private)
    return DnsActions.default(config.resolver, config.dnsbl, policy, CheckLimiter(policy))


def chat(conversations: Conversations, lang: str | None, stdin: TextIO, stdout: TextIO,
         interactive: bool, check: Callable[[str, str], str] = live_check,
         dns: Callable[[str, str, str], str] = dns_action) -> int:
    """Run one conversation until end of input or /quit."""
    session_id, replies = conversations.open(lang=lang)
    buttons = _show(replies, stdout, check, dns)
    while True:
        if interactive:
            stdout.write("> ")
            stdout.flush()
        line = stdin.readline()
        if not line or line.strip() in QUIT:
            return 0
        if not line.strip():
            continue
        if not interactive:
            stdout.write(f"> {line.strip()}\n")
        try:
            replies = conversations.send(session_id, read_event(line, buttons))
        except UnknownSession:
            session_id, replies = conversations.open(lang=lang)
        buttons = _show(replies, stdout, check, dns)


def _show(replies: tuple[Reply, ...], out: TextIO, check: Callable[[str, str], str],
          dns: Callable[[str, str, str], str]) -> tuple[Button, ...]:
    for reply in replies:
        out.write(render(reply) + "\n\n")
        for action in reply.actions:
            if action.kind == "check" and action.target:
                out.write(check(action.target, action.lang) + "\n\n")
            elif action.kind in DNS_KINDS and action.target:
                out.write(dns(action.kind, action.target, action.lang) + "\n\n")
    out.flush()
    return replies[-1].buttons if replies else ()
