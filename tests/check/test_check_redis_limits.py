"""Rate limits shared in a real Redis: two limiters act as two instances of the service."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
import redis

from bot.check import CheckPolicy, CheckRefused, start_check
from bot.check.redis_limits import RATE_PREFIX, SALT_KEY, RedisCheckLimiter
from tests.check.conftest import FAST, loopback_resolver, servers
from tests.check.daemons import free_port
from tests.redis_server import RedisServer, running_redis
from tests.servers import need_binary

CLIENT = "203.0.113.7"


@pytest.fixture
def raw(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def pair(redis_server: RedisServer,
         raw: redis.Redis) -> Iterator[tuple[RedisCheckLimiter, RedisCheckLimiter]]:
    """Two instances with the default policy (10 checks a minute) on Redis's clock."""
    first = RedisCheckLimiter(CheckPolicy(), redis_server.url)
    second = RedisCheckLimiter(CheckPolicy(), redis_server.url)
    yield first, second
    first.close()
    second.close()


def refusal(limiter: RedisCheckLimiter, requester: str) -> str:
    with pytest.raises(CheckRefused) as refused:
        limiter.admit(requester)
    assert refused.value.code == "rate_limited"
    return refused.value.params["seconds"]


def test_the_eleventh_check_is_refused_by_either_instance(
        pair: tuple[RedisCheckLimiter, RedisCheckLimiter]) -> None:
    first, second = pair
    for turn in range(10):
        (first, second)[turn % 2].admit(CLIENT)
    for limiter in pair:
        assert 1 <= int(refusal(limiter, CLIENT)) <= 60
    # Refusals are not counted, and other requesters have their own windows.
    first.admit("198.51.100.1")
    second.admit("tg:42")


def test_the_window_slides_on_a_shared_clock(redis_server: RedisServer,
                                             raw: redis.Redis) -> None:
    now = [1000.0]
    policy = CheckPolicy(rate_limit=2, rate_window=60)
    first = RedisCheckLimiter(policy, redis_server.url, clock=lambda: now[0])
    second = RedisCheckLimiter(policy, redis_server.url, clock=lambda: now[0])
    try:
        first.admit("alice")
        now[0] = 1030
        second.admit("alice")
        now[0] = 1040
        assert refusal(first, "alice") == "20"
        second.admit("bob")
        now[0] = 1060.5  # the check at 1000 has left the window
        first.admit("alice")
        now[0] = 1061
        assert refusal(second, "alice") == "29"
    finally:
        first.close()
        second.close()


def test_requesters_are_not_stored_in_clear(
        pair: tuple[RedisCheckLimiter, RedisCheckLimiter], raw: redis.Redis) -> None:
    first, second = pair
    first.admit(CLIENT)
    second.admit(CLIENT)
    (key,) = raw.keys(RATE_PREFIX + "*")
    assert isinstance(key, str)
    assert re.fullmatch(re.escape(RATE_PREFIX) + "[0-9a-f]{64}", key)
    assert raw.zcard(key) == 2
    assert 0 < raw.pttl(key) <= 60_000  # gone once the window is over
    stored = [raw.get(SALT_KEY) or "", *raw.zrange(key, 0, -1), *raw.keys("*")]
    assert not any(CLIENT in value for value in stored)


def test_a_lost_salt_is_agreed_on_again(pair: tuple[RedisCheckLimiter, RedisCheckLimiter],
                                        raw: redis.Redis) -> None:
    first, second = pair
    first.admit(CLIENT)
    raw.flushdb()  # as after a restart of a Redis without persistence
    second.admit(CLIENT)  # installs its own salt
    first.admit(CLIENT)  # learns that salt, and counts under the same key
    keys = raw.keys(RATE_PREFIX + "*")
    assert len(keys) == 1 and raw.zcard(keys[0]) == 2


def test_without_redis_checks_are_limited_per_process(
        caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    limiter = RedisCheckLimiter(CheckPolicy(rate_limit=2), f"redis://127.0.0.1:{port}/0",
                                retry_seconds=0)
    caplog.set_level(logging.WARNING, logger="bot.check.redis_limits")
    try:
        limiter.admit(CLIENT)
        limiter.admit(CLIENT)
        assert refusal(limiter, CLIENT) == "60"
        warnings = [r.getMessage() for r in caplog.records]
        assert len(warnings) == 1
        assert f"127.0.0.1:{port}" in warnings[0] and CLIENT not in warnings[0]
        with running_redis(need_binary("redis-server"), port=port) as server:
            limiter.admit("bob")
            raw = redis.Redis.from_url(server.url)
            try:
                assert len(raw.keys(RATE_PREFIX + "*")) == 1
            finally:
                raw.close()
        assert "shared again" in caplog.records[-1].getMessage()
    finally:
        limiter.close()


async def test_the_runner_refuses_through_a_shared_limiter(
        pair: tuple[RedisCheckLimiter, RedisCheckLimiter]) -> None:
    # Planning resolves and vets the endpoints but sends nothing: no server is needed.
    lookup = servers(("pop3", "pop.mail.test", 110, "none"))
    for turn in range(10):
        check = await start_check("x@mail.test", FAST, requester=CLIENT,
                                  limiter=pair[turn % 2], resolver=loopback_resolver,
                                  providers=lookup)
        assert len(check.endpoints) == 1
    with pytest.raises(CheckRefused, match="rate_limited"):
        await start_check("x@mail.test", FAST, requester=CLIENT, limiter=pair[0],
                          resolver=loopback_resolver, providers=lookup)
