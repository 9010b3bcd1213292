"""Fixtures for discovery and the domain check: NSD with the test zones, the HTTPS server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from bot.check import CheckPolicy
from bot.discover.discovery import Discoverer
from bot.discover.rules import DiscoveryRules, load_rules
from bot.dnsclient import DnsClient
from bot.kb import Server, load_knowledge

# The live check's fixtures, for the guesses (Dovecot, Postfix) and the connection audit.
from tests.check.conftest import connect_audit, dovecot, pki, postfix  # noqa: F401
from tests.dns.autoconfig_server import AutoconfigServer, running_autoconfig_server
from tests.dns.nsd import DnsServer, running_nsd
from tests.dns.zones import HTTPS, zones
from tests.servers import need_binary

# Short limits: loopback needs far less; hostile answers must end within them.
QUICK = CheckPolicy(dns_timeout=2, connect_timeout=2, greeting_timeout=3, reply_timeout=3,
                    tls_timeout=3, detect_timeout=1, check_timeout=6)


@pytest.fixture(scope="session")
def dns_server() -> Iterator[DnsServer]:
    with running_nsd(need_binary("nsd"), zones()) as server:
        yield server


@pytest.fixture(scope="session")
def autoconfig_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AutoconfigServer]:
    with running_autoconfig_server(tmp_path_factory.mktemp("autoconfig")) as server:
        yield server


@pytest.fixture
def dns(dns_server: DnsServer) -> DnsClient:
    return DnsClient(("127.0.0.1", dns_server.port), timeout=2)


@pytest.fixture
def https_policy(autoconfig_server: AutoconfigServer) -> CheckPolicy:
    """QUICK, trusting only the HTTPS test server's own address and its CA."""
    return replace(QUICK, trusted_networks=(f"{HTTPS}/32",),
                   cafile=str(autoconfig_server.ca_file))


def rules_for(server: AutoconfigServer, guesses: tuple[Server, ...] = ()) -> DiscoveryRules:
    """The shipped hosting patterns, with autoconfig on the test server's port."""
    return replace(load_rules(), autoconfig=(server.url_template(),), guesses=guesses)


@pytest.fixture
def discoverer(dns: DnsClient, autoconfig_server: AutoconfigServer,
               https_policy: CheckPolicy) -> Callable[..., Discoverer]:
    def make(policy: CheckPolicy = https_policy, guesses: tuple[Server, ...] = (),
             **kwargs: object) -> Discoverer:
        return Discoverer(load_knowledge(), rules_for(autoconfig_server, guesses), dns,
                          policy, **kwargs)  # type: ignore[arg-type]
    return make
