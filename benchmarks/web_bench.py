"""Web server load on loopback: chat turns per second and latency, next to a no-op endpoint.

    python benchmarks/web_bench.py [--connections 16] [--seconds 8] [--rounds 3]
                                   [--conversations 200]

Starts `mailhelp serve` in a subprocess on a free loopback port, with its default
settings (sessions in SQLite, in a temporary data folder), opens the conversations,
then drives it with wrk (Debian: apt-get install wrk), alternating in each round:
GET /api/v1/ping (204, no work: the cost of HTTP, routing and middleware alone) and
POST /api/v1/sessions/{id}/messages over every conversation in turn, each conversation
going through the same 8-event cycle of typed text and button presses. Every connection
sends its next request as soon as the previous one is answered; the figures are the
medians over rounds. "server CPU ms/req" is the server process's CPU time (all threads)
per request, which other programs on the machine disturb less than the rates; wrk and the
server share the cores with whatever else runs, so the load average is printed too.
Goal: >= 1,500 turns/s with p99 <= 25 ms on a 2-core machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

GOAL_TURNS_PER_SECOND = 1500
GOAL_P99_MS = 25.0
STARTUP_SECONDS = 30.0

# One cycle of a conversation: every event is valid in any state the cycle leaves, and
# half of them are typed text (matched against the knowledge base), half buttons.
CYCLE = [
    {"button": "flow:setup"},
    {"text": "user{i}@yandex.ru"},
    {"button": "setup.device.0"},
    {"text": "535 5.7.8 Error: authentication failed: Invalid user or password"},
    {"button": "back"},
    {"text": "не приходят письма в outlook"},
    {"button": "menu"},
    {"text": "la posta inviata non si vede sul telefono"},
]

LUA = """
local sessions = {%(sessions)s}
local bodies = {%(bodies)s}
local counter = 0
request = function()
  local n = #sessions
  local i = counter %% n
  local step = math.floor(counter / n) %% #bodies
  counter = counter + 1
  local body = string.gsub(bodies[step + 1], "{i}", tostring(i))
  return wrk.format("POST", "/api/v1/sessions/" .. sessions[i + 1] .. "/messages",
                    {["Content-Type"] = "application/json"}, body)
end
"""


@dataclass(frozen=True)
class Run:
    per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms: float  # the server's CPU time (all its threads) per request


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server exited with status {server.returncode}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    sys.exit("the server did not start")


def open_conversations(base: str, count: int) -> list[str]:
    with httpx.Client(base_url=base, timeout=10) as client:
        return [client.post("/api/v1/sessions", json={"lang": ("en", "ru", "it")[i % 3]})
                .json()["session"] for i in range(count)]


def wrk(url: str, server: int, connections: int, seconds: int,
        script: Path | None = None) -> Run:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if script is not None:
        command += ["-s", str(script)]
    cpu_before = cpu_seconds(server)
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True,
                         timeout=seconds + 30).stdout
    cpu = cpu_seconds(server) - cpu_before
    requests = int(_find(r"(\d+) requests in", out))
    per_second = float(_find(r"Requests/sec:\s+([\d.]+)", out))
    errors = int(_find(r"Non-2xx or 3xx responses:\s+(\d+)", out, "0"))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return Run(per_second, _latency(out, "50%"), _latency(out, "99%"), errors,
               1000 * cpu / max(requests, 1))


def _find(pattern: str, text: str, default: str | None = None) -> str:
    found = re.search(pattern, text)
    if found:
        return found.group(1)
    if default is None:
        raise SystemExit(f"unexpected wrk output:\n{text}")
    return default


def _latency(text: str, percentile: str) -> float:
    found = re.search(rf"^\s*{percentile}\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
    if found is None:
        raise SystemExit(f"no {percentile} latency in wrk's output:\n{text}")
    return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]


def median(runs: list[Run]) -> Run:
    return Run(statistics.median(r.per_second for r in runs),
               statistics.median(r.p50_ms for r in runs),
               statistics.median(r.p99_ms for r in runs), sum(r.errors for r in runs),
               statistics.median(r.cpu_ms for r in runs))


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--conversations", type=int, default=200)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as folder:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("MAILHELP_", "TELEGRAM_"))}
        # Every conversation comes from this one address: lift the per-requester limit.
        env |= {"MAILHELP_DATA": folder, "MAILHELP_HOST": "127.0.0.1",
                "MAILHELP_PORT": str(port), "MAILHELP_SESSION_RATE": f"{args.conversations}/60"}
        log = (Path(folder) / "serve.log").open("wb")  # its access log: a line a request
        server = subprocess.Popen([sys.executable, "-c", "from bot.cli import main; main()",
                                   "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_ready(base, server)
            report(base, server.pid, Path(folder), args)
        finally:
            server.terminate()
            server.wait(10)
            log.close()


def report(base: str, server: int, folder: Path, args: argparse.Namespace) -> None:
    sessions = open_conversations(base, args.conversations)
    script = folder / "turns.lua"
    script.write_text(LUA % {
        "sessions": ", ".join(json.dumps(s) for s in sessions),
        "bodies": ", ".join(json.dumps(json.dumps(b, ensure_ascii=False), ensure_ascii=False)
                            for b in CYCLE),
    }, encoding="utf-8")
    turns_url = base + "/api/v1/sessions/x/messages"  # the script sets each path
    load = os.getloadavg()[0]
    wrk(turns_url, server, args.connections, 2, script)  # warm-up: caches, SQLite pages, threads
    pings: list[Run] = []
    turns: list[Run] = []
    for _ in range(args.rounds):
        pings.append(wrk(base + "/api/v1/ping", server, args.connections, args.seconds))
        turns.append(wrk(turns_url, server, args.connections, args.seconds, script))
    ping, turn = median(pings), median(turns)
    parser = "httptools" if importlib.util.find_spec("httptools") else "h11"
    print(f"mailhelp serve (HTTP parser {parser}); {args.connections} connections, "
          f"{args.conversations} conversations (8-event cycle, half typed text); "
          f"median of {args.rounds} rounds of {args.seconds} s; load average "
          f"{load:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(f"  {'endpoint':31} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'server CPU ms/req':>18}"
          f" {'errors':>6}")
    for label, run in (("GET /api/v1/ping (no-op)", ping),
                       ("POST .../messages (chat turn)", turn)):
        print(f"  {label:31} {run.per_second:7.0f} {run.p50_ms:7.2f} {run.p99_ms:7.2f} "
              f"{run.cpu_ms:18.3f} {run.errors:6d}")
    met = turn.per_second >= GOAL_TURNS_PER_SECOND and turn.p99_ms <= GOAL_P99_MS
    print(f"goal: >= {GOAL_TURNS_PER_SECOND} turns/s with p99 <= {GOAL_P99_MS:g} ms: "
          f"{'met' if met and not turn.errors else 'MISSED'}")


if __name__ == "__main__":
    main()
