"""Starting the bot: the webhook behind the web server, and a Telegram that says no or is away."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import ConfigError
from bot.conversation import Conversations
from tests.telegram.botapi import FakeBotApi, message
from tests.telegram.conftest import make_bot, telegram_config

PUBLIC_URL = "https://bot.example.com"


async def test_webhook_is_set_and_its_updates_are_answered(
        api: FakeBotApi, conversations: Conversations, tmp_path: Path) -> None:
    config = telegram_config(tmp_path, MAILHELP_PUBLIC_URL=PUBLIC_URL)
    bot = make_bot(api, conversations, config)
    await bot.start()
    try:
        hook = bot.webhook
        assert hook is not None
        assert (hook.path, hook.secret) == ("/telegram/webhook", config.webhook_secret)
        assert len(hook.secret) >= 32
        webhooks = [c for c in api.calls if c.method == "setWebhook"]
        assert [c.params["url"] for c in webhooks] == [PUBLIC_URL + "/telegram/webhook"]
        assert webhooks[0].params["secret_token"] == config.webhook_secret
        assert webhooks[0].params["allowed_updates"] == ["message", "callback_query"]

        mark = api.mark()
        await hook.feed({"update_id": 1, "message": "not a message"})  # dropped, no harm
        await hook.feed({"update_id": 2, **message(42, "/start", "it")})
        calls = await api.wait_for(lambda calls: any(c.buttons for c in calls), mark)
        replies = [c for c in calls if c.method == "sendMessage"]
        assert "Ciao" in replies[0].text and {c.chat_id for c in replies} == {42}
        # Updates come by webhook only: no polling, and the webhook is left in place.
        assert not [c for c in api.calls if c.method in ("getUpdates", "deleteWebhook")]
        # The token is part of every request URL, which httpx would log at INFO.
        assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
    finally:
        await bot.stop()
    assert not [c for c in api.calls if c.method == "deleteWebhook"]


async def test_a_token_telegram_rejects_is_a_config_error(
        api: FakeBotApi, conversations: Conversations, tmp_path: Path) -> None:
    api.fail("getMe", 401)
    bot = make_bot(api, conversations, telegram_config(tmp_path))
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
        await bot.start()
    await bot.stop()


async def test_a_refused_webhook_url_is_a_config_error(
        api: FakeBotApi, conversations: Conversations, tmp_path: Path) -> None:
    api.fail("setWebhook", 400)
    bot = make_bot(api, conversations, telegram_config(tmp_path, MAILHELP_PUBLIC_URL=PUBLIC_URL))
    with pytest.raises(ConfigError, match="MAILHELP_PUBLIC_URL"):
        await bot.start()
    await bot.stop()


async def test_telegram_away_at_start_is_retried_in_the_background(
        api: FakeBotApi, conversations: Conversations, tmp_path: Path) -> None:
    api.fail("getMe", 502, 502)
    bot = make_bot(api, conversations, telegram_config(tmp_path))
    await bot.start()  # returns: the web server need not wait for Telegram
    try:
        api.push(message(7, "/start"))
        calls = await api.wait_for(lambda calls: any(c.buttons for c in calls))
        assert [c.status for c in calls if c.method == "getMe"] == [502, 502, 200]
    finally:
        await bot.stop()
