"""A hand-over to a person from Telegram posts the masked conversation to the agents' chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.channels.telegram import TelegramBot
from bot.conversation import Conversations
from tests.telegram.botapi import FakeBotApi, message
from tests.telegram.conftest import make_bot, telegram_config

AGENTS = -1001234567890


@pytest.fixture
async def bot_with_agents(api: FakeBotApi, conversations: Conversations,
                          tmp_path: Path) -> AsyncIterator[TelegramBot]:
    config = telegram_config(tmp_path, MAILHELP_TELEGRAM_AGENT_CHAT=str(AGENTS))
    bot = make_bot(api, conversations, config)
    await bot.start()
    yield bot
    await bot.stop()


@pytest.mark.usefixtures("bot_with_agents")
async def test_the_agents_chat_gets_the_transcript(api: FakeBotApi) -> None:
    chat = 700
    mark = api.mark()
    api.push(message(chat, "не могу войти в почту ivan.petrov@yandex.ru", "ru"))
    await api.wait_for(lambda calls: any(c.method == "sendMessage" and c.chat_id == chat
                                         and c.buttons for c in calls), mark)
    mark = api.mark()
    api.push(message(chat, "позовите оператора", "ru"))
    calls = await api.wait_for(lambda calls: any(c.method == "sendMessage"
                                                 and c.chat_id == AGENTS for c in calls), mark)
    to_person = [c.text for c in calls if c.method == "sendMessage" and c.chat_id == chat]
    assert any("Helpdesk" in text for text in to_person)  # the contact, for the person
    to_agents = "\n".join(c.text for c in calls if c.method == "sendMessage"
                          and c.chat_id == AGENTS)
    assert f"Telegram chat {chat}" in to_agents and "language: ru" in to_agents
    assert "Person: не могу войти в почту i***@yandex.ru" in to_agents
    assert "Person: позовите оператора" in to_agents
    assert "ivan.petrov" not in to_agents


async def test_without_an_agents_chat_nothing_else_is_sent(
        api: FakeBotApi, conversations: Conversations, tmp_path: Path) -> None:
    bot = make_bot(api, conversations, telegram_config(tmp_path))
    await bot.start()
    try:
        mark = api.mark()
        api.push(message(701, "talk to a person", "en"))
        # the chat's turns are answered in order: once /menu is answered, the hand-over
        # turn has finished everything it was going to send
        api.push(message(701, "/menu", "en"))
        calls = await api.wait_for(lambda calls: any(
            c.method == "sendMessage" and c.chat_id == 701 and "flow:setup" in c.values
            for c in calls), mark)
        assert {c.chat_id for c in calls if c.method == "sendMessage"} == {701}
    finally:
        await bot.stop()
