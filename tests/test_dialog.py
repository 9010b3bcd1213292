"""The conversation engine: every flow walked in three languages, scripted transcripts,
and random event sequences that must never break it."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import kb
from bot.dialog import Command, Engine, EngineSettings, Event, Press, Reply, Session, Text, Turn
from bot.flows import flows_markdown, mermaid
from bot.match import Match, matcher_for

TODAY = date(2026, 11, 26)
CYRILLIC = re.compile(r"[а-яА-Я]")
# Typed answers for each kind of question, per language: (what, text)
ANSWERS = {
    "address": [("known", "ivan.petrov@yandex.ru"), ("unknown", "ivan@unknown-example.org"),
                ("oauth", "mario.rossi@hotmail.it"), ("closed", "mario.rossi@poste.it")],
    "date": [("answered", {"en": "3 days ago", "ru": "3 дня назад", "it": "3 giorni fa"}),
             ("unknown", {"en": "no idea", "ru": "не помню", "it": "non ricordo"})],
    "error": [("answered", {"en": "535 5.7.8 Authentication failed",
                            "ru": "535 5.7.8 ошибка авторизации",
                            "it": "535 5.7.8 autenticazione non riuscita"}),
              ("unknown", {"en": "zzz qqq", "ru": "ыыы ффф", "it": "zzz qqq"})],
}



@pytest.fixture(scope="module")
def engine(knowledge: kb.Knowledge) -> Engine:
    return Engine(knowledge, matcher_for(knowledge),
                  EngineSettings(human_contact="support@example.com", today=lambda: TODAY))


def check_reply(reply: Reply, lang: str) -> None:
    assert reply.text.strip() or reply.buttons, "an empty reply"
    for button in reply.buttons:
        assert button.label.strip()
        assert len(button.value.encode()) <= 64, button.value
    if lang == "ru" and reply.text:
        assert CYRILLIC.search(reply.text), reply.text[:200]


def typed(answer: str | dict[str, str], lang: str) -> str:
    return answer if isinstance(answer, str) else answer[lang]


@pytest.mark.parametrize("lang", kb.LANGS)
def test_every_state_of_every_flow_is_reached_by_walking(engine: Engine,
                                                         knowledge: kb.Knowledge,
                                                         lang: str) -> None:
    """Press every button and give every kind of answer until no new state appears."""
    start = engine.start(Session(lang=lang))
    seen: set[tuple[str, str]] = set()
    expanded: set[tuple[str | None, str | None, tuple[str, ...]]] = set()
    todo: deque[tuple[Session, Event]] = deque(
        (start.session, Press(b.value)) for b in start.replies[-1].buttons)
    steps = 0
    while todo and steps < 5000:
        session, event = todo.popleft()
        turn = engine.handle(session, event)
        steps += 1
        assert turn.replies
        for reply in turn.replies:
            check_reply(reply, lang)
        for entered in turn.visited:
            flow_id, _, name = entered.partition(".")
            seen.add((flow_id, name))
        where = (turn.session.flow, turn.session.state, tuple(sorted(turn.session.vars)))
        if where in expanded:
            continue
        expanded.add(where)
        state = None
        if turn.session.flow and turn.session.state:
            state = knowledge.flows[turn.session.flow].states[turn.session.state]
        for button in turn.replies[-1].buttons:
            if button.value not in ("menu", "back") and not button.value.startswith("lang:"):
                todo.append((turn.session, Press(button.value)))
        if state is not None and state.ask:
            for _outcome, answer in ANSWERS[state.ask]:
                todo.append((turn.session, Text(typed(answer, lang))))
    every = {(f.id, name) for f in knowledge.flows.values() for name in f.states}
    assert every <= seen, f"never reached: {sorted(every - seen)}"


def run(engine: Engine, lang: str, *events: Event) -> tuple[Turn, list[Reply]]:
    turn = engine.start(Session(lang=lang))
    replies = list(turn.replies)
    for event in events:
        turn = engine.handle(turn.session, event)
        replies += turn.replies
    return turn, replies


def press(turn: Turn, label_part: str) -> Press:
    """The button of the last reply whose label contains the text."""
    for button in turn.replies[-1].buttons:
        if label_part.lower() in button.label.lower():
            return Press(button.value)
    raise AssertionError(f"no button like {label_part!r} in "
                         f"{[b.label for b in turn.replies[-1].buttons]}")


def step(engine: Engine, turn: Turn, event: Event) -> Turn:
    return engine.handle(turn.session, event)


@pytest.mark.parametrize(("lang", "flow_title"), [
    ("en", "Set up"), ("ru", "Настро"), ("it", "Configura"),
])
def test_setup_flow_gives_the_providers_settings(engine: Engine, knowledge: kb.Knowledge,
                                                 lang: str, flow_title: str) -> None:
    turn = engine.start(Session(lang=lang))
    turn = step(engine, turn, Press(f"flow:{next(iter(knowledge.flows))}"))
    assert turn.session.flow == "setup"
    turn = step(engine, turn, Text("ivan.petrov@yandex.ru"))
    assert turn.session.vars["provider"] == "yandex"
    texts = []
    for _ in range(6):  # press the first button until the settings appear
        texts += [r.text for r in turn.replies]
        if any("imap.yandex.ru" in t for t in texts):
            break
        turn = step(engine, turn, Press(turn.replies[-1].buttons[0].value))
    joined = "\n".join(texts)
    assert "imap.yandex.ru" in joined and "993" in joined
    assert "ivan.petrov@yandex.ru" in joined  # the login form


@pytest.mark.parametrize(("lang", "month"), [("en", "November"), ("ru", "ноября"),
                                             ("it", "novembre")])
def test_deleted_letters_are_restorable_until_a_date_in_the_users_locale(
        engine: Engine, lang: str, month: str) -> None:
    session = Session(lang=lang, flow="recovery", vars={"provider": "yandex", "days_ago": 3})
    reply = engine.render.state(session, next(
        s for s in engine.knowledge.flows["recovery"].states.values() if s.show == "retention"),
        ())
    # deleted 2026-11-23, Yandex keeps 30 days: restorable until 23 December, 27 days left
    assert "27" in reply.text and ("December" in reply.text or "декабря" in reply.text
                                   or "dicembre" in reply.text), reply.text
    gone = engine.render.state(Session(lang=lang, flow="recovery",
                                  vars={"provider": "yandex", "days_ago": 40}),
                          next(s for s in engine.knowledge.flows["recovery"].states.values()
                               if s.show == "retention"), ())
    assert month in gone.text, gone.text  # erased on 17 November


def test_free_text_jumps_to_a_topic_and_back_returns(engine: Engine) -> None:
    turn, _ = run(engine, "en", Press("flow:setup"))
    assert turn.session.state == engine.knowledge.flows["setup"].start
    turn = step(engine, turn, Text("553 5.7.1 Sender address rejected: not owned by auth user"))
    assert "sender" in turn.replies[0].text.lower()
    turn = step(engine, turn, Command("back"))
    assert (turn.session.flow, turn.session.state) == ("setup", "address") or (
        turn.session.flow == "setup")


def test_unknown_question_is_admitted_with_the_human_contact(engine: Engine) -> None:
    turn, _ = run(engine, "it", Text("come si fa la pasta alla carbonara"))
    assert turn.unanswered == "come si fa la pasta alla carbonara"
    assert "support@example.com" in turn.replies[0].text


def test_close_matches_ask_which_one(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the matcher finds two topics about as likely, the person picks one."""
    query = "should outgoing smtp use 465 or 587 with starttls"
    real = engine.matcher.match(query)
    close = (Match("smtp-ports", 0.55, None), Match("explicit-vs-implicit-tls", 0.4, None))
    monkeypatch.setattr(engine.matcher, "match", lambda *a, **k: replace(
        real, matches=close, suggestions=(), ambiguous=True))
    turn = engine.handle(Session(lang="en"), Text(query))
    values = [b.value for b in turn.replies[0].buttons]
    assert values[:2] == ["topic:smtp-ports", "topic:explicit-vs-implicit-tls"]


def test_password_is_warned_about_and_not_kept(engine: Engine) -> None:
    turn, replies = run(engine, "ru", Press("flow:setup"), Text("Qwerty!2345"))
    assert "парол" in replies[-1].text.lower()
    assert "Qwerty!2345" not in repr(turn.session.to_dict())
    assert turn.unanswered is None


def test_language_command_and_detection(engine: Engine) -> None:
    turn = engine.start(Session())
    turn = step(engine, turn, Text("как восстановить удаленные письма"))
    assert turn.session.language == "ru"
    turn = step(engine, turn, Command("language", "it"))
    assert turn.session.language == "it"
    turn = step(engine, turn, Text("how do I restore deleted mail"))
    assert turn.session.language == "it"  # an explicit choice wins over detection
    hinted = engine.start(Session(hint="ru"))
    assert CYRILLIC.search(hinted.replies[0].text)


def test_stale_and_forged_buttons(engine: Engine) -> None:
    first = engine.start(Session(lang="en"))
    setup = step(engine, first, Press("flow:setup"))
    later = step(engine, setup, Command("menu"))
    stale = step(engine, later, Press(setup.replies[-1].buttons[0].value))
    assert stale.replies
    forged = step(engine, later, Press("setup.nowhere.99"))
    assert "no longer valid" in forged.replies[0].text
    for digit in ("²", "①", "¹", "٣"):  # digits to str.isdigit(), not to int()
        odd = step(engine, later, Press(f"setup.device.{digit}"))
        assert "no longer valid" in odd.replies[0].text


def test_session_round_trips_and_rejects_garbage() -> None:
    session = Session(lang="it", flow="setup", state="address", vars={"days_ago": 3},
                      back=["setup.address"])
    assert Session.from_dict(session.to_dict()) == session
    weird = Session.from_dict({"lang": "xx", "vars": {"a": [1]}, "back": "nope", "flow": 3})
    assert weird == Session()


EVENTS = st.one_of(
    st.builds(Text, st.text(max_size=300)),
    st.builds(Text, st.sampled_from(["ivan@yandex.ru", "вчера", "0x800CCC0E", "12.11.2026",
                                     "check imap.mail.ru", "", "   ", "a" * 5000])),
    st.builds(Press, st.text(max_size=80)),
    st.builds(Press, st.sampled_from(["menu", "back", "human", "lang:ru", "lang:xx",
                                      "flow:setup", "flow:recovery", "topic:login-failed",
                                      "topic:nope", "setup.address.0", "recovery.x.1"])),
    st.builds(Command, st.sampled_from(["start", "help", "menu", "back", "language", "nope"]),
              st.sampled_from(["", "en", "ru", "it", "xx"])),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(EVENTS, max_size=25), seed_lang=st.sampled_from([None, *kb.LANGS]))
def test_random_events_never_break_the_engine(engine: Engine, events: list[Event],
                                              seed_lang: str | None) -> None:
    turn = engine.start(Session(lang=seed_lang))
    pressed: list[str] = []
    for event in events:
        if isinstance(event, Press) and pressed and event.value == "":
            event = Press(pressed[len(events) % len(pressed)])  # an old button, pressed late
        turn = engine.handle(Session.from_dict(turn.session.to_dict()), event)
        assert turn.replies
        assert all(r.text or r.buttons for r in turn.replies)
        pressed += [b.value for r in turn.replies for b in r.buttons]


def test_the_flow_diagrams_in_docs_are_current(knowledge: kb.Knowledge) -> None:
    """docs/flows.md is generated; regenerate with `mailhelp kb diagram > docs/flows.md`."""
    docs = Path(__file__).resolve().parents[1] / "docs" / "flows.md"
    assert docs.read_text(encoding="utf-8") == flows_markdown(knowledge.flows) + "\n"
    diagram = mermaid(knowledge.flows["setup"])
    assert diagram.startswith("stateDiagram-v2\n    [*] --> address")
    assert "address --> device: known" in diagram


def test_check_command_asks_the_channel_to_run_the_live_check(engine: Engine) -> None:
    turn, _ = run(engine, "ru", Command("check", "imap.mail.ru:993"))
    action = turn.replies[-1].actions[0]
    assert (action.kind, action.target, action.lang) == ("check", "imap.mail.ru:993", "ru")
    turn, _ = run(engine, "en", Command("check"))
    assert not turn.replies[-1].actions
    assert "server name" in turn.replies[-1].text
