"""Live-check rate limits kept in Redis, so every instance counts a requester's checks together.

Each requester has a sorted set of its checks' times; one script drops the times that
left the window, counts the rest and adds the new check, atomically, with the window as
the key's expiry. Requesters (client addresses, chat ids) are stored only as HMAC-SHA256
digests under a random salt kept in Redis: a bare hash of an IPv4 address is reversed by
trying all four billion. The cap on concurrent connections stays per process.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import time
from collections.abc import Callable
from typing import Any

import redis

from bot.check.errors import CheckRefused
from bot.check.limits import CheckLimiter
from bot.check.settings import CheckPolicy
from bot.redis_store import connect, redis_location

log = logging.getLogger(__name__)

RATE_PREFIX = "mailhelp:check-rate:"
SESSION_RATE_PREFIX = "mailhelp:session-rate:"  # the same limiter, counting new conversations
SALT_KEY = "mailhelp:check-rate-salt"
# admit() runs on the event loop: a Redis that does not answer may stall it this long,
# once per RETRY_SECONDS while it is down.
TIMEOUT_SECONDS = 0.25
RETRY_SECONDS = 5.0

_ADMITTED, _REFUSED, _OTHER_SALT = 1, 0, -1

# KEYS: the requester's window, the salt. ARGV: limit, window seconds, a unique member,
# now ('' takes Redis's clock, the same for every instance), the caller's salt.
# Returns {1} admitted, {0, seconds until the oldest check leaves the window} refused,
# {-1, salt} when the caller's salt is not the deployment's: it hashed the wrong key.
_ADMIT = """
local salt = redis.call('GET', KEYS[2])
if not salt then
  redis.call('SET', KEYS[2], ARGV[5])
elseif salt ~= ARGV[5] then
  return {-1, salt}
end
local now = tonumber(ARGV[4])
if not now then
  local clock = redis.call('TIME')
  now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
end
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tostring(tonumber(oldest[2]) + window - now)}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
return {1}
"""


class RedisCheckLimiter(CheckLimiter):
    """CheckLimiter whose per-requester windows live in Redis, shared by every instance.

    While Redis cannot be reached, checks are counted in this process instead (logged
    once per outage), so the checker stays available and still limited. `clock` is for
    tests; by default the window runs on Redis's clock.
    """

    def __init__(self, policy: CheckPolicy, url: str,
                 clock: Callable[[], float] | None = None,
                 retry_seconds: float = RETRY_SECONDS, prefix: str = RATE_PREFIX) -> None:
        super().__init__(policy, clock or time.monotonic)
        self.location = redis_location(url)
        self._prefix = prefix
        self._shared_clock = clock
        self._retry_seconds = retry_seconds
        self._client = connect(url, timeout=TIMEOUT_SECONDS, retries=0)
        self._script = self._client.register_script(_ADMIT)
        # Our candidate for the deployment's salt; replaced by the one Redis already has.
        self._salt = secrets.token_hex(32).encode()
        self._retry_at = 0.0
        self._degraded = False

    def admit(self, requester: str) -> None:
        """Count one check for `requester`, or CheckRefused when over the limit."""
        if time.monotonic() >= self._retry_at:
            try:
                verdict = self._shared_verdict(requester)
            except redis.RedisError as error:
                self._retry_at = time.monotonic() + self._retry_seconds
                if not self._degraded:
                    log.warning("rate limits (%s) counted per process: Redis at %s "
                                "is unavailable (%s)", self._prefix, self.location, error)
                self._degraded = True
            else:
                if self._degraded:
                    log.warning("rate limits (%s) shared again in Redis at %s", self._prefix,
                                self.location)
                self._degraded = False
                if verdict[0] == _REFUSED:
                    wait = math.ceil(float(verdict[1]))
                    raise CheckRefused("rate_limited", seconds=str(max(wait, 1)))
                return
        super().admit(requester)

    def close(self) -> None:
        """Release the connections to Redis."""
        self._client.close()

    def _shared_verdict(self, requester: str) -> list[Any]:
        verdict = self._ask(requester)
        if verdict[0] == _OTHER_SALT:
            self._salt = verdict[1]
            # Only a salt replaced between these two calls (a Redis restart) could make
            # this answer stale too; the check then goes through uncounted.
            verdict = self._ask(requester)
        return verdict

    def _ask(self, requester: str) -> list[Any]:
        digest = hmac.new(self._salt, requester.encode(), hashlib.sha256).hexdigest()
        now = "" if self._shared_clock is None else repr(self._shared_clock())
        verdict: list[Any] = self._script(
            keys=[self._prefix + digest, SALT_KEY],
            args=[self._limit, self._window, secrets.token_hex(8), now, self._salt])
        return verdict
