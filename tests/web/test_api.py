"""The web app over HTTP: chat API, FAQ, live check, guards, pages, webhook, health, metrics.

Conversations go through the real engine and a real SQLite store; the live check talks
to scripted servers on loopback. Nothing here leaves this machine.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from bot.channels.web.docs import schema_for
from bot.channels.web.input import MAX_BODY_BYTES
from bot.check import CheckPolicy
from bot.cli import main
from bot.conversation import Conversations
from tests.check.conftest import FAST
from tests.check.hostile import recording, serving
from tests.web.conftest import EMBEDDER, AppFactory, LoopbackOnly
from tests.web.conftest import serving as serving_app

GREETINGS = {"en": "Hello!", "ru": "Здравствуйте!", "it": "Ciao!"}
ERROR_535 = "535 5.7.8 Error: authentication failed: Invalid user or password"
TOPIC_535 = {"en": "does not accept the login", "ru": "не принимает логин",
             "it": "non accetta nome utente"}
SETTINGS_ASKED = {"en": "I have its settings", "ru": "настройки этого сервиса у меня есть",
                  "it": "ho le sue impostazioni"}


def start(client: TestClient, body: dict[str, Any] | None = None,
          **headers: str) -> dict[str, Any]:
    response = client.post("/api/v1/sessions", json=body, headers=headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def say(client: TestClient, session: str, event: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post(f"/api/v1/sessions/{session}/messages", json=event)
    assert response.status_code == 200, response.text
    replies: list[dict[str, Any]] = response.json()["replies"]
    return replies


# --- the conversation --------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "how"), [("en", "field"), ("ru", "header"), ("it", "field")])
def test_a_whole_conversation_in_each_language(client: TestClient,
                                               conversations: Conversations,
                                               lang: str, how: str) -> None:
    if how == "field":
        opened = start(client, {"lang": lang})
    else:  # the browser's language is a hint the engine takes when nothing else says
        opened = start(client, None, **{"Accept-Language": f"{lang}-RU,{lang};q=0.9,en;q=0.5"})
    assert opened["replies"][0]["text"].startswith(GREETINGS[lang])
    menu = opened["replies"][-1]["buttons"]
    assert {"label", "value"} == set(menu[0]) and menu[0]["value"] == "flow:setup"
    session = opened["session"]

    asked = say(client, session, {"button": "flow:setup"})
    assert "@example.com" in asked[-1]["text"]
    devices = say(client, session, {"text": "ivan@yandex.ru"})
    assert SETTINGS_ASKED[lang] in devices[-1]["text"]
    assert devices[-1]["buttons"][0]["value"] == "setup.device.0"
    answer = say(client, session, {"text": ERROR_535})
    assert TOPIC_535[lang] in answer[0]["text"]
    assert all(set(reply) == {"text", "buttons", "actions"} for reply in answer)
    back = say(client, session, {"command": "back"})
    assert back[-1]["text"] == devices[-1]["text"]

    stored = conversations.store.get("web:" + session)
    assert stored is not None and stored["vars"]["provider"] == "yandex"


def test_a_check_action_reaches_the_client(client: TestClient) -> None:
    session = start(client, {"lang": "en"})["session"]
    replies = say(client, session, {"text": "please check the server imap.example.com:993"})
    actions = [action for reply in replies for action in reply["actions"]]
    assert actions == [{"kind": "check", "target": "imap.example.com:993", "lang": "en",
                        "transcript": []}]


def test_the_pages_language_is_a_hint_the_person_can_override(client: TestClient) -> None:
    opened = start(client, {"hint": "it"})
    assert opened["replies"][0]["text"].startswith(GREETINGS["it"])
    replies = say(client, opened["session"], {"text": "не приходят письма на bk.ru"})
    assert "/language it" in replies[0]["text"]  # switched, and says how to switch back
    chosen = start(client, {"lang": "it"})["session"]
    assert "/language" not in say(client, chosen, {"text": "не приходят письма"})[0]["text"]
    bad = client.post("/api/v1/sessions", json={"hint": "de"})
    assert bad.status_code == 400 and bad.json()["field"] == "hint"


def test_a_typed_command_is_that_command(client: TestClient) -> None:
    session = start(client, {"lang": "en"})["session"]
    replies = say(client, session, {"text": "/check imap.example.com"})
    assert [a["target"] for r in replies for a in r["actions"]] == ["imap.example.com"]
    assert "italiano" in say(client, session, {"text": "/language it"})[0]["text"].lower()


def test_a_hand_over_carries_the_masked_transcript(client: TestClient) -> None:
    session = start(client, {"lang": "ru"})["session"]
    say(client, session, {"text": "не могу войти в почту ivan.petrov@yandex.ru"})
    replies = say(client, session, {"text": "позовите оператора"})
    human = [a for reply in replies for a in reply["actions"] if a["kind"] == "human"]
    assert len(human) == 1
    transcript = human[0]["transcript"]
    assert transcript[0] == {"from": "person", "text": "не могу войти в почту i***@yandex.ru"}
    assert transcript[-1] == {"from": "person", "text": "позовите оператора"}
    assert any(line["from"] == "bot" for line in transcript)
    assert "ivan.petrov" not in repr(transcript)


def test_commands_change_the_language(client: TestClient) -> None:
    session = start(client, {"lang": "en"})["session"]
    replies = say(client, session, {"command": "language", "arg": "it"})
    assert "italiano" in replies[0]["text"].lower()
    assert say(client, session, {"command": "start"})[0]["text"].startswith(GREETINGS["it"])


def test_unknown_session_is_404(client: TestClient, conversations: Conversations) -> None:
    for session in ("A" * 22, "short", "web:../x", "%00"):
        response = client.post(f"/api/v1/sessions/{session}/messages", json={"text": "hi"})
        assert response.status_code == 404
        assert response.json()["error"] in ("unknown_session", "not_found")
    # Another channel's conversation in the same store is out of the web's reach.
    conversations.open(lang="en", session_id="tg12345678901234567890")
    response = client.post("/api/v1/sessions/tg12345678901234567890/messages",
                           json={"text": "hi"})
    assert response.status_code == 404 and response.json()["error"] == "unknown_session"


# --- bad input ----------------------------------------------------------------------------

SESSION = "<session>"
BAD_INPUTS: list[tuple[str, str, Any, int, str]] = [
    # (method path, content type, body: JSON-able, or bytes as they are), status, field
    ("POST messages", "json", {}, 400, "body"),
    ("POST messages", "json", {"text": ""}, 400, "text"),
    ("POST messages", "json", {"text": " \n\t "}, 400, "text"),
    ("POST messages", "json", {"text": "x" * 4001}, 400, "text"),
    ("POST messages", "json", {"text": 5}, 400, "text"),
    ("POST messages", "json", {"text": None}, 400, "text"),
    ("POST messages", "json", {"text": ["a"]}, 400, "text"),
    ("POST messages", "json", {"text": "a", "button": "menu"}, 400, "body"),
    ("POST messages", "json", {"txt": "hello"}, 400, "txt"),
    ("POST messages", "json", {"button": "x" * 65}, 400, "button"),
    ("POST messages", "json", {"button": "ж" * 33}, 400, "button"),
    ("POST messages", "json", {"button": {"value": "menu"}}, 400, "button"),
    ("POST messages", "json", {"command": "reboot"}, 400, "command"),
    ("POST messages", "json", {"command": "language", "arg": "de"}, 400, "arg"),
    ("POST messages", "json", {"command": "help", "arg": "now"}, 400, "arg"),
    ("POST messages", "json", {"command": "start", "arg": 1}, 400, "arg"),
    ("POST messages", "json", {"text": "hi", "arg": "en"}, 400, "arg"),
    ("POST messages", "json", [1, 2], 400, "body"),
    ("POST messages", "json", "hello", 400, "body"),
    ("POST messages", "json", b"not json", 400, "body"),
    ("POST messages", "json", b'{"text": NaN}', 400, "body"),
    ("POST messages", "json", b"[" * 5000, 400, "body"),
    ("POST messages", "json", b'{"text": "\xff\xfe"}', 400, "body"),
    ("POST messages", "json", b'{"text": "\\ud800"}', 400, "text"),
    ("POST messages", "json", b'{"\\ud800": 1}', 400, "?"),
    ("POST messages", "text/plain", b'{"text": "hi"}', 415, "content-type"),
    ("POST messages", "none", b'{"text": "hi"}', 415, "content-type"),
    ("POST sessions", "json", {"lang": "de"}, 400, "lang"),
    ("POST sessions", "json", {"lang": 7}, 400, "lang"),
    ("POST sessions", "json", {"language": "en"}, 400, "language"),
    ("POST sessions", "json", b"{", 400, "body"),
    ("GET /api/v1/faq", "", None, 400, "q"),
    ("GET /api/v1/faq?q=", "", None, 400, "q"),
    ("GET /api/v1/faq?q=%20%20", "", None, 400, "q"),
    ("GET /api/v1/faq?q=" + "x" * 4001, "", None, 400, "q"),
    ("GET /api/v1/faq?q=port&lang=de", "", None, 400, "lang"),
    ("GET /api/v1/faq?q=port&n=0", "", None, 400, "n"),
    ("GET /api/v1/faq?q=port&n=11", "", None, 400, "n"),
    ("GET /api/v1/faq?q=port&n=two", "", None, 400, "n"),
    ("GET /api/v1/faq?q=port&n=" + "9" * 5000, "", None, 400, "n"),
    ("GET /api/v1/faq?q=port&q=smtp", "", None, 400, "q"),
    ("GET /api/v1/faq?q=port&debug=1", "", None, 400, "debug"),
    ("GET /api/v1/topics/app-password-required?lang=xx", "", None, 400, "lang"),
    ("GET /api/v1/topics/app-password-required?provider=nope", "", None, 400, "provider"),
    ("GET /api/v1/topics/no-such-topic", "", None, 404, "topic"),
    ("POST /api/v1/check", "json", {}, 400, "target"),
    ("POST /api/v1/check", "json", {"target": ""}, 400, "target"),
    ("POST /api/v1/check", "json", {"target": "a" * 321}, 400, "target"),
    ("POST /api/v1/check", "json", {"target": ["imap.example.com"]}, 400, "target"),
    ("POST /api/v1/check", "json", {"target": "x.example", "lang": "fr"}, 400, "lang"),
    ("POST /api/v1/check", "json", {"target": "x.example", "port": 993}, 400, "port"),
]


@pytest.mark.parametrize(("where", "kind", "body", "status", "field"), BAD_INPUTS,
                         ids=[f"{i}:{case[0][:30]}" for i, case in enumerate(BAD_INPUTS)])
def test_bad_input_is_a_4xx_naming_the_field(client: TestClient, where: str, kind: str,
                                             body: Any, status: int, field: str) -> None:
    method, _sep, path = where.partition(" ")
    if path in ("messages", "sessions"):
        session = start(client, {"lang": "en"})["session"] if path == "messages" else ""
        path = f"/api/v1/sessions/{session}/messages" if session else "/api/v1/sessions"
    headers = {} if kind == "none" else {
        "content-type": "application/json" if kind == "json" else kind}
    content = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    response = client.request(method, path, content=content, headers=headers)
    assert response.status_code == status, response.text
    error = response.json()
    assert error["field"] == field
    assert error["error"] and error["message"]


def test_bodies_over_the_limit_are_413_by_length_and_while_streaming(
        client: TestClient) -> None:
    big = json.dumps({"text": "x" * MAX_BODY_BYTES}).encode()
    response = client.post("/api/v1/sessions", content=big,
                           headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json()["error"] == "too_large"

    def chunks() -> Any:  # no Content-Length: the body is counted as it arrives
        for _ in range(MAX_BODY_BYTES // 1024 + 2):
            yield b" " * 1024

    response = client.post("/api/v1/sessions", content=chunks(),
                           headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_an_oversized_body_is_refused_before_it_is_sent(live_server: str) -> None:
    """The server answers 413 from the headers alone: the body never has to arrive."""
    host, port = live_server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(b"POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n")
        head = conn.recv(4096).decode("latin-1")
    assert head.startswith("HTTP/1.1 413")


# --- CORS and security headers ----------------------------------------------------------------


def preflight(client: TestClient, path: str, origin: str,
              headers: str = "content-type") -> httpx.Response:
    return client.options(path, headers={"Origin": origin,
                                         "Access-Control-Request-Method": "POST",
                                         "Access-Control-Request-Headers": headers})


def test_cors_allows_the_listed_origin_only(client: TestClient) -> None:
    allowed = preflight(client, "/api/v1/sessions", EMBEDDER)
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == EMBEDDER
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "content-type" in allowed.headers["access-control-allow-headers"]

    for origin in ("https://evil.example", EMBEDDER + ".evil.example", "null"):
        denied = preflight(client, "/api/v1/sessions", origin)
        assert denied.status_code == 403
        assert "access-control-allow-origin" not in denied.headers
    assert preflight(client, "/api/v1/sessions", EMBEDDER, "x-evil").status_code == 403
    assert preflight(client, "/docs", EMBEDDER).status_code == 403  # not for embedding

    response = client.post("/api/v1/sessions", json={}, headers={"Origin": EMBEDDER})
    assert response.headers["access-control-allow-origin"] == EMBEDDER
    assert "Origin" in response.headers["vary"]
    response = client.post("/api/v1/sessions", json={}, headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_pages_carry_a_strict_csp(make_app: AppFactory, tmp_path: Path) -> None:
    folder = pages(tmp_path)
    with TestClient(make_app(static=folder)) as client:
        for path in ("/", "/agent", "/docs", "/widget.js", "/api/v1/ping"):
            response = client.get(path)
            assert response.status_code in (200, 204), path
            csp = response.headers["content-security-policy"]
            assert "default-src 'self'" in csp and "script-src 'self'" in csp
            assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
            assert "frame-ancestors 'none'" in csp
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["referrer-policy"] == "no-referrer"
        assert "<script>" not in client.get("/docs").text  # the docs page has no script


# --- static files ---------------------------------------------------------------------------


def pages(folder: Path) -> Path:
    files = {"demo.html": "<!doctype html><title>demo</title>",
             "agent.html": "<!doctype html><title>agent</title>",
             "widget.js": "console.log('widget');", "style.css": "body{}",
             ".secret.js": "hidden", "notes.md": "not served"}
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "sub").mkdir()
    (folder / "sub" / "x.js").write_text("nested", encoding="utf-8")
    return folder


def test_static_files_types_caching_and_no_escape(make_app: AppFactory, tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    folder = pages(tmp_path / "static")
    (tmp_path / "outside.js").write_text("outside", encoding="utf-8")
    with TestClient(make_app(static=folder)) as client:
        demo = client.get("/")
        assert demo.text.endswith("<title>demo</title>")
        assert demo.headers["content-type"] == "text/html; charset=utf-8"
        assert demo.headers["cache-control"] == "no-cache"
        assert client.get("/agent").text.endswith("<title>agent</title>")
        widget = client.get("/widget.js", headers={"Origin": EMBEDDER})
        assert widget.headers["content-type"] == "text/javascript; charset=utf-8"
        assert widget.headers["cache-control"].startswith("public, max-age=")
        assert widget.headers["access-control-allow-origin"] == EMBEDDER
        again = client.get("/widget.js", headers={"If-None-Match": widget.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assert client.get("/style.css").headers["content-type"] == "text/css; charset=utf-8"
        for path in ("/.secret.js", "/notes.md", "/sub/x.js", "/../outside.js",
                     "/%2e%2e%2foutside.js", "/missing.js", "/sub"):
            response = client.get(path)
            assert response.status_code == 404, path
            assert b"outside" not in response.content and b"hidden" not in response.content


def test_missing_pages_are_404_not_500(make_app: AppFactory, tmp_path: Path) -> None:
    with TestClient(make_app(static=tmp_path)) as client:
        for path in ("/", "/agent", "/widget.js"):
            assert client.get(path).status_code == 404


# --- the FAQ lookup -------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "lang"), [
    ("553 5.7.1 Sender address rejected: not owned by auth user", None),
    ("what port does smtp.mail.ru use", None),
    ("пишет требуется аутентификация при отправке", None),
    ("0x800CCC0E", "it"),
    ("tell me a joke about cats", None),
])
def test_faq_equals_the_command_line(client: TestClient, capsys: pytest.CaptureFixture[str],
                                     query: str, lang: str | None) -> None:
    params = {"q": query, "n": "4"} | ({"lang": lang} if lang else {})
    response = client.get("/api/v1/faq", params=params)
    assert response.status_code == 200
    with pytest.raises(SystemExit) as exited:
        main(["faq", "--json", "-n", "4", *(["--lang", lang] if lang else []), query])
    assert exited.value.code == 0
    assert response.json() == json.loads(capsys.readouterr().out)


def test_topic_for_the_agents_page(client: TestClient) -> None:
    topic = client.get("/api/v1/topics/app-password-required",
                       params={"lang": "ru", "provider": "yandex"}).json()
    assert topic["id"] == "app-password-required"
    assert topic["steps"] and all(isinstance(step, str) for step in topic["steps"])
    assert topic["answer"].startswith(topic["title"])
    assert topic["settings"]["provider"] == "yandex"
    assert any(s["host"] == "imap.yandex.ru" for s in topic["settings"]["servers"])
    plain = client.get("/api/v1/topics/app-password-required").json()
    assert plain["settings"] is None


def test_agent_token_is_enforced(make_app: AppFactory, web_config: Any) -> None:
    config = replace(web_config, agent_token="s3cret-token")
    with TestClient(make_app(config=config)) as client:
        for path in ("/api/v1/faq?q=port", "/api/v1/topics/app-password-required"):
            refused = client.get(path)
            assert refused.status_code == 401 and refused.json()["field"] == "token"
            assert refused.headers["www-authenticate"].startswith("Bearer")
            assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
            assert client.get(path + ("&" if "?" in path else "?") + "token=s3cret-toke"
                              ).status_code == 401
            assert client.get(path, headers={"Authorization": "Bearer s3cret-token"}
                              ).status_code == 200
            assert client.get(path + ("&" if "?" in path else "?") + "token=s3cret-token"
                              ).status_code == 200
        # The chat stays open to everybody: the token guards the agents' lookup only.
        assert client.post("/api/v1/sessions", json={}).status_code == 200


# --- the live check -------------------------------------------------------------------------


def events(stream: str) -> list[tuple[str, dict[str, Any]]]:
    parsed = []
    for block in stream.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        parsed.append((lines["event"], json.loads(lines["data"])))
    return parsed


def test_check_streams_events_from_a_real_server(live_server: str) -> None:
    heard: list[bytes] = []
    with serving(recording("imap", heard)) as port, httpx.Client(timeout=20) as http:
        target = f"127.0.0.1:{port}"
        with http.stream("POST", live_server + "/api/v1/check",
                         json={"target": target, "lang": "it"}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["cache-control"] == "no-cache"
            stream = "".join(response.iter_text())
    got = events(stream)
    assert [name for name, _ in got] == ["start", "endpoint", "summary"]
    assert got[0][1]["total"] == 1 and target in got[0][1]["text"]
    endpoint = got[1][1]
    assert endpoint["port"] == port and endpoint["protocol"] == "imap"
    summary = got[2][1]
    assert summary["target"] == target and summary["endpoints"] == [endpoint]
    assert summary["status"] == endpoint["status"] and summary["text"]
    assert not any(b"LOGIN" in line.upper() or b"AUTHENTICATE" in line.upper()
                   for line in heard)


def test_a_client_that_leaves_ends_the_check(make_app: AppFactory) -> None:
    """Closing the event stream cancels the probes at once, not at their timeouts."""
    patient = replace(FAST, greeting_timeout=60, detect_timeout=60, check_timeout=60)
    closed = threading.Event()

    def silent_until_closed(conn: socket.socket) -> None:
        conn.settimeout(60)
        try:
            while conn.recv(1024):
                pass
        finally:
            closed.set()

    with serving(silent_until_closed) as port, serving_app(make_app(policy=patient)) as base, \
            httpx.Client(timeout=10) as http:
        with http.stream("POST", base + "/api/v1/check",
                         json={"target": f"127.0.0.1:{port}"}) as response:
            first = next(response.iter_lines())
        assert first == "event: start"
        assert closed.wait(20), "the probe outlived the client"
        samples = ""
        for _ in range(100):  # the server notices the disconnect on its own schedule
            samples = http.get(base + "/metrics").text
            if 'mailhelp_checks_total{outcome="abandoned"} 1' in samples:
                break
            time.sleep(0.05)
        assert 'mailhelp_checks_total{outcome="abandoned"} 1' in samples


def test_check_as_one_json_report(client: TestClient) -> None:
    with serving(recording("pop3", [])) as port:
        response = client.post("/api/v1/check", json={"target": f"127.0.0.1:{port}"},
                               headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    report = response.json()
    assert [e["protocol"] for e in report["endpoints"]] == ["pop3"]
    assert report["status"] in ("ok", "warning", "error") and report["text"]


def test_a_refused_target_is_400_in_the_language_without_a_connection(
        make_app: AppFactory, loopback_only: LoopbackOnly) -> None:
    with TestClient(make_app(policy=CheckPolicy(allow_private=False))) as client:
        loopback_only.connects.clear()
        for target, lang, word in (("10.0.0.1", "ru", "отклонена"),
                                   ("127.0.0.1:22", "it", "rifiutata"),
                                   ("imap.example.com:8080", None, "refused")):
            body = {"target": target} | ({"lang": lang} if lang else {})
            response = client.post("/api/v1/check", json=body)
            assert response.status_code == 400
            error = response.json()
            assert error["error"] == "refused" and error["field"] == "target"
            assert word in error["message"]
        assert loopback_only.connects == []


def test_rate_limit_is_429_per_client_address(make_app: AppFactory) -> None:
    policy = CheckPolicy(allow_private=False, rate_limit=1)
    with TestClient(make_app(policy=policy)) as client:
        # Not from a local proxy: X-Forwarded-For is the client's own claim and ignored.
        first = client.post("/api/v1/check", json={"target": "10.0.0.1"},
                            headers={"X-Forwarded-For": "203.0.113.1"})
        second = client.post("/api/v1/check", json={"target": "10.0.0.1"},
                             headers={"X-Forwarded-For": "203.0.113.2"})
    assert first.status_code == 400
    assert second.status_code == 429 and second.json()["error"] == "rate_limited"
    assert int(second.headers["retry-after"]) >= 1
    with TestClient(make_app(policy=policy), client=("127.0.0.1", 50000)) as proxied:
        def status(forwarded: str) -> int:
            return proxied.post("/api/v1/check", json={"target": "10.0.0.1"},
                                headers={"X-Forwarded-For": forwarded}).status_code

        # Behind a local proxy, the address the proxy appended last is the requester.
        assert status("203.0.113.1") == 400
        assert status("203.0.113.1") == 429
        assert status("203.0.113.1, 203.0.113.2") == 400
        assert status("203.0.113.9, 203.0.113.2") == 429
        assert status("2001:db8:1:2::1") == 400
        assert status("2001:db8:1:2::ffff") == 429  # the same /64


# --- OpenAPI, webhook, health, metrics ----------------------------------------------------


@dataclass
class FakeTelegram:
    path: str = "/telegram/webhook"
    secret: str = "hook-secret-123"
    updates: list[dict[str, Any]] = field(default_factory=list)

    async def feed(self, update: dict[str, Any]) -> bool:
        self.updates.append(update)
        return True


def test_every_route_is_in_the_schema_and_back(make_app: AppFactory) -> None:
    for telegram in (FakeTelegram(), FakeTelegram(path="/tg/hook"), None):
        app = make_app(telegram=telegram)
        routes = {(route.path, method.lower()) for route in app.routes
                  if isinstance(route, Route) for method in route.methods or ()
                  if method != "HEAD"}
        schema = schema_for(telegram.path if telegram else None)
        documented = {(path, method) for path, operations in schema["paths"].items()
                      for method in operations if method in ("get", "post")}
        assert routes == documented
        with TestClient(app) as client:
            assert client.get("/openapi.json").json() == schema
            docs = client.get("/docs")
            assert docs.headers["content-type"].startswith("text/html")
            assert "POST /api/v1/sessions/{session}/messages" in docs.text


def test_webhook_needs_the_secret(make_app: AppFactory) -> None:
    telegram = FakeTelegram()
    update = {"update_id": 1, "message": {"text": "<b>hi</b>"}}
    with TestClient(make_app(telegram=telegram)) as client:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                        {"X-Telegram-Bot-Api-Secret-Token": "hook-secret-12"}):
            response = client.post("/telegram/webhook", json=update, headers=headers)
            assert response.status_code == 403
        assert telegram.updates == []
        ok = client.post("/telegram/webhook", json=update,
                         headers={"X-Telegram-Bot-Api-Secret-Token": "hook-secret-123"})
        assert ok.status_code == 200
    assert telegram.updates == [update]
    with TestClient(make_app(telegram=FakeTelegram(secret=""))) as client:
        assert client.post("/telegram/webhook", json=update,
                           headers={"X-Telegram-Bot-Api-Secret-Token": ""}).status_code == 403


def test_healthz_asks_the_store(client: TestClient, conversations: Conversations) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    conversations.store.close()
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json() == {"status": "unavailable"}


def test_metrics_count_turns_answers_and_checks(make_app: AppFactory) -> None:
    with TestClient(make_app(policy=CheckPolicy(allow_private=False))) as client:
        session = start(client, {"lang": "en"})["session"]
        say(client, session, {"text": ERROR_535})
        say(client, session, {"text": "tell me a joke about cats"})
        say(client, session, {"button": "menu"})
        client.get("/api/v1/faq", params={"q": "0x800CCC0E"})
        client.post("/api/v1/check", json={"target": "10.0.0.1"})
        text = client.get("/metrics").text
    samples = {name: float(value) for name, value in (
        line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))}
    assert samples['mailhelp_turns_total{kind="open"}'] == 1
    assert samples['mailhelp_turns_total{kind="text"}'] == 2
    assert samples['mailhelp_turns_total{kind="button"}'] == 1
    assert samples['mailhelp_answers_total{result="match"}'] == 1
    assert samples['mailhelp_answers_total{result="no_match"}'] == 1
    assert samples['mailhelp_faq_queries_total{result="match"}'] == 1
    assert samples['mailhelp_checks_total{outcome="refused"}'] == 1
    assert samples['mailhelp_turn_seconds_count'] == 4
    assert samples['mailhelp_turn_seconds_bucket{le="+Inf"}'] == 4
    assert samples["mailhelp_turn_seconds_sum"] > 0
    # The process's own figures come with the client library.
    assert samples["process_open_fds"] > 0 and samples["process_resident_memory_bytes"] > 0


def test_unknown_paths_and_methods_are_json(client: TestClient) -> None:
    missing = client.get("/api/v1/nothing")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong = client.get("/api/v1/sessions")
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"


def test_ping_is_204(live_server: str) -> None:
    response = httpx.get(live_server + "/api/v1/ping")
    assert response.status_code == 204 and response.content == b""
