"""From findings to problems: what each endpoint's facts mean for the user's settings.

Per endpoint, `judge` turns a failure, the STARTTLS story, the login offer and the
certificate facts into problems linked to topics. Across endpoints, `relate` adds the
advice only a comparison gives ("587 times out but 465 works: use 465").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from bot.check.cert import NOT_VERIFIED, VALID
from bot.check.messages import catalogue
from bot.check.results import CertificateFacts, EndpointResult, Problem, TlsMode
from bot.check.settings import CheckPolicy

# Failures that share one explanation.
_FAILURE_PROBLEM: Mapping[str, str] = {
    "dns_timeout": "dns_failed",
    "tls_timeout": "tls_failed",
    "line_too_long": "too_much_data",
}
_OLD_TLS = {"SSLv3", "TLSv1", "TLSv1.1"}
_TLS_WORDS: Mapping[TlsMode, str] = {"implicit": "SSL/TLS", "starttls": "STARTTLS", "none": ""}
# Where a mail program submits mail; port 25 is for servers relaying to each other.
_RELAY_PORT = 25
# Server text quoted back to the user is cut to this length.
_QUOTE = 160


def problem(code: str, **params: str) -> Problem:
    text = catalogue().problem(code)
    return Problem(code, text.topic, text.severity, params)


def judge(result: EndpointResult, policy: CheckPolicy) -> EndpointResult:
    """The result with its own problems set."""
    e = result.endpoint
    base = {"host": e.host, "ip": e.ip or "", "port": str(e.port)}
    found: list[Problem] = []
    if result.failure is not None:
        code = _FAILURE_PROBLEM.get(result.failure, result.failure)
        found.append(problem(code, **base, detail=result.failure_detail[:_QUOTE]))
    starttls = result.starttls
    if starttls is not None:
        if not starttls.offered:
            found.append(problem("starttls_missing", **base))
        elif starttls.accepted is False:
            found.append(problem("starttls_refused", **base))
        if starttls.injected_bytes:
            found.append(problem("starttls_injection", **base,
                                 bytes=str(starttls.injected_bytes)))
    if result.plaintext_login_before_tls:
        found.append(problem("plaintext_login_before_tls", **base))
    if result.tls_version in _OLD_TLS:
        found.append(problem("old_tls_version", **base, version=result.tls_version))
    if (result.works and result.protocol == "smtp" and result.tls != "none"
            and e.port != _RELAY_PORT and not result.auth_mechanisms):
        found.append(problem("no_auth_offered", **base))
    if result.certificate is not None:
        found.extend(_certificate_problems(result.certificate, base, policy))
    return replace(result, problems=tuple(found))


def _certificate_problems(
    cert: CertificateFacts, base: dict[str, str], policy: CheckPolicy,
) -> list[Problem]:
    params = {
        **base,
        "issuer": cert.issuer,
        "names": ", ".join(cert.sans or ((cert.common_name,) if cert.common_name else ())) or "?",
        "days": str(cert.days_left),
        "date": cert.not_after.date().isoformat(),
    }
    codes: list[str] = []
    # Unverified (old TLS only) is explained by old_tls_version, not blamed on the CA.
    if cert.verdict != VALID and cert.verify_code != NOT_VERIFIED:
        codes.append(f"cert_{cert.verdict}")
    # OpenSSL names one defect; the parsed facts name the others it did not reach.
    if cert.expired:
        codes.append("cert_expired")
    if cert.not_yet_valid:
        codes.append("cert_not_yet_valid")
    if cert.self_signed:
        codes.append("cert_self_signed")
    if not cert.name_matches:
        codes.append("cert_hostname_mismatch")
    if cert.cn_only and cert.name_matches:
        codes.append("cert_cn_only")
    if cert.verdict == VALID and 0 <= cert.days_left < policy.expiry_warning_days:
        codes.append("cert_expires_soon")
    starts = {**params, "date": cert.not_before.date().isoformat()}
    return [problem(code, **(starts if code == "cert_not_yet_valid" else params))
            for code in dict.fromkeys(codes)]


def relate(results: Sequence[EndpointResult]) -> list[EndpointResult]:
    """Results with the advice that comparing endpoints gives, in the same order."""
    related: list[EndpointResult] = []
    for result in results:
        advice = _advice(result, results) if not result.works else None
        if advice is None:
            related.append(result)
            continue
        softened = tuple(replace(p, severity="warning") for p in result.problems)
        related.append(replace(result, problems=(*softened, advice)))
    return related


def _advice(failed: EndpointResult, results: Sequence[EndpointResult]) -> Problem | None:
    e = failed.endpoint
    if e.ip is None:
        return None
    working = [r for r in results if r.works and r.endpoint.host == e.host]
    other_address = next((r for r in working if r.endpoint.port == e.port), None)
    if other_address is not None:
        return problem("address_unreachable", host=e.host, ip=e.ip,
                       other_ip=other_address.endpoint.ip or "")
    protocol = failed.protocol or e.protocol
    same_protocol = [r for r in working
                     if r.protocol == protocol and r.tls != "none" and r.endpoint.port != e.port]
    if not same_protocol:
        return None
    # Prefer a port without problems, then TLS from the first byte.
    best = min(same_protocol, key=lambda r: (r.status != "ok", r.tls != "implicit"))
    code = "use_other_smtp_port" if protocol == "smtp" else "use_other_port"
    return problem(code, host=e.host, port=str(e.port), other_port=str(best.endpoint.port),
                   other_tls=_TLS_WORDS[best.tls])
