"""The engine reading typed text: commands in any channel, the matcher's three outcomes,
"Did that help?", the hand-over transcript, following the person's language, and dialogs
started from a question with what it already says."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from bot import kb
from bot.dialog import Command, Engine, EngineSettings, Press, Session, Text, Turn
from bot.events import parse_command
from bot.match import Match, Matcher, Result, matcher_for

TODAY = date(2026, 11, 26)
CONTACT = "support@example.com"


class FixedMatcher(Matcher):
    """The real matcher's reading of a text, with the topics the test decides."""

    def __init__(self, real: Matcher, matches: tuple[str, ...] = (),
                 suggestions: tuple[str, ...] = ()) -> None:
        self.__dict__.update(real.__dict__)
        self.fixed = (tuple(Match(t, 0.9, None) for t in matches),
                      tuple(Match(t, 0.4, None) for t in suggestions))

    def match(self, query: str, n: int = 3, lang: str | None = None) -> Result:
        matches, suggestions = self.fixed
        return replace(super().match(query, n, lang), matches=matches,
                       suggestions=suggestions, ambiguous=False)



def engine_with(knowledge: kb.Knowledge, matcher: Matcher) -> Engine:
    return Engine(knowledge, matcher,
                  EngineSettings(human_contact=CONTACT, today=lambda: TODAY))


@pytest.fixture(scope="module")
def engine(knowledge: kb.Knowledge) -> Engine:
    return engine_with(knowledge, matcher_for(knowledge))


def typed(engine: Engine, *lines: str, session: Session | None = None) -> Turn:
    turn = engine.start(session or Session(lang="en"))
    for line in lines:
        turn = engine.handle(Session.from_dict(turn.session.to_dict()), Text(line))
    return turn


@pytest.mark.parametrize(("line", "command"), [
    ("/check imap.gmail.com", Command("check", "imap.gmail.com")),
    ("/help", Command("help")), ("/language it", Command("language", "it")),
    ("/start@MailhelpBot", Command("start")), ("/BACK", Command("back")),
    ("/var/log/mail.log says error", None), ("/nope", None), ("check /help", None),
])
def test_a_typed_line_starting_with_a_command_is_that_command(line: str,
                                                              command: Command | None) -> None:
    assert parse_command(line) == command


def test_commands_typed_as_text_work_in_the_engine(engine: Engine) -> None:
    turn = typed(engine, "/check imap.gmail.com:993")
    action = turn.replies[-1].actions[0]
    assert (action.kind, action.target) == ("check", "imap.gmail.com:993")
    action = typed(engine, "/check 203.0.113.5").replies[-1].actions[0]
    assert (action.kind, action.target) == ("check", "203.0.113.5")
    assert typed(engine, "/language ru").session.lang == "ru"
    back = typed(engine, "set up my mail", "ivan@yandex.ru", "/back")
    assert (back.session.flow, back.session.state) == ("setup", "address")
    assert "/menu" in typed(engine, "/help").replies[-1].text


def test_suggestions_ask_did_you_mean_and_none_of_these_hands_over(
        knowledge: kb.Knowledge) -> None:
    engine = engine_with(knowledge, FixedMatcher(
        matcher_for(knowledge), suggestions=("login-failed", "cannot-connect", "tls-required")))
    turn = typed(engine, "my mail thing is weird ivan@corp.example")
    values = [b.value for b in turn.replies[-1].buttons]
    assert values[:4] == ["topic:login-failed", "topic:cannot-connect", "topic:tls-required",
                          "none"]
    assert turn.unanswered is None
    none = engine.handle(turn.session, Press("none"))
    assert CONTACT in none.replies[-1].text
    assert none.replies[-1].actions[0].kind == "human"
    assert none.unanswered is not None and "weird" in none.unanswered
    assert "ivan@corp.example" not in none.unanswered  # masked
    picked = engine.handle(turn.session, Press("topic:cannot-connect"))
    assert picked.session.flow == "troubleshoot"  # a topic with a dialog starts it


def test_no_match_says_so_with_the_contact_and_logs_the_question(knowledge: kb.Knowledge) -> None:
    engine = engine_with(knowledge, FixedMatcher(matcher_for(knowledge)))
    turn = typed(engine, "how do I bake bread")
    assert CONTACT in turn.replies[-1].text
    assert turn.unanswered == "how do I bake bread"


def test_a_confident_answer_asks_did_that_help(knowledge: kb.Knowledge) -> None:
    engine = engine_with(knowledge, FixedMatcher(
        matcher_for(knowledge), matches=("sent-not-visible", "pop3-vs-imap")))
    turn = typed(engine, "sent mail not on my phone")
    assert turn.replies[-1].text == "Did that help?"
    assert turn.session.asked == "helped"
    no = engine.handle(turn.session, Text("nope"))
    values = [b.value for b in no.replies[-1].buttons]
    assert values[0] == "topic:pop3-vs-imap" and "human" in values
    yes = engine.handle(turn.session, Text("yes, thanks!"))
    assert "Glad" in yes.replies[-1].text


def test_a_stored_session_keeps_the_best_topics_and_drops_garbage() -> None:
    session = Session(asked="helped", others=[f"t{i}" for i in range(9)],
                      log=[("person", "hi"), ("bot", "Hello")])
    again = Session.from_dict(session.to_dict())
    assert again.others == ["t0", "t1", "t2", "t3", "t4"] and again.log == session.log
    broken = Session.from_dict({"others": "x", "log": [["person"], [1, 2], "x", ["bot", "ok"]]})
    assert broken.others == [] and broken.log == [("bot", "ok")]


def test_the_hand_over_carries_a_masked_transcript(engine: Engine) -> None:
    turn = typed(engine, "ivan.petrov@bk.ru", "Tr0ub4dor&3xyz", "talk to a person")
    action = turn.replies[-1].actions[0]
    assert action.kind == "human" and action.target == CONTACT
    said = [text for who, text in action.transcript if who == "person"]
    assert len(said) == 3 and said[-1] == "talk to a person"
    assert "ivan.petrov@bk.ru" not in repr(action.transcript)  # the session keeps it
    assert "Tr0ub4dor" not in repr(action.transcript) + repr(turn.session.to_dict())
    assert any(who == "bot" for who, _text in action.transcript)


def test_the_language_follows_the_writer_unless_chosen(engine: Engine) -> None:
    turn = typed(engine, "не приходят письма", session=Session(hint="en"))
    assert turn.session.language == "ru"
    assert "/language en" in turn.replies[0].text
    chosen = typed(engine, "не приходят письма", session=Session(lang="en"))
    assert chosen.session.language == "en"
    quiet = typed(engine, "ivan@yandex.ru", session=Session(hint="it"))
    assert quiet.session.language == "it"  # an address says nothing about the language
    pasted = typed(engine, "535 5.7.8 Error: authentication failed: Invalid user or password",
                   session=Session(hint="ru"))
    assert pasted.session.language == "ru"  # a server's English reply, pasted


def test_a_question_starts_its_dialog_with_what_it_says(engine: Engine) -> None:
    turn = typed(engine, "set up bk.ru in outlook")
    assert (turn.session.flow, turn.session.state) == ("setup", "protocol")
    assert turn.session.vars["provider"] == "mailru" and turn.session.vars["device"] == "outlook"
    assert "setup.device" in turn.visited  # passed: the program was named
    deleted = typed(engine, "I deleted letters yesterday on yandex")
    assert "25 December 2026" in "\n".join(r.text for r in deleted.replies)


def test_a_new_error_leaves_the_question_and_back_returns(engine: Engine) -> None:
    turn = typed(engine, "set up my mail", "ivan@yandex.ru")
    assert turn.session.state == "device"
    error = engine.handle(turn.session, Text("535 5.7.8 Authentication failed"))
    assert error.session.flow == "troubleshoot"
    back = engine.handle(error.session, Command("back"))
    assert (back.session.flow, back.session.state) == ("setup", "device")


def test_a_new_address_replaces_the_provider(engine: Engine) -> None:
    turn = typed(engine, "ivan@yandex.ru", "it's gmail actually")
    assert turn.session.vars["provider"] == "gmail" and "address" not in turn.session.vars


def test_a_bare_address_gives_its_settings_and_offers_the_check(engine: Engine) -> None:
    turn = typed(engine, "ivan.petrov@bk.ru")
    assert "imap.mail.ru" in turn.replies[-1].text
    values = [b.value for b in turn.replies[-1].buttons]
    assert "check:address" in values and "flow:setup" in values
    check = engine.handle(turn.session, Press("check:address"))
    action = check.replies[-1].actions[0]
    assert (action.kind, action.target) == ("check", "ivan.petrov@bk.ru")
    unknown = typed(engine, "me@unknown-example.org")
    assert unknown.session.flow == "setup"  # no settings known: the setup dialog's advice
