"""The three mail dialogs as the check speaks them: greeting, capabilities, STARTTLS, goodbye.

Every command is a constant of this module (the EHLO argument is the checker's own
address); nothing the user typed is ever written to a server, and no login, AUTH,
USER or PASS is ever sent.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping

from bot.check.results import Protocol
from bot.check.wire import Wire, WireError

_PLAINTEXT_MECHANISMS = {"PLAIN", "LOGIN"}
_SMTP_REPLY = re.compile(r"([2-5][0-9][0-9])([ -]|$)(.*)")


def detect(greeting: str) -> Protocol | None:
    """The protocol a greeting line belongs to, if any."""
    if greeting.startswith("* "):
        return "imap"
    if greeting.startswith("+OK"):
        return "pop3"
    if _SMTP_REPLY.match(greeting) and greeting.startswith("220"):
        return "smtp"
    return None


class Dialect(ABC):
    """One protocol's side of the conversation; a fresh instance per connection."""

    @abstractmethod
    async def greeting(self, wire: Wire, first: str | None) -> str:
        """The server's greeting (its first line already read when `first` is given)."""

    @abstractmethod
    async def capabilities(self, wire: Wire) -> tuple[str, ...]:
        """What the server announces it can do, as it words it."""

    @abstractmethod
    def offers_starttls(self, capabilities: tuple[str, ...]) -> bool: ...

    @abstractmethod
    async def starttls(self, wire: Wire) -> bool:
        """Ask for the TLS upgrade; True when the server agreed."""

    @abstractmethod
    async def goodbye(self, wire: Wire) -> None: ...

    @abstractmethod
    def auth_mechanisms(self, capabilities: tuple[str, ...]) -> tuple[str, ...]: ...

    @abstractmethod
    def plaintext_login(self, capabilities: tuple[str, ...]) -> bool:
        """Whether these capabilities let a client send a password as it is."""


class Imap(Dialect):
    def __init__(self) -> None:
        self._tags = 0

    async def greeting(self, wire: Wire, first: str | None) -> str:
        line = first if first is not None else await wire.line()
        if not line.upper().startswith(("* OK", "* PREAUTH")):
            raise WireError("unexpected_reply", line)
        return line

    async def capabilities(self, wire: Wire) -> tuple[str, ...]:
        untagged, status = await self._command(wire, b"CAPABILITY")
        if not status.upper().startswith("OK"):
            return ()
        found: list[str] = []
        for line in untagged:
            words = line.split()
            if len(words) >= 2 and words[0] == "*" and words[1].upper() == "CAPABILITY":
                found.extend(word.upper() for word in words[2:])
        return tuple(dict.fromkeys(found))

    def offers_starttls(self, capabilities: tuple[str, ...]) -> bool:
        return "STARTTLS" in capabilities

    async def starttls(self, wire: Wire) -> bool:
        _, status = await self._command(wire, b"STARTTLS")
        return status.upper().startswith("OK")

    async def goodbye(self, wire: Wire) -> None:
        await self._command(wire, b"LOGOUT")

    def auth_mechanisms(self, capabilities: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(c[5:] for c in capabilities if c.startswith("AUTH="))

    def plaintext_login(self, capabilities: tuple[str, ...]) -> bool:
        # LOGIN works unless LOGINDISABLED is announced (RFC 3501 section 6.2.3).
        return ("LOGINDISABLED" not in capabilities
                or bool(_PLAINTEXT_MECHANISMS & set(self.auth_mechanisms(capabilities))))

    async def _command(self, wire: Wire, verb: bytes) -> tuple[list[str], str]:
        self._tags += 1
        tag = f"C{self._tags}"
        wire.send(tag.encode() + b" " + verb + b"\r\n")
        untagged: list[str] = []
        while True:
            line = await wire.line()
            if line.startswith(tag + " "):
                return untagged, line[len(tag) + 1:]
            untagged.append(line)


class Pop3(Dialect):
    async def greeting(self, wire: Wire, first: str | None) -> str:
        line = first if first is not None else await wire.line()
        if not line.startswith("+OK"):
            raise WireError("unexpected_reply", line)
        return line

    async def capabilities(self, wire: Wire) -> tuple[str, ...]:
        wire.send(b"CAPA\r\n")
        if not (await wire.line()).startswith("+OK"):
            return ()  # a server without CAPA (RFC 2449) announces nothing
        found: list[str] = []
        while (line := await wire.line()) != ".":
            found.append(line[1:] if line.startswith("..") else line)
        return tuple(found)

    def offers_starttls(self, capabilities: tuple[str, ...]) -> bool:
        return "STLS" in _keywords(capabilities)

    async def starttls(self, wire: Wire) -> bool:
        wire.send(b"STLS\r\n")
        return (await wire.line()).startswith("+OK")

    async def goodbye(self, wire: Wire) -> None:
        wire.send(b"QUIT\r\n")
        await wire.line()

    def auth_mechanisms(self, capabilities: tuple[str, ...]) -> tuple[str, ...]:
        for line in capabilities:
            words = line.upper().split()
            if words and words[0] == "SASL":
                return tuple(words[1:])
        return ()

    def plaintext_login(self, capabilities: tuple[str, ...]) -> bool:
        return ("USER" in _keywords(capabilities)
                or bool(_PLAINTEXT_MECHANISMS & set(self.auth_mechanisms(capabilities))))


class Smtp(Dialect):
    async def greeting(self, wire: Wire, first: str | None) -> str:
        code, lines = await self._reply(wire, first)
        if code != 220:
            raise WireError("unexpected_reply", lines[0])
        return lines[0]

    async def capabilities(self, wire: Wire) -> tuple[str, ...]:
        wire.send(b"EHLO " + _address_literal(wire.local_address).encode() + b"\r\n")
        code, lines = await self._reply(wire)
        if code != 250:
            return ()
        # The first line of the reply is the server's name; the keywords follow.
        return tuple(line[4:].strip() for line in lines[1:])

    def offers_starttls(self, capabilities: tuple[str, ...]) -> bool:
        return "STARTTLS" in _keywords(capabilities)

    async def starttls(self, wire: Wire) -> bool:
        wire.send(b"STARTTLS\r\n")
        code, _ = await self._reply(wire)
        return code == 220

    async def goodbye(self, wire: Wire) -> None:
        wire.send(b"QUIT\r\n")
        await self._reply(wire)

    def auth_mechanisms(self, capabilities: tuple[str, ...]) -> tuple[str, ...]:
        for line in capabilities:
            words = line.upper().replace("=", " ", 1).split()
            if words and words[0] == "AUTH":
                return tuple(words[1:])
        return ()

    def plaintext_login(self, capabilities: tuple[str, ...]) -> bool:
        return bool(_PLAINTEXT_MECHANISMS & set(self.auth_mechanisms(capabilities)))

    async def _reply(self, wire: Wire, first: str | None = None) -> tuple[int, list[str]]:
        """One reply, all its lines; its code is that of the last line."""
        lines: list[str] = []
        line = first if first is not None else await wire.line()
        while True:
            match = _SMTP_REPLY.match(line)
            if match is None:
                raise WireError("unexpected_reply", line)
            lines.append(line)
            if match.group(2) != "-":
                return int(match.group(1)), lines
            line = await wire.line()


DIALECTS: Mapping[Protocol, type[Dialect]] = {"imap": Imap, "pop3": Pop3, "smtp": Smtp}


def _keywords(capabilities: tuple[str, ...]) -> set[str]:
    return {line.split()[0].upper() for line in capabilities if line.split()}


def _address_literal(address: str) -> str:
    """EHLO's argument: the checker's own address in RFC 5321 literal form."""
    return f"[IPv6:{address}]" if ":" in address else f"[{address}]"
