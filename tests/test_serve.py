"""`mailhelp serve` as deployed: two instances sharing Redis, a restart after kill -9, SIGTERM,
Redis going away and coming back, expired conversations swept."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.channels.web.chat import OUTAGE_PROBE_SECONDS
from bot.serve import sweep_expired
from bot.store import SQLiteSessionStore
from tests.check.daemons import free_port
from tests.redis_server import RedisServer, running_redis
from tests.servers import need_binary


@contextmanager
def serving(data: Path, **settings: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A `mailhelp serve` process on a free loopback port until the block ends."""
    port = free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "MAILHELP_DATA": str(data),
           "MAILHELP_HOST": "127.0.0.1", "MAILHELP_PORT": str(port), **settings}
    process = subprocess.Popen(
        [sys.executable, "-c", "from bot.cli import main; main()", "serve"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, process)
        yield base, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_serving(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stderr = process.stderr.read().decode() if process.stderr else ""
            pytest.fail(f"mailhelp serve did not start: {stderr[-2000:]}")
        time.sleep(0.1)


def post(base: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(base + path, json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def texts(answer: dict[str, Any]) -> str:
    return "\n".join(r["text"] for r in answer["replies"])


def test_two_instances_continue_one_conversation_through_redis(
        tmp_path: Path, redis_server: RedisServer) -> None:
    with serving(tmp_path / "a", MAILHELP_REDIS_URL=redis_server.url) as (a, _), \
            serving(tmp_path / "b", MAILHELP_REDIS_URL=redis_server.url) as (b, _):
        session = post(a, "/api/v1/sessions", {"lang": "it"})["session"]
        post(b, f"/api/v1/sessions/{session}/messages", {"button": "flow:setup"})
        devices = post(a, f"/api/v1/sessions/{session}/messages", {"text": "mario@libero.it"})
        # a continues where b took the conversation: the setup flow's device question
        labels = [b["label"] for b in devices["replies"][-1]["buttons"]]
        assert "Libero" in texts(devices) and "Thunderbird" in labels, devices
        first = devices["replies"][-1]["buttons"][0]["value"]
        after = post(b, f"/api/v1/sessions/{session}/messages", {"button": first})
        assert after["replies"], after
        back = post(a, f"/api/v1/sessions/{session}/messages", {"command": "back"})
        labels = [b["label"] for b in back["replies"][-1]["buttons"]]
        assert "Thunderbird" in labels  # a knows the step b took, and goes back from it
    assert not (tmp_path / "a" / "sessions.sqlite3").exists()


def test_a_killed_server_continues_the_conversation_after_restart(tmp_path: Path) -> None:
    with serving(tmp_path) as (base, process):
        session = post(base, "/api/v1/sessions", {"lang": "ru"})["session"]
        post(base, f"/api/v1/sessions/{session}/messages", {"button": "flow:setup"})
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    with serving(tmp_path) as (base, _):
        answer = post(base, f"/api/v1/sessions/{session}/messages", {"text": "ivan@yandex.ru"})
        assert "Yandex" in texts(answer) or "Яндекс" in texts(answer)
        assert answer["replies"][-1]["buttons"]


def test_sigterm_finishes_the_request_in_flight_and_exits_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serving(data) as (base, process):
        session = post(base, "/api/v1/sessions", {"lang": "en"})["session"]
        host, port = base.removeprefix("http://").split(":")
        body = json.dumps({"button": "flow:setup"}).encode()
        with socket.create_connection((host, int(port)), timeout=10) as slow:
            slow.sendall(f"POST /api/v1/sessions/{session}/messages HTTP/1.1\r\nHost: x\r\n"
                         f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                         "\r\n".encode() + body[:5])
            time.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            slow.sendall(body[5:])  # the turn in flight is still answered
            answer = b""
            while chunk := slow.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200") and b"@example.com" in answer
        assert process.wait(timeout=30) == 0
        stderr = process.stderr.read().decode() if process.stderr else ""
    assert "mailhelp stopped" in stderr and "Traceback" not in stderr
    assert not (data / "sessions.sqlite3-wal").exists()  # closed: the WAL checkpointed
    # The data stays private: the folder ours alone, the files readable by us only.
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "sessions.sqlite3").stat().st_mode) == 0o600


def test_redis_down_is_a_503_logged_once_and_healed(tmp_path: Path) -> None:
    binary = need_binary("redis-server")
    port = free_port()
    first_redis = ExitStack()
    url = first_redis.enter_context(running_redis(binary, port=port)).url
    with first_redis, serving(tmp_path, MAILHELP_REDIS_URL=url) as (base, process):
        session = post(base, "/api/v1/sessions", {"lang": "en"})["session"]
        first_redis.close()  # Redis goes away under the running server
        down = [httpx.post(base + "/api/v1/sessions", json={}, timeout=10) for _ in range(3)]
        down.append(httpx.post(f"{base}/api/v1/sessions/{session}/messages",
                               json={"button": "menu"}, timeout=10))
        assert [r.status_code for r in down] == [503] * 4
        assert all(r.json()["error"] == "unavailable" for r in down)
        assert all(r.headers["retry-after"] == "5" for r in down)
        assert [httpx.get(base + "/healthz", timeout=10).status_code for _ in range(3)] == [503] * 3
        with running_redis(binary, port=port):
            time.sleep(OUTAGE_PROBE_SECONDS)  # a store that failed is tried again after it
            assert post(base, "/api/v1/sessions", {"lang": "en"})["replies"]
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
        log = process.stderr.read().decode() if process.stderr else ""
    assert log.count("the session store is unavailable") == 1, log
    assert log.count("the session store answers again") == 1
    assert "Traceback" not in log and "health check" not in log


async def test_expired_conversations_are_swept_while_serving(tmp_path: Path) -> None:
    clock = [1000.0]
    store = SQLiteSessionStore(tmp_path / "sessions.sqlite3", ttl_seconds=60,
                               clock=lambda: clock[0])
    try:
        store.run_turn("old", lambda _data: ({"n": 1}, None))
        clock[0] += 61
        store.run_turn("new", lambda _data: ({"n": 2}, None))
        sweeper = asyncio.create_task(sweep_expired(store, every=0.05))
        await asyncio.sleep(0.3)
        sweeper.cancel()
        rows = sqlite3.connect(tmp_path / "sessions.sqlite3").execute(
            "SELECT id FROM sessions").fetchall()
        assert rows == [("new",)]
    finally:
        store.close()


def test_serve_flags_win_over_the_environment(tmp_path: Path) -> None:
    port = free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "MAILHELP_DATA": str(tmp_path),
           # Neither could be listened on: the flags must win.
           "MAILHELP_HOST": "192.0.2.1", "MAILHELP_PORT": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from bot.cli import main; main()", "serve",
         "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", process)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0


def test_a_flood_of_idle_sockets_gets_503_not_tracebacks(tmp_path: Path) -> None:
    """With few descriptors (soft and hard limit 400) the connection cap shrinks to fit:
    sockets past it get 503 at once, the server keeps answering, nothing is a traceback."""
    port = free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "MAILHELP_DATA": str(tmp_path),
           "MAILHELP_HOST": "127.0.0.1", "MAILHELP_PORT": str(port)}
    few = "import resource; resource.setrlimit(resource.RLIMIT_NOFILE, (400, 400)); "
    process = subprocess.Popen([sys.executable, "-c", few + "from bot.cli import main; main()",
                                "serve"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    idle: list[socket.socket] = []
    try:
        wait_until_serving(base, process)
        idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(600)]
        time.sleep(0.5)
        full = httpx.post(base + "/api/v1/sessions", json={}, timeout=10)
        assert full.status_code == 503
        refused = 0
        for sock in idle:
            sock.setblocking(False)
            with contextlib.suppress(BlockingIOError, ConnectionResetError):
                refused += sock.recv(64).startswith(b"HTTP/1.1 503")
        assert refused >= 300  # the cap is 400 - 256 reserved descriptors
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.5)
    assert post(base, "/api/v1/sessions", {"lang": "en"})["replies"]
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    log = process.stderr.read().decode() if process.stderr else ""
    assert "at most 144 connections" in log
    assert "Traceback" not in log and len(log) < 5000


def test_a_frozen_redis_is_a_quick_503_after_the_first(tmp_path: Path,
                                                       redis_server: RedisServer) -> None:
    with serving(tmp_path, MAILHELP_REDIS_URL=redis_server.url) as (base, _process):
        os.kill(redis_server.pid, signal.SIGSTOP)
        try:
            first = httpx.post(base + "/api/v1/sessions", json={}, timeout=30)
            assert first.status_code == 503  # after the store's own timeouts
            started = time.monotonic()
            rest = [httpx.post(base + "/api/v1/sessions", json={}, timeout=30).status_code
                    for _ in range(3)]
            assert rest == [503] * 3 and time.monotonic() - started < 1.5
        finally:
            os.kill(redis_server.pid, signal.SIGCONT)
        time.sleep(OUTAGE_PROBE_SECONDS)
        assert post(base, "/api/v1/sessions", {"lang": "en"})["replies"]


def test_new_conversations_are_counted_across_instances_in_redis(
        tmp_path: Path, redis_server: RedisServer) -> None:
    shared = {"MAILHELP_REDIS_URL": redis_server.url, "MAILHELP_SESSION_RATE": "2/60"}
    with serving(tmp_path / "a", **shared) as (a, _), serving(tmp_path / "b", **shared) as (b, _):
        # One requester of its own (believed from a loopback proxy): other tests of this
        # module opened conversations from 127.0.0.1 in the same Redis.
        client = {"X-Forwarded-For": "198.51.100.23"}
        opened = [httpx.post(base + "/api/v1/sessions", json={}, headers=client,
                             timeout=10).status_code for base in (a, b, a, b)]
    assert opened == [200, 200, 429, 429]
