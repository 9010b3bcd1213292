"""Finding the mail servers of a domain the knowledge base does not know.

Four steps start together (MX -> known hosting, RFC 6186 SRV, Mozilla autoconfig,
guesses confirmed by the live check) and the answer is taken in that order of trust:
the first step that finds servers wins and the slower, less trusted ones still running
are cancelled. So the whole discovery takes about as long as its slowest needed step.
Every step's outcome is kept, so a person sees where the answer came from and why the
others gave none. Results are cached for the TTL of the records they rest on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.check.errors import CheckRefused
from bot.check.limits import CheckLimiter
from bot.check.providers import ProviderLookup, ServerSpec, knowledge_servers
from bot.check.settings import CheckPolicy
from bot.check.target import AddressTarget, parse_target
from bot.discover.autoconfig import autoconfig_servers
from bot.discover.fetch import FetchError
from bot.discover.found import Found
from bot.discover.guesses import guessed_servers
from bot.discover.rules import DiscoveryRules
from bot.discover.srv import srv_servers
from bot.dnsclient import DnsClient, DnsError
from bot.kb import Knowledge, Server

CACHE_SIZE = 1024
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Step:
    """How one step ended: found, nothing, refused, failed or skipped (a better one won)."""

    source: str
    outcome: str
    code: str = ""
    detail: str = ""
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Discovery:
    domain: str
    found: Found | None
    steps: tuple[Step, ...]
    seconds: float

    @property
    def source(self) -> str | None:
        return self.found.source if self.found else None


class Discoverer:
    """Discovery with one DNS client, SSRF policy, rules and result cache per process."""

    def __init__(self, knowledge: Knowledge, rules: DiscoveryRules, dns: DnsClient,
                 policy: CheckPolicy, limiter: CheckLimiter | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.knowledge = knowledge
        self.rules = rules
        self.dns = dns
        self.policy = policy
        self.limiter = limiter or CheckLimiter(policy)
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, Discovery]] = OrderedDict()

    async def discover(self, domain: str) -> Discovery:
        """The servers of `domain` (already a checked host name), from the cache if fresh."""
        cached = self._cache.get(domain)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        discovery = await self._run(domain)
        ttl = discovery.found.ttl if discovery.found else 0
        if ttl > 0:
            self._cache[domain] = (self._clock() + ttl, discovery)
            self._cache.move_to_end(domain)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return discovery

    async def _run(self, domain: str) -> Discovery:
        started = time.perf_counter()
        steps: dict[str, Callable[[], Coroutine[Any, Any, Found | None]]] = {
            "mx": lambda: self._mx(domain),
            "srv": lambda: srv_servers(domain, self.dns),
            "autoconfig": lambda: autoconfig_servers(
                domain, self.rules.autoconfig, self.policy, self.dns,
                self.policy.check_timeout),
            "guess": lambda: guessed_servers(
                domain, self.rules.guesses, self.policy, self.dns.resolve_host, self.limiter),
        }
        tasks = {source: asyncio.create_task(step()) for source, step in steps.items()}
        outcomes: list[Step] = []
        found: Found | None = None
        try:
            async with asyncio.timeout(self.policy.check_timeout):
                for source, task in tasks.items():
                    if found is not None:
                        task.cancel()
                        outcomes.append(Step(source, "skipped"))
                        continue
                    step, found = await _outcome(source, task)
                    outcomes.append(step)
        except TimeoutError:
            done = {s.source for s in outcomes}
            outcomes += [Step(source, "failed", "timeout",
                              f"no answer within {self.policy.check_timeout:g} s")
                         for source in tasks if source not in done]
        finally:
            for task in tasks.values():
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)
        return Discovery(domain, found, tuple(outcomes), time.perf_counter() - started)

    async def _mx(self, domain: str) -> Found | None:
        answer = await self.dns.mx(domain)
        hit = self.rules.hosting_for(tuple(r.host for r in answer.records))
        if hit is None:
            return None
        hosting, mx_host = hit
        if hosting.provider is not None:
            provider = self.knowledge.providers[hosting.provider]
            return Found("mx", provider.servers_for(domain), answer.ttl, provider.id,
                         hosting.name, mx_host)
        servers = tuple(Server(s.protocol, s.host.replace("{domain}", domain), s.port,
                               s.security) for s in hosting.servers)
        return Found("mx", servers, answer.ttl, None, hosting.name, mx_host)


async def _outcome(source: str, task: asyncio.Task[Found | None]) -> tuple[Step, Found | None]:
    try:
        found = await task
    except CheckRefused as refused:
        return Step(source, "refused", refused.code, str(refused), refused.params), None
    except (DnsError, FetchError) as exc:
        return Step(source, "failed", exc.code, str(exc)), None
    except Exception as exc:  # a hostile answer that slipped past a guard ends one step only
        log.exception("discovery step %s failed", source)
        return Step(source, "failed", "internal", type(exc).__name__), None
    if found is None:
        return Step(source, "nothing"), None
    return Step(source, "found", detail=found.via), found


def default_discoverer(resolver: tuple[str, int] | None, policy: CheckPolicy,
                       limiter: CheckLimiter | None = None) -> Discoverer:
    """A Discoverer over the shipped knowledge and rules, asking `resolver` (None: system's)."""
    from bot.discover.rules import load_rules
    from bot.kb import load_knowledge

    return Discoverer(load_knowledge(), load_rules(), DnsClient(resolver, policy.dns_timeout),
                      policy, limiter)


def unknown_domain(target: str) -> str | None:
    """The domain of an address whose provider the knowledge base does not know, else None."""
    try:
        parsed = parse_target(target)
    except CheckRefused:
        return None  # the check refuses it, saying why
    if isinstance(parsed, AddressTarget) and knowledge_servers(parsed.address) is None:
        return parsed.domain
    return None


async def check_servers(discoverer: Discoverer, target: str) -> ProviderLookup:
    """Where the live check finds an address's servers: the knowledge base, or for an
    address on a domain it does not know, discovery (nothing found: the check refuses as
    before, "unknown provider")."""
    domain = unknown_domain(target)
    found = (await discoverer.discover(domain)).found if domain else None
    if found is None:
        return knowledge_servers
    specs = tuple(ServerSpec(s.protocol, s.host, s.port, s.security) for s in found.servers)
    return lambda _address: specs
