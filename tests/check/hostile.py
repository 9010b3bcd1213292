"""Scripted misbehaving servers: each accepts on loopback and plays one nasty script.

They run on plain threads with blocking sockets, so the check under test shares no
event loop with them, and each sends from one preallocated buffer, so memory measured
in the test is the check's, not the server's.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

Script = Callable[[socket.socket], None]
_LINE = b"220-" + b"x" * 994 + b"\r\n"  # 1000 bytes
_BLOCK = b"A" * 65536
_TEN_MB = 10 * 1024 * 1024


def silent(conn: socket.socket) -> None:
    _until_closed(conn)


def slow_drip(conn: socket.socket) -> None:
    conn.sendall(b"* OK ")
    for _ in range(600):  # at most two minutes, one byte every 0.2 s
        time.sleep(0.2)
        conn.sendall(b"x")


def endless_line(conn: socket.socket) -> None:
    conn.sendall(b"* OK ")
    for _ in range(_TEN_MB // len(_BLOCK)):
        conn.sendall(_BLOCK)


def big_banner(conn: socket.socket) -> None:
    block = _LINE * 64
    for _ in range(_TEN_MB // len(block)):
        conn.sendall(block)
    conn.sendall(b"220 done\r\n")
    _until_closed(conn)


def closes_at_once(conn: socket.socket) -> None:
    conn.close()


def tls_reset(conn: socket.socket) -> None:
    conn.recv(512)  # the start of the ClientHello
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()  # linger 0: the peer sees a reset, mid-handshake


def garbage_after_starttls(conn: socket.socket) -> None:
    _imap_until_starttls(conn)
    conn.sendall(b"C2 OK Begin TLS negotiation now\r\n")
    conn.sendall(b"\x00\xffthis is not TLS\r\n" * 64)
    _until_closed(conn)


def injection_after_starttls(context: ssl.SSLContext) -> Script:
    """STARTTLS answered with extra plaintext in the same packet, then real TLS."""

    def script(conn: socket.socket) -> None:
        _imap_until_starttls(conn)
        conn.sendall(b"C2 OK Begin TLS negotiation now\r\n* BYE injected\r\n")
        tls = context.wrap_socket(conn, server_side=True)
        _imap_commands(tls, b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n")

    return script


def tls_only(context: ssl.SSLContext) -> Script:
    """Implicit-TLS IMAP with the given server context (say, one stuck on TLS 1.0)."""

    def script(conn: socket.socket) -> None:
        tls = context.wrap_socket(conn, server_side=True)
        tls.sendall(b"* OK scripted IMAP over TLS\r\n")
        _imap_commands(tls, b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n")

    return script


def recording(protocol: str, heard: list[bytes]) -> Script:
    """A plain server of `protocol` that answers everything and records each command."""
    greeting = {"imap": b"* OK ready\r\n", "pop3": b"+OK ready\r\n",
                "smtp": b"220 ready\r\n"}[protocol]

    def answer(line: bytes) -> bytes:
        tag = line.split(b" ", 1)[0]
        if protocol == "imap":
            return b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK\r\n"
        if protocol == "pop3":
            return b"+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n" if line.startswith(b"CAPA") \
                else b"+OK\r\n"
        return b"250-here\r\n250 AUTH PLAIN LOGIN\r\n" if line.startswith(b"EHLO") \
            else b"221 bye\r\n"

    def script(conn: socket.socket) -> None:
        conn.sendall(greeting)
        reader = conn.makefile("rb")
        while line := reader.readline(1024):
            heard.append(line)
            conn.sendall(answer(line))

    return script


def _imap_until_starttls(conn: socket.socket) -> None:
    conn.sendall(b"* OK scripted IMAP ready\r\n")
    reader = conn.makefile("rb")
    while line := reader.readline(1024):
        tag = line.split(b" ", 1)[0]
        if b"STARTTLS" in line.upper():
            return
        conn.sendall(b"* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n" + tag + b" OK\r\n")


def _imap_commands(conn: socket.socket, capability: bytes) -> None:
    reader = conn.makefile("rb")
    while line := reader.readline(1024):
        tag = line.split(b" ", 1)[0]
        if b"LOGOUT" in line.upper():
            conn.sendall(b"* BYE\r\n" + tag + b" OK\r\n")
            return
        conn.sendall(capability + tag + b" OK\r\n")


def _until_closed(conn: socket.socket) -> None:
    conn.settimeout(120)
    while conn.recv(4096):
        pass


@contextmanager
def serving(script: Script, host: str = "127.0.0.1") -> Iterator[int]:
    """Run `script` for every connection to a new loopback port; yields the port."""
    listener = socket.create_server((host, 0))
    port = int(listener.getsockname()[1])
    connections: list[socket.socket] = []

    def handle(conn: socket.socket) -> None:
        try:
            script(conn)
        except OSError:
            pass  # the check hung up on the script, as it should
        finally:
            conn.close()

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            connections.append(conn)
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield port
    finally:
        with suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        listener.close()
        for conn in connections:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
