"""The SSRF guard: which ports and resolved addresses a check may connect to.

Applied to every address a host resolves to, before the first connection; a single
refused address refuses the whole host, since a name pointing at both a public and a
private address is how DNS-based attacks on checkers work.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import ip_address, ip_network

from bot.check.addresses import refusal_reason
from bot.check.errors import CheckRefused
from bot.check.settings import CheckPolicy

ALLOWED_PORTS = frozenset({25, 110, 143, 465, 587, 993, 995, 2525})


def vet_port(port: int, policy: CheckPolicy) -> None:
    """Refuse a port outside the mail set unless the deployment opted in."""
    if port not in ALLOWED_PORTS and not policy.allow_private:
        allowed = ", ".join(str(p) for p in sorted(ALLOWED_PORTS))
        raise CheckRefused("port_not_allowed", port=str(port), allowed=allowed)


def vet_addresses(host: str, addresses: Iterable[str], policy: CheckPolicy) -> None:
    """Refuse when any address of `host` is not globally routable, unless opted in."""
    if policy.allow_private:
        return
    trusted = [ip_network(net) for net in policy.trusted_networks]
    for address in addresses:
        if any(ip_address(address) in net for net in trusted):
            continue
        why = refusal_reason(address)
        if why is not None:
            raise CheckRefused("address_not_public", host=host, address=address, kind=why)
