"""Certificate facts read from the server's chain, and the verdict on them.

OpenSSL stops at the first error and its checks run in a fixed order (chain, host
name, then dates), so a certificate that is both expired and for another host is
reported only as one of them. The facts here are computed from the parsed
certificate itself, so every defect is known; the verdict combines both.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import replace
from datetime import datetime
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from bot.check.results import CertificateFacts
from bot.check.text import printable

VALID: Final = "valid"
EXPIRED: Final = "expired"
NOT_YET_VALID: Final = "not_yet_valid"
SELF_SIGNED: Final = "self_signed"
UNTRUSTED: Final = "untrusted"
INCOMPLETE_CHAIN: Final = "incomplete_chain"
HOSTNAME_MISMATCH: Final = "hostname_mismatch"

# Stands in for OpenSSL's code when strict verification never ran (a handshake that
# needs an old TLS version); the certificate then counts as untrusted.
NOT_VERIFIED: Final = -1
# OpenSSL's X509_V_ERR_* codes the verdict distinguishes.
_OK = 0
_UNABLE_TO_GET_ISSUER_CERT = 2
_CERT_NOT_YET_VALID = 9
_CERT_HAS_EXPIRED = 10
_DEPTH_ZERO_SELF_SIGNED_CERT = 18
_SELF_SIGNED_CERT_IN_CHAIN = 19
_UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20
_UNABLE_TO_VERIFY_LEAF_SIGNATURE = 21
_HOSTNAME_MISMATCH = 62
_IP_ADDRESS_MISMATCH = 64
_CHAIN_ERRORS = {_UNABLE_TO_GET_ISSUER_CERT, _DEPTH_ZERO_SELF_SIGNED_CERT,
                 _SELF_SIGNED_CERT_IN_CHAIN, _UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
                 _UNABLE_TO_VERIFY_LEAF_SIGNATURE}
_MISSING_ISSUER = {_UNABLE_TO_GET_ISSUER_CERT, _UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
                   _UNABLE_TO_VERIFY_LEAF_SIGNATURE}


class CertificateError(Exception):
    """The server sent something that is not a readable X.509 certificate."""


def certificate_facts(
    chain: tuple[bytes, ...], host: str, now: datetime,
    verify_code: int = _OK, verify_message: str = "ok",
) -> CertificateFacts:
    """Facts about the leaf of `chain` (DER, leaf first) for a client that asked for `host`.

    `verify_code` is OpenSSL's result of strict verification (0 when it passed).
    """
    if not chain:
        raise CertificateError("the server sent no certificate")
    try:
        certs = [x509.load_der_x509_certificate(der) for der in chain]
    except ValueError as exc:
        raise CertificateError(str(exc)) from None
    leaf = certs[0]
    dns_names, ip_names = _san_names(leaf)
    common_name = _common_name(leaf)
    cn_only = not dns_names and not ip_names and common_name is not None
    # As mail clients (Outlook, Thunderbird for private CAs) do: the Common Name counts
    # only when the certificate has no subjectAltName names at all.
    names = dns_names if not cn_only else ([common_name] if common_name else [])
    matches = names_match(host, names, ip_names)
    not_before, not_after = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    days_left = (not_after - now).days  # floor division: -1 on the first day after expiry
    self_signed = _self_signed(leaf)
    issuer_presented = any(c.subject == leaf.issuer for c in certs[1:])
    facts = CertificateFacts(
        subject=printable(leaf.subject.rfc4514_string()),
        common_name=printable(common_name) if common_name is not None else None,
        sans=tuple(printable(name) for name in dns_names + ip_names),
        issuer=printable(leaf.issuer.rfc4514_string()),
        not_before=not_before,
        not_after=not_after,
        days_left=days_left,
        expired=now > not_after,
        not_yet_valid=now < not_before,
        self_signed=self_signed,
        cn_only=cn_only,
        name_matches=matches,
        chain_length=len(certs),
        issuer_presented=issuer_presented,
        issuer_url=_issuer_url(leaf),
        sha256=hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).hexdigest(),
        verdict=VALID,
        verify_code=verify_code,
        verify_message=verify_message,
    )
    return replace(facts, verdict=verdict(facts))


def verdict(facts: CertificateFacts) -> str:
    """One word for the certificate, in the order OpenSSL checks: chain, name, dates.

    OpenSSL's code says which check failed first; the facts settle what it could not
    tell: whether a missing issuer is a forgotten intermediate, and, for a name
    found only in the Common Name, whether the dates (checked after names) are right.
    """
    code = facts.verify_code
    if code == _OK:
        return VALID
    if code in _CHAIN_ERRORS:
        if code == _DEPTH_ZERO_SELF_SIGNED_CERT or facts.self_signed:
            return SELF_SIGNED
        if code in _MISSING_ISSUER and not facts.issuer_presented and facts.issuer_url:
            # The issuer is neither sent nor trusted, but the certificate says where to
            # fetch it, as public CAs' certificates do: the usual forgotten intermediate.
            # Without that pointer the issuer is most likely an unknown private CA.
            return INCOMPLETE_CHAIN
        return UNTRUSTED
    if code in (_HOSTNAME_MISMATCH, _IP_ADDRESS_MISMATCH):
        if not facts.name_matches:
            return HOSTNAME_MISMATCH
        return _dates(facts) or VALID
    if code == _CERT_NOT_YET_VALID:
        return NOT_YET_VALID
    if code == _CERT_HAS_EXPIRED:
        return EXPIRED
    return UNTRUSTED


def _dates(facts: CertificateFacts) -> str | None:
    if facts.not_yet_valid:
        return NOT_YET_VALID
    if facts.expired:
        return EXPIRED
    return None


def _san_names(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    dns = [name.lower() for name in san.get_values_for_type(x509.DNSName)]
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return dns, ips


def _issuer_url(cert: x509.Certificate) -> str | None:
    """Where the issuer's certificate can be fetched (Authority Information Access)."""
    try:
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return None
    for description in access:
        location = description.access_location
        if (description.access_method == AuthorityInformationAccessOID.CA_ISSUERS
                and isinstance(location, x509.UniformResourceIdentifier)):
            return printable(location.value)
    return None


def _common_name(cert: x509.Certificate) -> str | None:
    attributes = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not attributes:
        return None
    value = attributes[0].value
    return (value.decode("utf-8", "replace") if isinstance(value, bytes) else value).lower()


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def names_match(host: str, dns_names: list[str], ip_names: list[str]) -> bool:
    """RFC 6125 matching: exact names, or one wildcard as the whole left-most label."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        return str(ip) in ip_names
    host = host.lower().rstrip(".")
    for name in dns_names:
        name = name.rstrip(".")
        if name == host:
            return True
        if name.startswith("*.") and "." in host:
            first, rest = host.split(".", 1)
            if first and rest == name[2:] and "." in rest:
                return True
    return False
