"""How the bot's replies look in Telegram: HTML, message length, inline keyboards, ids.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence

from bot.dialog import Action, Button
from bot.kb import LANGS
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from telegram import User as TelegramUser

# Telegram takes at most 4096 characters (UTF-16 code units) of text once the HTML is
# parsed; the margin leaves room for the line breaks that join pieces.
log = logging.getLogger(__name__)
MAX_TEXT = 4000
MAX_CALLBACK_BYTES = 64
SHORT_LABEL = 14  # two buttons with labels at most this long share a row


def session_id(chat_id: int) -> str:
    return f"tg:{chat_id}"


def language_hint(user: TelegramUser | None) -> str | None:
    """The conversation language a Telegram user's interface suggests ("ru-RU" -> "ru")."""
    code = (user.language_code or "") if user else ""
    lang = code.split("-")[0].lower()
    return lang if lang in LANGS else None


def escape(text: str) -> str:
    """Text for parse_mode HTML: every <, > and & shown as itself."""
    return html.escape(text, quote=False)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` UTF-16 units, cut at line ends (inside a line only when it
    alone is too long); blank pieces are dropped, since Telegram refuses empty messages."""
    pieces: list[str] = []
    lines: list[str] = []
    size = 0
    for line in text.split("\n"):
        for part in _cut(line, limit):
            added = _units(part) + (1 if lines else 0)
            if lines and size + added > limit:
                pieces.append("\n".join(lines))
                lines, added = [], _units(part)
                size = 0
            lines.append(part)
            size += added
    pieces.append("\n".join(lines))
    return [piece.strip("\n") for piece in pieces if piece.strip()]


def keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """An inline keyboard: one button a row, two when both labels are short.

    A button whose value does not fit Telegram's 64-byte callback data is left out (and
    logged): Telegram would refuse the whole message otherwise.
    """
    rows: list[list[InlineKeyboardButton]] = []
    for button in buttons:
        size = len(button.value.encode("utf-8"))
        if not 0 < size <= MAX_CALLBACK_BYTES:
            # Neither label nor value is logged: either may carry an address.
            log.warning("a button left out: its value has %d bytes (Telegram takes 1-%d)",
                        size, MAX_CALLBACK_BYTES)
            continue
        shown = InlineKeyboardButton(button.label, callback_data=button.value)
        last = rows[-1] if rows else None
        if last is not None and len(last) == 1 and _short(last[0].text) and _short(button.label):
            last.append(shown)
        else:
            rows.append([shown])
    return InlineKeyboardMarkup(rows) if rows else None


def report_messages(head: str, table: str, findings: str, limit: int = MAX_TEXT) -> list[str]:
    """A finished check as HTML messages: the head, the table in <pre> blocks, the findings,
    packed into as few messages as the limit allows."""
    blocks = [(_units(head), escape(head))]
    blocks += [(_units(part), f"<pre>{escape(part)}</pre>") for part in split_text(table, limit)]
    blocks += [(_units(part), escape(part)) for part in split_text(findings, limit)]
    messages: list[str] = []
    sizes: list[int] = []
    for size, block in blocks:
        if messages and sizes[-1] + 2 + size <= limit:
            messages[-1] += "\n\n" + block
            sizes[-1] += 2 + size
        else:
            messages.append(block)
            sizes.append(size)
    return messages


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cut(line: str, limit: int) -> list[str]:
    if _units(line) <= limit:
        return [line]
    parts: list[str] = []
    start = size = 0
    for index, char in enumerate(line):
        width = 2 if ord(char) > 0xFFFF else 1
        if size + width > limit:
            parts.append(line[start:index])
            start, size = index, 0
        size += width
    parts.append(line[start:])
    return parts


def hand_over_text(chat_id: int, action: Action) -> str:
    """A hand-over for the agents' chat: which chat, its language, the masked transcript."""
    lines = [f"Hand-over from Telegram chat {chat_id} (language: {action.lang})"]
    lines += [f"{'Person' if who == 'person' else 'Bot'}: {text}"
              for who, text in action.transcript]
    return "\n".join(lines)


def _short(label: str) -> bool:
    return len(label) <= SHORT_LABEL


def read_command(text: str) -> tuple[str, str]:
    """"/Start@MailhelpBot ru" -> ("start", "MailhelpBot"): the name and whom it addresses."""
    name, _sep, addressee = text.split(maxsplit=1)[0][1:].partition("@")
    return name.lower(), addressee
