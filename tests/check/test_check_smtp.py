"""The check against SMTP: a real Postfix (with Dovecot SASL), and aiosmtpd for a server
that announces STARTTLS but refuses it, which Postfix cannot be made to do."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from bot.check import CheckPolicy, EndpointResult, check_report
from tests.check.conftest import loopback_resolver, servers
from tests.check.daemons import Postfix, free_port
from tests.check.hostile import serving, silent
from tests.check.pki import Pki, host_of

PolicyMaker = Callable[..., CheckPolicy]
HOST = host_of("valid")


async def check_smtp(policy: CheckPolicy, port: int, security: str) -> EndpointResult:
    report = await check_report("someone@mail.test", policy, resolver=loopback_resolver,
                                providers=servers(("smtp", HOST, port, security)))
    return report.endpoints[0]


def codes(result: EndpointResult) -> set[str]:
    return {p.code for p in result.problems}


async def test_submission_with_starttls(postfix: Postfix, ca_policy: PolicyMaker) -> None:
    result = await check_smtp(ca_policy(), postfix.starttls, "starttls")
    assert result.failure is None
    assert result.banner is not None and result.banner.startswith("220 ")
    assert result.starttls is not None and result.starttls.accepted
    before = result.capabilities_before_tls or ()
    assert "STARTTLS" in before
    assert not any(c.startswith("AUTH") for c in before)
    assert result.plaintext_login_before_tls is False
    assert "STARTTLS" not in (result.capabilities or ())
    assert set(result.auth_mechanisms) == {"PLAIN", "LOGIN"}
    assert result.certificate is not None and result.certificate.verdict == "valid"
    assert result.status == "ok"


async def test_implicit_tls(postfix: Postfix, ca_policy: PolicyMaker) -> None:
    result = await check_smtp(ca_policy(), postfix.implicit, "ssl")
    assert (result.failure, result.tls, result.status) == (None, "implicit", "ok")
    assert result.tls_version in ("TLSv1.2", "TLSv1.3")
    assert set(result.auth_mechanisms) == {"PLAIN", "LOGIN"}


async def test_login_offered_before_tls(postfix: Postfix, ca_policy: PolicyMaker) -> None:
    result = await check_smtp(ca_policy(), postfix.login_in_clear, "starttls")
    assert result.plaintext_login_before_tls is True
    assert any(c.startswith("AUTH") for c in result.capabilities_before_tls or ())
    assert codes(result) == {"plaintext_login_before_tls"}


async def test_no_starttls(postfix: Postfix, ca_policy: PolicyMaker) -> None:
    result = await check_smtp(ca_policy(), postfix.no_starttls, "starttls")
    assert result.starttls is not None and not result.starttls.offered
    assert result.tls == "none" and result.tls_version is None and result.certificate is None
    problem = next(p for p in result.problems if p.code == "starttls_missing")
    assert (problem.topic, problem.severity) == ("explicit-vs-implicit-tls", "error")


async def test_465_works_but_587_times_out(postfix: Postfix, ca_policy: PolicyMaker) -> None:
    with serving(silent) as dead_port:
        report = await check_report(
            "someone@mail.test", ca_policy(greeting_timeout=1), resolver=loopback_resolver,
            providers=servers(("smtp", HOST, postfix.implicit, "ssl"),
                              ("smtp", HOST, dead_port, "starttls")))
    working, dead = sorted(report.endpoints, key=lambda r: r.endpoint.port != postfix.implicit)
    assert working.status == "ok"
    assert dead.failure == "no_greeting"
    advice = next(p for p in dead.problems if p.code == "use_other_smtp_port")
    assert advice.topic == "smtp-ports"
    assert advice.params["other_port"] == str(postfix.implicit)
    assert advice.params["other_tls"] == "SSL/TLS"
    # With a working alternative the dead port is a warning, not a dead end.
    assert dead.status == "warning"


class _RefusingStartTls(SMTP):
    async def smtp_STARTTLS(self, arg: str) -> None:
        await self.push("454 4.7.0 TLS not available due to temporary reason")


@pytest.fixture
def refusing_smtp(pki: Pki) -> Iterator[int]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki.default.chain, pki.default.key)
    port = free_port()

    class _Controller(Controller):
        def factory(self) -> SMTP:
            return _RefusingStartTls(self.handler, tls_context=context,
                                     auth_require_tls=False)

    controller = _Controller(object(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


async def test_starttls_announced_but_refused(
    refusing_smtp: int, ca_policy: PolicyMaker,
) -> None:
    result = await check_smtp(ca_policy(), refusing_smtp, "starttls")
    assert result.starttls is not None
    assert (result.starttls.offered, result.starttls.accepted) == (True, False)
    assert result.tls == "none"
    assert "starttls_refused" in codes(result)
    assert result.failure is None  # the conversation still ended with QUIT
