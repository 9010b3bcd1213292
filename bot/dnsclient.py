"""Asking DNS (dnspython): MX, SRV, TXT, A/AAAA and PTR, bounded in time, cached by TTL.

One DnsClient serves a process; `--resolver HOST:PORT` or MAILHELP_RESOLVER points it
at a chosen server (tests, private deployments), else the system's resolvers are used.
A name that does not exist, or has no record of the type, is an empty answer; only a
server that fails or does not answer in time is a DnsError.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.rdatatype
import dns.resolver
import dns.reversename
from dns.rdtypes.ANY.MX import MX
from dns.rdtypes.ANY.PTR import PTR
from dns.rdtypes.ANY.TXT import TXT
from dns.rdtypes.IN.SRV import SRV

T = TypeVar("T")
DEFAULT_TIMEOUT = 5.0
CACHE_SIZE = 10_000
# A TXT answer longer than this is not a mail record anyone meant to publish.
MAX_TXT = 8 * 1024
DNS_PORT = 53


class DnsError(Exception):
    """DNS could not answer about `name`: `code` is dns_timeout, dns_failed or txt_too_large."""

    def __init__(self, code: str, name: str, detail: str) -> None:
        self.code = code
        self.name = name
        self.detail = detail
        super().__init__(f"{name}: {detail}")


@dataclass(frozen=True, slots=True)
class MxRecord:
    preference: int
    host: str


@dataclass(frozen=True, slots=True)
class SrvRecord:
    priority: int
    weight: int
    port: int
    target: str


@dataclass(frozen=True, slots=True)
class Answer(Generic[T]):
    """The records of one question and how long they may be kept (0 when none came)."""

    records: tuple[T, ...]
    ttl: int


def parse_resolver(text: str) -> tuple[str, int]:
    """HOST:PORT (or [v6]:PORT, or a bare IP for port 53) as an IP and a port."""
    text = text.strip()
    host, port = text, str(DNS_PORT)
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else port
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    try:
        ip = str(ipaddress.ip_address(host))
        number = int(port)
    except ValueError:
        raise ValueError(f"resolver must be an IP address with an optional port "
                         f"(127.0.0.1:5353), got {text!r}") from None
    if not 0 < number < 65536:
        raise ValueError(f"resolver port must be 1 to 65535, got {port}")
    return ip, number


class DnsClient:
    """Asynchronous DNS questions through one resolver, answers cached for their TTL."""

    def __init__(self, nameserver: tuple[str, int] | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        try:
            resolver = dns.asyncresolver.Resolver(configure=nameserver is None)
        except dns.resolver.NoResolverConfiguration:
            # No /etc/resolv.conf: every question fails as "the DNS server failed to
            # answer" until MAILHELP_RESOLVER names one; the rest of mailhelp works.
            resolver = dns.asyncresolver.Resolver(configure=False)
        if nameserver is not None:
            resolver.nameservers = [nameserver[0]]
            resolver.port = nameserver[1]
        resolver.lifetime = timeout
        resolver.timeout = min(timeout, 2.0)
        resolver.cache = dns.resolver.LRUCache(CACHE_SIZE)
        self._resolver = resolver
        self.timeout = timeout

    async def _ask(self, name: str, rdtype: dns.rdatatype.RdataType) -> dns.resolver.Answer | None:
        try:
            return await self._resolver.resolve(name, rdtype, search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        except dns.resolver.LifetimeTimeout:
            raise DnsError("dns_timeout", name, f"no answer within {self.timeout:g} s") from None
        except dns.exception.DNSException as exc:
            detail = str(exc) or type(exc).__name__
            if isinstance(exc, dns.message.ChainTooLong) or "CNAME chain" in detail:
                detail = "the CNAME chain is too long or loops"
            elif isinstance(exc, dns.resolver.NoNameservers):
                detail = "the DNS server failed to answer"
            raise DnsError("dns_failed", name, detail) from None

    async def mx(self, domain: str) -> Answer[MxRecord]:
        answer = await self._ask(domain, dns.rdatatype.MX)
        records = tuple(sorted(
            (MxRecord(r.preference, _host(r.exchange)) for r in _rdatas(answer, MX)),
            key=lambda m: (m.preference, m.host)))
        return Answer(records, _ttl(answer))

    async def srv(self, name: str) -> Answer[SrvRecord]:
        answer = await self._ask(name, dns.rdatatype.SRV)
        records = tuple(SrvRecord(r.priority, r.weight, r.port, _host(r.target))
                        for r in _rdatas(answer, SRV))
        return Answer(records, _ttl(answer))

    async def txt(self, name: str) -> Answer[str]:
        """Each TXT record as one string (its parts joined); DnsError when oversized."""
        answer = await self._ask(name, dns.rdatatype.TXT)
        texts = tuple(b"".join(r.strings).decode("utf-8", "replace")
                      for r in _rdatas(answer, TXT))
        if sum(len(t) for t in texts) > MAX_TXT:
            raise DnsError("txt_too_large", name, f"TXT records longer than {MAX_TXT} bytes")
        return Answer(texts, _ttl(answer))

    async def addresses(self, host: str) -> Answer[str]:
        """IPv4 then IPv6 addresses of `host`, asked together."""
        answers = await asyncio.gather(self._ask(host, dns.rdatatype.A),
                                       self._ask(host, dns.rdatatype.AAAA))
        records = tuple(r.to_text() for answer in answers if answer for r in answer)
        ttls = [_ttl(a) for a in answers if a is not None]
        return Answer(records, min(ttls) if ttls else 0)

    async def ptr(self, ip: str) -> Answer[str]:
        answer = await self._ask(dns.reversename.from_address(ip).to_text(), dns.rdatatype.PTR)
        return Answer(tuple(_host(r.target) for r in _rdatas(answer, PTR)), _ttl(answer))

    async def resolve_host(self, host: str) -> Sequence[str]:
        """The live check's resolver interface: the addresses, or the check's ResolveError."""
        from bot.check.resolve import ResolveError

        try:
            return (await self.addresses(host)).records
        except DnsError as exc:
            raise ResolveError(exc.code if exc.code == "dns_timeout" else "dns_failed",
                               str(exc)) from None


def _rdatas(answer: dns.resolver.Answer | None, kind: type[T]) -> list[T]:
    return [r for r in answer if isinstance(r, kind)] if answer is not None else []


def _ttl(answer: dns.resolver.Answer | None) -> int:
    return answer.rrset.ttl if answer is not None and answer.rrset is not None else 0


def _host(name: dns.name.Name) -> str:
    """A name without its final dot; the root itself (a null MX, an absent service) is "."."""
    return "." if name == dns.name.root else name.to_text(omit_final_dot=True).lower()
