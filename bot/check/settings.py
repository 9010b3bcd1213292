"""The knobs of the live check: timeouts, read limits, the private-network opt-in, rate limits."""

from __future__ import annotations

from dataclasses import dataclass, fields
from ipaddress import ip_network

KIB = 1024


@dataclass(frozen=True, slots=True)
class CheckPolicy:
    """How one deployment runs checks; the server configuration fills it.

    Timeouts are in seconds. `allow_private` is the only way past the address and port
    rules and exists for tests and private deployments; it is never on by default.
    """

    allow_private: bool = False
    # Non-public networks a deployment trusts (its own servers, a test bed), as CIDR
    # strings; narrower than allow_private: everything else stays refused.
    trusted_networks: tuple[str, ...] = ()
    dns_timeout: float = 5.0
    connect_timeout: float = 5.0
    # SMTP servers may hold the greeting back for a few seconds to catch spam bots.
    greeting_timeout: float = 10.0
    reply_timeout: float = 8.0
    tls_timeout: float = 8.0
    # On a port with no known protocol: silence this long means "try TLS".
    detect_timeout: float = 3.0
    check_timeout: float = 30.0
    max_bytes: int = 64 * KIB
    max_line: int = 4 * KIB
    # Every resolved address is vetted, but only this many per host are probed.
    max_addresses: int = 4
    rate_limit: int = 10
    rate_window: float = 60.0
    max_concurrent: int = 64
    cafile: str | None = None
    source_address: str | None = None
    expiry_warning_days: int = 14

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if value <= 0:
                raise ValueError(f"check setting {f.name} must be positive, not {value}")
        for net in self.trusted_networks:
            try:
                ip_network(net)
            except ValueError:
                raise ValueError(f"check setting trusted_networks: {net!r} is not a network "
                                 "like 10.0.0.0/8") from None
        if self.max_line > self.max_bytes:
            raise ValueError("check setting max_line cannot exceed max_bytes")
