"""The chat's DNS actions, for every channel: settings discovery and the domain check.

The engine asks for them as actions (kind "discover" or "domain-check", like the live
check's "check"); a channel runs them here and shows the text. The web API uses the
same two calls for its JSON answers. Both count against the live check's rate limit.
"""

from __future__ import annotations

from typing import Any

from bot.check import CheckLimiter, CheckPolicy, CheckRefused
from bot.check.providers import ProviderLookup
from bot.check.report import refusal_text
from bot.check.resolve import Resolver, system_resolver
from bot.discover.discovery import (
    Discoverer,
    check_servers,
    default_discoverer,
    unknown_domain,
)
from bot.discover.found import domain_of
from bot.discover.report import render_discovered, settings_with_discovery
from bot.discover.texts import text as discovery_text
from bot.domaincheck.run import DomainReport, check_domain

KINDS = ("discover", "domain-check")


class DnsActions:
    """One discoverer (and its cache), the blocklists to ask, the shared rate limiter."""

    def __init__(self, discoverer: Discoverer, dnsbl: tuple[str, ...],
                 limiter: CheckLimiter, check_resolver: Resolver = system_resolver) -> None:
        self.discoverer = discoverer
        self.dnsbl = dnsbl
        self.limiter = limiter
        # The live check's name lookup: the system's, or the configured DNS server's.
        self.check_resolver = check_resolver

    @classmethod
    def default(cls, resolver: tuple[str, int] | None, dnsbl: tuple[str, ...],
                policy: CheckPolicy, limiter: CheckLimiter) -> DnsActions:
        discoverer = default_discoverer(resolver, policy, limiter)
        return cls(discoverer, dnsbl, limiter,
                   discoverer.dns.resolve_host if resolver else system_resolver)

    async def settings(self, address: str, lang: str, requester: str) -> dict[str, Any]:
        """The settings object (with "text", as a person reads it); CheckRefused for input
        that is not an address or a domain, or a requester over the limit."""
        domain_of(address)
        self.limiter.admit(requester)
        settings = await settings_with_discovery(self.discoverer, address, lang)
        return {**settings, "text": render_discovered(settings, lang)}

    async def domain_report(self, text: str, requester: str) -> DomainReport:
        """The domain check of `text` (a domain or an address); CheckRefused as settings(),
        TimeoutError when DNS does not finish within the check's time limit."""
        domain = domain_of(text)
        self.limiter.admit(requester)
        return await check_domain(domain, self.discoverer.dns, self.discoverer.policy,
                                  dnsbl=self.dnsbl)

    async def check_servers(self, target: str, requester: str) -> ProviderLookup:
        """The live check's servers for `target`: for an address on a domain the knowledge
        base does not know, discovered (counted against the rate limit, CheckRefused past
        it)."""
        if unknown_domain(target):
            self.limiter.admit(requester)
        return await check_servers(self.discoverer, target)

    async def reply(self, kind: str, target: str, lang: str, requester: str) -> str:
        """What the chat shows for an action of `kind` on `target`, refusals in words."""
        try:
            if kind == "discover":
                return str((await self.settings(target, lang, requester))["text"])
            return (await self.domain_report(target, requester)).render(lang)
        except CheckRefused as refused:
            return refusal_text(refused, lang)
        except TimeoutError:
            return discovery_text("ui", "timeout", lang)
