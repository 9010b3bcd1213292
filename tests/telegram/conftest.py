"""Fixtures for the Telegram door: the fake Bot API, the engine, a bot polling it, IMAP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path

import pytest

from bot import kb
from bot.channels.telegram import TelegramBot, build_application
from bot.check import CheckLimiter, CheckPolicy
from bot.check.resolve import ResolveError
from bot.config import Config, load_config
from bot.conversation import Conversations
from bot.dialog import Engine, EngineSettings
from bot.gaps import GapLog
from bot.match import matcher_for
from bot.store import SQLiteSessionStore
from tests.telegram.botapi import TOKEN, FakeBotApi

# Bot text with every character HTML mode must escape.
HUMAN_CONTACT = "<b>Helpdesk</b> & Co <help@example.com>"
CHECK_HOST = "imap.example.com"
# Loopback servers answer in milliseconds; these limits only bound a broken test.
POLICY = CheckPolicy(allow_private=True, dns_timeout=2, connect_timeout=2, greeting_timeout=3,
                     reply_timeout=3, tls_timeout=3, detect_timeout=1, check_timeout=10)


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi().running() as server:
        yield server



@pytest.fixture
def conversations(knowledge: kb.Knowledge, tmp_path: Path) -> Iterator[Conversations]:
    engine = Engine(knowledge, matcher_for(knowledge),
                    EngineSettings(human_contact=HUMAN_CONTACT, today=lambda: date(2026, 11, 26)))
    store = SQLiteSessionStore(tmp_path / "sessions.sqlite3")
    yield Conversations(engine, store, GapLog(tmp_path / "gaps.jsonl"))
    store.close()


def telegram_config(tmp_path: Path, **settings: str) -> Config:
    return load_config({"TELEGRAM_BOT_TOKEN": TOKEN, "MAILHELP_DATA": str(tmp_path), **settings})


async def loopback_resolver(host: str) -> list[str]:
    if host == CHECK_HOST:
        return ["127.0.0.1"]
    raise ResolveError("dns_failed", f"{host} is not a test name")


def make_bot(api: FakeBotApi, conversations: Conversations, config: Config) -> TelegramBot:
    """The bot as `mailhelp serve` builds it, talking to the fake API; not started."""
    application = build_application(config, conversations, limiter=CheckLimiter(POLICY),
                                    policy=POLICY, base_url=api.base_url,
                                    resolver=loopback_resolver, retry_delays=(0.05,))
    return TelegramBot(application, config, reconnect_delays=(0.05, 0.1))


@pytest.fixture
async def polling_bot(api: FakeBotApi, conversations: Conversations,
                      tmp_path: Path) -> AsyncIterator[TelegramBot]:
    bot = make_bot(api, conversations, telegram_config(tmp_path))
    await bot.start()
    yield bot
    await bot.stop()


@pytest.fixture
async def imap_port() -> AsyncIterator[int]:
    """A tiny IMAP server: a greeting, CAPABILITY without STARTTLS, LOGOUT."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK ready\r\n")
        while line := await reader.readline():
            tag, _sep, verb = line.decode("ascii", "replace").strip().partition(" ")
            if verb.upper() == "CAPABILITY":
                writer.write(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n%b OK done\r\n"
                             % tag.encode())
            elif verb.upper() == "LOGOUT":
                writer.write(b"* BYE\r\n%b OK bye\r\n" % tag.encode())
                break
            else:
                writer.write(b"%b BAD unknown\r\n" % tag.encode())
            await writer.drain()
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]
