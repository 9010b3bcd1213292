"""The SSRF guard: targets a public checker must refuse before any connection.

Every target runs through the public entry point with the real parser and policy.
Two witnesses prove nothing was sent: Python's audit hook sees every socket connect
in the process, and a loopback listener that the loopback targets point at counts
the connections it accepts (the last test shows both would notice one).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import suppress

import pytest

from bot.check import CheckPolicy, CheckRefused, check_report
from bot.check.providers import ServerSpec
from tests.check.conftest import ConnectAudit

LISTENER_PORT = "{port}"  # replaced by the listener's real port

# Names the fake resolver answers, as a hostile DNS zone would.
ZONE: dict[str, list[str]] = {
    "intranet.test": ["10.1.2.3"],
    "router.test": ["192.168.1.1"],
    "corp.test": ["172.16.5.4"],
    "metadata.test": ["169.254.169.254"],
    "cgnat.test": ["100.64.0.7"],
    "loop.test": ["127.0.0.1"],
    "loop6.test": ["::1"],
    "ula.test": ["fd12:3456::1"],
    "linklocal6.test": ["fe80::1"],
    "mapped.test": ["::ffff:10.0.0.1"],
    "nat64.test": ["64:ff9b::a00:1"],
    "sixtofour.test": ["2002:a00:1::1"],
    "teredo.test": ["2001:0:4136:e378:8000:63bf:3fff:fdd2"],
    "docs.test": ["192.0.2.10"],
    "multicast.test": ["239.1.1.1"],
    # One public and one private address: the private one must refuse the whole host.
    "rebind.test": ["198.41.0.4", "10.0.0.5"],
    "rebind6.test": ["2001:500:2f::f", "fc00::5"],
}

# (target, refusal code, what the refusal must name)
CASES: list[tuple[str, str, str]] = [
    # private, loopback, link-local, CGNAT, multicast, broadcast, reserved ranges
    ("10.0.0.1", "address_not_public", "private"),
    ("10.255.255.254:993", "address_not_public", "private"),
    ("172.16.0.1", "address_not_public", "private"),
    ("172.31.255.1:587", "address_not_public", "private"),
    ("192.168.0.1", "address_not_public", "private"),
    ("127.0.0.1", "address_not_public", "loopback"),
    ("127.0.0.1:" + LISTENER_PORT, "port_not_allowed", ""),
    ("127.0.0.1:993", "address_not_public", "loopback"),
    ("127.255.255.254:25", "address_not_public", "loopback"),
    ("169.254.169.254", "address_not_public", "link-local"),
    ("169.254.169.254:993", "address_not_public", "link-local"),
    ("169.254.0.1", "address_not_public", "link-local"),
    ("100.64.0.1", "address_not_public", "cgnat"),
    ("100.127.255.254:143", "address_not_public", "cgnat"),
    ("224.0.0.1", "address_not_public", "multicast"),
    ("239.255.255.250:25", "address_not_public", "multicast"),
    ("255.255.255.255", "address_not_public", "broadcast"),
    ("240.0.0.1", "address_not_public", "reserved"),
    ("0.0.0.0", "address_not_public", "this-network"),
    ("0.1.2.3:993", "address_not_public", "this-network"),
    ("192.0.0.8", "address_not_public", "reserved"),
    ("192.0.2.1", "address_not_public", "documentation"),
    ("198.51.100.7", "address_not_public", "documentation"),
    ("203.0.113.9:465", "address_not_public", "documentation"),
    ("198.18.0.1", "address_not_public", "benchmarking"),
    ("198.19.255.1", "address_not_public", "benchmarking"),
    # IPv6: loopback, unspecified, ULA, link-local, site-local, multicast, documentation
    ("[::1]", "address_not_public", "loopback"),
    ("[::1]:993", "address_not_public", "loopback"),
    ("::1", "address_not_public", "loopback"),
    ("[::]:25", "address_not_public", "unspecified"),
    ("[fd00::1]", "address_not_public", "unique-local"),
    ("[fc00::1]:587", "address_not_public", "unique-local"),
    ("[fe80::1]", "address_not_public", "link-local"),
    ("[fec0::1]:143", "address_not_public", "site-local"),
    ("[ff02::1]", "address_not_public", "multicast"),
    ("[2001:db8::1]", "address_not_public", "documentation"),
    ("[3fff::1]:993", "address_not_public", "documentation"),
    ("[2001:2::1]", "address_not_public", "benchmarking"),
    ("[100::1]", "address_not_public", "reserved"),
    ("[4000::1]", "address_not_public", "reserved"),
    # IPv4 inside IPv6: mapped, compatible, NAT64, 6to4, Teredo
    ("[::ffff:127.0.0.1]:993", "address_not_public", "ipv4-embedded"),
    ("[::ffff:169.254.169.254]", "address_not_public", "ipv4-embedded"),
    ("[::ffff:8.8.8.8]", "address_not_public", "ipv4-embedded"),
    ("[::127.0.0.1]", "address_not_public", "ipv4-embedded"),
    ("[64:ff9b::7f00:1]", "address_not_public", "ipv4-embedded"),
    ("[64:ff9b:1::a00:1]", "address_not_public", "ipv4-embedded"),
    ("[2002:7f00:1::1]", "address_not_public", "ipv4-embedded"),
    ("[2001:0:4136:e378:8000:63bf:3fff:fdd2]", "address_not_public", "ipv4-embedded"),
    # odd notations of loopback and friends
    ("2130706433", "odd_notation", "2130706433"),
    ("2130706433:" + LISTENER_PORT, "odd_notation", "2130706433"),
    ("0x7f000001", "odd_notation", "0x7f000001"),
    ("0x7F.0.0.1", "odd_notation", "0x7f.0.0.1"),
    ("0177.0.0.1", "odd_notation", "0177.0.0.1"),
    ("127.1", "odd_notation", "127.1"),
    ("127.0.1", "odd_notation", "127.0.1"),
    ("0", "odd_notation", "0"),
    ("0:993", "odd_notation", "0"),
    ("127.0.0.1.", "odd_notation", "127.0.0.1."),
    ("127.000.000.001", "odd_notation", "127.000.000.001"),
    ("1.2.3.4.5", "odd_notation", "1.2.3.4.5"),
    ("256.0.0.1", "odd_notation", "256.0.0.1"),
    ("[fe80::1%25eth0]:993", "odd_notation", "fe80::1%25eth0"),
    ("１２７.０.０.１", "address_not_public", "loopback"),  # fullwidth digits
    # names whose DNS answers are not public
    ("localhost", "address_not_public", "loopback"),
    ("localhost:993", "address_not_public", "loopback"),
    ("intranet.test", "address_not_public", "10.1.2.3"),
    ("router.test:993", "address_not_public", "private"),
    ("corp.test", "address_not_public", "172.16.5.4"),
    ("metadata.test:143", "address_not_public", "169.254.169.254"),
    ("cgnat.test", "address_not_public", "cgnat"),
    ("loop.test:" + "25", "address_not_public", "loopback"),
    ("loop6.test", "address_not_public", "::1"),
    ("ula.test", "address_not_public", "unique-local"),
    ("linklocal6.test", "address_not_public", "link-local"),
    ("mapped.test", "address_not_public", "ipv4-embedded"),
    ("nat64.test", "address_not_public", "ipv4-embedded"),
    ("sixtofour.test", "address_not_public", "ipv4-embedded"),
    ("teredo.test", "address_not_public", "ipv4-embedded"),
    ("docs.test", "address_not_public", "documentation"),
    ("multicast.test", "address_not_public", "multicast"),
    ("rebind.test", "address_not_public", "10.0.0.5"),
    ("rebind6.test:993", "address_not_public", "fc00::5"),
    # ports outside the mail set, even on a public address
    ("198.41.0.4:22", "port_not_allowed", "22"),
    ("198.41.0.4:80", "port_not_allowed", "80"),
    ("198.41.0.4:6379", "port_not_allowed", "6379"),
    ("mail.example.org:8080", "port_not_allowed", "8080"),
    ("[2001:500:2f::f]:11211", "port_not_allowed", "11211"),
    ("mail.example.org:0", "bad_port", ""),
    ("mail.example.org:65536", "bad_port", ""),
    ("mail.example.org:0993", "bad_port", ""),
    ("mail.example.org:+993", "bad_port", ""),
    ("mail.example.org:99999999999", "bad_port", ""),
    # garbage
    ("", "empty_target", ""),
    ("   ", "empty_target", ""),
    ("mail.example.org\x00.evil", "bad_characters", ""),
    ("mail.example.org\r\nQUIT", "bad_characters", ""),
    ("mail\u202e.example.org", "bad_characters", ""),
    ("mail example.org", "bad_characters", ""),
    ("a" * 64 + "." + "b" * 10, "bad_host", ""),
    ("x" * 400, "target_too_long", ""),
    (".".join(["a" * 60] * 5), "bad_host", ""),
    ("-mail.example.org", "bad_host", ""),
    ("mail_1.example.org", "bad_host", ""),
    ("mail..example.org", "bad_host", ""),
    ("[not-an-address]:993", "bad_host", ""),
    ("@example.org", "bad_address", ""),
    ("user@", "bad_host", ""),
    ("user@127.0.0.1", "bad_address", ""),
    ('"a@b"@example.org', "bad_address", ""),
]


@pytest.fixture(scope="module")
def listener() -> Iterator[tuple[int, list[object]]]:
    """A loopback listener (IPv4 and IPv6) that counts the connections it accepts."""
    accepted: list[object] = []
    sockets = [socket.create_server(("127.0.0.1", 0))]
    port = sockets[0].getsockname()[1]
    with suppress(OSError):  # without IPv6 loopback the IPv4 listener still witnesses
        sockets.append(socket.create_server(("::1", port), family=socket.AF_INET6))
    stop = threading.Event()

    def accept(server: socket.socket) -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, peer = server.accept()
            except (TimeoutError, OSError):
                continue
            accepted.append(peer)
            conn.close()

    threads = [threading.Thread(target=accept, args=(s,), daemon=True) for s in sockets]
    for thread in threads:
        thread.start()
    try:
        yield port, accepted
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        for s in sockets:
            s.close()


async def zone_resolver(host: str) -> Sequence[str]:
    if host in ZONE:
        return ZONE[host]
    if host == "localhost":
        return ["127.0.0.1"]
    # Public-looking names must never get this far: their ports are refused first.
    raise AssertionError(f"resolved {host}, which the table does not expect")


def no_provider(address: str) -> Sequence[ServerSpec] | None:
    return None


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 60


@pytest.mark.parametrize(("target", "code", "named"), CASES, ids=[c[0][:40] for c in CASES])
async def test_refused_before_any_connection(
    target: str, code: str, named: str, connect_audit: ConnectAudit,
    listener: tuple[int, list[object]],
) -> None:
    port, accepted = listener
    target = target.replace(LISTENER_PORT, str(port))
    with pytest.raises(CheckRefused) as refused:
        await check_report(target, CheckPolicy(), resolver=zone_resolver, providers=no_provider)
    assert refused.value.code == code
    assert named.replace(LISTENER_PORT, str(port)) in " ".join(refused.value.params.values())
    assert connect_audit.connects == []
    assert accepted == []


async def test_unknown_provider_is_refused_without_dns(connect_audit: ConnectAudit) -> None:
    with pytest.raises(CheckRefused) as refused:
        await check_report("someone@unknown-provider.test", CheckPolicy(),
                           resolver=zone_resolver, providers=no_provider)
    assert refused.value.code == "unknown_provider"
    assert refused.value.params["domain"] == "unknown-provider.test"
    assert connect_audit.connects == []


async def test_a_provider_server_on_a_private_address_is_refused(
    connect_audit: ConnectAudit,
) -> None:
    def provider(address: str) -> Sequence[ServerSpec]:
        return [ServerSpec("imap", "imap.example.org", 993, "ssl"),
                ServerSpec("smtp", "intranet.test", 465, "ssl")]

    async def resolver(host: str) -> Sequence[str]:
        return ["198.41.0.4"] if host == "imap.example.org" else ZONE[host]

    with pytest.raises(CheckRefused) as refused:
        await check_report("someone@example.org", CheckPolicy(), resolver=resolver,
                           providers=provider)
    assert refused.value.params["address"] == "10.1.2.3"
    assert connect_audit.connects == []


async def test_the_witnesses_see_a_connection_when_one_is_allowed(
    connect_audit: ConnectAudit, listener: tuple[int, list[object]],
) -> None:
    port, accepted = listener
    before = len(accepted)
    policy = CheckPolicy(allow_private=True, detect_timeout=0.5, tls_timeout=0.5,
                         greeting_timeout=0.5, check_timeout=5)
    report = await check_report(f"127.0.0.1:{port}", policy, resolver=zone_resolver,
                                providers=no_provider)
    assert report.endpoints[0].connect_ms is not None
    assert ("127.0.0.1", port) in connect_audit.connects
    assert len(accepted) > before, "the listener saw the allowed connection"
