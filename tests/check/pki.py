"""Certificates for the check's tests: a private CA and one server certificate per defect.

trustme makes the CA, its intermediate and the ordinary leaves; the shapes trustme
cannot make (self-signed, Common Name only, a leaf pointing to its issuer by AIA) are
built with cryptography and signed by the same intermediate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

# The names the tests connect to; the fake resolver sends them all to loopback.
DOMAIN = "mail.test"
VARIANTS = ("valid", "expired", "notyet", "wronghost", "selfsigned", "cnonly", "nointermediate",
            "untrusted")
ELSEWHERE = "elsewhere.example.test"


def host_of(variant: str) -> str:
    return f"{variant}.{DOMAIN}"


@dataclass(frozen=True)
class ServerCert:
    """Files a server loads: the key, and the chain it sends (leaf first)."""

    key: Path
    chain: Path


@dataclass(frozen=True)
class Pki:
    ca_file: Path
    certs: dict[str, ServerCert]
    default: ServerCert


def build_pki(folder: Path) -> Pki:
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    root = trustme.CA()
    intermediate = root.create_child_ca()
    stranger = trustme.CA()
    ca_file = folder / "ca.pem"
    root.cert_pem.write_to_path(str(ca_file))
    inter_key = serialization.load_pem_private_key(intermediate.private_key_pem.bytes(), None)
    inter_cert = x509.load_pem_x509_certificate(intermediate.cert_pem.bytes())
    inter_pem = intermediate.cert_pem.bytes()

    def from_trustme(name: str, ca: trustme.CA, hosts: tuple[str, ...], full_chain: bool,
                     **dates: dt.datetime) -> ServerCert:
        leaf = ca.issue_cert(*hosts, **dates)
        pems = leaf.cert_chain_pems if full_chain else leaf.cert_chain_pems[:1]
        return _write(folder, name, leaf.private_key_pem.bytes(), b"".join(p.bytes() for p in pems))

    def built(name: str, host: str, *, san: bool, signer: str, aia: bool = False) -> ServerCert:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
        builder = (x509.CertificateBuilder()
                   .subject_name(subject)
                   .public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(days=1))
                   .not_valid_after(now + dt.timedelta(days=90))
                   .add_extension(x509.ExtendedKeyUsage(
                       [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
        if san:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        if aia:
            builder = builder.add_extension(x509.AuthorityInformationAccess([
                x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS,
                                       x509.UniformResourceIdentifier(
                                           f"http://ca.{DOMAIN}/intermediate.der")),
            ]), critical=False)
        if signer == "self":
            cert = builder.issuer_name(subject).sign(key, hashes.SHA256())
            chain = cert.public_bytes(serialization.Encoding.PEM)
        else:
            cert = builder.issuer_name(inter_cert.subject).sign(
                inter_key, hashes.SHA256())  # type: ignore[arg-type]
            chain = cert.public_bytes(serialization.Encoding.PEM)
            if signer == "intermediate+chain":
                chain += inter_pem
        key_pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        return _write(folder, name, key_pem, chain)

    day = dt.timedelta(days=1)
    certs = {
        "valid": from_trustme("valid", intermediate, (host_of("valid"), "localhost"), True),
        "expired": from_trustme("expired", intermediate, (host_of("expired"),), True,
                                not_before=now - 60 * day, not_after=now - 2 * day),
        "notyet": from_trustme("notyet", intermediate, (host_of("notyet"),), True,
                               not_before=now + 10 * day, not_after=now + 100 * day),
        "wronghost": from_trustme("wronghost", intermediate, (ELSEWHERE,), True),
        "selfsigned": built("selfsigned", host_of("selfsigned"), san=True, signer="self"),
        "cnonly": built("cnonly", host_of("cnonly"), san=False, signer="intermediate+chain"),
        "nointermediate": built("nointermediate", host_of("nointermediate"), san=True,
                                signer="intermediate", aia=True),
        "untrusted": from_trustme("untrusted", stranger, (host_of("untrusted"),), False),
    }
    return Pki(ca_file=ca_file, certs=certs, default=certs["valid"])


def _write(folder: Path, name: str, key_pem: bytes, chain_pem: bytes) -> ServerCert:
    key = folder / f"{name}.key"
    chain = folder / f"{name}.pem"
    key.write_bytes(key_pem)
    chain.write_bytes(chain_pem)
    # Test keys, nothing secret: the mail daemons read them under their own users.
    key.chmod(0o644)
    chain.chmod(0o644)
    return ServerCert(key, chain)
