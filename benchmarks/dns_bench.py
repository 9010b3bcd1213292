"""Benchmark of settings discovery and the domain check: steps run together, not one by one.

A real NSD serves the zone; a proxy in front of it holds every DNS answer back by
--dns-ms (the round trip to a distant resolver), the autoconfig HTTPS server answers
after --http-ms and the guessed IMAP server greets after --imap-ms. The domain is
built so that discovery needs all four steps (its MX names no known hosting, it has no
SRV records, its autoconfig URL answers 404, only the guess finds the server), and the
domain check has every record to read (SPF with an include, DMARC, DKIM, MTA-STS,
TLS-RPT, reverse DNS of the MX).

Each step is timed alone, then the whole; the goal is a whole of at most 1.2x the
slowest single step (the sum of the steps is printed too, for what running them one
after another would cost). Medians of --rounds runs, each with cold caches. The servers
run in a child process; everything listens on loopback. Run from the checkout:

    python benchmarks/dns_bench.py [--rounds 11] [--dns-ms 30] [--http-ms 120] [--imap-ms 80]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import shutil
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import cast

import trustme

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.check_bench import _imap as imap_server
from bot.check import CheckLimiter, CheckPolicy
from bot.discover.autoconfig import autoconfig_servers
from bot.discover.discovery import Discoverer
from bot.discover.guesses import guessed_servers
from bot.discover.rules import load_rules
from bot.discover.srv import srv_servers
from bot.dnsclient import DnsClient
from bot.domaincheck import checks
from bot.domaincheck.run import check_domain
from bot.kb import Server, load_knowledge
from tests.dns.nsd import running_nsd

DOMAIN = "bench.test"
GOAL = 1.2
LOOPBACK = "127.0.0.1"

_ZONE = """$ORIGIN test.
$TTL 300
@ IN SOA ns.test. admin.test. 1 3600 600 86400 300
@ IN NS ns.test.
ns A 127.0.0.1
bench MX 10 mx.bench.test.
mx.bench A 192.0.2.10
imap.bench A 127.0.0.1
autoconfig.bench A 127.0.0.1
bench TXT "v=spf1 mx include:_spf.bench.test -all"
_spf.bench TXT "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc.bench TXT "v=DMARC1; p=reject; rua=mailto:dmarc@bench.test"
default._domainkey.bench TXT "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"
_mta-sts.bench TXT "v=STSv1; id=20260101"
_smtp._tls.bench TXT "v=TLSRPTv1; rua=mailto:tls@bench.test"
"""
_REVERSE = """$ORIGIN 2.0.192.in-addr.arpa.
$TTL 300
@ IN SOA ns.test. admin.test. 1 3600 600 86400 300
@ IN NS ns.test.
10 PTR mx.bench.test.
"""


class _Delay(asyncio.DatagramProtocol):
    """A UDP DNS proxy that passes each question on to NSD `delay` seconds late.

    One upstream socket; each forwarded question gets an ID of the proxy's own, so
    answers find their way back without a socket or a task per question.
    """

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.clients: asyncio.DatagramTransport | None = None
        self.upstream: asyncio.DatagramTransport | None = None
        self.pending: dict[int, tuple[bytes, tuple[str, int]]] = {}
        self.next_id = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.clients = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        asyncio.get_running_loop().call_later(self.delay, self._forward, data, addr)

    def _forward(self, data: bytes, addr: tuple[str, int]) -> None:
        self.next_id = (self.next_id + 1) % 65536
        self.pending[self.next_id] = (data[:2], addr)
        assert self.upstream is not None
        self.upstream.sendto(self.next_id.to_bytes(2, "big") + data[2:])

    def answer(self, data: bytes) -> None:
        asked = self.pending.pop(int.from_bytes(data[:2], "big"), None)
        if asked is not None and self.clients is not None:
            self.clients.sendto(asked[0] + data[2:], asked[1])


class _Upstream(asyncio.DatagramProtocol):
    def __init__(self, proxy: _Delay) -> None:
        self.proxy = proxy

    def datagram_received(self, data: bytes, _addr: tuple[str, int]) -> None:
        self.proxy.answer(data)


async def _autoconfig(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                      delay: float) -> None:
    await reader.readuntil(b"\r\n\r\n")
    await asyncio.sleep(delay)
    writer.write(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    await writer.drain()
    writer.close()


def _serve(pipe: Connection, nsd_port: int, cert_dir: str, args: argparse.Namespace) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(f"{cert_dir}/cert.pem", f"{cert_dir}/key.pem")
        delay = _Delay(args.dns_ms / 1000)
        proxy, _ = await loop.create_datagram_endpoint(lambda: delay,
                                                       local_addr=(LOOPBACK, 0))
        upstream, _ = await loop.create_datagram_endpoint(
            lambda: _Upstream(delay), remote_addr=(LOOPBACK, nsd_port))
        delay.upstream = cast(asyncio.DatagramTransport, upstream)
        http = await asyncio.start_server(
            lambda r, w: _autoconfig(r, w, args.http_ms / 1000), LOOPBACK, 0, ssl=context)
        imap = await asyncio.start_server(
            lambda r, w: imap_server(r, w, args.imap_ms / 1000), LOOPBACK, 0, ssl=context)
        pipe.send((proxy.get_extra_info("sockname")[1], http.sockets[0].getsockname()[1],
                   imap.sockets[0].getsockname()[1]))
        await loop.run_in_executor(None, pipe.recv)

    asyncio.run(main())


async def _median(run: Callable[[], Awaitable[object]], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def _measure(dns_port: int, http_port: int, imap_port: int, policy: CheckPolicy,
                   rounds: int) -> None:
    rules = replace(load_rules(),
                    autoconfig=(f"https://autoconfig.{{domain}}:{http_port}/mail/config-v1.1.xml",),
                    guesses=(Server("imap", "imap.{domain}", imap_port, "ssl"),))
    knowledge = load_knowledge()

    def fresh() -> DnsClient:  # no cache carried from one run to the next
        return DnsClient((LOOPBACK, dns_port), timeout=5)

    def discoverer() -> Discoverer:
        return Discoverer(knowledge, rules, fresh(), policy)

    async def whole_discovery() -> None:
        found = await discoverer().discover(DOMAIN)
        assert found.source == "guess", found.steps

    discovery_steps: dict[str, Callable[[], Awaitable[object]]] = {
        "MX -> hosting": lambda: discoverer()._mx(DOMAIN),
        "SRV": lambda: srv_servers(DOMAIN, fresh()),
        "autoconfig": lambda: autoconfig_servers(DOMAIN, rules.autoconfig, policy, fresh(), 10),
        "guess + live check": lambda: guessed_servers(
            DOMAIN, rules.guesses, policy, fresh().resolve_host, CheckLimiter(policy)),
    }
    await _report("discovery of an unknown domain", discovery_steps, whole_discovery, rounds)

    async def whole_check() -> None:
        report = await check_domain(DOMAIN, fresh(), policy)
        assert report.status == "ok", [f.code for f in report.findings]

    async def ptr_alone() -> None:
        dns = fresh()
        await checks.reverse_dns(await checks.mail_hosts(DOMAIN, dns, policy), dns)

    check_steps: dict[str, Callable[[], Awaitable[object]]] = {
        "MX + addresses": lambda: checks.mail_hosts(DOMAIN, fresh(), policy),
        "SPF (with include)": lambda: checks.spf(DOMAIN, fresh()),
        "DMARC": lambda: checks.dmarc(DOMAIN, fresh()),
        f"DKIM ({len(rules.dkim_selectors)} selectors)": lambda: checks.dkim(
            DOMAIN, fresh(), rules.dkim_selectors),
        "MTA-STS": lambda: checks.mta_sts(DOMAIN, fresh()),
        "TLS-RPT": lambda: checks.tls_rpt(DOMAIN, fresh()),
        "reverse DNS (after MX)": ptr_alone,
    }
    await _report("full domain check", check_steps, whole_check, rounds)


async def _report(title: str, steps: dict[str, Callable[[], Awaitable[object]]],
                  whole: Callable[[], Awaitable[object]], rounds: int) -> None:
    print(f"\n{title} (median of {rounds}):")
    alone = {}
    for name, step in steps.items():
        alone[name] = await _median(step, rounds)
        print(f"  {name:24} {alone[name] * 1000:7.1f} ms alone")
    total = await _median(whole, rounds)
    slowest = max(alone.values())
    ratio = total / slowest
    print(f"  {'whole':24} {total * 1000:7.1f} ms   (one after another: "
          f"{sum(alone.values()) * 1000:.1f} ms)")
    print(f"  ratio whole / slowest step: {ratio:.2f} (goal <= {GOAL}) "
          f"{'OK' if ratio <= GOAL else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--dns-ms", type=float, default=30)
    parser.add_argument("--http-ms", type=float, default=120)
    parser.add_argument("--imap-ms", type=float, default=80)
    args = parser.parse_args()
    nsd = shutil.which("nsd", path="/usr/sbin:/usr/bin:/sbin")
    if nsd is None:
        sys.exit("nsd is not installed (Debian: apt-get install nsd)")
    folder = Path(tempfile.mkdtemp(prefix="mailhelp-dns-bench-"))
    ca = trustme.CA()
    leaf = ca.issue_cert("autoconfig.bench.test", "imap.bench.test")
    leaf.private_key_pem.write_to_path(str(folder / "key.pem"))
    leaf.cert_chain_pems[0].write_to_path(str(folder / "cert.pem"))
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    # The test addresses are loopback and documentation ones: allowed for the benchmark.
    policy = CheckPolicy(allow_private=True, cafile=str(folder / "ca.pem"))
    with running_nsd(nsd, {"test": _ZONE, "2.0.192.in-addr.arpa": _REVERSE}) as server:
        here, there = multiprocessing.Pipe()
        child = multiprocessing.Process(target=_serve, args=(there, server.port, str(folder),
                                                             args), daemon=True)
        child.start()
        try:
            dns_port, http_port, imap_port = here.recv()
            print(f"DNS answers +{args.dns_ms:g} ms, autoconfig HTTPS +{args.http_ms:g} ms, "
                  f"IMAP greeting +{args.imap_ms:g} ms")
            asyncio.run(_measure(dns_port, http_port, imap_port, policy, args.rounds))
        finally:
            here.send("stop")
            child.join(5)
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
