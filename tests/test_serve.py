"""`mailhelp serve` as deployed: two instances sharing Redis, and a restart after kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.check.daemons import free_port
from tests.redis_server import RedisServer


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
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                stderr = process.stderr.read().decode() if process.stderr else ""
                pytest.fail(f"mailhelp serve did not start: {stderr[-2000:]}")
            time.sleep(0.1)
        yield base, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


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
