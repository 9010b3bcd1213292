"""The chat's DNS actions: the engine asks for them, the terminal channel runs them (NSD)."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from bot import kb
from bot.channels.console import chat
from bot.channels.dns_actions import DnsActions
from bot.check import CheckLimiter
from bot.conversation import Conversations
from bot.dialog import Action, Engine, EngineSettings, Press, Session, Text
from bot.discover.discovery import Discoverer
from bot.discover.rules import load_rules
from bot.dnsclient import DnsClient
from bot.gaps import GapLog
from bot.match import matcher_for
from bot.store import SQLiteSessionStore
from tests.dns.conftest import QUICK


@pytest.fixture(scope="module")
def engine() -> Engine:
    knowledge = kb.load_knowledge()
    return Engine(knowledge, matcher_for(knowledge),
                  EngineSettings(today=lambda: date(2026, 11, 27)))


def actions_of(engine: Engine, lang: str, *texts: str) -> list[Action]:
    turn = engine.start(Session(lang=lang))
    turn = engine.handle(turn.session, Text(texts[0])) if texts else turn
    for text in texts[1:]:
        turn = engine.handle(turn.session, Text(text))
    return [a for r in turn.replies for a in r.actions]


@pytest.mark.parametrize("lang", kb.LANGS)
def test_setup_for_an_unknown_domain_asks_for_discovery(engine: Engine, lang: str) -> None:
    turn = engine.start(Session(lang=lang))
    setup = next(b for b in turn.replies[-1].buttons if b.value == "flow:setup")
    turn = engine.handle(turn.session, Press(setup.value))
    turn = engine.handle(turn.session, Text("anna@firma.example"))
    actions = [a for r in turn.replies for a in r.actions]
    assert Action("discover", "anna@firma.example", lang) in actions
    assert any("firma.example" in r.text for r in turn.replies)


@pytest.mark.parametrize(("lang", "text"), [
    ("en", "my emails go to spam at the recipients, domain firma.example"),
    ("ru", "мои письма попадают в спам у получателей, домен firma.example"),
    ("it", "le mie email finiscono nello spam dei destinatari, dominio anna@firma.example"),
])
def test_spam_complaints_with_a_domain_ask_for_the_domain_check(engine: Engine, lang: str,
                                                                 text: str) -> None:
    assert actions_of(engine, lang, text) == [Action("domain-check", "firma.example", lang)]


def test_a_spam_complaint_without_a_domain_asks_for_nothing(engine: Engine) -> None:
    assert actions_of(engine, "en", "my emails go to spam at the recipients") == []


@pytest.fixture
def conversations(engine: Engine, tmp_path: Path) -> Conversations:
    return Conversations(engine, SQLiteSessionStore(tmp_path / "s.sqlite3"),
                         GapLog(tmp_path / "gaps.jsonl"))


def test_the_terminal_runs_discovery_and_the_domain_check(conversations: Conversations,
                                                         dns: DnsClient) -> None:
    policy = replace(QUICK, trusted_networks=("192.0.2.0/24",))
    actions = DnsActions(Discoverer(kb.load_knowledge(), replace(load_rules(), guesses=()),
                                    dns, policy), (), CheckLimiter(policy))
    ran: list[str] = []

    def run(kind: str, target: str, lang: str) -> str:
        ran.append(kind)
        return asyncio.run(actions.reply(kind, target, lang, "terminal"))

    script = ("my letters land in spam, my domain is good.test\n/menu\n1\n"
              "anna@srv-only.test\n")
    out = io.StringIO()
    assert chat(conversations, "en", io.StringIO(script), out, interactive=False,
                dns=run) == 0
    text = out.getvalue()
    assert ran == ["domain-check", "discover"]
    assert "Domain check of good.test:" in text and "✓ SPF" in text
    assert "mail.srv-only.test    993  SSL/TLS" in text
    assert "Found in the domain's own SRV records" in text
