"""What one discovery step found: servers, where they came from, and how long to trust them."""

from __future__ import annotations

from dataclasses import dataclass

from bot.check.errors import CheckRefused
from bot.check.target import HostTarget, parse_target
from bot.kb import Server

# How long a result not tied to a DNS record (autoconfig, a verified guess) is kept.
DEFAULT_TTL = 3600


@dataclass(frozen=True, slots=True)
class Found:
    """Servers for a domain; `source` is mx, srv, autoconfig or guess.

    `provider` is a knowledge-base provider id (MX pointed at a known hosting that the
    knowledge base describes), `name` the hosting's name, `via` what revealed it (the
    MX host, the autoconfig URL).
    """

    source: str
    servers: tuple[Server, ...]
    ttl: int = DEFAULT_TTL
    provider: str | None = None
    name: str | None = None
    via: str = ""


def valid_host(text: str) -> bool:
    """A plain host name a mail program could use (no port, no odd notation)."""
    try:
        target = parse_target(text)
    except CheckRefused:
        return False
    return isinstance(target, HostTarget) and target.port is None and not target.is_ip


def domain_of(text: str) -> str:
    """The domain `text` names (an address's domain counts); CheckRefused when it is none."""
    text = text.strip()
    target = parse_target(text.rpartition("@")[2] if "@" in text else text)
    if not isinstance(target, HostTarget) or target.is_ip or target.port is not None \
            or "." not in target.host:
        raise CheckRefused("bad_host")
    return target.host
