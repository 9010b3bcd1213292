"""The one link to the knowledge base: a provider's servers for an e-mail address."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServerSpec:
    """A server the knowledge base recommends: security is ssl, starttls or none."""

    protocol: str
    host: str
    port: int
    security: str


ProviderLookup = Callable[[str], Sequence[ServerSpec] | None]


def knowledge_servers(address: str) -> tuple[ServerSpec, ...] | None:
    """The servers of the address's provider, or None when the provider is unknown."""
    from bot.kb import load_knowledge  # loaded late: only address targets need the knowledge

    provider = load_knowledge().provider_for_address(address)
    if provider is None:
        return None
    domain = address.rpartition("@")[2]
    return tuple(
        ServerSpec(s.protocol, s.host, s.port, s.security) for s in provider.servers_for(domain))
