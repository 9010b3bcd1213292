"""Redis session store against a real redis-server: locks, keys, expiry, clear errors.

What every session store does is tested, for this store too, in test_session_stores.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from bot.redis_store import (
    LOCK_PREFIX,
    SESSION_PREFIX,
    RedisSessionStore,
    SessionBusy,
    StoreUnavailable,
    redis_location,
)
from bot.store import SessionStore
from tests.check.daemons import free_port
from tests.redis_server import RedisServer, running_redis
from tests.servers import need_binary
from tests.store_steps import broken, increment

PASSWORD = "s3cret-never-shown"


@pytest.fixture
def raw(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def store(redis_server: RedisServer, raw: redis.Redis) -> Iterator[RedisSessionStore]:
    opened = RedisSessionStore(redis_server.url)
    yield opened
    opened.close()


def test_it_is_a_session_store(store: RedisSessionStore) -> None:
    typed: SessionStore = store
    assert typed.expire() == 0


def test_keys_are_namespaced(store: RedisSessionStore, raw: redis.Redis) -> None:
    store.run_turn("chat", increment)
    assert set(raw.keys()) == {(SESSION_PREFIX + "chat").encode(),
                               (LOCK_PREFIX + "chat").encode()}
    assert raw.get(SESSION_PREFIX + "chat") == b'{"count":1}'
    # The lock is left free: only a committed turn's marked token remains.
    lock = raw.get(LOCK_PREFIX + "chat")
    assert isinstance(lock, bytes) and lock.startswith(b"+")


def test_another_instance_continues(store: RedisSessionStore,
                                    redis_server: RedisServer) -> None:
    for _ in range(3):
        store.run_turn("chat", increment)
    other = RedisSessionStore(redis_server.url)
    try:
        assert other.get("chat") == {"count": 3}
        assert other.run_turn("chat", increment) == 4
    finally:
        other.close()
    assert store.run_turn("chat", increment) == 5


def test_a_failing_step_frees_the_lock(redis_server: RedisServer, raw: redis.Redis) -> None:
    # No waiting allowed: a lock left behind would fail the next turn at once. That such
    # a turn stores nothing is tested for every store in test_session_stores.py.
    store = RedisSessionStore(redis_server.url, busy_timeout=0)
    try:
        store.run_turn("chat", increment)
        for session_id in ("chat", "fresh"):
            with pytest.raises(LookupError):
                store.run_turn(session_id, broken)
        assert raw.exists(LOCK_PREFIX + "fresh") == 0
        assert store.run_turn("chat", increment) == 2
        assert store.run_turn("fresh", increment) == 1
    finally:
        store.close()


def test_expiry_is_left_to_redis(redis_server: RedisServer, raw: redis.Redis) -> None:
    store = RedisSessionStore(redis_server.url, ttl_seconds=100)
    key = SESSION_PREFIX + "chat"
    try:
        store.run_turn("chat", increment)
        assert 99_000 < raw.pttl(key) <= 100_000
        raw.pexpire(key, 50_000)
        store.get("chat")
        assert raw.pttl(key) <= 50_000  # reading does not renew
        store.run_turn("chat", increment)
        assert raw.pttl(key) > 50_000  # a turn does
        raw.pexpire(key, 1)
        while raw.exists(key):
            time.sleep(0.005)
        assert store.get("chat") is None
        # An expired session starts afresh: the step sees None.
        assert store.run_turn("chat", increment) == 1
        assert store.expire() == 0
    finally:
        store.close()


def test_a_busy_session_makes_a_turn_wait_then_give_up(redis_server: RedisServer,
                                                       raw: redis.Redis) -> None:
    store = RedisSessionStore(redis_server.url, busy_timeout=0.05)
    try:
        store.run_turn("chat", increment)
        raw.set(LOCK_PREFIX + "chat", "another-turn", px=60_000)
        with pytest.raises(SessionBusy, match="busy"):
            store.run_turn("chat", increment)
        with pytest.raises(SessionBusy):
            store.delete("chat")
        assert store.get("chat") == {"count": 1}
        # A holder that died leaves its lock only until the lease ends.
        raw.pexpire(LOCK_PREFIX + "chat", 20)
        store_patient = RedisSessionStore(redis_server.url)
        try:
            assert store_patient.run_turn("chat", increment) == 2
        finally:
            store_patient.close()
    finally:
        store.close()


def test_a_turn_that_lost_its_lock_stores_nothing(store: RedisSessionStore,
                                                  raw: redis.Redis) -> None:
    store.run_turn("chat", increment)

    def overtaken(data: dict[str, Any] | None) -> tuple[dict[str, Any], None]:
        # As if the lease ran out and another turn took the session meanwhile.
        raw.set(LOCK_PREFIX + "chat", "another-turn", px=60_000)
        return {"count": 100}, None

    with pytest.raises(SessionBusy, match="nothing was stored"):
        store.run_turn("chat", overtaken)
    assert store.get("chat") == {"count": 1}


def test_a_resent_commit_is_recognised(store: RedisSessionStore) -> None:
    # The client resends a command whose reply was lost; the commit may have landed.
    keys = [LOCK_PREFIX + "chat", SESSION_PREFIX + "chat"]
    store._lock(keys, "feed", read=True)
    store._finish(keys, "feed", '{"count":1}')
    store._finish(keys, "feed", '{"count":1}')
    assert store.get("chat") == {"count": 1}


def test_delete_waits_for_a_turn_in_flight(store: RedisSessionStore,
                                           redis_server: RedisServer) -> None:
    impatient = RedisSessionStore(redis_server.url, busy_timeout=0.01)
    refused: list[BaseException] = []

    def step(data: dict[str, Any] | None) -> tuple[dict[str, Any], None]:
        try:
            impatient.delete("chat")
        except SessionBusy as error:
            refused.append(error)
        return {"count": 7}, None

    try:
        store.run_turn("chat", step)
    finally:
        impatient.close()
    assert len(refused) == 1
    assert store.get("chat") == {"count": 7}


def test_an_unreachable_redis_is_a_clear_error() -> None:
    port = free_port()
    with pytest.raises(StoreUnavailable) as failed:
        RedisSessionStore(f"redis://:{PASSWORD}@127.0.0.1:{port}/0")
    assert f"127.0.0.1:{port}" in str(failed.value)
    assert PASSWORD not in str(failed.value)
    assert PASSWORD not in str(failed.value.__cause__)


def test_redis_going_away_is_a_clear_error() -> None:
    with running_redis(need_binary("redis-server")) as server:
        store = RedisSessionStore(server.url)
        store.run_turn("chat", increment)
    try:
        for attempt in (lambda: store.run_turn("chat", increment),
                        lambda: store.get("chat"), lambda: store.delete("chat")):
            with pytest.raises(StoreUnavailable, match=f"Redis at 127.0.0.1:{server.port}"):
                attempt()
    finally:
        store.close()


def test_a_wrong_password_is_a_clear_error_without_it() -> None:
    with running_redis(need_binary("redis-server"), password=PASSWORD) as server:
        wrong = "not-the-" + PASSWORD
        with pytest.raises(StoreUnavailable) as failed:
            RedisSessionStore(f"redis://:{wrong}@127.0.0.1:{server.port}/0")
        assert wrong not in str(failed.value)
        store = RedisSessionStore(server.url)
        try:
            assert store.run_turn("chat", increment) == 1
        finally:
            store.close()


@pytest.mark.parametrize(("url", "location"), [
    ("redis://127.0.0.1:6379/0", "127.0.0.1:6379"),
    ("redis://redis", "redis"),
    ("rediss://user:pa/ss@cache.internal:6380/2", "cache.internal:6380"),
    ("redis://:p@ss@[::1]:6379/0?password=x@y", "[::1]:6379"),
    ("redis://:secret?x@cache:6379/0", "(the host in MAILHELP_REDIS_URL)"),
    ("redis://u:secret#x@cache:6379/0", "(the host in MAILHELP_REDIS_URL)"),
    ("unix://:secret@/run/redis.sock", "/run/redis.sock"),
    ("unix:///run/redis/redis.sock?db=1", "/run/redis/redis.sock"),
    ("redis://", "localhost:6379"),
])
def test_the_location_never_carries_credentials(url: str, location: str) -> None:
    assert redis_location(url) == location


def test_a_bad_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError) as failed:
        RedisSessionStore(f"redis://:{PASSWORD}@127.0.0.1:notaport/0")
    assert PASSWORD not in str(failed.value)
