"""The check against a real Dovecot: IMAP and POP3, STARTTLS and implicit TLS, every
certificate defect, and plain-text login seen from a peer Dovecot does not trust."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.check import CheckPolicy, CheckReport, EndpointResult, check_report
from bot.check.messages import catalogue
from tests.check.conftest import FAST, loopback_resolver, servers
from tests.check.daemons import Dovecot
from tests.check.pki import ELSEWHERE, host_of

PolicyMaker = Callable[..., CheckPolicy]


async def check_one(
    policy: CheckPolicy, protocol: str, host: str, port: int, security: str,
) -> EndpointResult:
    report = await check_report("someone@mail.test", policy, resolver=loopback_resolver,
                                providers=servers((protocol, host, port, security)))
    assert len(report.endpoints) == 1
    return report.endpoints[0]


def codes(result: EndpointResult) -> set[str]:
    return {p.code for p in result.problems}


async def test_valid_certificate_over_implicit_tls(
    dovecot: Dovecot, ca_policy: PolicyMaker,
) -> None:
    result = await check_one(ca_policy(), "imap", host_of("valid"), dovecot.imaps, "ssl")
    assert result.failure is None
    assert result.tls == "implicit"
    assert result.banner is not None and result.banner.startswith("* OK")
    assert "IMAP4REV1" in (result.capabilities or ())
    assert set(result.auth_mechanisms) == {"PLAIN", "LOGIN"}
    assert result.tls_version in ("TLSv1.2", "TLSv1.3") and result.cipher
    cert = result.certificate
    assert cert is not None
    assert (cert.verdict, cert.verify_code) == ("valid", 0)
    assert host_of("valid") in cert.sans
    assert cert.chain_length == 2 and cert.issuer_presented
    assert cert.days_left > 300
    assert result.problems == () and result.status == "ok"


async def test_starttls_from_an_untrusted_peer_hides_plaintext_login(
    dovecot: Dovecot, ca_policy: PolicyMaker,
) -> None:
    # From 127.0.0.2 Dovecot does not consider the connection secure.
    result = await check_one(ca_policy(source_address="127.0.0.2"), "imap", host_of("valid"),
                             dovecot.imap, "starttls")
    assert result.failure is None and result.tls == "starttls"
    assert result.starttls is not None
    assert (result.starttls.offered, result.starttls.accepted) == (True, True)
    assert result.starttls.injected_bytes == 0
    before = result.capabilities_before_tls or ()
    assert "LOGINDISABLED" in before and "STARTTLS" in before
    assert not any(c.startswith("AUTH=") for c in before)
    assert result.plaintext_login_before_tls is False
    assert "AUTH=PLAIN" in (result.capabilities or ())
    assert result.certificate is not None and result.certificate.verdict == "valid"
    assert result.status == "ok"


async def test_plaintext_login_before_tls_is_reported(
    dovecot: Dovecot, ca_policy: PolicyMaker,
) -> None:
    # From 127.0.0.1 the same Dovecot offers login before TLS.
    result = await check_one(ca_policy(source_address="127.0.0.1"), "imap", host_of("valid"),
                             dovecot.imap, "starttls")
    assert result.plaintext_login_before_tls is True
    assert "AUTH=PLAIN" in (result.capabilities_before_tls or ())
    problem = next(p for p in result.problems if p.code == "plaintext_login_before_tls")
    assert (problem.topic, problem.severity) == ("tls-required", "warning")
    assert result.status == "warning"


@pytest.mark.parametrize("source", ["127.0.0.1", "127.0.0.2"])
async def test_pop3_stls_and_user_command(
    dovecot: Dovecot, ca_policy: PolicyMaker, source: str,
) -> None:
    result = await check_one(ca_policy(source_address=source), "pop3", host_of("valid"),
                             dovecot.pop3, "starttls")
    assert result.protocol == "pop3" and result.tls == "starttls"
    assert result.banner is not None and result.banner.startswith("+OK")
    assert "STLS" in (result.capabilities_before_tls or ())
    trusted_peer = source == "127.0.0.1"
    assert result.plaintext_login_before_tls is trusted_peer
    assert ("USER" in (result.capabilities_before_tls or ())) is trusted_peer
    assert result.auth_mechanisms == ("PLAIN", "LOGIN")


async def test_pop3_implicit_tls(dovecot: Dovecot, ca_policy: PolicyMaker) -> None:
    result = await check_one(ca_policy(), "pop3", host_of("valid"), dovecot.pop3s, "ssl")
    assert result.failure is None and result.tls == "implicit" and result.status == "ok"


@pytest.mark.parametrize(
    ("variant", "verdict", "verify_code", "problem"),
    [
        ("expired", "expired", 10, "cert_expired"),
        ("notyet", "not_yet_valid", 9, "cert_not_yet_valid"),
        ("wronghost", "hostname_mismatch", 62, "cert_hostname_mismatch"),
        ("selfsigned", "self_signed", 18, "cert_self_signed"),
        ("nointermediate", "incomplete_chain", 20, "cert_incomplete_chain"),
        ("untrusted", "untrusted", 20, "cert_untrusted"),
    ],
)
@pytest.mark.parametrize(("port_name", "security"), [("imaps", "ssl"), ("imap", "starttls")])
async def test_certificate_defects(
    dovecot: Dovecot, ca_policy: PolicyMaker, variant: str, verdict: str, verify_code: int,
    problem: str, port_name: str, security: str,
) -> None:
    result = await check_one(ca_policy(source_address="127.0.0.2"), "imap", host_of(variant),
                             getattr(dovecot, port_name), security)
    # Strict verification failed, yet the lenient second pass saw the whole conversation.
    assert result.failure is None
    cert = result.certificate
    assert cert is not None
    assert (cert.verdict, cert.verify_code) == (verdict, verify_code)
    assert cert.verify_message
    found = next(p for p in result.problems if p.code == problem)
    assert (found.topic, found.severity) == ("certificate-error", "error")
    assert result.status == "error"
    assert result.capabilities and "AUTH=PLAIN" in result.capabilities


async def test_certificate_facts_name_every_defect(
    dovecot: Dovecot, ca_policy: PolicyMaker,
) -> None:
    result = await check_one(ca_policy(), "imap", host_of("wronghost"), dovecot.imaps, "ssl")
    cert = result.certificate
    assert cert is not None
    assert cert.sans == (ELSEWHERE,) and not cert.name_matches
    problem = next(p for p in result.problems if p.code == "cert_hostname_mismatch")
    assert problem.params["names"] == ELSEWHERE
    assert problem.params["host"] == host_of("wronghost")


async def test_not_yet_valid_points_to_the_device_date(
    dovecot: Dovecot, ca_policy: PolicyMaker,
) -> None:
    result = await check_one(ca_policy(), "imap", host_of("notyet"), dovecot.imaps, "ssl")
    problem = next(p for p in result.problems if p.code == "cert_not_yet_valid")
    cert = result.certificate
    assert cert is not None and cert.not_yet_valid and not cert.expired
    assert problem.params["date"] == cert.not_before.date().isoformat()
    assert "date" in catalogue().describe(problem, "en")
    assert "дату" in catalogue().describe(problem, "ru")


async def test_cn_only_certificate_is_accepted_with_a_warning(
    dovecot: Dovecot, ca_policy: PolicyMaker,
) -> None:
    result = await check_one(ca_policy(), "imap", host_of("cnonly"), dovecot.imaps, "ssl")
    cert = result.certificate
    assert cert is not None
    assert cert.cn_only and cert.name_matches and cert.sans == ()
    # Python's strict check ignores the Common Name (code 62); mail clients mostly do not.
    assert (cert.verify_code, cert.verdict) == (62, "valid")
    assert codes(result) == {"cert_cn_only"}
    assert result.status == "warning"


async def test_without_the_private_ca_the_chain_is_untrusted(dovecot: Dovecot) -> None:
    result = await check_one(FAST, "imap", host_of("valid"), dovecot.imaps, "ssl")
    cert = result.certificate
    assert cert is not None and cert.verdict == "untrusted"
    assert cert.verify_code in (19, 20)


async def test_a_host_is_checked_on_every_port_concurrently(
    dovecot: Dovecot, ca_policy: PolicyMaker,
) -> None:
    specs = [("imap", host_of("valid"), dovecot.imap, "starttls"),
             ("imap", host_of("valid"), dovecot.imaps, "ssl"),
             ("pop3", host_of("valid"), dovecot.pop3, "starttls"),
             ("pop3", host_of("valid"), dovecot.pop3s, "ssl")]
    report: CheckReport = await check_report(
        "someone@mail.test", ca_policy(source_address="127.0.0.2"),
        resolver=loopback_resolver, providers=servers(*specs))
    assert [(r.protocol, r.endpoint.port) for r in report.endpoints] == sorted(
        [("imap", dovecot.imap), ("imap", dovecot.imaps), ("pop3", dovecot.pop3),
         ("pop3", dovecot.pop3s)])
    assert report.status == "ok"


async def test_unknown_port_detects_protocol_and_tls(
    dovecot: Dovecot, ca_policy: PolicyMaker,
) -> None:
    policy = ca_policy(source_address="127.0.0.2")
    plain = await check_report(f"{host_of('valid')}:{dovecot.pop3}", policy,
                               resolver=loopback_resolver)
    implicit = await check_report(f"{host_of('valid')}:{dovecot.imaps}", policy,
                                  resolver=loopback_resolver)
    assert (plain.endpoints[0].protocol, plain.endpoints[0].tls) == ("pop3", "starttls")
    assert (implicit.endpoints[0].protocol, implicit.endpoints[0].tls) == ("imap", "implicit")
    assert plain.status == implicit.status == "ok"
