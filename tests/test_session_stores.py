"""What every session store does, run against each one: SQLite on a file, Redis on a server.

The behaviours of the SessionStore protocol in bot/store.py: round trip, copies, delete,
failed turns, refused ids and data, and turns that never lose an update across threads
and processes. What only one store does is tested in test_store.py and test_redis_store.py.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from bot.redis_store import RedisSessionStore
from bot.store import MAX_DATA_BYTES, MAX_ID_CHARS, SessionStore, SQLiteSessionStore
from tests.redis_server import RedisServer
from tests.store_steps import broken, increment, put

KINDS = ["sqlite", "redis"]

# What a process needs to open a store of its own on the same sessions: a kind and a
# place (the SQLite file's path or the Redis URL); picklable, unlike an open store.
Description = tuple[str, str]


def open_store(description: Description) -> SessionStore:
    kind, place = description
    if kind == "sqlite":
        return SQLiteSessionStore(place)
    if kind == "redis":
        return RedisSessionStore(place)
    raise ValueError(f"unknown store kind {kind!r}")


def describe(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Description:
    """A fresh, empty place for a store of `kind`: a new file, or a flushed database."""
    if kind == "sqlite":
        return ("sqlite", str(tmp_path / "sessions.db"))
    # Asked for only here, so that the SQLite cases run where redis-server is missing.
    server: RedisServer = request.getfixturevalue("redis_server")
    client = redis.Redis.from_url(server.url)
    try:
        client.flushdb()
    finally:
        client.close()
    return ("redis", server.url)


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SessionStore]:
    opened = open_store(describe(request.param, request, tmp_path))
    yield opened
    opened.close()


def test_round_trip(store: SessionStore) -> None:
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


def test_get_returns_a_copy(store: SessionStore) -> None:
    store.run_turn("s", put({"items": [1]}))
    got = store.get("s")
    assert got is not None
    got["items"].append(2)
    assert store.get("s") == {"items": [1]}


def test_delete(store: SessionStore) -> None:
    store.run_turn("a", increment)
    store.run_turn("b", increment)
    store.delete("a")
    store.delete("never-seen")
    assert store.get("a") is None
    assert store.get("b") == {"count": 1}
    assert store.run_turn("a", increment) == 1


def test_a_failing_step_stores_nothing(store: SessionStore) -> None:
    store.run_turn("chat", increment)
    for session_id in ("chat", "fresh"):
        with pytest.raises(LookupError):
            store.run_turn(session_id, broken)
    assert store.get("chat") == {"count": 1}
    assert store.get("fresh") is None
    # The store is still usable after a rolled-back turn.
    assert store.run_turn("chat", increment) == 2
    assert store.run_turn("fresh", increment) == 1


def test_unserialisable_data_stores_nothing(store: SessionStore) -> None:
    store.run_turn("chat", increment)
    with pytest.raises(TypeError):
        store.run_turn("chat", put({"when": object()}))
    with pytest.raises(ValueError):
        store.run_turn("chat", put({"score": float("nan")}))
    assert store.get("chat") == {"count": 1}


@pytest.mark.parametrize("bad", ["", "x" * (MAX_ID_CHARS + 1)])
def test_bad_ids_are_refused(store: SessionStore, bad: str) -> None:
    with pytest.raises(ValueError):
        store.run_turn(bad, increment)
    with pytest.raises(ValueError):
        store.get(bad)
    with pytest.raises(ValueError):
        store.delete(bad)


def test_longest_id_and_opaque_characters_are_accepted(store: SessionStore) -> None:
    for session_id in ("x" * MAX_ID_CHARS, "tg:-100123:42", "web/ü'\";--", "a:lock", "*"):
        assert store.run_turn(session_id, increment) == 1
        assert store.get(session_id) == {"count": 1}


def test_oversized_data_is_refused_before_writing(store: SessionStore) -> None:
    store.run_turn("chat", increment)
    with pytest.raises(ValueError):
        store.run_turn("chat", put({"blob": "x" * MAX_DATA_BYTES}))
    # Counted in UTF-8 bytes, not characters.
    with pytest.raises(ValueError):
        store.run_turn("chat", put({"blob": "я" * (MAX_DATA_BYTES // 2)}))
    assert store.get("chat") == {"count": 1}
    store.run_turn("chat", put({"blob": "x" * (MAX_DATA_BYTES - 100)}))


def test_threads_never_lose_an_update(store: SessionStore) -> None:
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


def increment_in_process(description: Description, turns: int, start: Any, out: Any) -> None:
    """A worker process: its own store on the same sessions, many increments."""
    store = open_store(description)
    seen = []
    start.wait()
    for _ in range(turns):
        seen.append(store.run_turn("shared", increment))
    store.close()
    out.put(seen)


@pytest.mark.parametrize("kind", KINDS)
def test_processes_never_lose_an_update(kind: str, request: pytest.FixtureRequest,
                                        tmp_path: Path) -> None:
    description = describe(kind, request, tmp_path)
    open_store(description).close()  # the file or connection exists before the race
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    out = context.Queue()
    turns = 150
    workers = [context.Process(target=increment_in_process,
                               args=(description, turns, start, out))
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
    store = open_store(description)
    try:
        assert store.get("shared") == {"count": 2 * turns}
    finally:
        store.close()
