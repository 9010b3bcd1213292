"""What goes into the conversation engine and what comes out: events, replies, the session.

Channels build Text, Press and Command events and show Replies; the Session is what a
store keeps between turns, as a plain dict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from bot.kb import LANGS

COMMANDS = ("start", "help", "menu", "back", "language", "check")
MAX_BACK = 20  # how many steps "back" remembers
MAX_OTHERS = 5  # topics kept to offer when an answer did not help
MAX_LOG = 40  # lines of the conversation kept for a hand-over to a person
MAX_LOG_CHARS = 500  # of one line


# --- what goes in ----------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """Something the person typed or pasted."""

    text: str


@dataclass(frozen=True)
class Press:
    """A button pressed: the value the button carried."""

    value: str


@dataclass(frozen=True)
class Command:
    """start, help, menu, back, language (arg: a language code, or empty to choose) or
    check (arg: the server or address to check)."""

    name: str
    arg: str = ""


Event = Text | Press | Command


def parse_command(text: str) -> Command | None:
    """A typed line that starts with a known command ("/check imap.gmail.com", "/help",
    Telegram's "/start@SomeBot") as that Command; anything else None."""
    if not text.startswith("/"):
        return None
    head, _sep, arg = text[1:].partition(" ")
    name = head.partition("@")[0].lower()
    return Command(name, arg.strip()) if name in COMMANDS else None


# --- what comes out --------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    label: str
    value: str


@dataclass(frozen=True)
class Action:
    """Something for the channel to do besides showing text. A hand-over ("human")
    carries the conversation so far, masked, for the person who takes it over."""

    kind: Literal["check", "discover", "domain-check", "human"]
    target: str
    lang: str = "en"  # the conversation's language, for what the channel shows
    transcript: tuple[tuple[str, str], ...] = ()  # ("person" | "bot", text), oldest first


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()
    actions: tuple[Action, ...] = ()


# --- the session -----------------------------------------------------------------------


@dataclass
class Session:
    """Where a conversation stands. Stored as a plain dict; never holds a password."""

    lang: str | None = None  # chosen explicitly
    hint: str | None = None  # the channel's guess (Telegram language_code, Accept-Language)
    detected: str | None = None  # the language the person writes in
    flow: str | None = None
    state: str | None = None
    vars: dict[str, str | int] = field(default_factory=dict)  # slots: address, provider, ...
    back: list[str] = field(default_factory=list)  # "flow.state" positions, newest last
    asked: str | None = None  # the engine's own pending question: "helped"
    others: list[str] = field(default_factory=list)  # topics to offer if that did not help
    log: list[tuple[str, str]] = field(default_factory=list)  # masked, for a hand-over

    @property
    def language(self) -> str:
        return self.lang or self.detected or self.hint or "en"

    def note(self, who: str, text: str) -> None:
        """Add a line (already masked) to the conversation's transcript."""
        self.log = [*self.log, (who, text[:MAX_LOG_CHARS])][-MAX_LOG:]

    def to_dict(self) -> dict[str, Any]:
        return {"lang": self.lang, "hint": self.hint, "detected": self.detected,
                "flow": self.flow, "state": self.state, "vars": dict(self.vars),
                "back": list(self.back), "asked": self.asked, "others": list(self.others),
                "log": [list(line) for line in self.log]}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Session:
        """A session from stored data; anything malformed is dropped, not trusted."""
        data = data or {}

        def lang(key: str) -> str | None:
            value = data.get(key)
            return value if value in LANGS else None

        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        def strings(key: str) -> list[str]:
            value = data.get(key)
            return [s for s in value if isinstance(s, str)] if isinstance(value, list) else []

        variables = data.get("vars")
        log = data.get("log")
        return cls(
            lang=lang("lang"), hint=lang("hint"), detected=lang("detected"),
            flow=text("flow"), state=text("state"),
            vars={str(k): v for k, v in variables.items() if isinstance(v, (str, int))}
            if isinstance(variables, dict) else {},
            back=strings("back")[-MAX_BACK:], asked=text("asked"),
            others=strings("others")[:MAX_OTHERS],
            log=[(line[0], line[1]) for line in log[-MAX_LOG:] if isinstance(line, list)
                 and len(line) == 2 and type(line[0]) is str and type(line[1]) is str]
            if isinstance(log, list) else [],
        )


@dataclass(frozen=True)
class Turn:
    """The result of one event: the new session, the replies, a question nobody could answer."""

    session: Session
    replies: tuple[Reply, ...]
    unanswered: str | None = None
    visited: tuple[str, ...] = ()  # "flow.state" of every state entered, in order


@dataclass(frozen=True)
class EngineSettings:
    human_contact: str = ""  # how to reach a person, shown when the bot cannot help
    today: Callable[[], date] = date.today
