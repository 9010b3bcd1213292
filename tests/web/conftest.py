"""Fixtures for the web channel: the app over a real SQLite store, and a live uvicorn server.

`live_server` runs the app built by `create_app` on a free loopback port in a background
thread and yields its base URL; override `web_config`, `check_policy` or `static_dir` in
a test module to serve something else. While a test here runs, any connection to an
address that is not loopback fails at once (and is recorded), so a bug in the check's
guard cannot send traffic anywhere.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.channels.web.app import TelegramHook, create_app
from bot.channels.web.server import Limits, server_for
from bot.check import CheckLimiter, CheckPolicy
from bot.config import Config, load_config
from bot.conversation import Conversations, from_config
from tests.check.conftest import FAST

EMBEDDER = "https://support.example.com"  # the one site allowed to embed the widget
STARTUP_SECONDS = 10.0


class LoopbackOnly:
    """An audit hook: while armed, records every connect and refuses non-loopback ones."""

    def __init__(self) -> None:
        self.armed = False
        self.connects: list[object] = []
        self._lock = threading.Lock()

    def hook(self, event: str, args: tuple[object, ...]) -> None:
        if not self.armed or event != "socket.connect":
            return
        address = args[1]
        with self._lock:
            self.connects.append(address)
        if isinstance(address, tuple) and not _loopback(str(address[0])):
            raise PermissionError(f"tests/web may connect to loopback only, not {address[0]}")


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


_GUARD = LoopbackOnly()
sys.addaudithook(_GUARD.hook)  # hooks cannot be removed; it acts only while armed


@pytest.fixture(autouse=True)
def loopback_only() -> Iterator[LoopbackOnly]:
    _GUARD.connects.clear()
    _GUARD.armed = True
    try:
        yield _GUARD
    finally:
        _GUARD.armed = False


@pytest.fixture
def web_config(tmp_path: Path) -> Config:
    return load_config({"MAILHELP_DATA": str(tmp_path / "data"),
                        "MAILHELP_CORS_ORIGINS": EMBEDDER})


@pytest.fixture
def conversations(web_config: Config) -> Iterator[Conversations]:
    """The shipped knowledge, sessions in a real SQLite file under the test's folder."""
    conversations = from_config(web_config)
    yield conversations
    conversations.store.close()


@pytest.fixture
def check_policy() -> CheckPolicy:
    """Private addresses allowed (the test servers are on loopback), short timeouts."""
    return FAST


@pytest.fixture
def static_dir() -> Path | None:
    """The pages' folder; None is the shipped one."""
    return None


AppFactory = Callable[..., Starlette]


@pytest.fixture
def make_app(web_config: Config, conversations: Conversations, check_policy: CheckPolicy,
             static_dir: Path | None) -> AppFactory:
    """create_app over the fixtures; keyword arguments replace any of them."""

    def make(*, config: Config | None = None, policy: CheckPolicy | None = None,
             telegram: TelegramHook | None = None, static: Path | None = None) -> Starlette:
        policy = policy or check_policy
        return create_app(config or web_config, conversations, limiter=CheckLimiter(policy),
                          policy=policy, telegram=telegram, static_dir=static or static_dir)

    return make


@pytest.fixture
def client(make_app: AppFactory) -> Iterator[TestClient]:
    with TestClient(make_app()) as test_client:
        yield test_client


@contextmanager
def serving(app: Starlette, limits: Limits | None = None) -> Iterator[str]:
    """Run `app` with uvicorn as `mailhelp serve` does, on a free loopback port; yields the
    base URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = server_for(app, "127.0.0.1", port, limits, lifespan="off", log_level="warning")
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the web server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(STARTUP_SECONDS)
        listener.close()


@pytest.fixture
def live_server(make_app: AppFactory) -> Iterator[str]:
    """The app served by uvicorn on loopback: its base URL, e.g. http://127.0.0.1:41234."""
    with serving(make_app()) as url:
        yield url
