"""The conversation engine: (session, event) -> (session, replies), the same for every channel.

Pure: it reads the knowledge base and the matcher, never a network, a file or a clock it
was not given. Channels turn their events into Text, Press and Command, and show the
Replies; the flows themselves are data (knowledge/flows/*.yaml). Whatever a person types
is read for slots (bot/slots.py) that answer the flows' questions; a question that names a
task starts its dialog (knowledge/tasks.yaml).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from bot.choice import Choice, choose
from bot.events import (
    COMMANDS,
    MAX_OTHERS,
    Action,
    Button,
    Command,
    EngineSettings,
    Event,
    Press,
    Reply,
    Session,
    Text,
    Turn,
    parse_command,
)
from bot.flows import Flow, State
from bot.i18n import translations
from bot.kb import LANGS, Knowledge, Provider
from bot.match import ADDRESS, Matcher, Result
from bot.privacy import SECRET, looks_like_password, mask
from bot.render import Renderer
from bot.slots import SlotReader, Slots, words_of
from bot.tasks import Tasks
from bot.walk import SPECIAL, Walker

__all__ = ["COMMANDS", "Action", "Button", "Command", "Engine", "EngineSettings", "Event",
           "Press", "Reply", "Session", "Text", "Turn"]

BARE_ADDRESS_WORDS = 4  # an address with at most this many other words asks for its settings
BOT_LOG_CHARS = 160  # of each reply's first line, in the transcript
# Topics about mail that bounces or lands in spam: a domain named with them is checked.
DOMAIN_CHECK_TOPICS = ("my-mail-goes-to-spam", "spam-rejected", "bounce-report")
_HOST_PORT = re.compile(r"\b(?:[a-z0-9-]{1,63}\.){1,8}[a-z]{2,24}(?::\d{1,5})?\b")
_MAYBE_PRIVATE = re.compile(r"@|\d[.:]\d|:[\da-f]*:")  # an address, an IP
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "it": "Italiano"}


class Engine:
    """Walks the flows and answers free text; one instance serves every conversation."""

    def __init__(self, knowledge: Knowledge, matcher: Matcher,
                 settings: EngineSettings | None = None) -> None:
        self.knowledge = knowledge
        self.matcher = matcher
        self.settings = settings or EngineSettings()
        self.render = Renderer(knowledge, self.settings)
        self.walk = Walker(knowledge, self.render)
        self.slots = SlotReader.load(knowledge.root, matcher.words.stopwords)
        self.tasks = Tasks.load(knowledge)

    def start(self, session: Session | None = None) -> Turn:
        """A fresh conversation (keeping only the language): greeting and main menu."""
        old = session or Session()
        session = Session(lang=old.lang, hint=old.hint, detected=old.detected)
        _ = self._(session)
        greeting = _("Hello! I help with e-mail: setting up a mail program, error messages, "
                     "lost letters. Choose a topic or just type your question or the error "
                     "your program shows. Never send me your password.")
        return Turn(session, (Reply(greeting), self.render.menu(session)))

    def handle(self, session: Session, event: Event) -> Turn:
        """One turn. Never raises for anything a person can send."""
        asked = session.asked
        session = replace(session, vars=dict(session.vars), back=list(session.back),
                          others=list(session.others), log=list(session.log), asked=None)
        if isinstance(event, Command):
            session.note("person", mask(f"/{event.name} {event.arg}".strip()))
            turn = self._command(session, event)
        elif isinstance(event, Press):
            session.note("person", f"[{self._label(session, event.value)}]")
            turn = self._press(session, event.value)
        else:
            turn = self._text(session, event.text, asked)
        for reply in turn.replies:  # what the bot said: each reply's first line
            line = reply.text.partition("\n")[0][:BOT_LOG_CHARS]
            if line:  # only a line with an address or an IP can echo something private
                turn.session.note("bot", mask(line) if _MAYBE_PRIVATE.search(line) else line)
        return turn

    # --- commands and buttons ----------------------------------------------------------

    def _command(self, session: Session, command: Command) -> Turn:
        _ = self._(session)
        if command.name == "start":
            if command.arg in LANGS:
                session.lang = command.arg
            return self.start(session)
        if command.name in ("menu", "back"):
            return Turn(session, (self.walk.special(session, command.name),))
        if command.name == "language":
            if command.arg in LANGS:
                return self._set_language(session, command.arg)
            buttons = tuple(Button(name, f"lang:{code}") for code, name in LANGUAGE_NAMES.items())
            return Turn(session, (Reply(_("Choose your language:"), buttons),))
        if command.name == "help":
            return Turn(session, (Reply(self.render.help(session), self.render.nav(session)),))
        if command.name == "check":  # the argument is the target as given: an IP too
            return self._check(session, next(iter(command.arg.split()), None))
        return Turn(session, (Reply(_("I do not know that command. Try /help."),
                                    self.render.nav(session)),))

    def _check(self, session: Session, target: str | None) -> Turn:
        _ = self._(session)
        if target is None:
            return Turn(session, (Reply(self.render.check_prompt(session),
                                        self.render.nav(session)),))
        text = _("I am checking {target}: whether it answers and what its encryption "
                 "looks like. It needs no password.").format(target=target)
        return Turn(session, (Reply(text, self.render.nav(session),
                                    (Action("check", target, session.language),)),))

    def _press(self, session: Session, value: str) -> Turn:
        kind, _sep, arg = value.partition(":")
        if value in SPECIAL:
            return Turn(session, (self.walk.special(session, value),))
        if kind == "lang" and arg in LANGS:
            return self._set_language(session, arg)
        if value == "use:address" and "address" in session.vars:
            return self._text(session, str(session.vars["address"]), None)
        if value == "check:address":
            provider = self.render.provider(session)
            return self._check(session, str(session.vars.get("address", "")) or (
                provider.servers[0].host if provider and provider.servers else None))
        if kind == "helped" and arg in ("yes", "no"):
            return self._helped(session, arg == "yes")
        if value == "none":  # none of the suggested topics: a question nobody answered
            asked = next((text for who, text in reversed(session.log[:-1]) if who == "person"),
                         None)
            return Turn(session, (self.render.human(session),), unanswered=asked)
        if kind == "flow" and arg in self.knowledge.flows:
            return self.walk.go(session, arg, chosen=True)
        if kind == "topic" and arg in self.knowledge.topics:
            self.walk.remember(session)
            others = [t for t in session.others if t != arg]
            return self._topic(session, arg, self.render.provider(session), others)
        button = self.walk.button(value)
        if button is None:
            _ = self._(session)
            return Turn(session, (Reply(_("That button is no longer valid."),
                                        self.render.nav(session)),))
        flow, state, index = button
        return self._chosen(session, flow, state,
                            Choice(index, state.buttons[index].go,
                                   dict(state.buttons[index].set)))

    def _label(self, session: Session, value: str) -> str:
        """What a pressed button said, for the transcript."""
        button = self.walk.button(value)
        if button is not None:
            return button[1].buttons[button[2]].label[session.language]
        topic = self.knowledge.topics.get(value.partition(":")[2])
        return topic.title[session.language] if topic else value[:80]

    def _chosen(self, session: Session, flow: Flow, state: State, choice: Choice) -> Turn:
        session.vars.update(choice.values)
        session.flow, session.state = flow.id, state.name
        self.walk.remember(session)
        return self.walk.go(session, choice.go, chosen=True)

    def _set_language(self, session: Session, lang: str) -> Turn:
        session.lang = lang
        _ = self._(session)
        confirm = Reply(_("From now on I will answer in English."))
        return Turn(session, (confirm, *self.walk.current(session)))

    def _helped(self, session: Session, yes: bool) -> Turn:
        _ = self._(session)
        if yes:
            return Turn(session, (Reply(_("Glad it helped. If something else comes up, just "
                                          "write to me."), self.render.nav(session)),))
        others = self.render.topic_buttons(session, session.others[:3])
        text = (_("Sorry it did not help. It may be one of these, or a person can take it "
                  "from here:") if others else
                _("Sorry it did not help. A person can take it from here:"))
        return Turn(session, (Reply(text, (*others, Button(_("Talk to a person"), "human"),
                                           *self.render.nav(session))),))

    # --- typed text --------------------------------------------------------------------

    def _text(self, session: Session, text: str, asked: str | None) -> Turn:
        _ = self._(session)
        text = text.strip()
        if not text:
            return Turn(session, (Reply(_("Please type your question or paste the error."),
                                        self.render.nav(session)),))
        command = parse_command(text)
        if command is not None:
            session.note("person", mask(text))
            return self._command(session, command)
        if looks_like_password(text):
            session.note("person", SECRET)
            warning = _("That looks like a password. Please never send passwords: I do not "
                        "need it, and I did not keep it. If it is your real password, change "
                        "it now.")
            return Turn(session, (Reply(warning, self.render.nav(session)),))
        session.note("person", mask(text))
        result = self.matcher.match(text, n=3)
        state = self.walk.state(session)
        slots = self.slots.read(text, result, self.knowledge, self.settings.today(),
                                answers_when=state is not None and _asks_when(state))
        switched = self._follow_language(session, slots, result)
        self._keep(session, slots)
        turn = self._understand(session, text, result, slots, state, asked)
        return replace(turn, replies=(*switched, *turn.replies))

    def _understand(self, session: Session, text: str, result: Result, slots: Slots,
                    state: State | None, asked: str | None) -> Turn:
        if slots.human:
            self.walk.remember(session)
            return Turn(session, (self.render.human(session),))
        if asked == "helped" and slots.answer and not result.codes:
            return self._helped(session, slots.answer == "yes")
        if state is not None and (not result.codes or state.ask == "error"):
            answered = self._answer(session, state, text, result, slots)
            if answered is not None:
                return answered
        return self._free_text(session, text, result, slots, state)

    def _answer(self, session: Session, state: State, text: str, result: Result,
                slots: Slots) -> Turn | None:
        """The reply to a state's question, or None when the text is something else."""
        if state.ask == "address":
            if slots.address or slots.provider:
                self.walk.remember(session)
                return self.walk.go(session, self.walk.address_branch(session, state))
        elif state.ask == "date":
            if slots.days_ago is not None:
                self.walk.remember(session)
                return self.walk.go(session, state.branches["answered"])
        elif state.ask == "error":
            if not result.matches:
                return replace(self.walk.go(session, state.branches["unknown"]), unanswered=text)
            provider = self._provider(session, result)
            topic = self.knowledge.topics[result.matches[0].topic]
            shown = self.render.topic(session, topic.id, provider)
            turn = self.walk.go(session, state.branches["answered"])
            return replace(turn, replies=(shown, *turn.replies))
        flow = self.knowledge.flows[session.flow or ""]
        choice = choose(state, text, slots, self.slots)
        if choice is not None:
            return self._chosen(session, flow, state, choice)
        if result.matches or slots.setup or slots.address:
            return None
        if state.ask == "address":
            _ = self._(session)
            hint = Reply(_("That does not look like an e-mail address. Please type it like "
                           "name@example.com."))
            return Turn(session, (hint, self.render.state(session, state)))
        if state.ask == "date":
            return self.walk.go(session, state.branches["unknown"])
        return None

    def _free_text(self, session: Session, text: str, result: Result, slots: Slots,
                   state: State | None) -> Turn:
        _ = self._(session)
        named = slots.device and (slots.provider or slots.address) and not result.matches
        if (slots.setup or named) and not result.codes and slots.answer != "no":
            self.walk.remember(session)
            return self.walk.go(session, self.tasks.setup)
        if slots.deleted and not result.codes and (slots.days_ago is not None
                                                   or not result.matches):
            self.walk.remember(session)
            return self.walk.go(session, self.tasks.deleted)
        provider = self.render.provider(session)
        if slots.address and not result.codes and not result.matches:
            rest = words_of(ADDRESS.sub(" ", text))[1]
            if len(rest) <= BARE_ADDRESS_WORDS:
                self.walk.remember(session)
                if provider is None:
                    return self.walk.go(session, self.tasks.setup)
                return Turn(session, (self.render.address(session, provider),))
        if (slots.settings and slots.provider and provider and not result.codes
                and slots.answer != "no"
                and (result.ambiguous or self._top_kind(result) not in ("error", "check"))):
            self.walk.remember(session)
            return Turn(session, (self.render.address(session, provider),))
        if result.matches:
            top = result.matches[0].topic
            task = self.tasks.by_topic.get(top)
            if result.ambiguous and len(result.matches) > 1 and task is None:
                buttons = self.render.topic_buttons(session, [m.topic for m in
                                                              result.matches[:2]])
                return Turn(session, (Reply(_("Which one do you mean?"),
                                            buttons + self.render.nav(session)),))
            self.walk.remember(session)
            if task is not None:
                return self.walk.go(session, task)
            target = _check_target(text) if top == "port-check" else None
            if target:  # the check's report is the answer
                reply = self.render.topic(session, top, None, self.render.nav(session))
                return Turn(session, (replace(reply, actions=(
                    Action("check", target, session.language),)),))
            others = [m.topic for m in result.matches[1:]]
            answer = self._topic(session, top, self._provider(session, result), others)
            domain = _domain(text) if top in DOMAIN_CHECK_TOPICS else None
            if domain:  # the domain's DNS is checked alongside the answer
                said = _("I am also checking what DNS says about the mail of {domain}: MX, "
                         "SPF, DKIM, DMARC and more. It needs no password.").format(
                    domain=domain)
                first, *later = answer.replies
                answer = replace(answer, replies=(replace(
                    first, text=f"{first.text}\n\n{said}",
                    actions=(Action("domain-check", domain, session.language),)), *later))
            return answer
        if result.suggestions:
            buttons = self.render.topic_buttons(session, [m.topic for m in result.suggestions])
            return Turn(session, (Reply(_("Did you mean one of these?"), (
                *buttons, Button(_("None of these"), "none"), *self.render.nav(session))),))
        parts = [_("I am not sure what you mean. Try the exact text of the error message, "
                   "name your mail provider or program, or choose a topic from the menu.")]
        if self.settings.human_contact:
            parts.append(_("You can also ask a person: {contact}").format(
                contact=self.settings.human_contact))
        if state is not None:
            parts.append(_("Or answer the question:"))
            shown = self.render.state(session, state)
            return Turn(session, (Reply("\n\n".join(parts)), shown), unanswered=text)
        return Turn(session, (Reply("\n\n".join(parts), self.render.nav(session)),),
                    unanswered=text)

    def _top_kind(self, result: Result) -> str | None:
        """The kind of the best confident topic: an error message, a check request, ..."""
        return self.knowledge.topics[result.matches[0].topic].kind if result.matches else None

    def _topic(self, session: Session, topic_id: str, provider: Provider | None,
               others: list[str]) -> Turn:
        """A topic's answer: its dialog when it has one, else its text and "Did that help?"."""
        task = self.tasks.by_topic.get(topic_id)
        if task is not None:
            return self.walk.go(session, task)
        topic = self.knowledge.topics[topic_id]
        session.asked = "helped"
        session.others = list(dict.fromkeys(
            t for t in [*others, *topic.related] if t != topic_id))[:MAX_OTHERS]
        return Turn(session, (self.render.topic(session, topic_id, provider),
                              self.render.helped(session)))

    def _keep(self, session: Session, slots: Slots) -> None:
        """Remember what the message said; a new provider forgets another one's address."""
        if slots.address:
            session.vars["address"] = slots.address
            if slots.provider is None:
                session.vars.pop("provider", None)
        elif slots.provider and slots.provider != session.vars.get("provider"):
            address = str(session.vars.get("address", ""))
            owner = self.knowledge.provider_for_address(address) if address else None
            if owner is None or owner.id != slots.provider:
                session.vars.pop("address", None)
        session.vars.update({k: v for k, v in slots.values().items() if k != "address"})

    def _follow_language(self, session: Session, slots: Slots,
                         result: Result) -> tuple[Reply, ...]:
        """Answer in the language the person writes in, unless they chose one; say so,
        and how to switch back."""
        if session.lang:
            return ()
        before = session.language
        pasted = bool(result.codes) and slots.language != "ru"  # a server's English reply
        if slots.language and not pasted:
            session.detected = slots.language
        elif session.detected is None and session.hint is None:
            session.detected = result.lang
        if session.language == before:
            return ()
        _ = self._(session)
        return (Reply(_("I will answer in English, as you write in it. To switch back: "
                        "/language {code}").format(code=before)),)

    def _provider(self, session: Session, result: Result) -> Provider | None:
        """The provider the text names, else the one the conversation already knows."""
        pid = result.provider or str(session.vars.get("provider", ""))
        return self.knowledge.providers.get(pid)

    def _(self, session: Session) -> Callable[[str], str]:
        return translations(session.language).gettext


def _asks_when(state: State) -> bool:
    return state.ask == "date" or any("days_ago" in b.set for b in state.buttons)


def _domain(text: str) -> str | None:
    """The domain a message names, by an address or a bare domain name."""
    found = ADDRESS.search(text) or _HOST_PORT.search(text.lower())
    return found.group(0).rpartition("@")[2].partition(":")[0].lower() if found else None


def _check_target(text: str) -> str | None:
    """The address or host name (with an optional port) a request to check a server names."""
    found = ADDRESS.search(text) or _HOST_PORT.search(text.lower())
    return found.group(0) if found else None
