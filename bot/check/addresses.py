"""Which IP addresses a public checker may connect to: globally routable unicast only.

The tables follow IANA's special-purpose address registries. Each entry names why an
address is refused, so the refusal can say it in words. IPv6 forms that carry an IPv4
address inside (mapped, compatible, NAT64, 6to4, Teredo) are refused outright: they
are the usual way to smuggle a private IPv4 address past a naive filter.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

IPAddress = IPv4Address | IPv6Address

_V4: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(net), why)
    for net, why in (
        ("255.255.255.255/32", "broadcast"),
        ("0.0.0.0/8", "this-network"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "cgnat"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "reserved"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
    )
)

_V6: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(net), why)
    for net, why in (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::ffff:0:0/96", "ipv4-embedded"),
        ("::/96", "ipv4-embedded"),
        ("::ffff:0:0:0/96", "ipv4-embedded"),
        ("64:ff9b::/96", "ipv4-embedded"),
        ("64:ff9b:1::/48", "ipv4-embedded"),
        ("2002::/16", "ipv4-embedded"),
        ("2001::/32", "ipv4-embedded"),
        ("100::/64", "reserved"),
        ("2001:2::/48", "benchmarking"),
        ("2001::/23", "reserved"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
        ("5f00::/16", "reserved"),
        ("fc00::/7", "unique-local"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    )
)

# Only this block holds global unicast addresses; everything outside it is reserved.
_V6_GLOBAL_UNICAST = IPv6Network("2000::/3")


def refusal_reason(address: str | IPAddress) -> str | None:
    """Why a checker must not connect to `address`, or None when it is globally routable."""
    ip = ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, IPv4Address):
        for net4, why in _V4:
            if ip in net4:
                return why
        return None if ip.is_global else "reserved"
    if ip.scope_id:
        return "link-local"
    for net6, why in _V6:
        if ip in net6:
            return why
    if ip not in _V6_GLOBAL_UNICAST:
        return "reserved"
    return None
