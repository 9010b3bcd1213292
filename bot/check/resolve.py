"""Resolving a host once, A and AAAA together, so later connections use the vetted addresses."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence

Resolver = Callable[[str], Awaitable[Sequence[str]]]


class ResolveError(Exception):
    """The name does not resolve (or not in time); `code` is dns_failed or dns_timeout."""

    def __init__(self, code: str, detail: str) -> None:
        self.code = code
        super().__init__(detail)


async def system_resolver(host: str) -> list[str]:
    """Every IPv4 and IPv6 address of `host` from the system resolver, in its order."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(
            host, None, family=socket.AF_UNSPEC, type=socket.SOCK_STREAM,
            proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise ResolveError("dns_failed", exc.strerror or str(exc)) from None
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


async def resolve(host: str, resolver: Resolver, timeout: float) -> list[str]:
    """The addresses of `host`; ResolveError when there are none."""
    try:
        async with asyncio.timeout(timeout):
            addresses = list(await resolver(host))
    except TimeoutError:
        raise ResolveError("dns_timeout", f"no answer within {timeout:g} s") from None
    if not addresses:
        raise ResolveError("dns_failed", "no A or AAAA record")
    return addresses
