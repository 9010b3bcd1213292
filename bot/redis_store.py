"""Conversation sessions in Redis, shared by every instance behind a load balancer.

A turn takes the session's lock (a key holding a random token, with a lease), reads the
data, runs the step once, and writes the new data and frees the lock in one script that
first checks the token: a turn that lost its lock (it outlived the lease) stores nothing.
Steps therefore run exactly once per turn, as with SQLite: they need not be safe to repeat.

Every write sets the session key's expiry to the store's ttl, so Redis forgets idle
conversations by itself. Redis must keep these keys: run it without eviction
(maxmemory-policy noeviction, the default) and with persistence (appendonly) when
conversations should outlive a Redis restart.
"""

from __future__ import annotations

import json
import random
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeVar, cast

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from bot.store import (
    BUSY_TIMEOUT_SECONDS,
    DEFAULT_TTL_SECONDS,
    SessionData,
    Step,
    check_session_id,
    encode_data,
)

T = TypeVar("T")

SESSION_PREFIX = "mailhelp:session:"
# A namespace of its own: under SESSION_PREFIX, the lock of "a" would be session "a:lock".
LOCK_PREFIX = "mailhelp:session-lock:"
# A lock outlives a crashed holder by at most this long; steps take milliseconds.
LEASE_SECONDS = 10.0
_LEASE_MS = int(LEASE_SECONDS * 1000)
_FIRST_PAUSE, _LONGEST_PAUSE = 0.001, 0.025
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:[0-9]+)?")
_UNKNOWN_PLACE = "(the host in MAILHELP_REDIS_URL)"

# KEYS: lock, session. ARGV: token, lease ms, "1" to read the session.
# Returns {1, data or nil} when the lock is ours, {0} while another turn holds it. Finding
# our own token is a resend of this same call, whose reply was lost: the lock is ours.
_ACQUIRE = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] and string.sub(holder, 1, 1) ~= '+' then
  return {0}
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[3] == '1' then
  return {1, redis.call('GET', KEYS[2])}
end
return {1}
"""

# KEYS: lock, session. ARGV: token, new data ('' deletes the session), ttl ms, lease ms.
# Returns 1 when written, 0 if the lock was lost. A commit leaves its token behind, marked
# with "+" (tokens are hex), for a lease: the lock counts as free, and if the reply was
# lost and the client sends the commit again, the script recognises its own finished work.
_COMMIT = """
local holder = redis.call('GET', KEYS[1])
if holder == '+' .. ARGV[1] then
  return 1
end
if holder ~= ARGV[1] then
  return 0
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[2])
else
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
end
redis.call('SET', KEYS[1], '+' .. ARGV[1], 'PX', ARGV[4])
return 1
"""

# KEYS: lock. ARGV: token. Frees the lock if it is still ours.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class StoreUnavailable(RuntimeError):
    """Redis cannot serve the request; the message names the server, never its password."""


class SessionBusy(StoreUnavailable):
    """A turn could not take, or keep, its session's lock in time; nothing was stored."""


def redis_location(url: str) -> str:
    """Where a Redis URL points (host:port or a socket path), without any credentials.

    Anything that does not look like a place is replaced: a malformed URL may have a
    password where the host should be.
    """
    scheme, _, rest = url.partition("://")
    head = rest.split("?")[0].split("#")[0]
    # Everything up to the last "@" may be credentials, even a password with a "/" in it.
    place = head.rpartition("@")[2]
    if scheme == "unix":
        return place if place.startswith("/") else _UNKNOWN_PLACE
    place = place.split("/")[0] or "localhost:6379"
    return place if _HOST_PORT.fullmatch(place) else _UNKNOWN_PLACE


def connect(url: str, timeout: float = 2.0, retries: int = 2) -> redis.Redis:
    """A client for `url` whose outages surface within seconds, not minutes.

    Nothing is sent yet. Retries cover a pooled connection that died with a Redis restart.
    """
    try:
        return redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout,
            retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.1), retries),
            health_check_interval=30)
    except ValueError:
        # The library's message may quote the URL, and with it a password.
        raise ValueError(f"not a usable Redis URL (for {redis_location(url)})") from None


@contextmanager
def reporting(location: str) -> Iterator[None]:
    """Turn the client's errors into StoreUnavailable naming the server."""
    try:
        yield
    except redis.RedisError as error:
        raise StoreUnavailable(f"Redis at {location} is unavailable: {error}") from error


class RedisSessionStore:
    """Sessions in one Redis database, shared safely by threads, processes and machines."""

    def __init__(self, url: str, ttl_seconds: float = DEFAULT_TTL_SECONDS, *,
                 busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> None:
        """Connect to `url` (redis://, rediss:// or unix://); StoreUnavailable if it is down."""
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self.ttl_seconds = ttl_seconds
        self.location = redis_location(url)
        self._ttl_ms = max(1, round(ttl_seconds * 1000))
        self._busy_timeout = busy_timeout
        self._client = connect(url)
        self._acquire = self._client.register_script(_ACQUIRE)
        self._commit = self._client.register_script(_COMMIT)
        self._release = self._client.register_script(_RELEASE)
        try:
            with reporting(self.location):
                self._client.ping()
        except BaseException:
            self._client.close()
            raise

    def run_turn(self, session_id: str, step: Step[T]) -> T:
        check_session_id(session_id)
        keys = _keys(session_id)
        token = secrets.token_hex(16)
        raw = self._lock(keys, token, read=True)
        try:
            new_data, result = step(_decode(raw))
            text = encode_data(new_data)
        except BaseException:
            # The lease frees the lock anyway; the step's error is the one to report.
            with suppress(redis.RedisError):
                self._release(keys=keys[:1], args=[token])
            raise
        self._finish(keys, token, text)
        return result

    def get(self, session_id: str) -> SessionData | None:
        check_session_id(session_id)
        with reporting(self.location):
            raw = self._client.get(SESSION_PREFIX + session_id)
        return _decode(cast(bytes | None, raw))

    def delete(self, session_id: str) -> None:
        # Under the lock, so that a turn in flight cannot bring the session back.
        check_session_id(session_id)
        keys = _keys(session_id)
        token = secrets.token_hex(16)
        self._lock(keys, token, read=False)
        self._finish(keys, token, "")

    def expire(self) -> int:
        """Always 0: Redis removes sessions idle past the ttl itself, when it is reached."""
        return 0

    def close(self) -> None:
        self._client.close()

    def _lock(self, keys: list[str], token: str, read: bool) -> bytes | None:
        """Take the session's lock, waiting for another turn; the data when `read`."""
        deadline = time.monotonic() + self._busy_timeout
        pause = _FIRST_PAUSE
        while True:
            with reporting(self.location):
                answer: list[Any] = self._acquire(keys=keys, args=[token, _LEASE_MS, int(read)])
            if answer[0] == 1:
                return cast(bytes | None, answer[1]) if read else None
            if time.monotonic() >= deadline:
                raise SessionBusy(f"a conversation stayed busy for {self._busy_timeout:g} s "
                                  f"(Redis at {self.location})")
            # Jitter keeps waiters on one session from waking in lockstep.
            time.sleep(random.uniform(pause / 2, pause))
            pause = min(pause * 2, _LONGEST_PAUSE)

    def _finish(self, keys: list[str], token: str, text: str) -> None:
        """Store `text` ('' deletes) and free the lock, unless the lock was lost."""
        with reporting(self.location):
            stored = self._commit(keys=keys, args=[token, text, self._ttl_ms, _LEASE_MS])
        if stored != 1:
            raise SessionBusy(f"a turn outlived its {LEASE_SECONDS:g} s lock; nothing was "
                              f"stored (Redis at {self.location})")


def _keys(session_id: str) -> list[str]:
    return [LOCK_PREFIX + session_id, SESSION_PREFIX + session_id]


def _decode(raw: bytes | None) -> SessionData | None:
    if raw is None:
        return None
    data: SessionData = json.loads(raw)
    return data
