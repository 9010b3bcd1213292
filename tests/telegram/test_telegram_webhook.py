"""Starting the bot: the webhook behind the web server, and a Telegram that says no or is away."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import httpx
import pytest

from bot.channels.web.app import create_app
from bot.channels.web.server import server_for
from bot.check import CheckLimiter
from bot.config import ConfigError
from bot.conversation import Conversations
from tests.telegram.botapi import FakeBotApi, eventually, message
from tests.telegram.conftest import POLICY, make_bot, telegram_config

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


async def test_webhook_updates_past_the_backlog_are_refused_with_503(
        api: FakeBotApi, conversations: Conversations, tmp_path: Path) -> None:
    """While Telegram does not answer, taken updates wait; past the cap Telegram is told
    to send later instead of the server holding them in memory."""
    config = telegram_config(tmp_path, MAILHELP_PUBLIC_URL=PUBLIC_URL)
    bot = make_bot(api, conversations, config)
    await bot.start()
    hook = bot.webhook
    assert hook is not None
    hook.max_pending = 3
    app = create_app(config, conversations, limiter=CheckLimiter(POLICY), policy=POLICY,
                     telegram=hook)
    listener = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}{hook.path}"
    server = server_for(app, "127.0.0.1", 0, lifespan="off", log_level="warning")
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    headers = {"X-Telegram-Bot-Api-Secret-Token": hook.secret}
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        api.stall("sendMessage")
        async with httpx.AsyncClient(timeout=10) as http:
            answers = [await http.post(url, json={"update_id": 100 + chat,
                                                  **message(chat, "/start")}, headers=headers)
                       for chat in range(1, 7)]
            assert [a.status_code for a in answers] == [200] * 3 + [503] * 3
            assert answers[-1].json()["error"] == "busy"
            assert answers[-1].headers["retry-after"] == "10"
            api.resume()
            await api.wait_for(lambda calls: {c.chat_id for c in calls
                                              if c.method == "sendMessage"} == {1, 2, 3})
            await eventually(lambda: hook.pending == 0)
            again = await http.post(url, json={"update_id": 200, **message(4, "/start")},
                                    headers=headers)
            assert again.status_code == 200
    finally:
        api.resume()
        server.should_exit = True
        await serving
        listener.close()
        await bot.stop()
