"""The widget runs the chat's DNS actions in a real headless Chromium, against NSD."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import load_config
from tests.dns.conftest import dns_server  # noqa: F401  (the NSD fixture)
from tests.dns.nsd import DnsServer
from tests.web.conftest import AppFactory, serving
from tests.web.test_browser import HAVE_PLAYWRIGHT, browser, open_chat, page, press, say

if HAVE_PLAYWRIGHT:
    from playwright.sync_api import Page, expect

__all__ = ["browser", "page"]  # the fixtures this module borrows


@pytest.fixture
def live_server(make_app: AppFactory, dns_server: DnsServer,  # noqa: F811
                tmp_path: Path) -> Iterator[str]:
    """The app asking the test DNS server, served on loopback."""
    config = load_config({"MAILHELP_DATA": str(tmp_path / "data"),
                          "MAILHELP_RESOLVER": dns_server.address})
    with serving(make_app(config=config)) as url:
        yield url


def test_setup_for_an_unknown_domain_shows_the_discovered_servers(page: Page) -> None:
    chat = open_chat(page)
    press(chat, "Set up a mail program")
    say(chat, "anna@srv-only.test")
    found = chat.locator(".msg.bot", has_text=re.compile(r"IMAP\s+mail\.srv-only\.test\s+993"))
    expect(found).to_be_visible()
    expect(found).to_contain_text("Found in the domain's own SRV records")


def test_a_spam_complaint_shows_the_domain_check(page: Page) -> None:
    chat = open_chat(page)
    say(chat, "my letters land in spam at the recipients, my domain is spf11.test")
    report = chat.locator(".msg.bot", has_text="Domain check of spf11.test")
    expect(report).to_be_visible()
    expect(report).to_contain_text("11 DNS lookups")
