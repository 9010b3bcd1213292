"""Discovery against real NSD and a real HTTPS server: each zone gives its servers and source;
hostile answers end in time with bounded memory; the SSRF guard refuses non-public places."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace

import pytest

from bot.check import CheckPolicy
from bot.discover.autoconfig import AutoconfigError, parse_autoconfig
from bot.discover.discovery import Discoverer, Discovery
from bot.discover.fetch import MAX_BODY
from bot.kb import Server
from tests.check.conftest import ConnectAudit
from tests.check.daemons import Dovecot, Postfix
from tests.dns.autoconfig_server import GOOD_XML
from tests.dns.conftest import QUICK
from tests.dns.nsd import DnsServer

Make = Callable[..., Discoverer]


def servers(discovery: Discovery) -> list[tuple[str, str, int, str]]:
    assert discovery.found is not None, discovery.steps
    return [(s.protocol, s.host, s.port, s.security) for s in discovery.found.servers]


def outcomes(discovery: Discovery) -> dict[str, tuple[str, str]]:
    return {s.source: (s.outcome, s.code) for s in discovery.steps}


async def test_google_workspace_by_mx(discoverer: Make) -> None:
    found = await discoverer().discover("google-hosted.test")
    assert found.source == "mx"
    assert found.found is not None and found.found.provider == "gmail"
    assert found.found.via == "aspmx.l.google.com"
    assert ("imap", "imap.gmail.com", 993, "ssl") in servers(found)
    assert outcomes(found)["srv"] == ("skipped", "")


async def test_microsoft_365_by_mx(discoverer: Make) -> None:
    found = await discoverer().discover("ms-hosted.test")
    assert found.source == "mx" and found.found is not None
    assert found.found.name == "Microsoft 365" and found.found.provider is None
    assert servers(found)[0] == ("imap", "outlook.office365.com", 993, "ssl")
    assert ("smtp", "smtp.office365.com", 587, "starttls") in servers(found)


async def test_srv_records_with_implicit_tls_first(discoverer: Make) -> None:
    found = await discoverer().discover("srv-only.test")
    assert found.source == "srv"
    assert outcomes(found)["mx"] == ("nothing", "")
    assert servers(found) == [
        ("imap", "mail.srv-only.test", 993, "ssl"),
        ("imap", "mail.srv-only.test", 143, "starttls"),
        ("smtp", "smtp.srv-only.test", 465, "ssl"),
        ("smtp", "smtp.srv-only.test", 587, "starttls"),
    ]  # _pop3s._tcp names "." (not offered), so no POP3


async def test_autoconfig_file(discoverer: Make) -> None:
    found = await discoverer().discover("autoconfig-only.test")
    assert found.source == "autoconfig"
    assert found.found is not None and "autoconfig.autoconfig-only.test" in found.found.via
    # SSL before STARTTLS; the POP3 entry with an IP literal for a host is dropped.
    assert servers(found) == [
        ("imap", "imap.autoconfig-only.test", 993, "ssl"),
        ("imap", "imap.autoconfig-only.test", 143, "starttls"),
        ("smtp", "smtp.autoconfig-only.test", 465, "ssl"),
    ]


async def test_no_mail_at_all(discoverer: Make) -> None:
    found = await discoverer().discover("nomail.test")
    assert found.found is None
    assert {s.outcome for s in found.steps} == {"nothing"}


async def test_cname_loops_end_quickly_with_nothing(discoverer: Make) -> None:
    found = await discoverer().discover("loop.test")
    assert found.found is None
    assert found.seconds < QUICK.check_timeout


@pytest.mark.parametrize(("domain", "code"), [
    ("huge-xml.test", "too_large"),
    ("entities.test", "xml_dtd"),
    ("drip.test", "timeout"),
    ("redirect-loop.test", "too_many_redirects"),
    ("redirect-http.test", "bad_redirect"),
])
async def test_hostile_autoconfig_answers_are_bounded(discoverer: Make, https_policy: CheckPolicy,
                                                      domain: str, code: str) -> None:
    policy = replace(https_policy, check_timeout=3)
    tracemalloc.start()
    started = time.monotonic()
    try:
        found = await discoverer(policy).discover(domain)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert found.found is None
    step = {s.source: s for s in found.steps}["autoconfig"]
    assert (step.outcome, step.code) == ("failed", code)
    assert time.monotonic() - started < policy.check_timeout + 1
    assert peak < 8 * MAX_BODY


@pytest.mark.parametrize("domain", ["redirect.test", "redirect-name.test"])
async def test_redirect_to_loopback_is_refused_before_connecting(
        discoverer: Make, dns_server: DnsServer, connect_audit: ConnectAudit,
        domain: str) -> None:
    found = await discoverer().discover(domain)
    step = {s.source: s for s in found.steps}["autoconfig"]
    assert (step.outcome, step.code) == ("refused", "address_not_public")
    assert "127.0.0.1" in step.detail
    assert _loopback_connects(connect_audit, dns_server) == []


def _loopback_connects(audit: ConnectAudit, dns_server: DnsServer) -> list[object]:
    """Connections to 127.0.0.1 other than to the DNS server itself."""
    return [a for a in audit.connects
            if isinstance(a, tuple) and a[0] == "127.0.0.1" and a[1] != dns_server.port]


async def test_names_on_loopback_are_refused_without_any_connection(
        discoverer: Make, dns_server: DnsServer, connect_audit: ConnectAudit) -> None:
    guesses = (Server("imap", "imap.{domain}", 993, "ssl"),)
    found = await discoverer(QUICK, guesses).discover("loopback.test")  # no network trusted
    assert found.found is None
    assert outcomes(found)["autoconfig"] == ("refused", "address_not_public")
    assert outcomes(found)["guess"] == ("refused", "address_not_public")
    assert _loopback_connects(connect_audit, dns_server) == []


async def test_guesses_confirmed_by_the_live_check(discoverer: Make, dovecot: Dovecot,
                                                   postfix: Postfix) -> None:
    imaps, smtps = dovecot.imaps, postfix.implicit
    guesses = (Server("imap", "imap.{domain}", imaps, "ssl"),
               Server("imap", "mail.{domain}", imaps, "ssl"),
               Server("smtp", "smtp.{domain}", smtps, "ssl"))
    found = await discoverer(replace(QUICK, allow_private=True), guesses).discover("guess.test")
    assert found.source == "guess"
    # mail.guess.test does not exist, so only the two that answered are kept.
    assert servers(found) == [("imap", "imap.guess.test", imaps, "ssl"),
                              ("smtp", "smtp.guess.test", smtps, "ssl")]


async def test_results_are_cached_for_the_records_ttl(discoverer: Make) -> None:
    now = [1000.0]
    discover = discoverer(clock=lambda: now[0])
    first = await discover.discover("srv-only.test")
    assert await discover.discover("srv-only.test") is first
    now[0] += 301  # the SRV records' TTL is 300 s
    assert await discover.discover("srv-only.test") is not first


def test_autoconfig_parser_refuses_dtds_and_garbage() -> None:
    assert parse_autoconfig(GOOD_XML, "x.test")[0].host == "imap.x.test"
    for body, code in ((b"<!DOCTYPE x SYSTEM 'file:///etc/passwd'><x/>", "xml_dtd"),
                       (b"\x00\xff binary", "xml_invalid"),
                       (b"", "xml_invalid"),
                       (b"<clientConfig/>", "xml_no_servers")):
        with pytest.raises(AutoconfigError) as caught:
            parse_autoconfig(body, "x.test")
        assert caught.value.code == code


async def test_a_certificate_from_an_unknown_ca_is_refused(discoverer: Make,
                                                          https_policy: CheckPolicy) -> None:
    found = await discoverer(replace(https_policy, cafile=None)).discover("autoconfig-only.test")
    step = {s.source: s for s in found.steps}["autoconfig"]
    assert (step.outcome, step.code) == ("failed", "certificate")


async def test_an_odd_redirect_path_is_encoded_not_fatal(discoverer: Make) -> None:
    found = await discoverer().discover("redirect-odd.test")
    assert outcomes(found)["autoconfig"] == ("nothing", "")  # the server's 404, not a crash
