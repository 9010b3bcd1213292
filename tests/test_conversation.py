"""Conversations over the real SQLite store: turns persist, gaps are logged masked."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bot import kb
from bot.channels.console import chat, read_event, render
from bot.conversation import Conversations, UnknownSession
from bot.dialog import Button, Command, Engine, EngineSettings, Press, Reply, Text
from bot.gaps import GapLog
from bot.match import matcher_for
from bot.store import SQLiteSessionStore


@pytest.fixture()
def conversations(tmp_path: Path) -> Conversations:
    knowledge = kb.load_knowledge()
    engine = Engine(knowledge, matcher_for(knowledge),
                    EngineSettings(human_contact="help@example.com",
                                   today=lambda: date(2026, 11, 26)))
    return Conversations(engine, SQLiteSessionStore(tmp_path / "s.sqlite3"),
                         GapLog(tmp_path / "gaps.jsonl"))


def test_a_conversation_continues_after_a_restart(conversations: Conversations,
                                                  tmp_path: Path) -> None:
    session_id, replies = conversations.open(lang="it")
    assert "Ciao" in replies[0].text
    replies = conversations.send(session_id, Press("flow:setup"))
    conversations.store.close()
    reopened = Conversations(conversations.engine, SQLiteSessionStore(tmp_path / "s.sqlite3"))
    replies = reopened.send(session_id, Text("mario.rossi@libero.it"))
    data = reopened.store.get(session_id)
    assert data is not None and data["vars"]["provider"] == "libero"
    assert data["lang"] == "it"


def test_unknown_session(conversations: Conversations) -> None:
    with pytest.raises(UnknownSession):
        conversations.send("never-started", Text("hello"))


def test_unanswered_questions_are_logged_masked(conversations: Conversations) -> None:
    session_id, _ = conversations.open(lang="en")
    conversations.send(session_id,
                       Text("my printer at 192.168.1.20 won't print, ivan@corp.example"))
    conversations.send(session_id, Text("Tr0ub4dor&3xyz"))  # a password: warned, never logged
    assert conversations.gaps is not None
    log = conversations.gaps.path.read_text(encoding="utf-8")
    assert "192.168.1.20" not in log and "ivan@corp.example" not in log
    assert "Tr0ub4dor" not in log
    assert "printer" in log
    rows = conversations.gaps.summarize()
    assert len(rows) == 1 and rows[0][1] == 1


def test_read_event_and_render() -> None:
    buttons = (Button("One", "a.b.0"), Button("Two", "menu"))
    assert read_event("2", buttons) == Press("menu")
    assert read_event("3", buttons) == Text("3")
    assert read_event("/language ru", buttons) == Command("language", "ru")
    assert read_event("/unknown x", buttons) == Text("/unknown x")
    assert render(Reply("Hi", buttons)) == "Hi\n  [1] One\n  [2] Two"


def test_chat_reads_one_message_per_line(conversations: Conversations) -> None:
    script = "1\nivan@yandex.ru\n/back\n/language ru\n/quit\nnever read\n"
    out = io.StringIO()
    checked: list[str] = []
    code = chat(conversations, "en", io.StringIO(script), out, interactive=False,
                check=lambda target, lang: checked.append(target) or "checked")
    text = out.getvalue()
    assert code == 0
    assert "> 1" in text and "> ivan@yandex.ru" in text
    assert "[1]" in text
    assert "never read" not in text
    assert "По-русски" in text or "по-русски" in text


def test_mailhelp_chat_as_a_script(tmp_path: Path) -> None:
    env = {"MAILHELP_DATA": str(tmp_path), "PATH": "/usr/bin:/bin",
           "MAILHELP_HUMAN_CONTACT": "desk@example.com"}
    proc = subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", "chat", "--lang", "ru"],
        input="рецепт борща\nкак восстановить удаленные письма\n".encode(),
        capture_output=True, timeout=60, env=env)
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()
    assert "удалённые письма" in out  # the deleted-letters dialog
    assert "desk@example.com" in out
    gaps = [json.loads(line) for line in (tmp_path / "unanswered.jsonl").read_text().splitlines()]
    assert gaps[0]["question"] == "рецепт борща" and gaps[0]["lang"] == "ru"
    summary = subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", "kb", "gaps"],
        capture_output=True, timeout=60, env=env)
    assert "рецепт борща" in summary.stdout.decode()
