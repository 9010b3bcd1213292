"""Mozilla autoconfig (config-v1.1.xml): fetched under the SSRF guard, parsed without DTDs.

The XML is read with expat directly and any document type declaration is refused, so
entity tricks (the "billion laughs", external entities) never expand. Only the
incoming and outgoing servers are read; their hosts and ports are checked like any
other server a person would be told to use.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from xml.parsers import expat

from bot.check.errors import CheckRefused
from bot.check.settings import CheckPolicy
from bot.discover.fetch import FetchError, fetch_https
from bot.discover.found import Found, valid_host
from bot.dnsclient import DnsClient
from bot.kb import Server

SOCKET_TYPES = {"SSL": "ssl", "STARTTLS": "starttls", "plain": "none"}
SERVER_TYPES = {"imap": "imap", "pop3": "pop3", "smtp": "smtp"}
_FIELDS = ("hostname", "port", "socketType")
# Failures that only mean "this domain publishes no autoconfig file".
_ABSENT = ("dns_failed", "http_status", "connect_failed")


class AutoconfigError(FetchError):
    """The document is not a usable autoconfig file."""


@dataclass
class _Entry:
    kind: str
    values: dict[str, str] = field(default_factory=dict)


async def autoconfig_servers(domain: str, urls: tuple[str, ...], policy: CheckPolicy,
                             dns: DnsClient, timeout: float) -> Found | None:
    """The servers of the first autoconfig URL (in the rules' order) that gives a usable
    file; all URLs are asked at once.

    A refusal by the SSRF guard (CheckRefused) is raised first: the domain pointed at a
    place the bot may not go; then a bounded failure (too large, too slow, a DTD...).
    A URL that is simply not there is no failure.
    """
    urls_for_domain = [template.replace("{domain}", domain) for template in urls]
    outcomes = await asyncio.gather(
        *(_servers_at(url, domain, policy, dns, timeout) for url in urls_for_domain),
        return_exceptions=True)
    failures: list[BaseException] = []
    for url, outcome in zip(urls_for_domain, outcomes, strict=True):
        if isinstance(outcome, tuple):
            return Found("autoconfig", outcome, via=url)
        failures.append(outcome)
    refusal = next((f for f in failures if isinstance(f, CheckRefused)), None)
    if refusal is not None:
        raise refusal
    for failure in failures:
        if not (isinstance(failure, FetchError) and failure.code in _ABSENT):
            raise failure
    return None


async def _servers_at(url: str, domain: str, policy: CheckPolicy, dns: DnsClient,
                      timeout: float) -> tuple[Server, ...]:
    return parse_autoconfig(await fetch_https(url, policy, dns, timeout=timeout), domain)


def parse_autoconfig(body: bytes, domain: str) -> tuple[Server, ...]:
    """The servers an autoconfig document lists, implicit TLS first; AutoconfigError if none."""
    entries: list[_Entry] = []
    path: list[str] = []

    def refuse_dtd(*_args: object) -> None:
        raise AutoconfigError("xml_dtd", "the document declares a DTD or entities")

    def start(name: str, attrs: dict[str, str]) -> None:
        path.append(name)
        if name in ("incomingServer", "outgoingServer") and len(path) == 3:
            entries.append(_Entry(attrs.get("type", "")))

    def end(name: str) -> None:
        path.pop()

    def text(data: str) -> None:
        if len(path) == 4 and path[-1] in _FIELDS and entries:
            entry = entries[-1]
            entry.values[path[-1]] = entry.values.get(path[-1], "") + data

    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise AutoconfigError("xml_invalid", f"not well-formed XML: {exc}") from None
    servers = [s for s in (_server(e, domain) for e in entries) if s is not None]
    if not servers:
        raise AutoconfigError("xml_no_servers", "the document lists no usable server")
    order = {"ssl": 0, "starttls": 1, "none": 2}
    return tuple(sorted(servers, key=lambda s: (s.protocol != "imap", s.protocol == "smtp",
                                                 order[s.security])))


def _server(entry: _Entry, domain: str) -> Server | None:
    values = {k: v.strip() for k, v in entry.values.items()}
    protocol = SERVER_TYPES.get(entry.kind)
    security = SOCKET_TYPES.get(values.get("socketType", ""))
    host = values.get("hostname", "").replace("%EMAILDOMAIN%", domain).lower()
    port = values.get("port", "")
    if protocol is None or security is None or not valid_host(host):
        return None
    if not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return Server(protocol, host, int(port), security)
