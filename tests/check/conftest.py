"""Fixtures for the live check: certificates, real Dovecot and Postfix, a fake resolver."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

import pytest

from bot.check import CheckPolicy
from bot.check.providers import ProviderLookup, ServerSpec
from bot.check.resolve import ResolveError
from tests.check.daemons import Dovecot, Postfix, running_dovecot, running_postfix
from tests.check.pki import DOMAIN, Pki, build_pki
from tests.servers import need_binary

# Short limits keep the suite fast; they are far above what loopback needs.
FAST = CheckPolicy(allow_private=True, dns_timeout=2, connect_timeout=2, greeting_timeout=3,
                   reply_timeout=3, tls_timeout=3, detect_timeout=1, check_timeout=10)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return build_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def dovecot(pki: Pki) -> Iterator[Dovecot]:
    binary = need_binary("dovecot")
    with running_dovecot(binary, pki) as instance:
        yield instance


@pytest.fixture(scope="session")
def postfix(pki: Pki, dovecot: Dovecot) -> Iterator[Postfix]:
    binary = need_binary("postfix")
    with running_postfix(binary, pki, dovecot) as instance:
        yield instance


async def loopback_resolver(host: str) -> list[str]:
    """Every name under the test domain is this machine; anything else does not exist."""
    if host == DOMAIN or host.endswith("." + DOMAIN):
        return ["127.0.0.1"]
    raise ResolveError("dns_failed", f"{host} is not a test name")


def servers(*specs: tuple[str, str, int, str]) -> ProviderLookup:
    """A provider lookup that knows one provider: these (protocol, host, port, security)."""
    listed = tuple(ServerSpec(*spec) for spec in specs)

    def lookup(address: str) -> Sequence[ServerSpec] | None:
        return listed

    return lookup


class ConnectAudit:
    """Records every socket connect the process makes while armed (Python audit events)."""

    def __init__(self) -> None:
        self.armed = False
        self.connects: list[object] = []
        self._lock = threading.Lock()

    def hook(self, event: str, args: tuple[object, ...]) -> None:
        if self.armed and event == "socket.connect":
            with self._lock:
                self.connects.append(args[1])


_AUDIT = ConnectAudit()
sys.addaudithook(_AUDIT.hook)  # audit hooks cannot be removed; it records only when armed


@pytest.fixture
def connect_audit() -> Iterator[ConnectAudit]:
    _AUDIT.connects.clear()
    _AUDIT.armed = True
    try:
        yield _AUDIT
    finally:
        _AUDIT.armed = False


@pytest.fixture
def ca_policy(pki: Pki) -> Callable[..., CheckPolicy]:
    """FAST with the private CA trusted, plus any overrides."""
    def make(**overrides: object) -> CheckPolicy:
        return replace(FAST, cafile=str(pki.ca_file), **overrides)  # type: ignore[arg-type]

    return make
