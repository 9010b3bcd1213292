"""The DNS client's resolver setting, and the SSRF policy's trusted networks."""

from __future__ import annotations

import pytest

from bot.check import CheckPolicy, CheckRefused
from bot.check.policy import vet_addresses
from bot.config import ConfigError, load_config
from bot.dnsclient import parse_resolver


@pytest.mark.parametrize(("text", "parsed"), [
    ("127.0.0.1:5353", ("127.0.0.1", 5353)),
    ("127.0.0.1", ("127.0.0.1", 53)),
    ("[::1]:5353", ("::1", 5353)),
    ("[::1]", ("::1", 53)),
    ("::1", ("::1", 53)),
    (" 10.0.0.53:53 ", ("10.0.0.53", 53)),
])
def test_resolver_forms(text: str, parsed: tuple[str, int]) -> None:
    assert parse_resolver(text) == parsed


@pytest.mark.parametrize("text", ["", "dns.example:53", "127.0.0.1:0", "127.0.0.1:65536",
                                  "127.0.0.1:x", "[::1]:", "1.2.3:53", "127.0.0.1:53:53"])
def test_bad_resolvers(text: str) -> None:
    with pytest.raises(ValueError):
        parse_resolver(text)


def test_trusted_networks_let_only_themselves_through() -> None:
    policy = CheckPolicy(trusted_networks=("10.1.0.0/16", "fd00::/8"))
    vet_addresses("mail.corp", ["10.1.2.3", "fd00::25"], policy)
    for address in ("10.2.0.1", "127.0.0.1", "192.168.1.1", "fe80::1"):
        with pytest.raises(CheckRefused):
            vet_addresses("mail.corp", ["10.1.2.3", address], policy)


def test_a_trusted_network_must_be_a_network() -> None:
    with pytest.raises(ValueError, match="trusted_networks"):
        CheckPolicy(trusted_networks=("10.0.0.0/33",))


def test_resolver_and_blocklist_settings() -> None:
    config = load_config({"MAILHELP_RESOLVER": "127.0.0.1:5353",
                          "MAILHELP_DNSBL": "zen.example, bl.example."})
    assert config.resolver == ("127.0.0.1", 5353)
    assert config.dnsbl == ("zen.example", "bl.example")
    assert load_config({}).resolver is None and load_config({}).dnsbl == ()
    with pytest.raises(ConfigError, match="MAILHELP_RESOLVER"):
        load_config({"MAILHELP_RESOLVER": "dns.example"})
    with pytest.raises(ConfigError, match="MAILHELP_DNSBL"):
        load_config({"MAILHELP_DNSBL": "bad zone!"})
