"""Turning a target into the endpoints to probe: ports, protocols, TLS modes, vetted addresses.

Everything that can refuse a check happens here, before the first connection: the port
rule, the provider lookup, and the vetting of every address each host resolves to.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from bot.check.errors import CheckRefused
from bot.check.policy import vet_addresses, vet_port
from bot.check.providers import ProviderLookup
from bot.check.resolve import ResolveError, Resolver, resolve
from bot.check.results import PROTOCOLS, Endpoint, EndpointResult, Protocol, TlsMode
from bot.check.settings import CheckPolicy
from bot.check.target import AddressTarget, HostTarget, Target, parse_target

# What a well-known port implies, as mail clients assume it.
PORT_ROLES: Mapping[int, tuple[Protocol, TlsMode]] = {
    993: ("imap", "implicit"),
    143: ("imap", "starttls"),
    995: ("pop3", "implicit"),
    110: ("pop3", "starttls"),
    465: ("smtp", "implicit"),
    587: ("smtp", "starttls"),
    25: ("smtp", "starttls"),
    2525: ("smtp", "starttls"),
}
# A bare host is checked on these, in this order.
HOST_PORTS = (993, 143, 995, 110, 465, 587, 25)
# The knowledge base's words for the TLS mode.
SECURITY_MODES: Mapping[str, TlsMode] = {"ssl": "implicit", "starttls": "starttls", "none": "none"}


@dataclass(frozen=True, slots=True)
class _Spec:
    host: str
    is_ip: bool
    port: int
    protocol: Protocol | None
    tls: TlsMode | None


@dataclass(frozen=True, slots=True)
class Plan:
    """The endpoints to probe, and those whose host did not resolve (already final)."""

    endpoints: tuple[Endpoint, ...]
    unresolved: tuple[EndpointResult, ...]


async def plan_check(
    target: Target, policy: CheckPolicy, resolver: Resolver, providers: ProviderLookup,
) -> Plan:
    """The vetted endpoints of `target`; CheckRefused when any rule says no."""
    specs = _specs(target, providers)
    for spec in specs:
        vet_port(spec.port, policy)
    hosts = {spec.host: spec.is_ip for spec in specs}
    answers = await asyncio.gather(
        *(_addresses(host, is_ip, policy, resolver) for host, is_ip in hosts.items()))
    resolved = dict(zip(hosts, answers, strict=True))
    for host, answer in resolved.items():
        if isinstance(answer, list):
            vet_addresses(host, answer, policy)
    endpoints: list[Endpoint] = []
    unresolved: list[EndpointResult] = []
    for spec in specs:
        answer = resolved[spec.host]
        if isinstance(answer, ResolveError):
            endpoint = Endpoint(spec.host, None, spec.port, spec.protocol, spec.tls)
            unresolved.append(EndpointResult(
                endpoint, protocol=spec.protocol, failure=answer.code, failure_detail=str(answer)))
            continue
        for ip in answer[: policy.max_addresses]:
            endpoints.append(Endpoint(spec.host, ip, spec.port, spec.protocol, spec.tls))
    return Plan(tuple(endpoints), tuple(unresolved))


async def _addresses(
    host: str, is_ip: bool, policy: CheckPolicy, resolver: Resolver,
) -> list[str] | ResolveError:
    if is_ip:
        return [host]
    try:
        return await resolve(host, resolver, policy.dns_timeout)
    except ResolveError as exc:
        return exc


def _specs(target: Target, providers: ProviderLookup) -> list[_Spec]:
    if isinstance(target, AddressTarget):
        return _provider_specs(target, providers)
    if target.port is not None:
        protocol, tls = PORT_ROLES.get(target.port, (None, None))
        return [_Spec(target.host, target.is_ip, target.port, protocol, tls)]
    return [_Spec(target.host, target.is_ip, port, *PORT_ROLES[port]) for port in HOST_PORTS]


def _provider_specs(target: AddressTarget, providers: ProviderLookup) -> list[_Spec]:
    servers = providers(target.address)
    if not servers:
        raise CheckRefused("unknown_provider", domain=target.domain)
    specs: list[_Spec] = []
    for server in servers:
        host = parse_target(server.host)
        protocol = next((p for p in PROTOCOLS if p == server.protocol), None)
        tls = SECURITY_MODES.get(server.security)
        if not isinstance(host, HostTarget) or host.port is not None or None in (protocol, tls):
            raise CheckRefused("bad_provider_server")
        specs.append(_Spec(host.host, host.is_ip, server.port, protocol, tls))
    return specs
