"""Benchmark of the live check: the cost of checking endpoints together, and memory under a flood.

1. Eight implicit-TLS IMAP endpoints answer after different delays (50-400 ms). The
   wall time of one check of all eight is compared with the slowest endpoint checked
   alone; the goal is a ratio of at most 1.3 (concurrency, not a sum of delays).
2. A flood of hostile endpoints (10 MB banners, endless lines, slow drips) is checked
   at once; the peak memory traced in the checking process and its RSS growth show
   that every conversation stays within its byte budget.

The servers run in a child process, so their CPU and memory are not the check's.
Everything listens on 127.0.0.1. Run from the checkout:

    python benchmarks/check_bench.py [--rounds 5] [--flood 48]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import ssl
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path

import trustme

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.check import CheckPolicy, check_report
from bot.check.providers import ProviderLookup, ServerSpec

HOST = "bench.mail.test"
DELAYS_MS = (50, 100, 150, 200, 250, 300, 350, 400)
GOAL = 1.3
_CHUNK = b"A" * 65536
_BANNER_LINE = b"220-" + b"x" * 994 + b"\r\n"
_TEN_MB = 10 * 1024 * 1024


async def _imap(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    await asyncio.sleep(delay)
    writer.write(b"* OK [CAPABILITY IMAP4rev1] bench ready\r\n")
    while line := await reader.readline():
        tag = line.split(b" ", 1)[0]
        if b"LOGOUT" in line.upper():
            writer.write(b"* BYE\r\n" + tag + b" OK\r\n")
            break
        writer.write(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK\r\n")
    await writer.drain()
    writer.close()


async def _flood(writer: asyncio.StreamWriter, block: bytes) -> None:
    try:
        for _ in range(_TEN_MB // len(block)):
            writer.write(block)
            await writer.drain()
    except ConnectionError:
        pass
    writer.close()


async def _drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"* OK ")
    for _ in range(300):  # one byte every 0.2 s until the check hangs up
        try:
            if not await asyncio.wait_for(reader.read(1024), 0.2):
                break
        except TimeoutError:
            writer.write(b"x")
        except ConnectionError:
            break
    writer.close()


async def _serve(pipe: Connection, cert_dir: str, flood: int) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(f"{cert_dir}/server.pem", f"{cert_dir}/server.key")
    ports: dict[str, list[int]] = {"timed": [], "flood": []}
    servers = []
    for delay in DELAYS_MS:
        server = await asyncio.start_server(
            lambda r, w, d=delay / 1000: _imap(r, w, d), "127.0.0.1", 0, ssl=context)
        servers.append(server)
        ports["timed"].append(server.sockets[0].getsockname()[1])
    kinds = [lambda r, w: _flood(w, _BANNER_LINE * 64),
             lambda r, w: _flood(w, b"* OK " + _CHUNK),
             _drip]
    for i in range(flood):
        server = await asyncio.start_server(kinds[i % len(kinds)], "127.0.0.1", 0)
        servers.append(server)
        ports["flood"].append(server.sockets[0].getsockname()[1])
    pipe.send(ports)
    await asyncio.get_running_loop().run_in_executor(None, pipe.recv)  # until told to stop


def serve(pipe: Connection, cert_dir: str, flood: int) -> None:
    asyncio.run(_serve(pipe, cert_dir, flood))


async def resolver(host: str) -> list[str]:
    return ["127.0.0.1"]


def provider(specs: Sequence[ServerSpec]) -> ProviderLookup:
    return lambda address: specs


async def timed_check(policy: CheckPolicy, specs: Sequence[ServerSpec]) -> float:
    started = time.perf_counter()
    report = await check_report("bench@mail.test", policy, resolver=resolver,
                                providers=provider(specs))
    elapsed = time.perf_counter() - started
    bad = [r for r in report.endpoints if r.status != "ok"]
    if bad:
        raise SystemExit(f"benchmark servers misbehaved: {bad[0].failure} {bad[0].problems}")
    return elapsed


async def concurrency(policy: CheckPolicy, ports: list[int], rounds: int) -> None:
    specs = [ServerSpec("imap", HOST, port, "ssl") for port in ports]
    await timed_check(policy, specs[:1])  # warm up: imports, first TLS context
    ratios, fulls, slowests = [], [], []
    for _ in range(rounds):
        singles = [await timed_check(policy, [spec]) for spec in specs]
        full = await timed_check(policy, specs)
        slowest = max(singles)
        ratios.append(full / slowest)
        fulls.append(full)
        slowests.append(slowest)
    ratio = statistics.median(ratios)
    print(f"concurrency: {len(specs)} endpoints, greeting delays {DELAYS_MS[0]}-{DELAYS_MS[-1]} ms,"
          f" {rounds} rounds")
    print(f"  full check      median {statistics.median(fulls) * 1000:7.1f} ms")
    print(f"  slowest single  median {statistics.median(slowests) * 1000:7.1f} ms")
    print(f"  ratio           median {ratio:.3f}  (max {max(ratios):.3f}, goal <= {GOAL})"
          f"  {'OK' if ratio <= GOAL else 'MISSED'}")


async def flood(policy: CheckPolicy, ports: list[int]) -> None:
    specs = [ServerSpec("smtp" if i % 3 == 0 else "imap", HOST, port, "starttls")
             for i, port in enumerate(ports)]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    started = time.perf_counter()
    report = await check_report("bench@mail.test", policy, resolver=resolver,
                                providers=provider(specs))
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    failures: dict[str, int] = {}
    for result in report.endpoints:
        failures[result.failure or "none"] = failures.get(result.failure or "none", 0) + 1
    most = max(r.bytes_read for r in report.endpoints)
    offered = len(ports) * _TEN_MB * 2 // 3
    print(f"hostile flood: {len(ports)} endpoints at once ({offered / 2**20:.0f} MiB offered)")
    print(f"  outcome         {failures}")
    print(f"  wall time       {elapsed:.2f} s")
    print(f"  bytes read      at most {most} per endpoint (budget {policy.max_bytes})")
    print(f"  peak traced     {peak / 2**20:.2f} MiB "
          f"({peak / len(ports) / 1024:.0f} KiB per endpoint)")
    print(f"  RSS growth      {(rss_after - rss_before) / 1024:.1f} MiB "
          f"(max RSS {rss_after / 1024:.1f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--flood", type=int, default=48, help="hostile endpoints")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cert_dir:
        ca = trustme.CA()
        ca.cert_pem.write_to_path(f"{cert_dir}/ca.pem")
        leaf = ca.issue_cert(HOST)
        leaf.private_key_pem.write_to_path(f"{cert_dir}/server.key")
        leaf.cert_chain_pems[0].write_to_path(f"{cert_dir}/server.pem")
        ours, theirs = multiprocessing.Pipe()
        child = multiprocessing.get_context("spawn").Process(
            target=serve, args=(theirs, cert_dir, args.flood), daemon=True)
        child.start()
        try:
            ports = ours.recv()
            policy = CheckPolicy(allow_private=True, cafile=f"{cert_dir}/ca.pem",
                                 max_concurrent=256)
            asyncio.run(concurrency(policy, ports["timed"], args.rounds))
            hostile = CheckPolicy(allow_private=True, greeting_timeout=2, reply_timeout=2,
                                  check_timeout=10, max_concurrent=256)
            asyncio.run(flood(hostile, ports["flood"]))
        finally:
            ours.send("stop")
            child.join(timeout=10)
            if child.is_alive():
                child.kill()


if __name__ == "__main__":
    main()
