"""Fixtures shared across the test folders."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot import kb
from tests.redis_server import RedisServer, running_redis
from tests.servers import need_binary


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    """A private redis-server for one test module (skips visibly where none is installed)."""
    with running_redis(need_binary("redis-server")) as server:
        yield server


@pytest.fixture(scope="session")
def knowledge() -> kb.Knowledge:
    """The shipped knowledge base, loaded once."""
    return kb.load_knowledge()
