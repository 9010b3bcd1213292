"""The web channel: one ASGI app for the chat API, the live check, the pages and Telegram's webhook.

`create_app` wires the parts together; each endpoint only translates between HTTP and
the engine (chat.py), the live check (check.py), DNS discovery and the domain check
(dns.py) or the files of the pages (files.py).
Requests are distrusted in input.py, browsers guarded in guard.py.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from bot.channels.dns_actions import DnsActions
from bot.channels.web.chat import ChatApi
from bot.channels.web.check import CheckApi
from bot.channels.web.dns import DnsApi
from bot.channels.web.docs import docs_page, schema_for, schema_json
from bot.channels.web.files import StaticFiles
from bot.channels.web.guard import BrowserGuard
from bot.channels.web.input import ApiError, read_json
from bot.channels.web.metrics import CONTENT_TYPE as METRICS_TYPE
from bot.channels.web.metrics import WebMetrics
from bot.check import CheckLimiter, CheckPolicy
from bot.config import Config
from bot.conversation import Conversations

log = logging.getLogger(__name__)

WEBHOOK_MAX_BYTES = 1024 * 1024  # a Telegram update with a long message and its entities
SECRET_HEADER = "x-telegram-bot-api-secret-token"
WEBHOOK_RETRY_AFTER = "10"  # seconds Telegram is asked to wait while updates queue up


class TelegramHook(Protocol):
    """Where Telegram's webhook updates go: the Telegram channel implements this."""

    @property
    def path(self) -> str:
        """The webhook's path on this server, e.g. /telegram/webhook."""
        ...

    @property
    def secret(self) -> str:
        """What Telegram sends in X-Telegram-Bot-Api-Secret-Token."""
        ...

    async def feed(self, update: dict[str, Any]) -> bool:
        """Hand one update to the bot; False when too many wait already (not taken)."""
        ...


def session_policy(config: Config) -> CheckPolicy:
    """How many new conversations one requester may open, for the same kind of limiter
    as the live check's."""
    count, seconds = config.session_rate
    return CheckPolicy(rate_limit=count, rate_window=seconds)


def create_app(
    config: Config,
    conversations: Conversations,
    *,
    limiter: CheckLimiter,
    policy: CheckPolicy,
    telegram: TelegramHook | None = None,
    static_dir: Path | None = None,
    metrics: WebMetrics | None = None,
    session_limiter: CheckLimiter | None = None,
    dns_actions: DnsActions | None = None,
) -> Starlette:
    """The whole web server; `limiter` is the process's one CheckLimiter for live checks,
    `session_limiter` the one for new conversations (default: in this process),
    `dns_actions` the process's discovery (default: one over the configured resolver)."""
    metrics = metrics or WebMetrics()
    new_sessions = session_limiter or CheckLimiter(session_policy(config))
    chat = ChatApi(conversations, metrics, new_sessions, config.agent_token)
    actions = dns_actions or DnsActions.default(config.resolver, config.dnsbl, policy, limiter)
    checks = CheckApi(policy, limiter, metrics, actions)
    dns = DnsApi(actions)
    files = StaticFiles(static_dir)
    schema = schema_for(telegram.path if telegram else None)
    schema_bytes = schema_json(schema)
    page = docs_page(schema)

    async def ping(request: Request) -> Response:
        return Response(status_code=204)

    async def health(request: Request) -> JSONResponse:
        if not await chat.store_answers():
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    async def metrics_text(request: Request) -> Response:
        return Response(metrics.render(), media_type=METRICS_TYPE)

    async def openapi(request: Request) -> Response:
        return Response(schema_bytes, media_type="application/json")

    async def docs(request: Request) -> HTMLResponse:
        return HTMLResponse(page)

    routes = [
        Route("/api/v1/sessions", chat.open_session, methods=["POST"]),
        Route("/api/v1/sessions/{session}/messages", chat.send_message, methods=["POST"]),
        Route("/api/v1/faq", chat.faq, methods=["GET"]),
        Route("/api/v1/topics/{topic}", chat.topic, methods=["GET"]),
        Route("/api/v1/check", checks.check, methods=["POST"]),
        Route("/api/v1/discover", dns.discover, methods=["POST"]),
        Route("/api/v1/domain-check", dns.domain_check, methods=["POST"]),
        Route("/api/v1/ping", ping, methods=["GET"]),
        Route("/healthz", health, methods=["GET"]),
        Route("/metrics", metrics_text, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    if telegram is not None:
        routes.append(Route(telegram.path, webhook_endpoint(telegram), methods=["POST"]))
    routes += [
        Route("/", files.demo, methods=["GET"]),
        Route("/agent", files.agent, methods=["GET"]),
        Route("/widget.js", files.widget, methods=["GET"]),
        Route("/{file}", files.asset, methods=["GET"]),  # last: any other name is a file
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(BrowserGuard, origins=config.cors_origins)],
        exception_handlers={ApiError: api_error, HTTPException: http_error,
                            ClientDisconnect: client_left},
    )


def webhook_endpoint(telegram: TelegramHook) -> Callable[[Request], Awaitable[Response]]:
    """POST of Telegram's updates, taken only with the right secret-token header."""

    async def webhook(request: Request) -> Response:
        offered = request.headers.get(SECRET_HEADER, "")
        if not telegram.secret or not hmac.compare_digest(offered.encode(),
                                                          telegram.secret.encode()):
            raise ApiError(403, "forbidden", "wrong or missing secret token",
                           field=SECRET_HEADER)
        if not await telegram.feed(await read_json(request, limit=WEBHOOK_MAX_BYTES)):
            raise ApiError(503, "busy", "too many updates are waiting; send this one later",
                           headers={"Retry-After": WEBHOOK_RETRY_AFTER})
        return Response(status_code=200)

    return webhook


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.as_json(), status_code=exc.status, headers=exc.headers)


async def client_left(request: Request, exc: Exception) -> Response:
    """A client that went away mid-body: one line, no traceback; nobody reads the answer."""
    # Not the path: it may hold a session id.
    log.info("a client left before sending its whole %s request", request.method)
    return Response(status_code=400)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such path, wrong method) as JSON errors too."""
    assert isinstance(exc, HTTPException)
    error = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse({"error": error, "message": exc.detail}, status_code=exc.status_code,
                        headers=exc.headers)
