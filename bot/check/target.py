"""Reading what the user typed as a check target: an e-mail address, a host, or host:port.

Anything that is not plainly one of those is refused here, before DNS or sockets are
touched: control characters, over-long names, ports with odd spellings, and hosts
written in the numeric notations that resolvers accept but people never mean
(`2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`, `0`).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass

from bot.check.errors import CheckRefused

MAX_TARGET = 320
MAX_HOST = 253
MAX_LOCAL_PART = 64

_PORT = re.compile(r"[1-9][0-9]{0,4}")
_BRACKETED = re.compile(r"\[([^\[\]]*)\](?::([^:]*))?")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
# WHATWG URL rule: a host whose last label is a number is an IPv4 address in some notation.
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)
_DOTTED_QUAD_PART = re.compile(r"0|[1-9][0-9]{0,2}")
# Unicode categories that never belong in a host or an address: controls, format
# characters (zero-width, bidi overrides), line and paragraph separators.
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


@dataclass(frozen=True, slots=True)
class HostTarget:
    """A server: a lowercase ASCII host name or a canonical IP literal, maybe with a port."""

    host: str
    port: int | None
    is_ip: bool


@dataclass(frozen=True, slots=True)
class AddressTarget:
    """An e-mail address; its provider's servers are checked."""

    address: str
    domain: str


Target = HostTarget | AddressTarget


def parse_target(text: str) -> Target:
    """The target in `text`, or CheckRefused saying what is wrong with it."""
    text = text.strip(" \t")
    if not text:
        raise CheckRefused("empty_target")
    if len(text) > MAX_TARGET:
        raise CheckRefused("target_too_long")
    if any(ch.isspace() or unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in text):
        raise CheckRefused("bad_characters")
    if "@" in text:
        return _address(text)
    return _host_and_port(text)


def _address(text: str) -> AddressTarget:
    local, _, domain = text.rpartition("@")
    if not local or len(local) > MAX_LOCAL_PART or "@" in local or '"' in local:
        raise CheckRefused("bad_address")
    name = _ascii(domain)
    if _looks_numeric(name):
        raise CheckRefused("bad_address")
    name = _hostname(name)
    return AddressTarget(address=f"{local}@{name}", domain=name)


def _host_and_port(text: str) -> HostTarget:
    bracketed = _BRACKETED.fullmatch(text)
    if bracketed:
        ip = _ipv6(bracketed.group(1))
        port = bracketed.group(2)
        return HostTarget(ip, _port(port) if port is not None else None, is_ip=True)
    if text.count(":") >= 2:
        return HostTarget(_ipv6(text), None, is_ip=True)
    host, colon, port = text.partition(":")
    parsed_port = _port(port) if colon else None
    name = _ascii(host)
    if _looks_numeric(name):
        return HostTarget(_dotted_quad(name), parsed_port, is_ip=True)
    return HostTarget(_hostname(name), parsed_port, is_ip=False)


def _port(text: str) -> int:
    if not _PORT.fullmatch(text) or int(text) > 65535:
        raise CheckRefused("bad_port")
    return int(text)


def _ipv6(text: str) -> str:
    # A zone index (fe80::1%eth0) names an interface of this machine: never a mail server.
    if "%" in text:
        raise CheckRefused("odd_notation", host=text)
    try:
        return str(ipaddress.IPv6Address(text))
    except ValueError:
        raise CheckRefused("bad_host") from None


def _ascii(text: str) -> str:
    """The lowercase ASCII (A-label) spelling of a host as a resolver would see it."""
    if not text or len(text) > MAX_HOST + 1:
        raise CheckRefused("bad_host")
    try:
        # IDNA also folds look-alikes (fullwidth digits, ideographic dots) to ASCII, so
        # the numeric-notation check sees what a resolver would see.
        return text.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise CheckRefused("bad_host") from None


def _hostname(name: str) -> str:
    """A DNS name without its root dot, refusing what DNS could not hold."""
    trimmed = name[:-1] if name.endswith(".") else name
    labels = trimmed.split(".")
    if len(trimmed) > MAX_HOST or not all(_LABEL.fullmatch(label) for label in labels):
        raise CheckRefused("bad_host")
    return trimmed


def _looks_numeric(name: str) -> bool:
    return bool(_NUMERIC_LABEL.fullmatch(name.rstrip(".").rsplit(".", 1)[-1]))


def _dotted_quad(name: str) -> str:
    """A canonical dotted quad; any other numeric spelling is refused."""
    parts = name.split(".")
    if len(parts) != 4 or not all(_DOTTED_QUAD_PART.fullmatch(p) for p in parts):
        raise CheckRefused("odd_notation", host=name)
    try:
        return str(ipaddress.IPv4Address(name))
    except ValueError:
        raise CheckRefused("odd_notation", host=name) from None
