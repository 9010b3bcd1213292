"""Throttles for a public checker: checks per requester, and connections open at once.

One CheckLimiter is shared by everything a process serves; the rate limit counts
checks per requester (a chat id, a client address) in a sliding window, and the
concurrency cap bounds the connections all checks hold open together.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from bot.check.errors import CheckRefused
from bot.check.settings import CheckPolicy


class CheckLimiter:
    """Per-requester rate limit and a global cap on concurrent connections."""

    def __init__(self, policy: CheckPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = policy.rate_limit
        self._window = policy.rate_window
        self._clock = clock
        self._recent: dict[str, deque[float]] = {}
        self._slots = asyncio.Semaphore(policy.max_concurrent)

    def admit(self, requester: str) -> None:
        """Count one check for `requester`, or CheckRefused when over the limit."""
        now = self._clock()
        self._forget_before(now - self._window)
        stamps = self._recent.setdefault(requester, deque())
        if len(stamps) >= self._limit:
            wait = math.ceil(stamps[0] + self._window - now)
            raise CheckRefused("rate_limited", seconds=str(max(wait, 1)))
        stamps.append(now)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the global connection slots while probing an endpoint."""
        async with self._slots:
            yield

    def _forget_before(self, horizon: float) -> None:
        # Pruning every requester keeps memory bounded by the requesters of one window.
        for requester in list(self._recent):
            stamps = self._recent[requester]
            while stamps and stamps[0] <= horizon:
                stamps.popleft()
            if not stamps:
                del self._recent[requester]
