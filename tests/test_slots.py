"""Reading slots from typed messages: devices, protocols, yes/no, people, when, language;
and choosing a state's button from typed text."""

from __future__ import annotations

from datetime import date

import pytest

from bot import kb
from bot.choice import choose, known_answer
from bot.match import Matcher, matcher_for
from bot.slots import SlotReader, Slots
from bot.when import days_ago

TODAY = date(2026, 11, 26)



@pytest.fixture(scope="module")
def matcher(knowledge: kb.Knowledge) -> Matcher:
    return matcher_for(knowledge)


@pytest.fixture(scope="module")
def reader(knowledge: kb.Knowledge, matcher: Matcher) -> SlotReader:
    return SlotReader.load(knowledge.root, matcher.words.stopwords)


def read(reader: SlotReader, matcher: Matcher, knowledge: kb.Knowledge, text: str,
         answers_when: bool = False) -> Slots:
    return reader.read(text, matcher.match(text), knowledge, TODAY, answers_when)


@pytest.mark.parametrize(("text", "device"), [
    ("хочу настроить почту на айфоне", "apple"), ("configurare thunderbrid", "thunderbird"),
    ("telefono android", "android"), ("в аутлуке не работает", "outlook"),
    ("on my macbook", "apple"), ("set up my mail", None),
])
def test_devices_with_inflections_and_typos(reader: SlotReader, matcher: Matcher,
                                            knowledge: kb.Knowledge, text: str,
                                            device: str | None) -> None:
    assert read(reader, matcher, knowledge, text).device == device


@pytest.mark.parametrize(("text", "answer"), [
    ("да, помогло", "yes"), ("no it didn't", "no"), ("ancora niente", "no"),
    ("yes thanks", "yes"), ("no thanks", "no"), ("не помогло", "no"), ("sì funziona", "yes"),
    ("imap.mail.ru", None),
])
def test_yes_and_no_where_no_wins(reader: SlotReader, matcher: Matcher,
                                  knowledge: kb.Knowledge, text: str, answer: str | None) -> None:
    assert read(reader, matcher, knowledge, text).answer == answer


@pytest.mark.parametrize(("text", "provider", "address"), [
    ("it's gmail", "gmail", None), ("у меня яндекс", "yandex", None),
    ("ho libero", "libero", None), ("Ivan.Petrov@BK.ru", "mailru", "ivan.petrov@bk.ru"),
    ("me@unknown-example.org", None, "me@unknown-example.org"),
])
def test_provider_from_words_or_address(reader: SlotReader, matcher: Matcher,
                                        knowledge: kb.Knowledge, text: str,
                                        provider: str | None, address: str | None) -> None:
    slots = read(reader, matcher, knowledge, text)
    assert (slots.provider, slots.address) == (provider, address)


def test_protocol_only_when_one_is_named(reader: SlotReader, matcher: Matcher,
                                         knowledge: kb.Knowledge) -> None:
    assert read(reader, matcher, knowledge, "pop3 please").protocol == "pop3"
    assert read(reader, matcher, knowledge, "имап").protocol == "imap"
    assert read(reader, matcher, knowledge, "move from pop3 to imap").protocol is None


def test_a_person_is_asked_for_only_in_a_short_message(reader: SlotReader, matcher: Matcher,
                                                       knowledge: kb.Knowledge) -> None:
    assert read(reader, matcher, knowledge, "позовите оператора").human
    assert read(reader, matcher, knowledge, "voglio parlare con un operatore").human
    long = ("the operator of our office network says the firewall is fine but outlook still "
            "cannot connect to the server at all since monday")
    assert not read(reader, matcher, knowledge, long).human


@pytest.mark.parametrize(("text", "lang"), [
    ("не приходят письма", "ru"), ("salve, non ricevo più le email", "it"),
    ("I can't receive my email since yesterday", "en"), ("no, niente", "it"),
    ("ivan@yandex.ru", None), ("imap", None), ("ok", None),
])
def test_language_only_when_clear(reader: SlotReader, matcher: Matcher,
                                  knowledge: kb.Knowledge, text: str, lang: str | None) -> None:
    assert read(reader, matcher, knowledge, text).language == lang


def test_deleting_oneself_but_not_by_themselves(reader: SlotReader, matcher: Matcher,
                                                knowledge: kb.Knowledge) -> None:
    assert read(reader, matcher, knowledge, "удалила письма вчера").deleted
    assert not read(reader, matcher, knowledge, "letters get deleted by themselves").deleted


@pytest.mark.parametrize(("text", "days"), [
    ("yesterday", 1), ("3 дня назад", 3), ("3 дня тому назад", 3), ("la settimana scorsa", 7),
    ("l'altro ieri", 2), ("two weeks ago", 14), ("deleted them three days ago", 3),
    ("20.11", 6), ("12.11.2026", 14), ("2026-11-20", 6), ("пару дней назад", 2),
    ("un mese fa", 30), ("31.02", None), ("no idea", None), ("27.11.2026", None),
])
def test_when(reader: SlotReader, text: str, days: int | None) -> None:
    assert days_ago(text, TODAY, reader.when) == days


@pytest.mark.parametrize("text", ["TLS 1.2 not supported", "535 5.7.8 failed",
                                  "server 192.168.1.20 down", "version 3.11"])
def test_numbers_that_are_not_dates_outside_a_when_question(reader: SlotReader,
                                                            text: str) -> None:
    assert days_ago(text, TODAY, reader.when, dates=False) is None


@pytest.mark.parametrize(("flow", "state", "text", "go"), [
    ("setup", "protocol", "imap pls", "settings"),
    ("setup", "protocol", "aiutami a scegliere", "ask_devices"),  # another language's label
    ("setup", "protocol", "help me chose", "ask_devices"),  # a typo
    ("setup", "device", "айфон", "hint_apple"),
    ("setup", "ask_devices", "да", "choose_imap"),
    ("setup", "worked", "no it fails", "troubleshoot"),
    ("recovery", "del_when", "3 дня назад", "del_retention"),
    ("pop3-to-imap", "symptoms", "нет", "troubleshoot"),  # "Something else" stands for no
    ("recovery", "del_found", "no", "missing"),  # the only way on that is not a yes
    ("setup", "protocol", "not sure", "ask_devices"),  # not knowing: "Help me choose"
    ("recovery", "del_when", "без понятия", "del_nodate"),  # "Don't remember"
    ("recovery", "blocked_q", "нет", "human"),  # only yes or a person: the person
])
def test_typed_answers_choose_a_button(knowledge: kb.Knowledge, reader: SlotReader,
                                       matcher: Matcher, flow: str, state: str, text: str,
                                       go: str) -> None:
    the_state = knowledge.flows[flow].states[state]
    slots = read(reader, matcher, knowledge, text, answers_when=True)
    choice = choose(the_state, text, slots, reader)
    assert choice is not None and choice.go == go, choice


def test_a_day_between_the_buttons_keeps_its_exact_value(knowledge: kb.Knowledge) -> None:
    del_when = knowledge.flows["recovery"].states["del_when"]
    choice = known_answer(del_when, {"days_ago": 3})
    assert choice is not None and choice.values == {"days_ago": 3}
    assert known_answer(del_when, {}) is None


def test_unrelated_text_chooses_nothing(knowledge: kb.Knowledge, reader: SlotReader,
                                        matcher: Matcher) -> None:
    protocol = knowledge.flows["setup"].states["protocol"]
    text = "what is the weather tomorrow"
    assert choose(protocol, text, read(reader, matcher, knowledge, text), reader) is None
