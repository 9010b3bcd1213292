"""The web server against a hostile client: slow sockets, floods, odd buttons, the stream's schema.

Everything runs against the real server (uvicorn with the limits `mailhelp serve` sets)
on loopback, with the limits shrunk so each case takes a fraction of a second.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import jsonschema_rs
import pytest

from bot import kb
from bot.channels.web.docs import schema_for
from bot.channels.web.server import Limits
from bot.config import load_config
from bot.flows import BUTTON_VALUE, callback_data
from tests.check.hostile import recording, serving
from tests.web.conftest import EMBEDDER, AppFactory
from tests.web.conftest import serving as serving_app
from tests.web.test_api import events

QUICK = Limits(header_seconds=0.4, body_seconds=0.4, max_connections=6)
SETTLE = 3.0  # seconds a socket is given to be answered and closed


@pytest.fixture
def quick_server(make_app: AppFactory) -> Iterator[str]:
    with serving_app(make_app(), QUICK) as url:
        yield url


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=SETTLE)


def read_all(sock: socket.socket) -> bytes:
    """What the server sends until it closes the connection."""
    received = b""
    deadline = time.monotonic() + SETTLE
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(4096)
        except ConnectionResetError:
            break
        if not chunk:
            break
        received += chunk
    return received


def new_session(url: str, **headers: str) -> httpx.Response:
    return httpx.post(url + "/api/v1/sessions", json={"lang": "en"}, headers=headers, timeout=5)


# --- 1: button values ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["setup.device.²", "setup.device.①", "a.b.¹", "setup.device.٣"])
def test_a_button_with_a_non_ascii_digit_is_400_not_500(live_server: str, value: str) -> None:
    session = new_session(live_server).json()["session"]
    answer = httpx.post(f"{live_server}/api/v1/sessions/{session}/messages",
                        json={"button": value}, timeout=5)
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == "button"
    menu = httpx.post(f"{live_server}/api/v1/sessions/{session}/messages",
                      json={"button": "menu"}, timeout=5)
    assert menu.status_code == 200 and menu.json()["replies"]


def test_every_button_the_engine_makes_is_a_button_value() -> None:
    knowledge = kb.load_knowledge()
    values = [f"topic:{topic}" for topic in knowledge.topics]
    values += [f"flow:{flow}" for flow in knowledge.flows]
    values += [callback_data(flow.id, state.name, index) for flow in knowledge.flows.values()
               for state in flow.states.values() for index in range(len(state.buttons))]
    values += [f"lang:{lang}" for lang in kb.LANGS] + ["menu", "back", "human", "use:address"]
    assert [value for value in values if not BUTTON_VALUE.fullmatch(value)] == []


# --- 3: slow and idle clients, too many connections, a client that leaves ---------------------


def test_a_client_that_sends_no_headers_is_cut_off(quick_server: str) -> None:
    with connect(quick_server) as idle, connect(quick_server) as partial:
        partial.sendall(b"GET /api/v1/ping HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        assert read_all(idle).startswith(b"HTTP/1.1 408")
        assert read_all(partial).startswith(b"HTTP/1.1 408")
        assert time.monotonic() - started < 2
    assert httpx.get(quick_server + "/api/v1/ping", timeout=5).status_code == 204


# Headers that promise a body of 100 bytes, and the body's first byte.
PARTIAL_POST = (b"POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")


def assert_one_line_logged(caplog: pytest.LogCaptureFixture) -> None:
    """The server logs the client that left once, without a traceback."""
    deadline = time.monotonic() + SETTLE
    while "left before sending" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.02)
    left = [r for r in caplog.records if "left before sending" in r.getMessage()]
    assert len(left) == 1 and left[0].exc_info is None
    assert "Traceback" not in caplog.text and "Exception in ASGI" not in caplog.text


def test_a_slow_body_is_cut_off_and_logged_in_one_line(
        quick_server: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with connect(quick_server) as slow:
        slow.sendall(PARTIAL_POST)
        assert read_all(slow).startswith(b"HTTP/1.1 408")
    assert_one_line_logged(caplog)


def test_a_client_that_disconnects_mid_body_is_one_log_line(
        quick_server: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with connect(quick_server) as leaving:
        leaving.sendall(PARTIAL_POST)
        time.sleep(0.1)
    assert_one_line_logged(caplog)


def test_a_request_answered_early_gets_no_second_answer_when_its_body_stalls(
        quick_server: str) -> None:
    with connect(quick_server) as stalled:
        stalled.sendall(b"POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\n"
                        b"Content-Type: application/json\r\nContent-Length: 99999\r\n\r\n")
        received = read_all(stalled)  # refused by its length at once, closed at the deadline
    assert received.startswith(b"HTTP/1.1 413") and received.count(b"HTTP/1.1 ") == 1


def test_connections_past_the_cap_get_503_and_the_server_recovers(quick_server: str) -> None:
    idle = [connect(quick_server) for _ in range(QUICK.max_connections)]
    try:
        with connect(quick_server) as extra:
            assert read_all(extra).startswith(b"HTTP/1.1 503")
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.2)
    assert httpx.get(quick_server + "/api/v1/ping", timeout=5).status_code == 204


# --- 4: new conversations per requester ------------------------------------------------------


def test_new_conversations_are_limited_per_requester(make_app: AppFactory, tmp_path: Any) -> None:
    config = load_config({"MAILHELP_DATA": str(tmp_path / "data"),
                          "MAILHELP_CORS_ORIGINS": EMBEDDER, "MAILHELP_SESSION_RATE": "3/60"})
    with serving_app(make_app(config=config)) as url:
        assert [new_session(url).status_code for _ in range(3)] == [200, 200, 200]
        refused = new_session(url)
        assert refused.status_code == 429
        assert refused.json()["error"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        # Another client behind the same local proxy has its own allowance.
        assert new_session(url, **{"X-Forwarded-For": "198.51.100.7"}).status_code == 200


# --- 7: /check with its argument, as in every channel -------------------------------------


def test_the_check_command_takes_its_argument(live_server: str) -> None:
    session = new_session(live_server).json()["session"]
    messages = f"{live_server}/api/v1/sessions/{session}/messages"
    answer = httpx.post(messages, json={"command": "check", "arg": "imap.gmail.com"}, timeout=5)
    assert answer.status_code == 200, answer.text
    actions = [action for reply in answer.json()["replies"] for action in reply["actions"]]
    assert [(a["kind"], a["target"], a["lang"]) for a in actions] == [
        ("check", "imap.gmail.com", "en")]
    # Typed, the command is the same command: the same answer.
    typed = httpx.post(messages, json={"text": "/check imap.gmail.com"}, timeout=5)
    assert typed.json() == answer.json()
    helped = httpx.post(messages, json={"command": "help"}, timeout=5).json()
    assert httpx.post(messages, json={"text": "/help"}, timeout=5).json() == helped
    asked = httpx.post(messages, json={"command": "check"}, timeout=5).json()["replies"]
    assert not [action for reply in asked for action in reply["actions"]]
    for arg in ("x" * 321, 5, " "):
        refused = httpx.post(messages, json={"command": "check", "arg": arg}, timeout=5)
        assert refused.status_code == 400 and refused.json()["field"] == "arg"


# --- 9: the event stream as the schema describes it ---------------------------------------


def test_the_check_events_validate_against_the_schema(live_server: str) -> None:
    schema = schema_for(None)
    media = schema["paths"]["/api/v1/check"]["post"]["responses"]["200"]["content"]
    variants = media["text/event-stream"]["schema"]["oneOf"]
    by_event = {v["properties"]["event"]["const"]: v["properties"]["data"]["contentSchema"]
                for v in variants}
    heard: list[bytes] = []
    with serving(recording("imap", heard)) as port:
        response = httpx.post(live_server + "/api/v1/check",
                              json={"target": f"127.0.0.1:{port}"}, timeout=20)
    got = events(response.text)
    assert [name for name, _ in got] == ["start", "endpoint", "summary"]
    for name, data in got:
        validator = jsonschema_rs.validator_for(
            {**by_event[name], "components": schema["components"]})
        errors = [error.message for error in validator.iter_errors(data)]
        assert errors == [], (name, errors)
    summary_schema = {**media["application/json"]["schema"], "components": schema["components"]}
    assert jsonschema_rs.validator_for(summary_schema).is_valid(got[-1][1])
    assert not jsonschema_rs.validator_for(summary_schema).is_valid(
        {**got[-1][1], "status": "fine"})
    json.dumps(got)  # plain JSON all the way down


# --- 2: app passwords never reach the unanswered log --------------------------------------


def test_app_passwords_sent_to_the_server_are_not_logged(live_server: str,
                                                         web_config: Any) -> None:
    session = new_session(live_server).json()["session"]
    messages = f"{live_server}/api/v1/sessions/{session}/messages"
    for text in ("qwer tyui asdf ghjk", "qwertyuiasdfghjk",
                 "gmail says my app password qwer tyui asdf ghjk is wrong, why",
                 "passphrase is correct horse battery staple",
                 "what is the weather like, call me at +7.916.123.45.67"):
        answer = httpx.post(messages, json={"text": text}, timeout=5)
        assert answer.status_code == 200, answer.text
    logged = web_config.gaps_path.read_text(encoding="utf-8")
    assert "[number]" in logged  # the unanswered question was kept, masked
    for secret in ("qwer", "tyui", "asdf", "horse", "916"):
        assert secret not in logged
