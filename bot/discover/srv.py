"""RFC 6186 SRV records: a domain naming its own IMAP, POP3 and submission servers.

Implicit TLS services come first (RFC 8314 prefers them); a target of "." says the
service is deliberately not offered, and is skipped.
"""

from __future__ import annotations

import asyncio

from bot.discover.found import Found, valid_host
from bot.dnsclient import DnsClient, SrvRecord
from bot.kb import Server

# (SRV label, protocol, security), in the order RFC 8314 recommends.
SERVICES = (
    ("_imaps._tcp", "imap", "ssl"),
    ("_imap._tcp", "imap", "starttls"),
    ("_pop3s._tcp", "pop3", "ssl"),
    ("_pop3._tcp", "pop3", "starttls"),
    ("_submissions._tcp", "smtp", "ssl"),
    ("_submission._tcp", "smtp", "starttls"),
)


async def srv_servers(domain: str, dns: DnsClient) -> Found | None:
    """The servers the domain's SRV records name, or None when it publishes none."""
    answers = await asyncio.gather(*(dns.srv(f"{label}.{domain}") for label, _, _ in SERVICES))
    servers: list[Server] = []
    ttls: list[int] = []
    for (_label, protocol, security), answer in zip(SERVICES, answers, strict=True):
        best = _best(answer.records)
        if best is not None:
            servers.append(Server(protocol, best.target, best.port, security))
            ttls.append(answer.ttl)
    if not servers:
        return None
    return Found("srv", tuple(servers), ttl=min(ttls))


def _best(records: tuple[SrvRecord, ...]) -> SrvRecord | None:
    usable = [r for r in records if r.target not in ("", ".") and r.port > 0
              and valid_host(r.target)]
    return min(usable, key=lambda r: (r.priority, -r.weight, r.target), default=None)
