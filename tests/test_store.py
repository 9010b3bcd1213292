"""SQLite session store: its folder, restart, expiry, WAL, crash safety.

What every session store does is tested, for this store too, in test_session_stores.py.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store import SQLiteSessionStore
from tests.store_steps import increment

ROOT = Path(__file__).resolve().parents[1]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "sub" / "folder" / "sessions.db"


@pytest.fixture
def store(db: Path) -> Iterator[SQLiteSessionStore]:
    opened = SQLiteSessionStore(db)
    yield opened
    opened.close()


def test_the_folder_is_created(store: SQLiteSessionStore, db: Path) -> None:
    assert db.parent.is_dir()
    assert store.run_turn("chat", increment) == 1
    assert store.get("chat") == {"count": 1}


def test_survives_restart(db: Path) -> None:
    first = SQLiteSessionStore(db)
    for _ in range(3):
        first.run_turn("chat", increment)
    first.close()
    second = SQLiteSessionStore(db)
    try:
        assert second.get("chat") == {"count": 3}
        assert second.run_turn("chat", increment) == 4
    finally:
        second.close()


def test_expiry_with_an_injected_clock(db: Path) -> None:
    clock = Clock()
    store = SQLiteSessionStore(db, ttl_seconds=100, clock=clock)
    try:
        store.run_turn("old", increment)
        store.run_turn("kept", increment)
        clock.now += 60
        store.run_turn("kept", increment)  # a turn renews the session
        clock.now += 40
        assert store.get("old") == {"count": 1}  # idle exactly the ttl: still alive
        clock.now += 1
        assert store.get("old") is None
        assert store.get("kept") == {"count": 2}
        # An expired session starts afresh: the step sees None.
        assert store.run_turn("old", increment) == 1
        clock.now += 101
        store.run_turn("recent", increment)
        assert store.expire() == 2
        assert store.expire() == 0
    finally:
        store.close()
    with sqlite3.connect(db) as raw:
        ids = [row[0] for row in raw.execute("SELECT id FROM sessions")]
    assert ids == ["recent"]


def test_wal_mode_is_on(store: SQLiteSessionStore, db: Path) -> None:
    store.run_turn("s", increment)
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


CRASHING_CHILD = """
import sys
from bot.store import SQLiteSessionStore

def increment(data):
    count = (data or {}).get("count", 0) + 1
    return {"count": count}, count

store = SQLiteSessionStore(sys.argv[1])
for _ in range(1_000_000):
    print(store.run_turn("chat", increment), flush=True)
"""


def test_a_crash_loses_nothing_acknowledged(db: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", CRASHING_CHILD, str(db)], cwd=ROOT,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    acknowledged = []
    for line in child.stdout:
        acknowledged.append(int(line))
        if len(acknowledged) == 200:
            os.kill(child.pid, signal.SIGKILL)
            break
    # Acknowledgements printed before the kill landed count too.
    acknowledged.extend(int(line) for line in child.stdout)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    assert acknowledged == list(range(1, len(acknowledged) + 1))
    store = SQLiteSessionStore(db)
    try:
        data = store.get("chat")
        assert data is not None
        # At most the one turn in flight was committed without being acknowledged.
        assert len(acknowledged) <= data["count"] <= len(acknowledged) + 1
        assert store.run_turn("chat", increment) == data["count"] + 1
    finally:
        store.close()
