"""Probing one endpoint: connect, greet, capabilities, STARTTLS, handshake, certificate, goodbye.

A first pass verifies TLS strictly. When verification fails the connection is lost,
so a second pass replays the conversation with a lenient TLS context to learn what
the server presents; the byte budget covers both passes.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.check.cert import NOT_VERIFIED, CertificateError, certificate_facts
from bot.check.protocols import DIALECTS, Dialect, detect
from bot.check.results import (
    CertificateFacts,
    Endpoint,
    EndpointResult,
    Protocol,
    StartTls,
    TlsMode,
)
from bot.check.settings import CheckPolicy
from bot.check.tls import Session, lenient_context, session_facts, strict_context
from bot.check.wire import ByteBudget, TlsError, Wire, WireError, step


@dataclass(frozen=True, slots=True)
class Contexts:
    """The two TLS contexts, built once per check."""

    strict: ssl.SSLContext
    lenient: ssl.SSLContext

    @classmethod
    def for_policy(cls, policy: CheckPolicy) -> Contexts:
        return cls(strict_context(policy.cafile), lenient_context())


@dataclass(slots=True)
class Findings:
    """What is known so far about an endpoint; a check timeout keeps what was found."""

    endpoint: Endpoint
    budget: ByteBudget
    protocol: Protocol | None = None
    mode: TlsMode | None = None
    tls: TlsMode = "none"
    connect_ms: float | None = None
    greeting_ms: float | None = None
    banner: str | None = None
    capabilities_before_tls: tuple[str, ...] | None = None
    capabilities: tuple[str, ...] | None = None
    starttls: StartTls | None = None
    plaintext_login_before_tls: bool | None = None
    auth_mechanisms: tuple[str, ...] = ()
    session: Session | None = None
    verify_code: int = 0
    verify_message: str = "ok"
    certificate: CertificateFacts | None = None
    failure: str | None = None
    failure_detail: str = ""

    def fail(self, code: str, detail: str) -> None:
        if self.failure is None:
            self.failure, self.failure_detail = code, detail

    def result(self) -> EndpointResult:
        return EndpointResult(
            endpoint=self.endpoint,
            protocol=self.protocol,
            tls=self.tls,
            connect_ms=self.connect_ms,
            greeting_ms=self.greeting_ms,
            banner=self.banner,
            capabilities_before_tls=self.capabilities_before_tls,
            capabilities=self.capabilities,
            starttls=self.starttls,
            tls_version=self.session.version if self.session else None,
            cipher=self.session.cipher if self.session else None,
            auth_mechanisms=self.auth_mechanisms,
            plaintext_login_before_tls=self.plaintext_login_before_tls,
            certificate=self.certificate,
            failure=self.failure,
            failure_detail=self.failure_detail,
            bytes_read=self.budget.used,
        )


async def probe(findings: Findings, policy: CheckPolicy, contexts: Contexts) -> None:
    """Fill `findings` for its endpoint; failures are recorded, never raised.

    Cancellation (the whole-check timeout) propagates, with the certificate, if one was
    seen, already read into the findings.
    """
    try:
        await _conversation(findings, policy, contexts.strict)
    except TlsError as exc:
        if exc.verify_code is not None:
            findings.verify_code, findings.verify_message = exc.verify_code, exc.verify_message
        if not exc.retry_lenient:
            findings.fail(exc.code, exc.detail)
        else:
            await _lenient_pass(findings, policy, contexts.lenient, exc)
    except WireError as exc:
        findings.fail(exc.code, exc.detail)
    finally:
        _read_certificate(findings)


async def _lenient_pass(
    findings: Findings, policy: CheckPolicy, context: ssl.SSLContext, strict: TlsError,
) -> None:
    if strict.verify_code is None:
        findings.verify_code = NOT_VERIFIED
        findings.verify_message = f"not verified: {strict.detail}"
    try:
        await _conversation(findings, policy, context)
    except WireError as exc:
        if strict.verify_code is None:
            findings.fail(strict.code, strict.detail)  # the lenient try taught nothing new
        else:
            findings.fail(exc.code, exc.detail)


async def _conversation(findings: Findings, policy: CheckPolicy, context: ssl.SSLContext) -> None:
    endpoint = findings.endpoint
    assert endpoint.ip is not None, "only resolved endpoints are probed"
    wire, connect_ms = await Wire.connect(
        endpoint.ip, endpoint.port, budget=findings.budget, max_line=policy.max_line,
        timeout=policy.connect_timeout, source_address=policy.source_address)
    if findings.connect_ms is None:
        findings.connect_ms = connect_ms
    try:
        await _talk(wire, findings, policy, context)
    finally:
        wire.close()


async def _talk(
    wire: Wire, findings: Findings, policy: CheckPolicy, context: ssl.SSLContext,
) -> None:
    started = time.perf_counter()
    mode = findings.mode or findings.endpoint.tls
    first: str | None = None
    detecting = mode is None
    if mode is None:
        first = await _plain_greeting_or_silence(wire, policy)
        mode = "starttls" if first is not None else "implicit"
    findings.mode = mode
    if mode == "implicit":
        try:
            await _handshake(wire, findings, policy, context)
        except WireError as exc:
            if detecting and exc.code == "tls_timeout":
                raise WireError("no_greeting", "no greeting, and no TLS handshake either") from None
            raise
        findings.tls = "implicit"
    async with step(policy.greeting_timeout, "no_greeting"):
        if first is None:
            first = await wire.line()
        dialect = _dialect(findings, first)
        findings.banner = await dialect.greeting(wire, first)
    if findings.greeting_ms is None:
        findings.greeting_ms = (time.perf_counter() - started) * 1000
    async with step(policy.reply_timeout, "reply_timeout"):
        capabilities = await dialect.capabilities(wire)
    if mode != "implicit":
        capabilities = await _upgrade(wire, dialect, capabilities, findings, policy, context)
    findings.capabilities = capabilities
    findings.auth_mechanisms = dialect.auth_mechanisms(capabilities)
    try:
        async with step(policy.reply_timeout, "reply_timeout"):
            await dialect.goodbye(wire)
    except WireError:
        pass  # everything worth knowing is known; a rude goodbye changes nothing


async def _plain_greeting_or_silence(wire: Wire, policy: CheckPolicy) -> str | None:
    """On a port of unknown role: the plaintext greeting, or None if the server waits."""
    try:
        async with step(policy.detect_timeout, "no_greeting"):
            return await wire.line()
    except WireError as exc:
        if exc.code != "no_greeting" or wire.pending:
            raise
        return None  # silence: a TLS-first port waits for the client's hello


def _dialect(findings: Findings, greeting: str) -> Dialect:
    protocol = findings.protocol or findings.endpoint.protocol or detect(greeting)
    if protocol is None:
        raise WireError("unknown_protocol", greeting)
    findings.protocol = protocol
    return DIALECTS[protocol]()


async def _upgrade(
    wire: Wire, dialect: Dialect, capabilities: tuple[str, ...], findings: Findings,
    policy: CheckPolicy, context: ssl.SSLContext,
) -> tuple[str, ...]:
    """STARTTLS when offered; the capabilities a client then sees."""
    findings.capabilities_before_tls = capabilities
    findings.plaintext_login_before_tls = dialect.plaintext_login(capabilities)
    if not dialect.offers_starttls(capabilities):
        findings.starttls = StartTls(offered=False, accepted=None, injected_bytes=0)
        return capabilities
    async with step(policy.reply_timeout, "reply_timeout"):
        accepted = await dialect.starttls(wire)
    findings.starttls = StartTls(offered=True, accepted=accepted, injected_bytes=wire.pending)
    if not accepted:
        return capabilities
    await _handshake(wire, findings, policy, context)
    findings.tls = "starttls"
    async with step(policy.reply_timeout, "reply_timeout"):
        return await dialect.capabilities(wire)


async def _handshake(
    wire: Wire, findings: Findings, policy: CheckPolicy, context: ssl.SSLContext,
) -> None:
    server_hostname = findings.endpoint.host
    session = await wire.start_tls(context, server_hostname, policy.tls_timeout)
    findings.session = session_facts(session)


def _read_certificate(findings: Findings) -> None:
    if findings.session is None or not findings.session.chain:
        return
    try:
        findings.certificate = certificate_facts(
            findings.session.chain, findings.endpoint.host, datetime.now(UTC),
            findings.verify_code, findings.verify_message)
    except CertificateError as exc:
        findings.fail("certificate_unreadable", str(exc))
