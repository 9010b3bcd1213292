"""Fetching one small document over HTTPS under the live check's SSRF guard.

Every host (the first and each redirect's) is resolved once and each of its addresses
vetted by the check's policy before connecting; the connection goes to a vetted
address with the certificate checked against the name. Redirects stay on https and on
the first URL's port (or 443). The whole fetch, redirects included, is bounded in time
and the body in bytes, so a slow drip or an endless answer ends as a FetchError.
"""

from __future__ import annotations

import asyncio
import ssl
from functools import lru_cache
from urllib.parse import quote, urljoin, urlsplit

from bot.check.errors import CheckRefused
from bot.check.policy import vet_addresses
from bot.check.settings import CheckPolicy
from bot.check.target import HostTarget, parse_target
from bot.dnsclient import DnsClient, DnsError

MAX_BODY = 256 * 1024
MAX_HEAD = 16 * 1024
MAX_REDIRECTS = 3
HTTPS_PORT = 443
_PATH_SAFE = "/%=&;:@!$'()*+,~-._"


class FetchError(Exception):
    """The document could not be had: `code` says why (timeout, too_large, http_status...)."""

    def __init__(self, code: str, detail: str) -> None:
        self.code = code
        super().__init__(detail)


async def fetch_https(url: str, policy: CheckPolicy, dns: DnsClient, *,
                      max_body: int = MAX_BODY, timeout: float = 10.0) -> bytes:
    """The body of a 200 answer to GET `url`; CheckRefused when the guard says no."""
    first_port = urlsplit(url).port or HTTPS_PORT
    try:
        async with asyncio.timeout(timeout):
            for _ in range(MAX_REDIRECTS + 1):
                status, location, body = await _get(url, policy, dns, max_body)
                if status == 200:
                    return body
                if status not in (301, 302, 303, 307, 308) or not location:
                    raise FetchError("http_status", f"{url} answered HTTP {status}")
                url = urljoin(url, location)
                parts = urlsplit(url)
                if parts.scheme != "https" or (parts.port or HTTPS_PORT) not in (
                        first_port, HTTPS_PORT):
                    raise FetchError("bad_redirect", f"redirect to {url} leaves https")
            raise FetchError("too_many_redirects", f"more than {MAX_REDIRECTS} redirects")
    except TimeoutError:
        raise FetchError("timeout", f"no complete answer within {timeout:g} s") from None
    except ssl.SSLCertVerificationError as exc:
        raise FetchError("certificate", exc.verify_message or str(exc)) from None
    except OSError as exc:
        raise FetchError("connect_failed", exc.strerror or str(exc)) from None


async def _get(url: str, policy: CheckPolicy, dns: DnsClient,
               max_body: int) -> tuple[int, str | None, bytes]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not host:
        raise FetchError("bad_url", f"{url} is not an https URL")
    addresses = await _addresses(host, dns)
    if not addresses:
        raise FetchError("dns_failed", f"{host} has no address")
    vet_addresses(host, addresses, policy)
    context = _context(policy.cafile)
    reader, writer = await asyncio.open_connection(
        addresses[0], parts.port or HTTPS_PORT, ssl=context, server_hostname=host,
        limit=MAX_HEAD)
    try:
        # Percent-encoded, so a hostile Location cannot add spaces, lines or non-ASCII.
        path = quote(parts.path or "/", safe=_PATH_SAFE) + (
            f"?{quote(parts.query, safe=_PATH_SAFE)}" if parts.query else "")
        authority = host if parts.port is None else f"{host}:{parts.port}"
        # HTTP/1.0: the answer is never chunked and ends when the server closes.
        writer.write(f"GET {path} HTTP/1.0\r\nHost: {authority}\r\n"
                     "User-Agent: mailhelp\r\nAccept: application/xml, text/xml\r\n"
                     "Connection: close\r\n\r\n".encode("ascii"))
        await writer.drain()
        status, headers = await _head(reader)
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > max_body:
            raise FetchError("too_large", f"{url} announces {length} bytes")
        body = b""
        if status == 200:
            body = await reader.read(max_body + 1)
            while body and len(body) <= max_body and (chunk := await reader.read(
                    max_body + 1 - len(body))):
                body += chunk
            if len(body) > max_body:
                raise FetchError("too_large", f"{url} sends more than {max_body} bytes")
        return status, headers.get("location"), body
    finally:
        writer.close()


@lru_cache(maxsize=4)
def _context(cafile: str | None) -> ssl.SSLContext:
    # Loading the trusted certificates takes milliseconds of CPU: once per CA file.
    return ssl.create_default_context(cafile=cafile)


async def _addresses(host: str, dns: DnsClient) -> tuple[str, ...]:
    """A literal IP as itself (the guard judges it next), a name as it resolves."""
    try:
        target = parse_target(host)
    except CheckRefused:
        raise FetchError("bad_url", f"{host} is not a host name or address") from None
    if not isinstance(target, HostTarget):
        raise FetchError("bad_url", f"{host} is not a host name or address")
    if target.is_ip:
        return (target.host,)
    try:
        return (await dns.addresses(target.host)).records
    except DnsError as exc:
        raise FetchError(exc.code, str(exc)) from None


async def _head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise FetchError("too_large", f"headers longer than {MAX_HEAD} bytes") from None
    except asyncio.IncompleteReadError:
        raise FetchError("bad_answer", "the connection closed inside the headers") from None
    if len(head) > MAX_HEAD:
        raise FetchError("too_large", f"headers longer than {MAX_HEAD} bytes")
    lines = head.decode("latin-1").split("\r\n")
    fields = lines[0].split(" ", 2)
    if len(fields) < 2 or not fields[0].startswith("HTTP/") or not fields[1].isdigit():
        raise FetchError("bad_answer", "not an HTTP answer")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return int(fields[1]), headers
