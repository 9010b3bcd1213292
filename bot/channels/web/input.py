"""Reading what a web client sends, trusting none of it: bounded JSON bodies, checked fields.

Every problem becomes an ApiError that names the field; the app answers it as a 4xx JSON
object. Nothing a client sends reaches the engine before it has passed through here.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

from starlette.requests import Request

from bot.kb import LANGS

MAX_BODY_BYTES = 16 * 1024
MAX_TEXT_CHARS = 4000
_MAX_NAME_CHARS = 64  # of a client's field name echoed back in an error
_MAX_ACCEPT_LANGUAGE = 512


class ApiError(Exception):
    """A request the API refuses: HTTP status, an error code, the field, a message."""

    def __init__(self, status: int, error: str, message: str, field: str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.field = field
        self.headers = dict(headers or {})

    def as_json(self) -> dict[str, str]:
        body = {"error": self.error, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


def bad(field: str, message: str) -> NoReturn:
    raise ApiError(400, "bad_request", message, field=field)


def too_large(limit: int) -> ApiError:
    return ApiError(413, "too_large", f"the body may have at most {limit} bytes", field="body")


async def read_json(request: Request, limit: int = MAX_BODY_BYTES,
                    empty_ok: bool = False) -> dict[str, Any]:
    """The request's body as a JSON object, read only as far as `limit` bytes.

    A declared Content-Length over the limit is refused before anything is read; a body
    without one is counted while it streams in. `empty_ok`: no body at all means {}.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):
            bad("content-length", "Content-Length must be a number of bytes")
        if int(declared) > limit:
            raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw and empty_ok:
        return {}
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json",
                       field="content-type")
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        # RecursionError: thousands of nested brackets fit in a small body.
        bad("body", "the body is not valid UTF-8 JSON")
    if not isinstance(body, dict):
        bad("body", "the body must be a JSON object")
    return body


def only_fields(body: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Refuse a field the endpoint does not know (a typo would otherwise pass silently)."""
    known = set(allowed)
    for name in body:
        if name not in known:
            bad(printable(name), f"unknown field; expected one of: {', '.join(sorted(known))}")


def text_field(body: Mapping[str, Any], field: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    """A required, non-blank string of at most `max_chars` characters."""
    if field not in body or body[field] is None:
        bad(field, "this field is required")
    return checked_text(body[field], field, max_chars)


def checked_text(value: object, field: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    if not isinstance(value, str):
        bad(field, "must be a string")
    if not value.strip():
        bad(field, "must not be empty")
    if len(value) > max_chars:
        bad(field, f"may have at most {max_chars} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which JSON's \\u escapes let through
        bad(field, "is not valid Unicode text")
    return value


def lang_field(value: object, field: str = "lang") -> str | None:
    """A language code of ours, or None when absent."""
    if value is None:
        return None
    if not isinstance(value, str) or value not in LANGS:
        bad(field, f"unknown language; use one of: {', '.join(LANGS)}")
    return value


def query(request: Request, allowed: Iterable[str]) -> dict[str, str]:
    """The query parameters, each at most once and each one the endpoint knows."""
    known = set(allowed)
    params: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name not in known:
            bad(printable(name), f"unknown parameter; expected one of: {', '.join(sorted(known))}")
        if name in params:
            bad(name, "given more than once")
        params[name] = value
    return params


def accept_language(header: str) -> str | None:
    """The client's most wanted language among ours (Accept-Language), or None."""
    best, best_q = None, 0.0
    for part in header[:_MAX_ACCEPT_LANGUAGE].split(","):
        tag, _sep, params = part.partition(";")
        lang = tag.strip().lower().partition("-")[0]
        quality = 1.0
        params = params.strip().lower()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        if lang in LANGS and quality > best_q:
            best, best_q = lang, quality
    return best


def wants_json(accept: str) -> bool:
    """True when Accept asks for application/json and not for an event stream."""
    types = {part.partition(";")[0].strip().lower() for part in accept.split(",")}
    return "application/json" in types and "text/event-stream" not in types


def client_address(request: Request) -> str:
    """Who is asking, for rate limits: the peer, or the proxy's word when the peer is local.

    X-Forwarded-For is believed only from a loopback peer (a reverse proxy on this host),
    and only its last entry, the one the proxy itself added: earlier entries are whatever
    the client wrote. IPv6 clients count by /64, the block one subscriber usually holds.
    """
    peer = request.client.host if request.client else ""
    address = _ip(peer)
    if address is not None and address.is_loopback:
        forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
        last = _ip(forwarded.rpartition(",")[2].strip()) if forwarded else None
        address = last or address
    if address is None:
        return peer or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def printable(name: str) -> str:
    """A client's field name, safe to echo back: short and valid UTF-8."""
    return name[:_MAX_NAME_CHARS].encode("utf-8", "replace").decode("utf-8")


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")
