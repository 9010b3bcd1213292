"""The Telegram bot end to end: python-telegram-bot's own HTTP stack against a fake Bot API.

Each test scripts updates as Telegram would deliver them by long polling and asserts the
requests the bot made: sendMessage, editMessageText, answerCallbackQuery.
"""

from __future__ import annotations

import html
import logging
from typing import Any

import pytest

from bot.check.messages import catalogue
from bot.conversation import Conversations
from bot.dialog import Command, Session, Text
from bot.i18n import translator
from tests.telegram.botapi import Call, FakeBotApi, eventually, message, press
from tests.telegram.conftest import CHECK_HOST, HUMAN_CONTACT

pytestmark = pytest.mark.usefixtures("polling_bot")

GREETING_WORD = {"en": "Hello", "ru": "Здравствуйте", "it": "Ciao"}


def chat_of(update: dict[str, Any]) -> int:
    body = update.get("message") or update["callback_query"]
    return int(body["from"]["id"])


def keyboard_reply(chat: int) -> Any:
    """Whether the calls hold a delivered message with a keyboard: the end of a turn."""
    return lambda calls: any(c.method == "sendMessage" and c.status == 200 and c.buttons
                             and c.chat_id == chat for c in calls)


async def turn(api: FakeBotApi, update: dict[str, Any]) -> list[Call]:
    """Deliver one update; the bot's calls up to its reply with a keyboard."""
    mark = api.mark()
    api.push(update)
    return await api.wait_for(keyboard_reply(chat_of(update)), mark)


def sent(calls: list[Call]) -> list[Call]:
    return [c for c in calls if c.method == "sendMessage" and c.status == 200]


@pytest.mark.parametrize("lang", ["en", "ru", "it"])
async def test_start_greets_in_the_users_language(api: FakeBotApi, conversations: Conversations,
                                                  lang: str) -> None:
    messages = sent(await turn(api, message(100, "/start", lang)))
    greeting, menu = conversations.engine.start(Session(hint=lang)).replies
    assert [m.text for m in messages] == [greeting.text, menu.text]
    assert GREETING_WORD[lang] in messages[0].text
    assert all(m.params["parse_mode"] == "HTML" and m.chat_id == 100 for m in messages)
    assert messages[0].buttons == []
    assert messages[1].values == [b.value for b in menu.buttons]
    assert [[b["text"] for b in row] for row in messages[1].buttons] == [
        [b.label] for b in menu.buttons]  # long labels: one a row


@pytest.mark.parametrize("lang", ["en", "ru", "it"])
async def test_setup_flow_by_buttons_and_an_address(api: FakeBotApi, lang: str) -> None:
    chat = 200
    await turn(api, message(chat, "/start", lang))
    calls = await turn(api, press(chat, "flow:setup", lang, query_id="q-setup"))
    answers = [c for c in calls if c.method == "answerCallbackQuery"]
    assert [a.params["callback_query_id"] for a in answers] == ["q-setup"]
    assert calls.index(answers[0]) < calls.index(sent(calls)[0])  # answered before replying
    assert "@example.com" in sent(calls)[-1].text

    device = sent(await turn(api, message(chat, "ivan@yandex.ru", lang)))[-1]
    assert "Yandex" in device.text
    assert device.values[0].startswith("setup.device.")
    protocol = sent(await turn(api, press(chat, device.values[0], lang)))[-1]
    settings = sent(await turn(api, press(chat, protocol.values[0], lang)))
    shown = "\n".join(m.text for m in settings)
    assert "imap.yandex.ru" in shown and "smtp.yandex.ru" in shown and "993" in shown
    assert "ivan@yandex.ru" in shown


async def test_one_chat_is_answered_in_order(api: FakeBotApi) -> None:
    chat = 210
    mark = api.mark()
    # Delivered together: processed concurrently, yet the chat's turns keep their order.
    api.push(message(chat, "/start"))
    api.push(press(chat, "flow:setup"))
    api.push(message(chat, "ivan@yandex.ru"))
    calls = await api.wait_for(lambda calls: any("Yandex" in c.text for c in calls), mark)
    texts = [c.text for c in sent(calls)]
    assert "Hello" in texts[0]
    assert any("name@example.com" in t for t in texts[:-1])


async def test_language_from_the_choice_else_the_telegram_interface(api: FakeBotApi) -> None:
    ru, it = translator("ru"), translator("it")
    chosen = "From now on I will answer in English."
    # language_code says English; /language ru wins from then on.
    await turn(api, message(300, "/start", "en"))
    calls = await turn(api, message(300, "/language ru", "en"))
    assert sent(calls)[0].text == ru(chosen)
    menu = sent(await turn(api, message(300, "/language", "en")))[-1]
    assert menu.values == ["lang:en", "lang:ru", "lang:it"]
    assert [[b["text"] for b in row] for row in menu.buttons] == [
        ["English", "Русский"], ["Italiano"]]  # short labels: two a row
    calls = await turn(api, press(300, "lang:it", "en"))
    assert sent(calls)[0].text == it(chosen)
    assert GREETING_WORD["it"] in sent(await turn(api, message(300, "/start", "en")))[0].text
    # "/start ru" chooses Russian for a new chat whose interface is English; "ru-RU" counts
    # as Russian; two chats at once keep their own languages.
    mark = api.mark()
    api.push(message(301, "/start ru", "en"))
    api.push(message(302, "/start", "ru-RU"))
    calls = await api.wait_for(lambda calls: keyboard_reply(301)(calls)
                               and keyboard_reply(302)(calls), mark)
    firsts = {c.chat_id: c.text for c in reversed(sent(calls))}
    assert GREETING_WORD["ru"] in firsts[301] and GREETING_WORD["ru"] in firsts[302]


@pytest.mark.parametrize("lang", ["en", "ru", "it"])
async def test_a_pasted_error_gets_its_answer(api: FakeBotApi, conversations: Conversations,
                                              lang: str) -> None:
    error = "535 5.7.8 Error: authentication failed"
    await turn(api, message(400, "/start", lang))
    calls = await turn(api, message(400, error, lang))
    engine = conversations.engine
    expected = engine.handle(engine.start(Session(hint=lang)).session, Text(error)).replies
    assert [m.text for m in sent(calls)] == [html.escape(r.text, quote=False) for r in expected]
    assert sent(calls)[-1].values == [b.value for b in expected[-1].buttons]


async def test_stale_and_forged_buttons_are_answered(api: FakeBotApi) -> None:
    await turn(api, message(500, "/start"))
    stale = await turn(api, press(500, "setup.device.99", query_id="stale"))
    assert [c.params["callback_query_id"] for c in stale
            if c.method == "answerCallbackQuery"] == ["stale"]
    assert sent(stale)[0].text == "That button is no longer valid."
    # A chat the bot never saw, pressing a button it never sent.
    forged = await turn(api, press(501, "x" * 64, query_id="forged"))
    assert [c.params["callback_query_id"] for c in forged
            if c.method == "answerCallbackQuery"] == ["forged"]
    assert sent(forged)[0].text == "That button is no longer valid."
    # Data no button of ours carries, a digit Python reads but int() does not included.
    for data in ("setup.device.²", "setup.device.①", "a.b.¹"):
        odd = await turn(api, press(502, data, query_id=f"odd-{data}"))
        assert [c.params["callback_query_id"] for c in odd
                if c.method == "answerCallbackQuery"] == [f"odd-{data}"]
        assert sent(odd)[0].text == "That button is no longer valid."
    # Telegram refuses to answer a query that is too old: the press still counts.
    api.fail("answerCallbackQuery", 400)
    late = await turn(api, press(500, "menu", query_id="late"))
    assert [c.status for c in late if c.method == "answerCallbackQuery"] == [400]
    assert sent(late)[0].values[0] == "flow:setup"


async def test_everything_is_escaped_for_html(api: FakeBotApi) -> None:
    await turn(api, message(600, "/start"))
    reply = sent(await turn(api, message(600, "<b>&")))[0]
    assert reply.params["parse_mode"] == "HTML"
    assert html.escape(HUMAN_CONTACT, quote=False) in reply.text
    assert "&lt;b&gt;Helpdesk&lt;/b&gt; &amp; Co &lt;help@example.com&gt;" in reply.text
    assert "<" not in reply.text and ">" not in reply.text
    topic = sent(await turn(api, press(600, "topic:exchange-enable-pop-imap")))[0]
    assert "-Identity &lt;mailbox&gt;" in topic.text and "<mailbox>" not in topic.text


async def test_check_command_edits_one_message_with_progress(api: FakeBotApi,
                                                             imap_port: int) -> None:
    target = f"{CHECK_HOST}:{imap_port}"
    mark = api.mark()
    api.push(message(700, f"/check {target}"))
    calls = await api.wait_for(lambda calls: any(
        c.method == "editMessageText" and "<pre>" in c.text for c in calls), mark)
    messages = sent(calls)
    edits = [c for c in calls if c.method == "editMessageText"]
    head = catalogue().text("checking", "en", count="1", target=target)
    # The engine's answer to the command, as in every channel, then the check's message.
    assert len(messages) == 2 and target in messages[0].text and messages[1].text == head
    assert {e.params["message_id"] for e in edits} == {"1001"}  # the check's one message
    assert all(e.params["parse_mode"] == "HTML" for e in edits)
    progress, final = edits
    assert progress.text.startswith(head) and f"[1/1] imap {target}" in progress.text
    assert "<pre>PROTOCOL" in final.text and f"127.0.0.1  {imap_port}" in final.text
    assert "STARTTLS" in final.text.split("</pre>")[1]  # the findings, after the table


async def test_check_from_the_conversation_in_russian(api: FakeBotApi, imap_port: int) -> None:
    target = f"{CHECK_HOST}:{imap_port}"
    mark = api.mark()
    api.push(message(710, f"проверь сервер {target}", "ru"))
    calls = await api.wait_for(lambda calls: any(
        c.method == "editMessageText" and "<pre>" in c.text for c in calls), mark)
    messages = sent(calls)
    head = catalogue().text("checking", "ru", count="1", target=target)
    assert messages[-1].text == head  # after the answer about checking ports
    final = [c for c in calls if c.method == "editMessageText"][-1]
    assert final.text.startswith(head)
    assert catalogue().text("problems_found", "ru") in final.text


async def test_a_refused_check_says_why(api: FakeBotApi) -> None:
    mark = api.mark()
    api.push(message(720, f"/check {CHECK_HOST}:99999", "it"))  # no such port
    calls = await api.wait_for(lambda calls: len(sent(calls)) == 2, mark)
    assert sent(calls)[1].text.startswith("Verifica rifiutata:")
    assert not [c for c in api.since(mark) if c.method == "editMessageText"]


async def test_network_errors_are_retried_and_never_fatal(
        api: FakeBotApi, caplog: pytest.LogCaptureFixture) -> None:
    await turn(api, message(800, "/start"))
    api.fail("sendMessage", 502)  # once: the retry delivers the reply
    calls = await turn(api, message(800, "/help"))
    attempts = [c for c in calls if c.method == "sendMessage"]
    assert [c.status for c in attempts] == [502, 200]
    assert attempts[0].text == attempts[1].text

    caplog.set_level(logging.INFO, logger="bot.channels.telegram")
    api.fail("sendMessage", 502, 502)  # every attempt fails: this reply is lost, logged
    mark = api.mark()
    failing = api.push(message(800, "my password is Tr0ub4dor&3xyz"))
    await api.wait_for(lambda calls: [c.status for c in calls
                                      if c.method == "sendMessage"] == [502, 502], mark)
    calls = await turn(api, message(800, "/menu"))  # the bot still answers
    assert sent(calls)[0].values[0] == "flow:setup"
    logged = caplog.text
    assert f"Telegram update {failing['update_id']}: NetworkError" in logged
    assert "Tr0ub4dor" not in logged and "password" not in logged


async def test_unknown_commands_get_the_engines_answer(api: FakeBotApi) -> None:
    reply = sent(await turn(api, message(900, "/frobnicate now")))[0]
    assert reply.text == "I do not know that command. Try /help."


async def test_a_failing_turn_is_logged_without_what_was_typed(
        api: FakeBotApi, conversations: Conversations, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    await turn(api, message(950, "/start"))
    working = conversations.send

    def broken(session: str, event: Any) -> Any:
        raise RuntimeError(f"cannot handle {event}")

    monkeypatch.setattr(conversations, "send", broken)
    mark = api.mark()
    failed = api.push(message(950, "ivan.petrov@example.com Tr0ub4dor&3xyz"))
    await eventually(lambda: f"Telegram update {failed['update_id']} failed" in caplog.text)
    assert api.since(mark, "sendMessage") == []
    monkeypatch.setattr(conversations, "send", working)
    assert sent(await turn(api, message(950, "/menu")))[0].values[0] == "flow:setup"
    logged = caplog.text
    assert "RuntimeError at " in logged and "channel.py" in logged
    assert "ivan.petrov" not in logged and "Tr0ub4dor" not in logged


async def test_commands_are_the_engines_commands(api: FakeBotApi,
                                                 conversations: Conversations) -> None:
    """/help and /check SERVER here answer as {"command": ...} does in the web API."""
    engine = conversations.engine
    fresh = engine.start(Session(hint="en")).session
    for chat, text, command in ((740, "/help", Command("help")),
                                (741, "/check", Command("check"))):
        calls = await turn(api, message(chat, text))
        expected = engine.handle(fresh, command).replies
        assert [c.text for c in sent(calls)] == [html.escape(r.text, quote=False)
                                                for r in expected]
