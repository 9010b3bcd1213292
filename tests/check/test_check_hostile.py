"""Hostile servers: each conversation ends by the bound meant for it, reading at most the
byte budget and holding little memory, whatever the server does."""

from __future__ import annotations

import asyncio
import ssl
import tracemalloc
import warnings
from dataclasses import replace

import pytest

from bot.check import CheckPolicy, EndpointResult, check_report
from tests.check import hostile
from tests.check.conftest import FAST, loopback_resolver, servers
from tests.check.pki import Pki, host_of

POLICY = replace(FAST, greeting_timeout=1, reply_timeout=1, tls_timeout=1, check_timeout=6)
# A guard against a hang, far above every timeout in POLICY; not a speed requirement.
HANG_GUARD = 60
MEMORY_CEILING = 1024 * 1024


async def check_against(
    script: hostile.Script, protocol: str, security: str, policy: CheckPolicy = POLICY,
) -> tuple[EndpointResult, int]:
    """The result of checking a scripted server, and the peak memory traced meanwhile."""
    with hostile.serving(script) as port:
        tracemalloc.start()
        try:
            async with asyncio.timeout(HANG_GUARD):
                report = await check_report(
                    "someone@mail.test", policy, resolver=loopback_resolver,
                    providers=servers((protocol, host_of("valid"), port, security)))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return report.endpoints[0], peak


@pytest.mark.parametrize(
    ("name", "script", "protocol", "security", "failure", "problem"),
    [
        ("silent", hostile.silent, "imap", "ssl", "tls_timeout", "tls_failed"),
        ("silent plaintext", hostile.silent, "smtp", "starttls", "no_greeting", "no_greeting"),
        ("slow drip", hostile.slow_drip, "imap", "starttls", "no_greeting", "no_greeting"),
        ("endless line", hostile.endless_line, "imap", "starttls", "line_too_long",
         "too_much_data"),
        ("10 MB banner", hostile.big_banner, "smtp", "starttls", "too_much_data",
         "too_much_data"),
        ("garbage after STARTTLS", hostile.garbage_after_starttls, "imap", "starttls",
         "tls_failed", "tls_failed"),
        ("TLS reset mid-handshake", hostile.tls_reset, "imap", "ssl", "tls_failed",
         "tls_failed"),
        ("closes at once", hostile.closes_at_once, "pop3", "starttls", "closed", "closed"),
    ],
)
async def test_hostile_server_is_bounded(
    name: str, script: hostile.Script, protocol: str, security: str, failure: str,
    problem: str,
) -> None:
    result, peak = await check_against(script, protocol, security)
    assert result.failure == failure, result.failure_detail
    assert problem in {p.code for p in result.problems}
    assert result.status == "error"
    assert result.bytes_read <= POLICY.max_bytes
    assert peak < MEMORY_CEILING, f"{name}: {peak} bytes traced"


async def test_the_whole_check_timeout_cuts_a_slow_server() -> None:
    policy = replace(POLICY, greeting_timeout=30, check_timeout=1)
    result, _ = await check_against(hostile.slow_drip, "imap", "starttls", policy)
    assert result.failure == "check_timeout"
    assert result.connect_ms is not None  # what was learnt before the cut is kept


async def test_a_server_stuck_on_tls_1_0_is_named(pki: Pki) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.load_cert_chain(pki.default.chain, pki.default.key)
    result, _ = await check_against(hostile.tls_only(context), "imap", "ssl",
                                    replace(POLICY, cafile=str(pki.ca_file)))
    assert result.failure is None and result.tls_version == "TLSv1"
    assert {p.code for p in result.problems} == {"old_tls_version"}
    cert = result.certificate
    assert cert is not None and cert.verify_code == -1 and "not verified" in cert.verify_message


async def test_bytes_injected_after_starttls_are_reported_and_dropped(pki: Pki) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki.default.chain, pki.default.key)
    policy = replace(POLICY, cafile=str(pki.ca_file))
    result, _ = await check_against(hostile.injection_after_starttls(context), "imap",
                                    "starttls", policy)
    assert result.starttls is not None
    assert result.starttls.injected_bytes == len(b"* BYE injected\r\n")
    assert result.failure is None and result.tls == "starttls"
    # The injected "* BYE" was not read as if TLS protected it.
    assert "AUTH=PLAIN" in (result.capabilities or ())
    problem = next(p for p in result.problems if p.code == "starttls_injection")
    assert problem.params["bytes"] == "16"


@pytest.mark.parametrize(
    ("protocol", "expected"),
    [("imap", [b"C1 CAPABILITY", b"C2 LOGOUT"]),
     ("pop3", [b"CAPA", b"QUIT"]),
     ("smtp", [b"EHLO [127.0.0.1]", b"QUIT"])],
)
async def test_only_fixed_commands_are_sent_never_a_login(
    protocol: str, expected: list[bytes],
) -> None:
    heard: list[bytes] = []
    result, _ = await check_against(hostile.recording(protocol, heard), protocol, "starttls")
    assert result.failure is None
    assert [line.rstrip(b"\r\n") for line in heard] == expected
    sent = b" ".join(heard).upper()
    assert not any(word in sent for word in (b"LOGIN ", b"AUTH", b"USER", b"PASS"))
    assert result.plaintext_login_before_tls is True
