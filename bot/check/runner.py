"""Running a check: refuse or plan, probe every endpoint at once, yield results as they land."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from bot.check.limits import CheckLimiter
from bot.check.plan import Plan, plan_check
from bot.check.probe import Contexts, Findings, probe
from bot.check.providers import ProviderLookup, knowledge_servers
from bot.check.resolve import Resolver, system_resolver
from bot.check.results import PROTOCOLS, CheckReport, Endpoint, EndpointResult
from bot.check.settings import CheckPolicy
from bot.check.target import parse_target
from bot.check.verdicts import judge, relate
from bot.check.wire import ByteBudget


class RunningCheck:
    """A planned check: its endpoints are known; iterate to get each result as it lands."""

    def __init__(self, plan: Plan, policy: CheckPolicy, limiter: CheckLimiter) -> None:
        self._plan = plan
        self._policy = policy
        self._limiter = limiter
        self._deadline = asyncio.get_running_loop().time() + policy.check_timeout

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        """Every endpoint that will be reported, resolved or not."""
        return tuple(r.endpoint for r in self._plan.unresolved) + self._plan.endpoints

    def __aiter__(self) -> AsyncIterator[EndpointResult]:
        return self._results()

    async def _results(self) -> AsyncIterator[EndpointResult]:
        policy = self._policy
        for unresolved in self._plan.unresolved:
            yield judge(unresolved, policy)
        contexts = Contexts.for_policy(policy)
        tasks = [asyncio.create_task(self._probe_one(endpoint, contexts))
                 for endpoint in self._plan.endpoints]
        try:
            for done in asyncio.as_completed(tasks):
                yield judge(await done, policy)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _probe_one(self, endpoint: Endpoint, contexts: Contexts) -> EndpointResult:
        policy = self._policy
        findings = Findings(endpoint, ByteBudget(policy.max_bytes))
        try:
            async with asyncio.timeout_at(self._deadline), self._limiter.slot():
                await probe(findings, policy, contexts)
        except TimeoutError:
            findings.fail("check_timeout", f"the whole check may take {policy.check_timeout:g} s")
        return findings.result()


async def start_check(
    target: str,
    policy: CheckPolicy | None = None,
    *,
    requester: str = "local",
    limiter: CheckLimiter | None = None,
    resolver: Resolver = system_resolver,
    providers: ProviderLookup = knowledge_servers,
) -> RunningCheck:
    """Vet and plan a check of `target`; nothing is sent to any server yet.

    Raises CheckRefused when the target is malformed or not allowed, or the requester
    is over its rate limit. `limiter` is shared by everything a process serves.
    """
    policy = policy or CheckPolicy()
    parsed = parse_target(target)
    limiter = limiter or CheckLimiter(policy)
    limiter.admit(requester)
    plan = await plan_check(parsed, policy, resolver, providers)
    return RunningCheck(plan, policy, limiter)


async def check_report(
    target: str,
    policy: CheckPolicy | None = None,
    *,
    requester: str = "local",
    limiter: CheckLimiter | None = None,
    resolver: Resolver = system_resolver,
    providers: ProviderLookup = knowledge_servers,
) -> CheckReport:
    """The whole check of `target` at once (CheckRefused as start_check)."""
    check = await start_check(target, policy, requester=requester, limiter=limiter,
                              resolver=resolver, providers=providers)
    return finish_report(target, [result async for result in check])


def finish_report(target: str, results: list[EndpointResult]) -> CheckReport:
    """The report of streamed results: cross-endpoint advice added, endpoints in order."""
    return CheckReport(target=target.strip(), endpoints=tuple(sorted(relate(results), key=_order)))


def _order(result: EndpointResult) -> tuple[int, str, int, bool, str]:
    endpoint = result.endpoint
    protocol = result.protocol or endpoint.protocol
    rank = PROTOCOLS.index(protocol) if protocol is not None else len(PROTOCOLS)
    ip = endpoint.ip or ""
    return rank, endpoint.host, endpoint.port, ":" in ip, ip
