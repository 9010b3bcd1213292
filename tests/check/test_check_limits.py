"""Throttles: the per-requester rate limit and the global cap on open connections."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest

from bot.check import CheckLimiter, CheckPolicy, CheckRefused, check_report
from tests.check.conftest import FAST, loopback_resolver, servers


def test_rate_limit_per_requester_with_a_sliding_window() -> None:
    now = [1000.0]
    limiter = CheckLimiter(CheckPolicy(rate_limit=2, rate_window=60), clock=lambda: now[0])
    limiter.admit("alice")
    limiter.admit("alice")
    limiter.admit("bob")
    with pytest.raises(CheckRefused) as refused:
        limiter.admit("alice")
    assert refused.value.code == "rate_limited"
    assert refused.value.params["seconds"] == "60"
    now[0] += 61
    limiter.admit("alice")


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        CheckPolicy(max_bytes=0)
    with pytest.raises(ValueError, match="max_line"):
        CheckPolicy(max_line=100, max_bytes=50)


@pytest.fixture
def counting_server() -> Iterator[tuple[int, list[int]]]:
    """A POP3 server that records how many connections it holds at once."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    open_now = [0]
    peaks: list[int] = []
    lock = threading.Lock()

    def handle(conn: socket.socket) -> None:
        with lock:
            open_now[0] += 1
            peaks.append(open_now[0])
        try:
            reader = conn.makefile("rb")
            conn.sendall(b"+OK ready\r\n")
            while line := reader.readline(100):
                if line.startswith(b"CAPA"):
                    conn.sendall(b"-ERR no\r\n")
                elif line.startswith(b"QUIT"):
                    conn.sendall(b"+OK bye\r\n")
                    break
        finally:
            with lock:
                open_now[0] -= 1
            conn.close()

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield port, peaks
    listener.close()


async def test_global_cap_bounds_open_connections(counting_server: tuple[int, list[int]]) -> None:
    port, peaks = counting_server
    policy = replace(FAST, max_concurrent=1)
    limiter = CheckLimiter(policy)
    specs = [("pop3", f"s{i}.mail.test", port, "none") for i in range(4)]
    reports = await asyncio.gather(*(
        check_report("x@mail.test", policy, limiter=limiter, requester=f"r{i}",
                     resolver=loopback_resolver, providers=servers(*specs))
        for i in range(2)))
    assert [len(r.endpoints) for r in reports] == [4, 4]
    assert all(r.endpoints[0].failure is None for r in reports)
    assert len(peaks) == 8 and max(peaks) == 1
