"""Guessed servers (imap.DOMAIN, smtp.DOMAIN...), each kept only when a live check confirms it.

The live check runs exactly as `mailhelp check` would: the SSRF guard vets every
address and port first, no login is ever sent, and a guess is confirmed when the
server answers in the protocol the guess expects.
"""

from __future__ import annotations

import asyncio

from bot.check.errors import CheckRefused
from bot.check.limits import CheckLimiter
from bot.check.plan import plan_check
from bot.check.providers import ServerSpec
from bot.check.resolve import Resolver
from bot.check.results import EndpointResult
from bot.check.runner import RunningCheck
from bot.check.settings import CheckPolicy
from bot.check.target import AddressTarget
from bot.discover.found import Found, valid_host
from bot.kb import Server


async def guessed_servers(domain: str, guesses: tuple[Server, ...], policy: CheckPolicy,
                          resolver: Resolver, limiter: CheckLimiter) -> Found | None:
    """The guesses that answered; CheckRefused when none did and the guard refused some."""
    candidates = [Server(g.protocol, g.host.replace("{domain}", domain), g.port, g.security)
                  for g in guesses]
    candidates = [c for c in candidates if valid_host(c.host)]
    outcomes = await asyncio.gather(
        *(_confirm(c, policy, resolver, limiter) for c in candidates), return_exceptions=True)
    confirmed = tuple(c for c, ok in zip(candidates, outcomes, strict=True) if ok is True)
    if confirmed:
        return Found("guess", confirmed)
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome, CheckRefused):
            raise outcome
    refused = next((o for o in outcomes if isinstance(o, CheckRefused)), None)
    if refused is not None:
        raise refused
    return None


async def _confirm(server: Server, policy: CheckPolicy, resolver: Resolver,
                   limiter: CheckLimiter) -> bool:
    # Planned as a provider's server, so the check speaks the guess's protocol and TLS
    # mode from the first byte instead of detecting them on an unusual port.
    spec = (ServerSpec(server.protocol, server.host, server.port, server.security),)
    target = AddressTarget(address=f"postmaster@{server.host}", domain=server.host)
    plan = await plan_check(target, policy, resolver, lambda _address: spec)
    if not plan.endpoints:
        return False
    results: list[EndpointResult] = [r async for r in RunningCheck(plan, policy, limiter)]
    return any(r.works and r.protocol == server.protocol for r in results)
