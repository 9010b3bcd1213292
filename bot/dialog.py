"""The conversation engine: (session, event) -> (session, replies), the same for every channel.

Pure: it reads the knowledge base and the matcher, never a network, a file or a clock it
was not given. Channels turn their events into Text, Press and Command, and show the
Replies; the flows themselves are data (knowledge/flows/*.yaml).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Literal

from babel.dates import format_date

from bot.answer import provider_notes, provider_settings, render_settings, render_topic
from bot.flows import Flow, State, callback_data
from bot.i18n import translations
from bot.kb import LANGS, Knowledge, Provider
from bot.match import ADDRESS, Matcher, Result
from bot.privacy import looks_like_password
from bot.when import days_ago

COMMANDS = ("start", "help", "menu", "back", "language", "check")
MAX_BACK = 20  # how many steps "back" remembers
MAX_CHAIN = 12  # states entered in one turn through plain `next`: a guard against loops
_HOST_PORT = re.compile(r"\b(?:[a-z0-9-]{1,63}\.){1,8}[a-z]{2,24}(?::\d{1,5})?\b")
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "it": "Italiano"}


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


# --- what comes out --------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    label: str
    value: str


@dataclass(frozen=True)
class Action:
    """Something for the channel to do besides showing text."""

    kind: Literal["check", "human"]
    target: str
    lang: str = "en"  # the conversation's language, for what the channel shows


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
    detected: str | None = None  # the language of the first message
    flow: str | None = None
    state: str | None = None
    vars: dict[str, str | int] = field(default_factory=dict)
    back: list[str] = field(default_factory=list)  # "flow.state" positions, newest last

    @property
    def language(self) -> str:
        return self.lang or self.hint or self.detected or "en"

    def to_dict(self) -> dict[str, Any]:
        return {"lang": self.lang, "hint": self.hint, "detected": self.detected,
                "flow": self.flow, "state": self.state, "vars": dict(self.vars),
                "back": list(self.back)}

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

        variables = data.get("vars")
        back = data.get("back")
        return cls(
            lang=lang("lang"), hint=lang("hint"), detected=lang("detected"),
            flow=text("flow"), state=text("state"),
            vars={str(k): v for k, v in variables.items() if isinstance(v, (str, int))}
            if isinstance(variables, dict) else {},
            back=[b for b in back if isinstance(b, str)][-MAX_BACK:]
            if isinstance(back, list) else [],
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


# --- the engine ------------------------------------------------------------------------


class Engine:
    """Walks the flows and answers free text; one instance serves every conversation."""

    def __init__(self, knowledge: Knowledge, matcher: Matcher,
                 settings: EngineSettings | None = None) -> None:
        self.knowledge = knowledge
        self.matcher = matcher
        self.settings = settings or EngineSettings()

    def start(self, session: Session | None = None) -> Turn:
        """A fresh conversation (keeping only the language): greeting and main menu."""
        old = session or Session()
        session = Session(lang=old.lang, hint=old.hint, detected=old.detected)
        _ = self._(session)
        greeting = _("Hello! I help with e-mail: setting up a mail program, error messages, "
                     "lost letters. Choose a topic or just type your question or the error "
                     "your program shows. Never send me your password.")
        return Turn(session, (Reply(greeting), self._menu(session)))

    def handle(self, session: Session, event: Event) -> Turn:
        """One turn. Never raises for anything a person can send."""
        session = replace(session, vars=dict(session.vars), back=list(session.back))
        if isinstance(event, Command):
            return self._command(session, event)
        if isinstance(event, Press):
            return self._press(session, event.value)
        return self._text(session, event.text)

    # --- commands and buttons ----------------------------------------------------------

    def _command(self, session: Session, command: Command) -> Turn:
        _ = self._(session)
        if command.name == "start":
            if command.arg in LANGS:
                session.lang = command.arg
            return self.start(session)
        if command.name == "menu":
            return Turn(session, (self._special(session, "menu"),))
        if command.name == "back":
            return Turn(session, (self._special(session, "back"),))
        if command.name == "language":
            if command.arg in LANGS:
                return self._set_language(session, command.arg)
            buttons = tuple(Button(name, f"lang:{code}") for code, name in LANGUAGE_NAMES.items())
            return Turn(session, (Reply(_("Choose your language:"), buttons),))
        if command.name == "help":
            return Turn(session, (Reply(self._help(session), self._nav(session)),))
        if command.name == "check":
            target = _check_target(command.arg)
            if target is None:
                return Turn(session, (Reply(self._check_prompt(session), self._nav(session)),))
            text = _("I am checking {target}: whether it answers and what its encryption "
                     "looks like. It needs no password.").format(target=target)
            return Turn(session, (Reply(text, self._nav(session),
                                        (Action("check", target, session.language),)),))
        return Turn(session, (Reply(_("I do not know that command. Try /help."),
                                    self._nav(session)),))

    def _press(self, session: Session, value: str) -> Turn:
        kind, _sep, arg = value.partition(":")
        if value in ("menu", "back", "human"):
            return Turn(session, (self._special(session, value),))
        if kind == "lang" and arg in LANGS:
            return self._set_language(session, arg)
        if value == "use:address" and "address" in session.vars:
            return self._text(session, str(session.vars["address"]))
        if kind == "flow" and arg in self.knowledge.flows:
            return self._go(session, arg)
        if kind == "topic" and arg in self.knowledge.topics:
            self._remember(session)
            provider = self.knowledge.providers.get(str(session.vars.get("provider", "")))
            return Turn(session, (self._topic_reply(session, arg, provider),))
        button = self._button(value)
        if button is None:
            _ = self._(session)
            return Turn(session, (Reply(_("That button is no longer valid."),
                                        self._nav(session)),))
        flow, state, go, values = button
        session.vars.update(values)
        self._remember(session)
        session.flow, session.state = flow.id, state.name
        return self._go(session, go)

    def _button(self, value: str) -> tuple[Flow, State, str, dict[str, str | int]] | None:
        """The flow button a callback value names, wherever it was offered."""
        parts = value.split(".")
        if len(parts) != 3 or not parts[2].isdigit():
            return None
        flow = self.knowledge.flows.get(parts[0])
        state = flow.states.get(parts[1]) if flow else None
        index = int(parts[2])
        if flow is None or state is None or index >= len(state.buttons):
            return None
        button = state.buttons[index]
        return flow, state, button.go, dict(button.set)

    def _set_language(self, session: Session, lang: str) -> Turn:
        session.lang = lang
        _ = self._(session)
        confirm = Reply(_("From now on I will answer in English."))
        return Turn(session, (confirm, *self._current(session)))

    # --- free text ---------------------------------------------------------------------

    def _text(self, session: Session, text: str) -> Turn:
        _ = self._(session)
        text = text.strip()
        if not text:
            return Turn(session, (Reply(_("Please type your question or paste the error."),
                                        self._nav(session)),))
        if looks_like_password(text):
            warning = _("That looks like a password. Please never send passwords: I do not "
                        "need it, and I did not keep it. If it is your real password, change "
                        "it now.")
            return Turn(session, (Reply(warning, self._nav(session)),))
        result = self.matcher.match(text, n=3)
        if session.detected is None:
            session.detected = result.lang
            _ = self._(session)
        state = self._state(session)
        if state is not None and state.ask:
            answered = self._answer(session, state, text, result)
            if answered is not None:
                return answered
        return self._free_text(session, text, result)

    def _answer(self, session: Session, state: State, text: str,
                result: Result) -> Turn | None:
        """The reply to a state's question, or None when the text is something else."""
        if state.ask == "address":
            found = ADDRESS.search(text)
            if not found:
                return None if result.matches else self._reask(session, state)
            address = found.group(0).lower()
            provider = self.knowledge.provider_for_address(address)
            session.vars["address"] = address
            if provider:
                session.vars["provider"] = provider.id
            else:
                session.vars.pop("provider", None)
            outcome = "known" if provider else "unknown"
            if provider and provider.oauth_only and "oauth" in state.branches:
                outcome = "oauth"
            return self._go(session, state.branches[outcome])
        if state.ask == "date":
            days = days_ago(text, self.settings.today())
            if days is None:
                return None if result.matches else self._go(session, state.branches["unknown"])
            session.vars["days_ago"] = days
            return self._go(session, state.branches["answered"])
        # ask: error — the message the program showed
        if not result.matches:
            turn = self._go(session, state.branches["unknown"])
            return replace(turn, unanswered=text)
        provider = self._provider(session, result)
        shown = self._topic_reply(session, result.matches[0].topic, provider, nav=False)
        turn = self._go(session, state.branches["answered"])
        return replace(turn, replies=(shown, *turn.replies))

    def _reask(self, session: Session, state: State) -> Turn:
        _ = self._(session)
        hint = Reply(_("That does not look like an e-mail address. Please type it like "
                       "name@example.com."))
        return Turn(session, (hint, self._render(session, state, ())))

    def _free_text(self, session: Session, text: str, result: Result) -> Turn:
        _ = self._(session)
        if not result.matches:
            tips = _("I am not sure what you mean. Try the exact text of the error message, "
                     "name your mail provider or program, or choose a topic from the menu.")
            parts = [tips]
            if self.settings.human_contact:
                parts.append(_("You can also ask a person: {contact}").format(
                    contact=self.settings.human_contact))
            return Turn(session, (Reply("\n\n".join(parts), self._nav(session)),),
                        unanswered=text)
        if result.ambiguous and len(result.matches) > 1:
            lang = session.language
            buttons = tuple(Button(self.knowledge.topics[m.topic].title[lang], f"topic:{m.topic}")
                            for m in result.matches[:2])
            return Turn(session, (Reply(_("Which one do you mean?"), buttons + self._nav(
                session)),))
        provider = self._provider(session, result)
        self._remember(session)
        reply = self._topic_reply(session, result.matches[0].topic, provider)
        if result.matches[0].topic == "port-check":
            target = _check_target(text)
            if target:
                reply = replace(reply, actions=(Action("check", target, session.language),))
        return Turn(session, (reply,))

    # --- moving between states ---------------------------------------------------------

    def _go(self, session: Session, target: str) -> Turn:
        """Enter a target, and every state it leads to by a plain `next`."""
        replies: list[Reply] = []
        visited: list[str] = []
        for _step in range(MAX_CHAIN):
            if target in ("menu", "back", "human"):
                replies.append(self._special(session, target))
                break
            position = self._resolve(session, target)
            if position is None:
                replies.append(self._menu(session))
                break
            flow, state = position
            session.flow, session.state = flow.id, state.name
            visited.append(f"{flow.id}.{state.name}")
            actions = self._extra(session, state)
            if state.next is None:
                replies.append(self._render(session, state, actions))
                break
            shown = self._render(session, state, actions, buttons=False)
            if shown.text or shown.actions:
                replies.append(shown)
            target = state.next
        return Turn(session, tuple(replies), visited=tuple(visited))

    def _resolve(self, session: Session, target: str) -> tuple[Flow, State] | None:
        """The flow and state a target names, seen from where the session stands."""
        current = self.knowledge.flows.get(session.flow or "")
        if current is not None and target in current.states:
            return current, current.states[target]
        flow_id, _sep, name = target.partition(".")
        flow = self.knowledge.flows.get(flow_id)
        state = flow.states.get(name or flow.start) if flow else None
        return (flow, state) if flow and state else None

    def _special(self, session: Session, target: str) -> Reply:
        """menu, back (to the last remembered state) or human."""
        if target == "human":
            return self._human(session)
        while target == "back" and session.back:
            flow_id, _sep, name = session.back.pop().partition(".")
            flow = self.knowledge.flows.get(flow_id)
            if flow and name in flow.states:
                session.flow, session.state = flow_id, name
                return self._render(session, flow.states[name], ())
        session.flow = session.state = None
        return self._menu(session)

    def _current(self, session: Session) -> tuple[Reply, ...]:
        """Show again where the conversation stands (after a language change)."""
        state = self._state(session)
        if state is None:
            return (self._menu(session),)
        return (self._render(session, state, ()),)

    def _state(self, session: Session) -> State | None:
        flow = self.knowledge.flows.get(session.flow or "")
        return flow.states.get(session.state or "") if flow else None

    def _remember(self, session: Session) -> None:
        if session.flow and session.state:
            session.back = [*session.back, f"{session.flow}.{session.state}"][-MAX_BACK:]

    # --- rendering ---------------------------------------------------------------------

    def _render(self, session: Session, state: State, actions: tuple[Action, ...],
                buttons: bool = True) -> Reply:
        lang = session.language
        provider = self.knowledge.providers.get(str(session.vars.get("provider", "")))
        parts = []
        if state.say:
            parts.append(state.say[lang].format(
                address=session.vars.get("address", ""),
                provider=provider.name if provider else "?"))
        if state.topic:
            parts.append(render_topic(self.knowledge.topics[state.topic], lang, provider))
        if state.show:
            parts.append(self._block(session, state.show, provider))
        shown: tuple[Button, ...] = ()
        if buttons:
            if state.ask == "address" and "address" in session.vars:
                shown += (Button(str(session.vars["address"]), "use:address"),)
            shown += tuple(Button(b.label[lang], callback_data(session.flow or "", state.name, i))
                           for i, b in enumerate(state.buttons))
            has_menu = any(b.go == "menu" for b in state.buttons)
            shown += tuple(b for b in self._nav(session) if not (has_menu and b.value == "menu"))
        return Reply("\n\n".join(p for p in parts if p), shown, actions)

    def _extra(self, session: Session, state: State) -> tuple[Action, ...]:
        """The live check a `show: check` state offers: the provider's servers, or for an
        unknown provider the address's own domain."""
        address = str(session.vars.get("address", ""))
        if state.show != "check" or not address:
            return ()
        target = address if "provider" in session.vars else address.rpartition("@")[2]
        return (Action("check", target, session.language),)

    def _block(self, session: Session, block: str, provider: Provider | None) -> str:
        _ = self._(session)
        lang = session.language
        if block == "settings":
            if provider is None:
                return _("I do not know the servers of this provider. Look for 'IMAP/SMTP "
                         "settings' in its help pages, or ask its support.")
            protocol = str(session.vars.get("protocol", "imap"))
            settings = provider_settings(provider, str(session.vars.get("address", "")))
            servers = tuple(s for s in settings.servers if s.protocol in (protocol, "smtp"))
            return render_settings(replace(settings, servers=servers), lang, with_notes=False)
        if block == "notes":
            if provider is None:
                return _("Check in your mailbox's web settings that access for mail "
                         "programs (IMAP/POP3) is switched on.")
            return "\n".join(f"- {note}" for note in provider_notes(provider, lang))
        if block == "retention":
            return self._retention(session, provider)
        # check
        if "address" in session.vars:
            return _("I am checking the mail servers for {address}: whether they answer "
                     "and what their encryption looks like. It needs no password.").format(
                address=session.vars["address"])
        return self._check_prompt(session)

    def _check_prompt(self, session: Session) -> str:
        _ = self._(session)
        return _("Send me a server name (for example imap.example.com) and I will check "
                 "whether it answers and what its encryption looks like. It needs no "
                 "password.")

    def _retention(self, session: Session, provider: Provider | None) -> str:
        catalog = translations(session.language)
        _ = catalog.gettext
        days = session.vars.get("days_ago")
        if provider is None or provider.trash_days is None:
            name = provider.name if provider else _("your provider")
            return _("I do not know how long {provider} keeps deleted letters. Look in the "
                     "Deleted (Trash) folder as soon as you can.").format(provider=name)
        if not isinstance(days, int):
            return catalog.ngettext(
                "{name} keeps deleted letters for {days} day.",
                "{name} keeps deleted letters for {days} days.", provider.trash_days,
            ).format(name=provider.name, days=provider.trash_days)
        today = self.settings.today()
        deleted = today - timedelta(days=days)
        until = deleted + timedelta(days=provider.trash_days)
        locale = {"en": "en_GB", "ru": "ru_RU", "it": "it_IT"}[session.language]
        when = format_date(until, format="d MMMM y", locale=locale)  # no "г." before a full stop
        left = (until - today).days
        if left >= 0:
            return catalog.ngettext(
                "They can still be restored until {date}: {days} day left.",
                "They can still be restored until {date}: {days} days left.", left,
            ).format(date=when, days=left)
        return catalog.ngettext(
            "{name} keeps deleted letters {days} day, so they were erased on {date}. They "
            "cannot be restored from the Deleted folder any more.",
            "{name} keeps deleted letters {days} days, so they were erased on {date}. They "
            "cannot be restored from the Deleted folder any more.", provider.trash_days,
        ).format(name=provider.name, days=provider.trash_days, date=when)

    def _topic_reply(self, session: Session, topic_id: str, provider: Provider | None,
                     nav: bool = True) -> Reply:
        lang = session.language
        topic = self.knowledge.topics[topic_id]
        parts = [render_topic(topic, lang, provider)]
        if provider and topic_id == "provider-settings":
            parts.append(render_settings(provider_settings(provider), lang))
        related = tuple(Button(self.knowledge.topics[r].title[lang], f"topic:{r}")
                        for r in topic.related[:3])
        return Reply("\n\n".join(parts), (related + self._nav(session)) if nav else ())

    def _provider(self, session: Session, result: Result) -> Provider | None:
        """The provider the text names, else the one the conversation already knows."""
        pid = result.provider or str(session.vars.get("provider", ""))
        if result.provider:
            session.vars["provider"] = result.provider
        return self.knowledge.providers.get(pid)

    def _menu(self, session: Session) -> Reply:
        _ = self._(session)
        lang = session.language
        buttons = tuple(Button(flow.title[lang], f"flow:{flow.id}")
                        for flow in self.knowledge.flows.values())
        return Reply(_("What do you need help with?"), buttons)

    def _nav(self, session: Session) -> tuple[Button, ...]:
        _ = self._(session)
        back = (Button(_("◀ Back"), "back"),) if session.back else ()
        return (*back, Button(_("Menu"), "menu"))

    def _human(self, session: Session) -> Reply:
        _ = self._(session)
        contact = self.settings.human_contact
        text = (_("A person can help you further: {contact}").format(contact=contact)
                if contact else _("Please contact your helpdesk or your mail provider's "
                                  "support; tell them what you tried here."))
        return Reply(text, (Button(_("Menu"), "menu"),),
                     (Action("human", contact, session.language),))

    def _help(self, session: Session) -> str:
        _ = self._(session)
        return _("Type a question or paste the error message your program shows, in "
                 "English, Russian or Italian, or press a button. Commands: /menu the "
                 "topics, /back one step back, /language choose the language, /check "
                 "SERVER test a mail server, /start begin again. Never send your password: "
                 "I never need it.")

    def _(self, session: Session) -> Callable[[str], str]:
        return translations(session.language).gettext


def _check_target(text: str) -> str | None:
    """The address or host name (with an optional port) a request to check a server names."""
    found = ADDRESS.search(text) or _HOST_PORT.search(text.lower())
    return found.group(0) if found else None
