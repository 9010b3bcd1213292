"""What the guided dialogs promise about the knowledge: no manual password setup for
providers that take none, no invented dates, the new topics reachable from the menus."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from bot import kb
from bot.dialog import Engine, EngineSettings, Press, Session, Text, Turn
from bot.match import matcher_for

TODAY = date(2026, 11, 26)
# "23 December", "23 декабря", "23 dicembre", "23.12.2026": any day of a month
A_DATE = re.compile(r"\b\d{1,2}([ .]\w+|\.\d{1,2})\b.*\b20\d\d\b|\b\d{1,2} (January|February|"
                    r"March|April|May|June|July|August|September|October|November|December)\b")



@pytest.fixture(scope="module")
def engine(knowledge: kb.Knowledge) -> Engine:
    return Engine(knowledge, matcher_for(knowledge),
                  EngineSettings(human_contact="support@example.com", today=lambda: TODAY))


def press(engine: Engine, turn: Turn, label_part: str) -> Turn:
    for button in turn.replies[-1].buttons:
        if label_part.lower() in button.label.lower():
            return engine.handle(turn.session, Press(button.value))
    raise AssertionError(f"no button like {label_part!r} in "
                         f"{[b.label for b in turn.replies[-1].buttons]}")


def start(engine: Engine, flow: str, lang: str = "en") -> Turn:
    return engine.handle(engine.start(Session(lang=lang)).session, Press(f"flow:{flow}"))


def text_of(turn: Turn) -> str:
    return "\n".join(r.text for r in turn.replies)


@pytest.mark.parametrize("address", ["mario.rossi@hotmail.it", "anna@outlook.com.au",
                                     "ivan@live.ru"])
def test_outlook_com_addresses_never_reach_the_manual_password_setup(
        engine: Engine, address: str) -> None:
    turn = engine.handle(start(engine, "setup").session, Text(address))
    assert turn.session.state == "oauth"
    said = text_of(turn)
    assert "OAuth" in said and "Microsoft" in said
    assert "smtp-mail.outlook.com" not in said  # no servers to type by hand
    labels = [b.label for b in turn.replies[-1].buttons]
    assert not any("IMAP" in label or label == "POP3" for label in labels), labels


def test_a_password_provider_still_gets_the_manual_settings(engine: Engine) -> None:
    turn = engine.handle(start(engine, "setup").session, Text("ivan.petrov@yandex.ru"))
    assert turn.session.state == "device"


def test_pop3_to_imap_sends_outlook_com_to_the_sign_in_steps(engine: Engine) -> None:
    turn = start(engine, "pop3-to-imap")
    for label in ("Yes, that's it", "IMAP in another program", "Which servers?"):
        turn = press(engine, turn, label)
    turn = engine.handle(turn.session, Text("mario.rossi@hotmail.it"))
    assert turn.session.state == "srv_oauth"
    assert "OAuth" in text_of(turn) and "outlook.office365.com" not in text_of(turn)


def test_pop3_to_imap_no_longer_offers_gmail_collecting(engine: Engine) -> None:
    turn = start(engine, "pop3-to-imap")
    turn = press(engine, press(engine, turn, "Yes, that's it"), "Gmail app")
    said = text_of(turn)
    assert "2026" in said and "forward" in said.lower()


@pytest.mark.parametrize("lang", kb.LANGS)
@pytest.mark.parametrize("label", [
    {"en": "8–30 days ago", "ru": "8–30 дней назад", "it": "8–30 giorni fa"},
    {"en": "More than a month ago", "ru": "Больше месяца назад", "it": "Più di un mese fa"},
])
def test_deleted_letters_ranges_never_invent_a_date(engine: Engine, lang: str,
                                                    label: dict[str, str]) -> None:
    turn = press(engine, start(engine, "recovery", lang), {"en": "Deleted letters",
                 "ru": "Удалённые письма", "it": "Messaggi eliminati"}[lang])
    turn = engine.handle(turn.session, Text("ivan.petrov@yandex.ru"))
    turn = press(engine, turn, label[lang])
    seen = text_of(turn)
    for _ in range(3):  # follow the range answer on to the restore steps
        if turn.replies[-1].buttons and turn.session.state != "del_found":
            turn = engine.handle(turn.session, Press(turn.replies[-1].buttons[-1].value))
            seen += text_of(turn)
    assert "days_ago" not in turn.session.vars
    assert "30" in seen  # the range is answered with the providers' days
    assert not A_DATE.search(seen), seen


def test_deleted_letters_range_offers_to_type_the_day(engine: Engine) -> None:
    turn = press(engine, start(engine, "recovery"), "Deleted letters")
    turn = engine.handle(turn.session, Text("ivan.petrov@yandex.ru"))
    turn = press(engine, press(engine, turn, "8–30 days ago"), "Type a date")
    turn = engine.handle(turn.session, Text("12 days ago"))
    assert turn.session.vars["days_ago"] == 12
    assert "18 days left" in text_of(turn)  # Yandex keeps 30 days


def test_the_recovery_menu_has_the_spam_folder(engine: Engine) -> None:
    turn = press(engine, start(engine, "recovery"), "Good letters in Spam")
    assert engine.knowledge.topics["spam-folder"].title["en"] in text_of(turn)


NEW_ERRORS = ("oauth-required", "mailbox-full", "message-too-large", "my-mail-goes-to-spam",
              "sending-limit", "auth-method-mismatch", "encoding")


def test_every_new_error_topic_is_offered_in_troubleshooting(knowledge: kb.Knowledge) -> None:
    flow = knowledge.flows["troubleshoot"]
    causes = {flow.states[b.go].topic for b in flow.states["causes"].buttons
              if b.go in flow.states}
    assert set(NEW_ERRORS) <= causes
    problem = {b.go for b in flow.states["problem"].buttons}
    assert {"t_my_spam", "t_encoding"} <= problem


def test_unknown_outcomes_and_bad_provider_flags_are_named(tmp_path: Path) -> None:
    root = tmp_path / "knowledge"
    shutil.copytree(kb.default_root(), root)
    setup = root / "flows/setup.yaml"
    setup.write_text(setup.read_text(encoding="utf-8").replace(
        "closed: closed}", "closed: closed, imap: oauth}"), encoding="utf-8")
    provider = root / "providers/outlook.yaml"
    provider.write_text(provider.read_text(encoding="utf-8").replace(
        "oauth_only: true", "oauth_only: yes please"), encoding="utf-8")
    _, problems = kb.check(root)
    said = [str(p) for p in problems]
    assert any("flows/setup.yaml" in p and "optionally ['oauth', 'closed']" in p
               for p in said), said
    assert any("providers/outlook.yaml" in p and "'oauth_only' must be true or false" in p
               for p in said), said


@pytest.mark.parametrize(("lang", "word"), [("en", "closed"), ("ru", "закрыла"),
                                            ("it", "chiuso")])
def test_a_closed_mailbox_is_said_to_be_closed_not_given_half_settings(
        engine: Engine, lang: str, word: str) -> None:
    turn = engine.handle(start(engine, "setup", lang).session, Text("mario.rossi@poste.it"))
    assert turn.session.state == "closed"
    said = text_of(turn)
    assert word in said and "relay.poste.it" not in said
