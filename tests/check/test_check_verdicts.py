"""Certificate verdicts from OpenSSL's code plus the parsed facts, and the problems and
cross-endpoint advice built from findings (no servers needed)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from bot.check import CheckPolicy, EndpointResult
from bot.check.cert import certificate_facts, names_match, verdict
from bot.check.results import CertificateFacts, Endpoint, StartTls
from bot.check.verdicts import judge, relate
from tests.check.pki import build_pki, host_of

NOW = dt.datetime(2030, 6, 1, tzinfo=dt.UTC)


def facts(**changes: object) -> CertificateFacts:
    base = CertificateFacts(
        subject="CN=x", common_name="x", sans=("mail.example.org",), issuer="CN=ca",
        not_before=NOW - dt.timedelta(days=10), not_after=NOW + dt.timedelta(days=80),
        days_left=80, expired=False, not_yet_valid=False, self_signed=False, cn_only=False,
        name_matches=True, chain_length=2, issuer_presented=True, issuer_url=None,
        sha256="00", verdict="valid", verify_code=0, verify_message="ok")
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "valid"),
        ({"verify_code": 10, "expired": True}, "expired"),
        ({"verify_code": 9, "not_yet_valid": True}, "not_yet_valid"),
        ({"verify_code": 18, "self_signed": True}, "self_signed"),
        ({"verify_code": 20, "issuer_presented": False, "issuer_url": "http://ca/x.der"},
         "incomplete_chain"),
        ({"verify_code": 21, "issuer_presented": False, "issuer_url": "http://ca/x.der"},
         "incomplete_chain"),
        ({"verify_code": 20, "issuer_presented": False}, "untrusted"),
        ({"verify_code": 20, "issuer_presented": True}, "untrusted"),
        ({"verify_code": 19}, "untrusted"),
        ({"verify_code": 62, "name_matches": False}, "hostname_mismatch"),
        # OpenSSL checks names before dates: a CN-only match leaves the dates to the facts.
        ({"verify_code": 62, "cn_only": True}, "valid"),
        ({"verify_code": 62, "cn_only": True, "expired": True}, "expired"),
        ({"verify_code": 62, "cn_only": True, "not_yet_valid": True}, "not_yet_valid"),
        ({"verify_code": 26}, "untrusted"),
        ({"verify_code": -1}, "untrusted"),
    ],
)
def test_verdict(changes: dict[str, object], expected: str) -> None:
    assert verdict(facts(**changes)) == expected


def test_facts_from_a_real_chain(tmp_path: Path) -> None:
    pki = build_pki(tmp_path)
    pem = pki.certs["expired"].chain.read_bytes()
    chain = tuple(c.public_bytes(Encoding.DER) for c in x509.load_pem_x509_certificates(pem))
    now = dt.datetime.now(dt.UTC)
    found = certificate_facts(chain, host_of("expired"), now, 10, "certificate has expired")
    assert found.expired and not found.not_yet_valid and found.days_left < 0
    assert found.name_matches and not found.cn_only and not found.self_signed
    assert found.chain_length == 2 and found.issuer_presented
    assert found.verdict == "expired"
    wrong = certificate_facts(chain, "other.example.org", now, 10, "certificate has expired")
    assert not wrong.name_matches


@pytest.mark.parametrize(
    ("host", "names", "matches"),
    [
        ("mail.example.org", ["mail.example.org"], True),
        ("MAIL.example.org", ["mail.example.org"], True),
        ("imap.example.org", ["*.example.org"], True),
        ("a.b.example.org", ["*.example.org"], False),
        ("example.org", ["*.example.org"], False),
        ("imap.example.org", ["*.org"], False),
        ("imap.example.org", ["im*.example.org"], False),
        ("mail.example.org", ["other.example.org"], False),
    ],
)
def test_host_name_matching(host: str, names: list[str], matches: bool) -> None:
    assert names_match(host, names, []) is matches


def result(port: int, protocol: str = "smtp", **changes: object) -> EndpointResult:
    endpoint = Endpoint("mail.example.org", "198.51.100.1", port, protocol, "starttls")  # type: ignore[arg-type]
    base = EndpointResult(endpoint, protocol=protocol, tls="starttls",  # type: ignore[arg-type]
                          auth_mechanisms=("PLAIN",))
    return judge(replace(base, **changes), CheckPolicy())  # type: ignore[arg-type]


def test_each_failure_becomes_a_problem_with_its_topic() -> None:
    judged = result(587, failure="connect_timeout", failure_detail="no answer")
    (problem,) = judged.problems
    assert (problem.code, problem.topic, problem.severity) == (
        "connect_timeout", "cannot-connect", "error")
    assert problem.params["port"] == "587"


def test_starttls_story_becomes_problems() -> None:
    missing = result(587, starttls=StartTls(False, None, 0), tls="none")
    refused = result(587, starttls=StartTls(True, False, 0), tls="none")
    injected = result(587, starttls=StartTls(True, True, 12))
    assert {p.code for p in missing.problems} == {"starttls_missing"}
    assert {p.code for p in refused.problems} == {"starttls_refused"}
    assert {p.code for p in injected.problems} == {"starttls_injection"}
    assert all(p.topic == "explicit-vs-implicit-tls"
               for r in (missing, refused, injected) for p in r.problems)


def test_submission_port_without_login_is_a_warning_but_port_25_is_not() -> None:
    assert {p.code for p in result(587, auth_mechanisms=()).problems} == {"no_auth_offered"}
    assert result(25, auth_mechanisms=()).problems == ()


def test_old_tls_version_is_an_error() -> None:
    judged = result(465, tls="implicit", tls_version="TLSv1")
    assert {p.code for p in judged.problems} == {"old_tls_version"}


def test_certificate_problems_name_every_defect_openssl_skipped() -> None:
    cert = facts(verify_code=62, verdict="hostname_mismatch", name_matches=False,
                 expired=True, days_left=-3, not_after=NOW - dt.timedelta(days=3))
    judged = result(993, "imap", tls="implicit", certificate=cert)
    assert {p.code for p in judged.problems} == {"cert_hostname_mismatch", "cert_expired"}


def test_expiring_soon_is_a_warning() -> None:
    judged = result(993, "imap", tls="implicit", certificate=facts(days_left=5))
    (problem,) = judged.problems
    assert (problem.code, problem.severity, problem.params["days"]) == (
        "cert_expires_soon", "warning", "5")


def test_a_dead_port_points_to_the_working_one() -> None:
    dead = result(587, failure="connect_timeout")
    alive = result(465, tls="implicit")
    imap_dead = result(143, "imap", failure="connect_refused")
    imap_alive = result(993, "imap", tls="implicit")
    related = relate([dead, alive, imap_dead, imap_alive])
    smtp_advice = related[0].problems[-1]
    imap_advice = related[2].problems[-1]
    assert (smtp_advice.code, smtp_advice.topic) == ("use_other_smtp_port", "smtp-ports")
    assert smtp_advice.params["other_port"] == "465"
    assert (imap_advice.code, imap_advice.topic) == ("use_other_port",
                                                     "explicit-vs-implicit-tls")
    assert related[0].status == related[2].status == "warning"
    assert related[1] == alive and related[3] == imap_alive


def test_a_dead_address_points_to_the_working_one() -> None:
    dead = replace(result(993, "imap", failure="unreachable"),
                   endpoint=Endpoint("mail.example.org", "2001:db8::1", 993, "imap", "implicit"))
    alive = result(993, "imap", tls="implicit")
    advice = relate([dead, alive])[0].problems[-1]
    assert advice.code == "address_unreachable"
    assert advice.params["other_ip"] == "198.51.100.1"


def test_without_a_working_alternative_errors_stay_errors() -> None:
    related = relate([result(587, failure="connect_timeout"),
                      result(465, failure="connect_refused")])
    assert [r.status for r in related] == ["error", "error"]
    assert all(len(r.problems) == 1 for r in related)
