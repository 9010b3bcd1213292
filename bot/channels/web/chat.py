"""The chat and FAQ endpoints of the JSON API: requests become engine events, replies JSON.

Conversations started here are stored under "web:" + the id the client holds, so no
request can reach a conversation another channel keeps in the same store.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.answer import provider_settings, render_topic
from bot.channels.web.input import (
    ApiError,
    accept_language,
    bad,
    checked_text,
    client_address,
    lang_field,
    only_fields,
    query,
    read_json,
    text_field,
)
from bot.channels.web.metrics import WebMetrics
from bot.check import CheckLimiter, CheckRefused
from bot.conversation import Conversations, UnknownSession
from bot.dialog import COMMANDS, Command, Event, Press, Reply, Text
from bot.flows import BUTTON_VALUE
from bot.kb import LANGS, Provider, Topic
from bot.redis_store import StoreUnavailable
from bot.store import SQLiteSessionStore

T = TypeVar("T")
log = logging.getLogger(__name__)

WEB_PREFIX = "web:"
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
HEALTH_PROBE_ID = WEB_PREFIX + "healthz"  # never a conversation: too short for SESSION_ID
STORE_THREADS = 4  # for a store that can run turns in parallel
MAX_BUTTON_BYTES = 64
MAX_MATCHES = 10
MAX_ARG_CHARS = 320  # /check's argument: an address, 64 + @ + 255, and a port
_LANGUAGE_COMMANDS = ("start", "language")  # the commands whose argument is a language
_ARG_COMMANDS = ("check",)  # the commands whose argument is free text
RETRY_AFTER_OUTAGE = "5"  # seconds a client waits while the session store is away
# While the store is away, one request in this many seconds tries it; the others are
# answered 503 at once instead of queueing behind its timeouts (a frozen Redis: 6 s each).
OUTAGE_PROBE_SECONDS = 2.0


class ChatApi:
    """The conversation endpoints, and the FAQ lookup behind the agents' page."""

    def __init__(self, conversations: Conversations, metrics: WebMetrics,
                 new_sessions: CheckLimiter, agent_token: str = "") -> None:
        self.conversations = conversations
        self.metrics = metrics
        self.new_sessions = new_sessions
        self.agent_token = agent_token
        self._outage = False  # the store failed and has not answered since
        self._next_try = 0.0  # during an outage, when the store may be tried again
        # The store is synchronous. A SQLite turn (a fraction of a millisecond, no fsync
        # with synchronous=NORMAL) runs on the event loop: a thread hand-over and the GIL
        # cost more than the turn itself (2,300 turns/s inline against 1,500 in a thread).
        # Redis turns wait on the network, so they run in a few threads of their own.
        self._inline = isinstance(conversations.store, SQLiteSessionStore)
        self._threads = ThreadPoolExecutor(STORE_THREADS, thread_name_prefix="mailhelp-store")

    async def _store_call(self, call: Callable[..., T], *args: Any) -> T:
        """A store call; a store that is away is a 503 to retry, logged once per outage."""

        def attempt() -> T:
            # Checked when the call starts: calls queued behind a failing one fail at once.
            if self._outage and time.monotonic() < self._next_try:
                raise store_away()
            return call(*args)

        try:
            if self._inline:
                result = attempt()
            else:
                result = await asyncio.get_running_loop().run_in_executor(self._threads, attempt)
        except StoreUnavailable as error:
            if not self._outage:
                log.warning("the session store is unavailable: %s", error)
            self._outage = True
            self._next_try = time.monotonic() + OUTAGE_PROBE_SECONDS
            raise store_away() from None
        if self._outage:
            log.warning("the session store answers again")
            self._outage = False
        return result

    async def store_answers(self) -> bool:
        """Whether the session store answers a read (for the health check)."""
        try:
            await self._store_call(self.conversations.store.get, HEALTH_PROBE_ID)
        except ApiError:  # an outage, logged once by _store_call
            return False
        except Exception as exc:  # whatever else the store's driver raises means "unhealthy"
            log.warning("health check: the session store failed: %s", type(exc).__name__)
            return False
        return True

    async def open_session(self, request: Request) -> JSONResponse:
        body = await read_json(request, empty_ok=True)
        only_fields(body, ("lang", "hint"))
        lang = lang_field(body.get("lang"))
        hint = lang_field(body.get("hint"), "hint") or accept_language(
            request.headers.get("accept-language", ""))
        try:
            self.new_sessions.admit(client_address(request))
        except CheckRefused as refused:
            self.metrics.turns.labels("open_refused").inc()
            raise ApiError(429, "rate_limited", "too many new conversations from this "
                           "address; try again later",
                           headers={"Retry-After": refused.params.get("seconds", "60")},
                           ) from None
        public_id = secrets.token_urlsafe(16)
        started = time.perf_counter()
        _stored_id, replies = await self._store_call(
            self.conversations.open, lang, hint, WEB_PREFIX + public_id)
        self.metrics.turns.labels("open").inc()
        self.metrics.turn_seconds.observe(time.perf_counter() - started)
        return JSONResponse({"session": public_id, "replies": replies_json(replies)})

    async def send_message(self, request: Request) -> JSONResponse:
        public_id = request.path_params["session"]
        if not SESSION_ID.fullmatch(public_id):
            raise unknown_session()
        kind, event = read_event(await read_json(request))
        started = time.perf_counter()
        try:
            turn = await self._store_call(self.conversations.turn, WEB_PREFIX + public_id, event)
        except UnknownSession:
            raise unknown_session() from None
        self.metrics.turns.labels(kind).inc()
        if kind == "text":
            self.metrics.answers.labels("no_match" if turn.unanswered else "match").inc()
        self.metrics.turn_seconds.observe(time.perf_counter() - started)
        return JSONResponse({"replies": replies_json(turn.replies)})

    async def faq(self, request: Request) -> JSONResponse:
        params = query(request, ("q", "lang", "n", "token"))
        self._authorize(request, params.get("token", ""))
        if "q" not in params:
            bad("q", "this parameter is required")
        text = checked_text(params["q"], "q")
        lang = lang_field(params.get("lang") or None)
        n = _count(params.get("n", "3"), "n", MAX_MATCHES)
        result = self.conversations.engine.matcher.match(text, n=n, lang=lang)
        outcome = "match" if result.matches else "suggestion" if result.suggestions else "no_match"
        self.metrics.faq.labels(outcome).inc()
        return JSONResponse(result.as_json())

    async def topic(self, request: Request) -> JSONResponse:
        params = query(request, ("lang", "provider", "token"))
        self._authorize(request, params.get("token", ""))
        knowledge = self.conversations.engine.knowledge
        topic = knowledge.topics.get(request.path_params["topic"])
        if topic is None:
            raise ApiError(404, "unknown_topic", "no topic with that id", field="topic")
        lang = lang_field(params.get("lang") or None) or "en"
        provider = None
        if params.get("provider"):
            provider = knowledge.providers.get(params["provider"])
            if provider is None:
                bad("provider", "unknown provider id")
        return JSONResponse(topic_json(topic, lang, provider))

    def _authorize(self, request: Request, token: str) -> None:
        """With an agent token configured: the same token as a Bearer header or ?token=."""
        if not self.agent_token:
            return
        scheme, _sep, credentials = request.headers.get("authorization", "").partition(" ")
        offered = credentials.strip() if scheme.lower() == "bearer" else token
        if not hmac.compare_digest(offered.encode(), self.agent_token.encode()):
            raise ApiError(401, "unauthorized", "this server needs the agents' access token",
                           field="token", headers={"WWW-Authenticate": 'Bearer realm="mailhelp"'})


def read_event(body: dict[str, Any]) -> tuple[str, Event]:
    """One of {"text"}, {"button"}, {"command", "arg"?} as an event, and its kind."""
    only_fields(body, ("text", "button", "command", "arg"))
    given = [name for name in ("text", "button", "command") if name in body]
    if len(given) != 1:
        bad("body", "send exactly one of: text, button, command")
    if "arg" in body and given != ["command"]:
        bad("arg", "goes only with command")
    if given == ["text"]:
        return "text", Text(text_field(body, "text"))
    if given == ["button"]:
        value = text_field(body, "button", MAX_BUTTON_BYTES)
        if not BUTTON_VALUE.fullmatch(value):
            bad("button", f"a button value is 1 to {MAX_BUTTON_BYTES} ASCII letters, digits "
                "and . : _ -, as the bot's buttons carry")
        return "button", Press(value)
    name = body["command"]
    if name not in COMMANDS:
        bad("command", f"unknown command; use one of: {', '.join(COMMANDS)}")
    arg = body.get("arg")
    if arg is None:
        arg = ""
    elif not isinstance(arg, str):
        bad("arg", "must be a string")
    if name in _LANGUAGE_COMMANDS:
        if arg not in ("", *LANGS):
            bad("arg", f"unknown language; use one of: {', '.join(LANGS)}")
    elif name in _ARG_COMMANDS:
        if arg:
            arg = checked_text(arg, "arg", MAX_ARG_CHARS)
    elif arg:
        bad("arg", f"/{name} takes no argument")
    return "command", Command(name, arg)


def replies_json(replies: tuple[Reply, ...]) -> list[dict[str, Any]]:
    return [
        {
            "text": reply.text,
            "buttons": [{"label": b.label, "value": b.value} for b in reply.buttons],
            "actions": [{"kind": a.kind, "target": a.target, "lang": a.lang,
                         "transcript": [{"from": who, "text": text} for who, text in a.transcript]}
                        for a in reply.actions],
        }
        for reply in replies
    ]


def topic_json(topic: Topic, lang: str, provider: Provider | None) -> dict[str, Any]:
    """A topic for the agents' page: its steps (the provider's variant), the whole answer
    as text to paste, and the provider's settings."""
    return {
        "id": topic.id,
        "title": topic.title[lang],
        "steps": list(topic.steps_for(lang, provider.id if provider else None)),
        "answer": render_topic(topic, lang, provider),
        "settings": provider_settings(provider).as_json(lang) if provider else None,
    }


def store_away() -> ApiError:
    return ApiError(503, "unavailable", "conversations are unavailable for a moment; try "
                    "again shortly", headers={"Retry-After": RETRY_AFTER_OUTAGE})


def unknown_session() -> ApiError:
    return ApiError(404, "unknown_session",
                    "no conversation with that id (it may have expired); start a new one",
                    field="session")


def _count(text: str, field: str, highest: int) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 4) or not 1 <= int(text) <= highest:
        bad(field, f"must be a whole number from 1 to {highest}")
    return int(text)


def _flag(text: str, field: str) -> bool:
    if text not in ("0", "1", "true", "false"):
        bad(field, "must be 0 or 1")
    return text in ("1", "true")
