"""The terminal channel: `mailhelp chat`. Buttons become numbered choices.

Interactive on a terminal; otherwise it reads one message per line and prints the
replies to each, so a conversation can be scripted. It only translates: typed lines into
events, replies into text. The live check action runs the real check.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TextIO

from bot.check import CheckPolicy, CheckRefused, check_report
from bot.check.report import refusal_text, render_findings, render_table
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
    """The live check of a target, as the chat shows it."""
    try:
        report = asyncio.run(check_report(target, CheckPolicy()))
    except CheckRefused as refused:
        return refusal_text(refused, lang)
    return render_table(report) + "\n\n" + render_findings(report, lang)


def chat(conversations: Conversations, lang: str | None, stdin: TextIO, stdout: TextIO,
         interactive: bool, check: Callable[[str, str], str] = live_check) -> int:
    """Run one conversation until end of input or /quit."""
    session_id, replies = conversations.open(lang=lang)
    buttons = _show(replies, stdout, check)
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
        buttons = _show(replies, stdout, check)


def _show(replies: tuple[Reply, ...], out: TextIO,
          check: Callable[[str, str], str]) -> tuple[Button, ...]:
    for reply in replies:
        out.write(render(reply) + "\n\n")
        for action in reply.actions:
            if action.kind == "check" and action.target:
                out.write(check(action.target, action.lang) + "\n\n")
    out.flush()
    return replies[-1].buttons if replies else ()
