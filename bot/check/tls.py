"""TLS settings for probing, and what a finished handshake tells about the session.

Two contexts: a strict one that verifies like a careful mail client (the system trust
store or the deployment's CA file, host name checked), and a lenient one used only to
see what a server presents after strict verification failed.
"""

from __future__ import annotations

import ssl
import warnings
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Session:
    """The negotiated TLS session and the certificates the server sent, leaf first."""

    version: str | None
    cipher: str | None
    chain: tuple[bytes, ...]


def strict_context(cafile: str | None) -> ssl.SSLContext:
    """Verification as the strictest mail clients do it; `cafile` replaces the system store.

    The Common Name is not consulted (as on Apple devices); whether a CN-only
    certificate passes elsewhere is the verdict's call, from the parsed facts.
    """
    context = ssl.create_default_context(cafile=cafile)
    context.hostname_checks_common_name = False
    return context


def lenient_context() -> ssl.SSLContext:
    """Accept any certificate and old protocol versions, to report what is presented."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        # Deprecated on purpose: this context exists to recognise servers stuck on it.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
    # Security level 0 lets OpenSSL complete handshakes it would refuse, so the report
    # can say "this server only speaks TLS 1.0" instead of "the handshake failed".
    context.set_ciphers("ALL:@SECLEVEL=0")
    return context


def session_facts(session: ssl.SSLObject) -> Session:
    cipher = session.cipher()
    return Session(
        version=session.version(),
        cipher=cipher[0] if cipher else None,
        chain=presented_chain(session),
    )


def presented_chain(session: ssl.SSLObject) -> tuple[bytes, ...]:
    """The certificates as the server sent them, leaf first (verified or not)."""
    public = getattr(session, "get_unverified_chain", None)
    if public is not None:  # Python 3.13 and later
        return tuple(public())
    # Python 3.11 and 3.12 have the same call on the private _ssl object only.
    inner: Any = getattr(session, "_sslobj", None)
    internal = getattr(inner, "get_unverified_chain", None)
    if internal is not None:
        return tuple(cert.public_bytes(ssl._ssl.ENCODING_DER)  # type: ignore[attr-defined]
                     for cert in internal() or ())
    leaf = session.getpeercert(binary_form=True)
    return (leaf,) if leaf else ()
