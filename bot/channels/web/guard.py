"""What browsers are told: the CORS allow-list of embedding sites, and strict security headers.

Only the sites in the allow-list may call the API and load the widget from their pages
(preflight requests included); every other origin gets no CORS header at all. Every
response carries a strict Content-Security-Policy, so our own pages run only the scripts
and styles served from this server, never inline code.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = (
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
)
CORS_PREFIXES = ("/api/",)
CORS_FILES = ("/widget.js",)
ALLOW_METHODS = ("GET", "POST")
ALLOW_HEADERS = ("accept", "accept-language", "authorization", "content-type", "last-event-id")
PREFLIGHT_MAX_AGE = "600"


def cors_path(path: str) -> bool:
    """The paths embedding sites may reach: the API and the widget's script."""
    return path.startswith(CORS_PREFIXES) or path in CORS_FILES


class BrowserGuard:
    """ASGI middleware: CORS for allowed origins on the API and widget, security headers."""

    def __init__(self, app: ASGIApp, origins: Iterable[str]) -> None:
        self.app = app
        self.origins = frozenset(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        cross_site = cors_path(scope["path"])
        allowed = cross_site and origin is not None and origin in self.origins
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(headers, allowed)(scope, receive, send)
            return

        async def send_guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    response_headers.setdefault(name, value)
                if cross_site:
                    response_headers.add_vary_header("Origin")
                if allowed:
                    response_headers["access-control-allow-origin"] = str(origin)
            await send(message)

        await self.app(scope, receive, send_guarded)

    def _preflight(self, headers: Headers, allowed: bool) -> Response:
        method = headers["access-control-request-method"].strip().upper()
        wanted = {h.strip().lower() for h in
                  headers.get("access-control-request-headers", "").split(",") if h.strip()}
        if not allowed or method not in ALLOW_METHODS or not wanted <= set(ALLOW_HEADERS):
            return PlainTextResponse("CORS request not allowed", status_code=403,
                                     headers=dict(SECURITY_HEADERS))
        return Response(status_code=204, headers={
            **dict(SECURITY_HEADERS),
            "access-control-allow-origin": headers["origin"],
            "access-control-allow-methods": ", ".join(ALLOW_METHODS),
            "access-control-allow-headers": ", ".join(ALLOW_HEADERS),
            "access-control-max-age": PREFLIGHT_MAX_AGE,
            "vary": "Origin",
        })
