"""Session store: round trip, restart, failed turns, expiry, serialised turns, crash safety."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.store import MAX_DATA_BYTES, MAX_ID_CHARS, SQLiteSessionStore

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


def increment(data: dict[str, Any] | None) -> tuple[dict[str, Any], int]:
    count = (data or {}).get("count", 0) + 1
    return {"count": count}, count


def put(value: dict[str, Any]) -> Any:
    def step(_data: dict[str, Any] | None) -> tuple[dict[str, Any], None]:
        return value, None
    return step


def test_round_trip_creates_the_folder(store: SQLiteSessionStore, db: Path) -> None:
    assert db.parent.is_dir()
    assert store.get("chat-1") is None
    seen: list[dict[str, Any] | None] = []

    def step(data: dict[str, Any] | None) -> tuple[dict[str, Any], str]:
        seen.append(data)
        return {"state": "ask_address", "lang": "ru", "history": ["привет", 1, None]}, "ok"

    assert store.run_turn("chat-1", step) == "ok"
    assert seen == [None]
    assert store.get("chat-1") == {"state": "ask_address", "lang": "ru",
                                   "history": ["привет", 1, None]}
    assert store.run_turn("chat-1", increment) == 1
    assert store.get("chat-1") == {"count": 1}
    assert store.get("chat-2") is None


def test_get_returns_a_copy(store: SQLiteSessionStore) -> None:
    store.run_turn("s", put({"items": [1]}))
    got = store.get("s")
    assert got is not None
    got["items"].append(2)
    assert store.get("s") == {"items": [1]}


def test_delete(store: SQLiteSessionStore) -> None:
    store.run_turn("a", increment)
    store.run_turn("b", increment)
    store.delete("a")
    store.delete("never-seen")
    assert store.get("a") is None
    assert store.get("b") == {"count": 1}


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


def test_a_failing_step_stores_nothing(store: SQLiteSessionStore) -> None:
    store.run_turn("chat", increment)

    def broken(data: dict[str, Any] | None) -> tuple[dict[str, Any], None]:
        raise LookupError("engine bug")

    with pytest.raises(LookupError):
        store.run_turn("chat", broken)
    with pytest.raises(LookupError):
        store.run_turn("fresh", broken)
    assert store.get("chat") == {"count": 1}
    assert store.get("fresh") is None
    # The store is still usable after a rolled-back turn.
    assert store.run_turn("chat", increment) == 2


def test_unserialisable_data_stores_nothing(store: SQLiteSessionStore) -> None:
    store.run_turn("chat", increment)
    with pytest.raises(TypeError):
        store.run_turn("chat", put({"when": object()}))
    with pytest.raises(ValueError):
        store.run_turn("chat", put({"score": float("nan")}))
    assert store.get("chat") == {"count": 1}


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


@pytest.mark.parametrize("bad", ["", "x" * (MAX_ID_CHARS + 1)])
def test_bad_ids_are_refused(store: SQLiteSessionStore, bad: str) -> None:
    with pytest.raises(ValueError):
        store.run_turn(bad, increment)
    with pytest.raises(ValueError):
        store.get(bad)
    with pytest.raises(ValueError):
        store.delete(bad)


def test_longest_id_and_opaque_characters_are_accepted(store: SQLiteSessionStore) -> None:
    for session_id in ("x" * MAX_ID_CHARS, "tg:-100123:42", "web/ü'\";--"):
        assert store.run_turn(session_id, increment) == 1
        assert store.get(session_id) == {"count": 1}


def test_oversized_data_is_refused_before_writing(store: SQLiteSessionStore) -> None:
    store.run_turn("chat", increment)
    with pytest.raises(ValueError):
        store.run_turn("chat", put({"blob": "x" * MAX_DATA_BYTES}))
    # Counted in UTF-8 bytes, not characters.
    with pytest.raises(ValueError):
        store.run_turn("chat", put({"blob": "я" * (MAX_DATA_BYTES // 2)}))
    assert store.get("chat") == {"count": 1}
    store.run_turn("chat", put({"blob": "x" * (MAX_DATA_BYTES - 100)}))


def test_threads_never_lose_an_update(store: SQLiteSessionStore) -> None:
    threads_count, turns = 8, 40
    start = threading.Barrier(threads_count)
    results: list[int] = []
    errors: list[BaseException] = []

    def slow_increment(data: dict[str, Any] | None) -> tuple[dict[str, Any], int]:
        count = (data or {}).get("count", 0)
        # Yield mid-step so that an unserialised store would interleave read and write.
        time.sleep(0.0005)
        return {"count": count + 1}, count + 1

    def work() -> None:
        try:
            start.wait()
            for _ in range(turns):
                results.append(store.run_turn("shared", slow_increment))
        except BaseException as error:
            errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(threads_count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert store.get("shared") == {"count": threads_count * turns}
    assert sorted(results) == list(range(1, threads_count * turns + 1))


def increment_in_process(path: str, turns: int, start: Any, out: Any) -> None:
    """A worker process: its own store on the same file, many increments."""
    store = SQLiteSessionStore(path)
    seen = []
    start.wait()
    for _ in range(turns):
        seen.append(store.run_turn("shared", increment))
    store.close()
    out.put(seen)


def test_processes_never_lose_an_update(db: Path) -> None:
    SQLiteSessionStore(db).close()
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    out = context.Queue()
    turns = 150
    workers = [context.Process(target=increment_in_process, args=(str(db), turns, start, out))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0
    # Each worker's few hundred bytes of results fit in the pipe, so it could exit first.
    results = out.get() + out.get()
    assert sorted(results) == list(range(1, 2 * turns + 1))
    store = SQLiteSessionStore(db)
    try:
        assert store.get("shared") == {"count": 2 * turns}
    finally:
        store.close()


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
