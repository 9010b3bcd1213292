"""The discovery rules as data: knowledge/mail-hosting.yaml read and checked.

MX patterns name a hosting service (a knowledge-base provider or its own servers); the
autoconfig URLs, the guessed servers and the domain check's DKIM selectors are listed
in the same file, so an editor (or a test) changes them without touching Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from bot.kb import KnowledgeError, Server, default_root, read_server
from bot.yaml_reader import Node, Problem, Reader, read_yaml

FILE = "mail-hosting.yaml"
_SELECTOR = re.compile(r"[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?")


@dataclass(frozen=True, slots=True)
class Hosting:
    """A mail hosting service: the MX names that reveal it, and its servers."""

    id: str
    name: str
    mx: tuple[str, ...]
    provider: str | None
    servers: tuple[Server, ...]
    sources: tuple[str, ...]

    def serves(self, mx_host: str) -> bool:
        return any(fnmatchcase(mx_host, pattern) for pattern in self.mx)


@dataclass(frozen=True, slots=True)
class DiscoveryRules:
    hosting: tuple[Hosting, ...]
    autoconfig: tuple[str, ...]
    guesses: tuple[Server, ...]
    dkim_selectors: tuple[str, ...]

    def hosting_for(self, mx_hosts: tuple[str, ...]) -> tuple[Hosting, str] | None:
        """The first hosting service serving one of the MX hosts (best first), and that host."""
        for host in mx_hosts:
            for hosting in self.hosting:
                if hosting.serves(host):
                    return hosting, host
        return None


def check_rules(root: Path, providers: set[str] | None
                ) -> tuple[DiscoveryRules | None, list[Problem]]:
    """Read and validate the rules file; the rules only when there is no problem.

    `providers` are the knowledge base's provider ids, None when the providers could not
    be read (their own problems are reported, not every reference to them)."""
    problems: list[Problem] = []
    node = read_yaml(root / FILE, FILE, problems)
    if node is None:
        return None, problems
    r = Reader(FILE, problems)
    r.unknown_keys(node, {"id", "hosting", "autoconfig", "guesses", "dkim_selectors"})
    hosting: list[Hosting] = []
    for item in r.get(node, "hosting", list) or []:
        entry = _hosting(item, r, providers)
        if entry is not None:
            hosting.append(entry)
    ids = [h.id for h in hosting]
    for duplicate in sorted({i for i in ids if ids.count(i) > 1}):
        r.fail(node.line, f"hosting '{duplicate}' is listed twice")
    urls = r.strings(node, "autoconfig")
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme != "https" or "{domain}" not in parts.netloc:
            r.fail(r.line_of(node, "autoconfig"),
                   f"autoconfig URL '{url}' must be https:// with {{domain}} in the host")
    guesses = _servers(node, "guesses", r)
    selectors = tuple(s.lower() for s in r.strings(node, "dkim_selectors"))
    for selector in selectors:
        if not _SELECTOR.fullmatch(selector):
            r.fail(r.line_of(node, "dkim_selectors"), f"'{selector}' is not a DKIM selector")
    if problems:
        return None, problems
    return DiscoveryRules(tuple(hosting), urls, guesses, selectors), problems


@cache
def load_rules() -> DiscoveryRules:
    """The shipped (or MAILHELP_KNOWLEDGE) rules, read once; KnowledgeError when broken."""
    from bot.kb import load_knowledge

    rules, problems = check_rules(default_root(), set(load_knowledge().providers))
    if rules is None:
        raise KnowledgeError(problems)
    return rules


def _hosting(item: object, r: Reader, providers: set[str] | None) -> Hosting | None:
    if not isinstance(item, Node):
        r.fail(0, "each hosting entry must be a mapping")
        return None
    r.unknown_keys(item, {"id", "name", "provider", "mx", "servers", "sources"})
    hosting_id, name = r.text(item, "id"), r.text(item, "name")
    provider = r.text(item, "provider", required=False)
    servers = _servers(item, "servers", r, required=False)
    if provider is not None and providers is not None and provider not in providers:
        r.fail(r.line_of(item, "provider"), f"no provider '{provider}' in providers/")
    if (provider is None) == (not servers):
        r.fail(item.line, "a hosting entry needs either 'provider' or 'servers', not both")
    mx = tuple(p.lower() for p in r.strings(item, "mx"))
    sources = r.strings(item, "sources")
    if hosting_id is None or name is None or not mx:
        return None
    return Hosting(hosting_id, name, mx, provider, servers, sources)


def _servers(node: Node, key: str, r: Reader, required: bool = True) -> tuple[Server, ...]:
    servers = []
    for item in r.get(node, key, list, required=required) or []:
        server = read_server(item, r, r.line_of(node, key))
        if server is not None:
            servers.append(server)
    return tuple(servers)
