"""A fake Telegram Bot API on loopback: scripted updates in, every call recorded.

It speaks the real wire format (form-encoded parameters in, `{"ok": ..., "result": ...}`
out), so the bot under test runs python-telegram-bot's own HTTP stack unchanged.
getUpdates hands out scripted updates, then answers empty after a short wait, as the real
long poll does when nothing happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

TOKEN = "123456:TEST-token"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Mailhelp", "username": "mailhelp_bot"}
EMPTY_POLL_SECONDS = 0.2
_DESCRIPTIONS = {400: "Bad Request: query is too old", 401: "Unauthorized",
                 502: "Bad Gateway"}  # how long an empty getUpdates waits for an update to arrive


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]
    status: int  # the HTTP status the fake answered with

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def chat_id(self) -> int | None:
        chat = self.params.get("chat_id")
        return int(chat) if chat is not None else None

    @property
    def buttons(self) -> list[list[dict[str, str]]]:
        """The inline keyboard's rows of {"text", "callback_data"}."""
        markup = self.params.get("reply_markup") or {}
        return list(markup.get("inline_keyboard", []))

    @property
    def values(self) -> list[str]:
        return [button["callback_data"] for row in self.buttons for button in row]


class FakeBotApi:
    """The server; `base_url` is what the bot is built with."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._updates: list[dict[str, Any]] = []
        self._failures: dict[str, list[int]] = {}
        self._changed = threading.Condition()
        self._stalled: set[str] = set()
        self._resumed = threading.Event()
        self._resumed.set()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/bot"

    @contextmanager
    def running(self) -> Iterator[FakeBotApi]:
        thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join(timeout=5)

    # --- scripting ----------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates; it gets the next update_id."""
        update = {"update_id": next(self._update_ids), **update}
        with self._changed:
            self._updates.append(update)
            self._changed.notify_all()
        return update

    def fail(self, method: str, *statuses: int) -> None:
        """Answer the next calls of `method` with these HTTP error statuses, in order."""
        with self._changed:
            self._failures.setdefault(method, []).extend(statuses)

    def stall(self, method: str) -> None:
        """Hold calls of `method` unanswered until resume(), as an unreachable Telegram."""
        self._stalled.add(method)
        self._resumed.clear()

    def resume(self) -> None:
        self._stalled.clear()
        self._resumed.set()

    def mark(self) -> int:
        with self._changed:
            return len(self.calls)

    def since(self, mark: int, method: str | None = None) -> list[Call]:
        with self._changed:
            calls = self.calls[mark:]
        return [c for c in calls if method is None or c.method == method]

    async def wait_for(self, found: Callable[[list[Call]], bool], mark: int = 0,
                       timeout: float = 15.0) -> list[Call]:
        """The calls since `mark` once `found` holds for them; AssertionError after timeout."""
        await eventually(lambda: found(self.since(mark)), timeout, lambda: [
            (c.method, c.text[:60]) for c in self.since(mark) if c.method != "getUpdates"])
        return self.since(mark)

    # --- the API ------------------------------------------------------------------------

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method in self._stalled:
            self._resumed.wait(timeout=30)
        with self._changed:
            failures = self._failures.get(method)
            status = failures.pop(0) if failures else 200
        if method == "getUpdates":
            result: Any = self._take_updates(params)
        else:
            result = self._result(method, params)
        with self._changed:
            self.calls.append(Call(method, params, status))
        if status != 200:
            return status, {"ok": False, "error_code": status,
                            "description": _DESCRIPTIONS.get(status, "Error")}
        return 200, {"ok": True, "result": result}

    def _take_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), EMPTY_POLL_SECONDS)
        with self._changed:
            self._changed.wait_for(lambda: any(u["update_id"] >= offset for u in self._updates),
                                   timeout=wait)
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            return list(self._updates)

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in ("sendMessage", "editMessageText"):
            chat = {"id": int(params["chat_id"]), "type": "private", "first_name": "T"}
            message_id = (int(params["message_id"]) if "message_id" in params
                          else next(self._message_ids))
            return {"message_id": message_id, "date": int(time.time()), "chat": chat,
                    "from": BOT_USER, "text": params.get("text", "")}
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        return True  # answerCallbackQuery, setWebhook, deleteWebhook, sendChatAction


async def eventually(condition: Callable[[], bool], timeout: float = 15.0,
                     shown: Callable[[], object] = lambda: None) -> None:
    """Wait, letting the bot run, until `condition` holds; AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"the bot did not do what was expected: {shown()}")
        await asyncio.sleep(0.01)


def _handler_for(api: FakeBotApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the real API
        disable_nagle_algorithm = True  # headers and body are separate writes

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8")
            status, payload = api.answer(self.path.rsplit("/", 1)[-1], _parameters(
                body, self.headers.get("Content-Type", "")))
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            # A long poll the bot gave up on while stopping has nobody left to read it.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the calls are recorded instead."""

    return Handler


def _parameters(body: str, content_type: str) -> dict[str, Any]:
    """Form-encoded parameters; objects and lists (reply_markup, allowed_updates) decoded."""
    if content_type.startswith("application/json"):
        return dict(json.loads(body or "{}"))
    return {key: json.loads(value) if value[:1] in ("{", "[") else value
            for key, value in parse_qsl(body, keep_blank_values=True)}


# --- updates as Telegram sends them ---------------------------------------------------


def user(chat_id: int, lang: str) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "Tester", "language_code": lang}


def message(chat_id: int, text: str, lang: str = "en") -> dict[str, Any]:
    """A private-chat text message; a leading /command carries its bot_command entity."""
    body: dict[str, Any] = {
        "message_id": chat_id % 1000 + len(text), "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": "Tester"},
        "from": user(chat_id, lang), "text": text}
    if text.startswith("/"):
        body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"message": body}


def press(chat_id: int, data: str, lang: str = "en",
          query_id: str = "") -> dict[str, Any]:
    """A button pressed under one of the bot's messages."""
    return {"callback_query": {
        "id": query_id or f"q-{chat_id}-{data}", "from": user(chat_id, lang),
        "chat_instance": str(chat_id), "data": data,
        "message": {"message_id": 1, "date": int(time.time()), "from": BOT_USER,
                    "chat": {"id": chat_id, "type": "private", "first_name": "Tester"},
                    "text": "earlier"}}}
