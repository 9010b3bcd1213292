"""uvicorn on our terms: deadlines for a request's headers and body, a connection cap, SIGTERM.

A client gets HEADER_SECONDS to send its request line and headers and BODY_SECONDS more
for the body, else a 408 and the connection is closed; past MAX_CONNECTIONS open
connections (fewer when the process may open fewer files) a new one is answered 503 at
once and closed. Idle sockets therefore cannot pile up until the process runs out of file
descriptors; should it run out anyway, that is one log line a minute, not a traceback per
refused connection. SIGTERM and SIGINT stop the server gracefully: requests in flight
finish, then `serve()` returns normally, so the caller's clean-up runs and the process
exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_SECONDS = 10.0
BODY_SECONDS = 10.0  # bodies are small: 16 KB, a Telegram update 1 MB
MAX_CONNECTIONS = 1000
GRACEFUL_SECONDS = 20  # what a stopping server gives requests in flight (a live check)
# Descriptors kept for everything but client connections: the listener, the store, Redis
# and Telegram pools, the live check's 64 connections, log files.
RESERVED_DESCRIPTORS = 256
WANTED_DESCRIPTORS = 8192  # raised to at start when the hard limit allows
ACCEPT_FAILURE = "socket.accept() out of system resource"
ACCEPT_REPORT_SECONDS = 60.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    header_seconds: float = HEADER_SECONDS
    body_seconds: float = BODY_SECONDS
    max_connections: int = MAX_CONNECTIONS


def _refusal(status: bytes) -> bytes:
    return (b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: 0\r\nconnection: close\r\n\r\n")


TIMED_OUT = _refusal(b"408 Request Timeout")
FULL = _refusal(b"503 Service Unavailable")


def bounded_protocol(limits: Limits) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with the deadlines and the cap of `limits`."""

    class BoundedHttp(HttpToolsProtocol):
        _deadline: asyncio.TimerHandle | None = None
        _in_body = False  # headers of the current request read, its body not yet

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > limits.max_connections:
                transport.write(FULL)
                transport.close()
                return
            self._arm(limits.header_seconds)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._deadline is None:  # the next request on a kept-alive connection
                self._arm(limits.header_seconds)

        def on_headers_complete(self) -> None:
            self._arm(limits.body_seconds)
            self._in_body = True
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._disarm()
            self._in_body = False
            super().on_message_complete()

        def _arm(self, seconds: float) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(seconds, self._too_slow)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            self._deadline = None
            if self.transport.is_closing():
                return
            # A request whose answer went out already (refused by its Content-Length, say)
            # gets no second answer; one still waiting for its headers or body gets a 408.
            if not (self._in_body and self.cycle.response_started):
                self.transport.write(TIMED_OUT)
            self.transport.close()

    return BoundedHttp


class GracefulServer(uvicorn.Server):
    """A uvicorn server that, stopped by a signal, returns instead of re-raising it."""

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        asyncio.get_running_loop().set_exception_handler(_quiet_accept_failures())
        await super().serve(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        originals = {sig: signal.signal(sig, self.handle_exit)
                     for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True  # a second Ctrl-C: stop waiting for requests
        self.should_exit = True


def _quiet_accept_failures() -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
    """An event-loop exception handler: out of descriptors, asyncio reports every failed
    accept with a traceback (megabytes a second); this says it in one line a minute."""
    last = -ACCEPT_REPORT_SECONDS

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        nonlocal last
        if not str(context.get("message", "")).startswith(ACCEPT_FAILURE):
            loop.default_exception_handler(context)
            return
        if time.monotonic() - last >= ACCEPT_REPORT_SECONDS:
            last = time.monotonic()
            log.error("cannot accept connections: %s (reported once a minute)",
                      context.get("exception"))

    return handle


def descriptor_budget() -> int:
    """How many files this process may open: the soft limit, first raised towards
    WANTED_DESCRIPTORS as far as the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = WANTED_DESCRIPTORS if hard == resource.RLIM_INFINITY else min(WANTED_DESCRIPTORS,
                                                                             hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        soft = wanted
    return WANTED_DESCRIPTORS if soft == resource.RLIM_INFINITY else soft


def server_for(app: Any, host: str, port: int, limits: Limits | None = None,
               **settings: Any) -> GracefulServer:
    """The server `mailhelp serve` runs (tests run the same one on loopback)."""
    limits = limits or Limits()
    budget = descriptor_budget() - RESERVED_DESCRIPTORS
    if limits.max_connections > budget:
        log.warning("at most %d connections: the process may open %d files", budget,
                    budget + RESERVED_DESCRIPTORS)
        limits = replace(limits, max_connections=max(budget, 1))
    config = uvicorn.Config(
        app, host=host, port=port, http=bounded_protocol(limits),
        # The asyncio loop, not uvloop: the live check's buffered protocol and start_tls
        # are tested on asyncio's.
        loop="asyncio", proxy_headers=False, server_header=False,
        # the access log would hold client addresses and session ids; /metrics counts
        access_log=False, timeout_graceful_shutdown=GRACEFUL_SECONDS, **settings)
    return GracefulServer(config)
