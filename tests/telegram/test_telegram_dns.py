"""The Telegram bot runs the chat's DNS actions: the domain check and discovery, against NSD."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot import kb
from bot.channels.dns_actions import DnsActions
from bot.channels.telegram import TelegramBot, build_application
from bot.check import CheckLimiter
from bot.conversation import Conversations
from bot.discover.discovery import Discoverer
from bot.discover.rules import load_rules
from bot.dnsclient import DnsClient
from tests.dns.conftest import dns_server  # noqa: F401  (the NSD fixture)
from tests.dns.nsd import DnsServer
from tests.telegram.botapi import FakeBotApi, message, press
from tests.telegram.conftest import POLICY, telegram_config


@pytest.fixture
async def dns_bot(api: FakeBotApi, conversations: Conversations, tmp_path: Path,
                  dns_server: DnsServer) -> AsyncIterator[TelegramBot]:  # noqa: F811
    policy = replace(POLICY, allow_private=False, trusted_networks=("192.0.2.0/24",))
    limiter = CheckLimiter(policy)
    discoverer = Discoverer(kb.load_knowledge(), replace(load_rules(), guesses=()),
                            DnsClient(("127.0.0.1", dns_server.port), timeout=2), policy)
    config = telegram_config(tmp_path)
    application = build_application(config, conversations, limiter=limiter, policy=policy,
                                    base_url=api.base_url, retry_delays=(0.05,),
                                    dns_actions=DnsActions(discoverer, (), limiter))
    bot = TelegramBot(application, config, reconnect_delays=(0.05, 0.1))
    await bot.start()
    yield bot
    await bot.stop()


def sent_texts(api: FakeBotApi, mark: int) -> list[str]:
    return [html.unescape(c.text) for c in api.since(mark, "sendMessage") if c.status == 200]


@pytest.mark.usefixtures("dns_bot")
async def test_a_spam_complaint_gets_the_domain_check(api: FakeBotApi) -> None:
    mark = api.mark()
    api.push(message(810, "мои письма попадают в спам у получателей, домен nodmarc.test", "ru"))
    await api.wait_for(lambda calls: any("Проверка домена nodmarc.test" in html.unescape(c.text)
                                         for c in calls if c.method == "sendMessage"), mark)
    report = next(t for t in sent_texts(api, mark) if "Проверка домена" in t)
    assert "✗ SPF" in report and "+all" in report
    assert "как исправить: mailhelp faq my-mail-goes-to-spam" in report


@pytest.mark.usefixtures("dns_bot")
async def test_setup_for_an_unknown_domain_shows_discovered_settings(api: FakeBotApi) -> None:
    mark = api.mark()
    api.push(message(811, "/start", "it"))
    await api.wait_for(lambda calls: any(c.method == "sendMessage" for c in calls), mark)
    mark = api.mark()
    api.push(press(811, "flow:setup"))
    await api.wait_for(lambda calls: any(c.method == "sendMessage" for c in calls), mark)
    mark = api.mark()
    api.push(message(811, "anna@ms-hosted.test", "it"))
    await api.wait_for(lambda calls: any("outlook.office365.com" in c.text
                                         for c in calls if c.method == "sendMessage"), mark)
    found = next(t for t in sent_texts(api, mark) if "outlook.office365.com" in t)
    assert found.startswith("Microsoft 365 (anna@ms-hosted.test)")
    assert "Trovato dal record MX del dominio" in found
