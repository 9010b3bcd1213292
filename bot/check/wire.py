"""One bounded conversation with a server: byte budget, line cap, timeouts, TLS upgrade.

Reads go through a buffered protocol that asks the socket for no more than the budget
has left, so a server that floods (a 10 MB banner, an endless line) costs at most the
budget in bytes and the line cap in buffered memory, whatever it sends.
"""

from __future__ import annotations

import asyncio
import errno
import ssl
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

from bot.check.text import printable

_CHUNK = 4096
_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT}


class WireError(Exception):
    """A conversation step failed; `code` names the failure for the verdicts."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail}" if detail else code)


class TlsError(WireError):
    """The TLS handshake failed; verification failures carry OpenSSL's code."""

    def __init__(self, detail: str, verify_code: int | None = None,
                 verify_message: str = "", retry_lenient: bool = False) -> None:
        super().__init__("tls_failed", detail)
        self.verify_code = verify_code
        self.verify_message = verify_message
        # Worth a second try that accepts any certificate and old protocol versions.
        self.retry_lenient = retry_lenient


class ByteBudget:
    """How many more bytes may be read from one server, across reconnections."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.remaining = limit

    @property
    def used(self) -> int:
        return self.limit - self.remaining


@asynccontextmanager
async def step(seconds: float, code: str) -> AsyncIterator[None]:
    """Run a block within `seconds`, turning its own timeout into WireError(code)."""
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError:
        raise WireError(code, f"no answer within {seconds:g} s") from None


class _Inbox(asyncio.BufferedProtocol):
    """Collects what the server sends, within the byte budget and a buffer cap."""

    def __init__(self, budget: ByteBudget, high_water: int) -> None:
        self.data = bytearray()
        self.closed = False
        self.transport: asyncio.Transport | None = None
        self.budget = budget
        self._high_water = high_water
        self._chunk = bytearray(_CHUNK)
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport; uvloop's have the same methods without subclassing asyncio's.
        self.transport = cast(asyncio.Transport, transport)

    def get_buffer(self, sizehint: int) -> memoryview:
        # Never ask the socket for more than the budget allows (at least one byte, as
        # asyncio requires; the pause below stops reads once the budget is spent).
        return memoryview(self._chunk)[: max(1, min(_CHUNK, self.budget.remaining))]

    def buffer_updated(self, nbytes: int) -> None:
        self.data += self._chunk[:nbytes]
        self.budget.remaining -= nbytes
        if self.budget.remaining <= 0 or len(self.data) >= self._high_water:
            self._pause()
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wake()

    def switch_to(self, transport: asyncio.Transport) -> None:
        """Continue on the TLS transport that now wraps the plain one."""
        self.transport = transport
        self._paused = False

    @property
    def exhausted(self) -> bool:
        return self.budget.remaining <= 0

    async def more(self) -> None:
        """Wait until more data, end of stream, or an exhausted budget."""
        if self._paused and not self.exhausted and len(self.data) < self._high_water:
            self._paused = False
            if self.transport is not None:
                self.transport.resume_reading()
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _pause(self) -> None:
        if not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class Wire:
    """A connection that reads bounded lines and writes fixed commands."""

    def __init__(self, inbox: _Inbox, max_line: int) -> None:
        self._inbox = inbox
        self._max_line = max_line

    @classmethod
    async def connect(
        cls, ip: str, port: int, *, budget: ByteBudget, max_line: int, timeout: float,
        source_address: str | None = None,
    ) -> tuple[Wire, float]:
        """Open a TCP connection to a vetted address; returns it and the connect time in ms."""
        loop = asyncio.get_running_loop()
        local = None
        if source_address is not None and (":" in source_address) == (":" in ip):
            local = (source_address, 0)
        started = time.perf_counter()
        try:
            async with step(timeout, "connect_timeout"):
                _, inbox = await loop.create_connection(
                    lambda: _Inbox(budget, max_line + _CHUNK), host=ip, port=port,
                    local_addr=local)
        except ConnectionRefusedError as exc:
            raise WireError("connect_refused", exc.strerror or "refused") from None
        except OSError as exc:
            code = "unreachable" if exc.errno in _UNREACHABLE else "connect_failed"
            raise WireError(code, exc.strerror or str(exc)) from None
        return cls(inbox, max_line), (time.perf_counter() - started) * 1000

    @property
    def local_address(self) -> str:
        """This side's IP address on the connection."""
        transport = self._inbox.transport
        sockname = transport.get_extra_info("sockname") if transport is not None else None
        if not sockname:
            raise WireError("closed", "the server closed the connection")
        return str(sockname[0])

    @property
    def pending(self) -> int:
        """Bytes received but not read yet."""
        return len(self._inbox.data)

    async def line(self) -> str:
        """The next line without its end, made printable; WireError when it cannot be had."""
        inbox = self._inbox
        while True:
            end = inbox.data.find(b"\n", 0, self._max_line + 1)
            if end >= 0:
                raw = bytes(inbox.data[:end])
                del inbox.data[: end + 1]
                return printable(raw.rstrip(b"\r").decode("utf-8", errors="replace"))
            if len(inbox.data) > self._max_line:
                raise WireError("line_too_long", f"a line longer than {self._max_line} bytes")
            if inbox.exhausted:
                raise WireError("too_much_data", f"more than {inbox.budget.limit} bytes sent")
            if inbox.closed:
                raise WireError("closed", "the server closed the connection")
            await inbox.more()

    def send(self, command: bytes) -> None:
        transport = self._inbox.transport
        if transport is None or transport.is_closing():
            raise WireError("closed", "the server closed the connection")
        transport.write(command)

    async def start_tls(
        self, context: ssl.SSLContext, server_hostname: str | None, timeout: float,
    ) -> ssl.SSLObject:
        """Upgrade to TLS; returns the TLS session. Unread bytes are dropped first."""
        inbox = self._inbox
        transport = inbox.transport
        if transport is None or transport.is_closing():
            raise WireError("closed", "the server closed the connection")
        # Bytes sent before the handshake must never be read as if TLS protected them.
        inbox.data.clear()
        loop = asyncio.get_running_loop()
        try:
            async with step(timeout, "tls_timeout"):
                # The step's timeout governs; asyncio's own handshake timeout is longer.
                upgraded = await loop.start_tls(
                    transport, inbox, context, server_hostname=server_hostname)
        except ssl.SSLCertVerificationError as exc:
            raise TlsError(exc.verify_message or str(exc), exc.verify_code,
                           exc.verify_message or "", retry_lenient=True) from None
        except ssl.SSLError as exc:
            raise TlsError(_ssl_reason(exc), retry_lenient=_version_trouble(exc)) from None
        except (ConnectionError, OSError) as exc:
            raise TlsError(str(exc) or type(exc).__name__) from None
        if upgraded is None:
            raise TlsError("the connection closed during the handshake")
        inbox.switch_to(upgraded)
        session = upgraded.get_extra_info("ssl_object")
        if not isinstance(session, ssl.SSLObject):
            raise TlsError("no TLS session after the handshake")
        return session

    def close(self) -> None:
        """Drop the connection at once; a goodbye, if any, was already said."""
        transport = self._inbox.transport
        if transport is not None:
            transport.abort()


def _ssl_reason(exc: ssl.SSLError) -> str:
    return str(exc.reason or exc.strerror or exc)


def _version_trouble(exc: ssl.SSLError) -> bool:
    # Handshakes that fail on protocol versions or ciphers may work with an old-TLS
    # client; anything else (garbage, resets) would only fail again.
    reason = str(exc.reason or "")
    return any(word in reason for word in (
        "UNSUPPORTED_PROTOCOL", "PROTOCOL_VERSION", "NO_PROTOCOLS_AVAILABLE",
        "NO_CIPHERS", "HANDSHAKE_FAILURE", "NO_SHARED_CIPHER", "INSUFFICIENT_SECURITY"))
