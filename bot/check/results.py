"""What a check found: endpoints, certificates, problems, and the JSON shape of a report."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Protocol = Literal["imap", "pop3", "smtp"]
TlsMode = Literal["implicit", "starttls", "none"]
Severity = Literal["warning", "error"]
Status = Literal["ok", "warning", "error"]

PROTOCOLS: tuple[Protocol, ...] = ("imap", "pop3", "smtp")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One address and port to probe; protocol and TLS mode None mean "detect"."""

    host: str
    ip: str | None
    port: int
    protocol: Protocol | None
    tls: TlsMode | None


@dataclass(frozen=True, slots=True)
class CertificateFacts:
    """The server's certificate as parsed, and the verdict of strict verification."""

    subject: str
    common_name: str | None
    sans: tuple[str, ...]
    issuer: str
    not_before: datetime
    not_after: datetime
    days_left: int
    expired: bool
    not_yet_valid: bool
    self_signed: bool
    cn_only: bool
    name_matches: bool
    chain_length: int
    issuer_presented: bool
    issuer_url: str | None
    sha256: str
    verdict: str
    verify_code: int
    verify_message: str

    def as_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "common_name": self.common_name,
            "sans": list(self.sans),
            "issuer": self.issuer,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "days_left": self.days_left,
            "expired": self.expired,
            "not_yet_valid": self.not_yet_valid,
            "self_signed": self.self_signed,
            "cn_only": self.cn_only,
            "name_matches": self.name_matches,
            "chain_length": self.chain_length,
            "issuer_presented": self.issuer_presented,
            "issuer_url": self.issuer_url,
            "sha256": self.sha256,
            "verdict": self.verdict,
            "verify_code": self.verify_code,
            "verify_message": self.verify_message,
        }


@dataclass(frozen=True, slots=True)
class StartTls:
    """How the STARTTLS (IMAP, SMTP) or STLS (POP3) upgrade went."""

    offered: bool
    accepted: bool | None
    injected_bytes: int


@dataclass(frozen=True, slots=True)
class Problem:
    """A finding worth telling the user, linked to a knowledge-base topic."""

    code: str
    topic: str
    severity: Severity
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EndpointResult:
    """Everything learnt about one endpoint; `failure` is the step that stopped it."""

    endpoint: Endpoint
    protocol: Protocol | None = None
    tls: TlsMode = "none"
    connect_ms: float | None = None
    greeting_ms: float | None = None
    banner: str | None = None
    capabilities_before_tls: tuple[str, ...] | None = None
    capabilities: tuple[str, ...] | None = None
    starttls: StartTls | None = None
    tls_version: str | None = None
    cipher: str | None = None
    auth_mechanisms: tuple[str, ...] = ()
    plaintext_login_before_tls: bool | None = None
    certificate: CertificateFacts | None = None
    failure: str | None = None
    failure_detail: str = ""
    bytes_read: int = 0
    problems: tuple[Problem, ...] = ()

    @property
    def status(self) -> Status:
        severities = {p.severity for p in self.problems}
        if "error" in severities:
            return "error"
        return "warning" if severities else "ok"

    @property
    def works(self) -> bool:
        """The server answered and the conversation ran to the end."""
        return self.failure is None

    def as_json(self, describe: Callable[[Problem], str]) -> dict[str, Any]:
        e = self.endpoint
        return {
            "host": e.host,
            "ip": e.ip,
            "port": e.port,
            "protocol": self.protocol,
            "tls": self.tls,
            "status": self.status,
            "connect_ms": _ms(self.connect_ms),
            "greeting_ms": _ms(self.greeting_ms),
            "banner": self.banner,
            "capabilities": _listed(self.capabilities),
            "capabilities_before_tls": _listed(self.capabilities_before_tls),
            "starttls": None if self.starttls is None else {
                "offered": self.starttls.offered,
                "accepted": self.starttls.accepted,
                "injected_bytes": self.starttls.injected_bytes,
            },
            "tls_version": self.tls_version,
            "cipher": self.cipher,
            "auth_mechanisms": list(self.auth_mechanisms),
            "plaintext_login_before_tls": self.plaintext_login_before_tls,
            "certificate": None if self.certificate is None else self.certificate.as_json(),
            "failure": None if self.failure is None else {
                "code": self.failure, "detail": self.failure_detail},
            "bytes_read": self.bytes_read,
            "problems": [
                {"code": p.code, "severity": p.severity, "topic": p.topic,
                 "message": describe(p)}
                for p in self.problems
            ],
        }


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The whole check of one target, endpoints in a stable order."""

    target: str
    endpoints: tuple[EndpointResult, ...]

    @property
    def status(self) -> Status:
        statuses = {r.status for r in self.endpoints}
        if "error" in statuses:
            return "error"
        return "warning" if "warning" in statuses else "ok"

    def as_json(self, describe: Callable[[Problem], str]) -> dict[str, Any]:
        return {
            "target": self.target,
            "status": self.status,
            "endpoints": [r.as_json(describe) for r in self.endpoints],
        }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _listed(values: tuple[str, ...] | None) -> list[str] | None:
    return None if values is None else list(values)
