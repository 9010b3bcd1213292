"""Load the knowledge base (knowledge/*.yaml) into typed, immutable models, checking it as it goes.

Every problem is reported with the file and line it comes from, so `mailhelp kb lint`
can point an editor at the exact place to fix. Loading never half-succeeds: a knowledge
base with problems raises KnowledgeError listing all of them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.flows import Flow, check_graph, parse_flow
from bot.topics import Printed, Topic, read_topic
from bot.yaml_reader import (
    LANGS,
    Localized,
    LocalizedList,
    Node,
    Problem,
    Reader,
    read_yaml,
)

__all__ = [
    "LANGS", "Knowledge", "KnowledgeError", "Printed", "Problem", "Provider", "Server", "Topic",
]
PROTOCOLS = ("imap", "pop3", "smtp")
SECURITIES = ("ssl", "starttls", "none")
USERNAME_FORMS = ("address", "local_part")
APP_PASSWORD_RULES = ("always", "with_2fa", "never")

_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9{}]([a-z0-9{}-]*[a-z0-9{}])?\.)*[a-z0-9{}-]+$")
_DOMAIN = re.compile(r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")



class KnowledgeError(Exception):
    """The knowledge base could not be loaded; `problems` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Server:
    protocol: str
    host: str
    port: int
    security: str


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    domains: tuple[str, ...]
    brands: tuple[str, ...]
    servers: tuple[Server, ...]
    username: str
    app_password: str
    app_password_url: str | None
    oauth_only: bool  # mail programs get in only through the provider's sign-in page
    closed: Localized | None  # the mailboxes no longer exist: say so instead of settings
    enable: Localized | None
    trash_days: int | None
    spam_days: int | None
    notes: tuple[Localized, ...]
    legacy: tuple[Localized, ...]
    sources: tuple[str, ...]

    def servers_for(self, domain: str) -> tuple[Server, ...]:
        """The servers with a `{domain}` host template filled in for this address domain."""
        return tuple(
            Server(s.protocol, s.host.replace("{domain}", domain), s.port, s.security)
            for s in self.servers
        )

    def login_for(self, address: str) -> str:
        return address if self.username == "address" else address.partition("@")[0]


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one per load
class Knowledge:
    providers: Mapping[str, Provider]
    topics: Mapping[str, Topic]
    flows: Mapping[str, Flow]  # in main-menu order
    root: Path
    out_of_scope: LocalizedList = field(default_factory=dict)  # questions it must not answer
    _by_domain: Mapping[str, str] = field(repr=False, default_factory=dict)

    def provider_for_domain(self, domain: str) -> Provider | None:
        """The provider of an address domain or host name (its parent domains count too)."""
        labels = domain.lower().strip(".").split(".")
        for i in range(len(labels) - 1):
            pid = self._by_domain.get(".".join(labels[i:]))
            if pid:
                return self.providers[pid]
        return None

    def provider_for_address(self, address: str) -> Provider | None:
        _, at, domain = address.strip().rpartition("@")
        return self.provider_for_domain(domain) if at else None


# --- providers -------------------------------------------------------------------------

_PROVIDER_KEYS = {
    "id", "name", "domains", "brands", "servers", "username", "app_password", "oauth_only",
    "closed", "enable", "retention", "notes", "legacy", "sources",
}


def _provider(node: Node, r: Reader) -> Provider | None:
    r.unknown_keys(node, _PROVIDER_KEYS)
    domains = tuple(d.lower() for d in r.strings(node, "domains"))
    for d in domains:
        if not _DOMAIN.match(d):
            r.fail(r.line_of(node, "domains"), f"'{d}' is not a domain name")
    servers = []
    for item in r.get(node, "servers", list) or []:
        server = read_server(item, r, r.line_of(node, "servers"))
        if server:
            servers.append(server)
    closed = r.localized(node, "closed", required=False)
    if not servers and "servers" in node and closed is None:
        r.fail(r.line_of(node, "servers"), "'servers' lists no server")
    username = r.text(node, "username")
    if username is not None and username not in USERNAME_FORMS:
        r.fail(r.line_of(node, "username"), f"'username' must be one of {USERNAME_FORMS}")
    app = r.get(node, "app_password", dict) or Node()
    required = r.text(app, "required") if app else None
    if required is not None and required not in APP_PASSWORD_RULES:
        r.fail(r.line_of(app, "required"), f"'required' must be one of {APP_PASSWORD_RULES}")
    retention = r.get(node, "retention", dict, required=False) or Node()
    for key in set(retention) - {"trash_days", "spam_days"}:
        r.fail(r.line_of(retention, key), f"unknown retention '{key}'")
    days = {k: r.get(retention, k, int, required=False) for k in ("trash_days", "spam_days")}
    for key, value in days.items():
        if value is not None and not 0 < value <= 3650:
            r.fail(r.line_of(retention, key), f"'{key}' must be 1..3650 days")
    notes = _localized_items(node, "notes", r)
    legacy = _localized_items(node, "legacy", r)
    name = r.text(node, "name")
    oauth_only = r.get(node, "oauth_only", bool, required=False) or False
    enable = r.localized(node, "enable", required=False)
    sources = r.strings(node, "sources")
    if name is None or username is None or required is None:
        return None
    return Provider(
        id=node["id"], name=name, domains=domains,
        brands=tuple(b.lower() for b in r.strings(node, "brands", required=False)),
        servers=tuple(servers), username=username, app_password=required,
        app_password_url=r.text(app, "url", required=False), oauth_only=oauth_only,
        closed=closed, enable=enable,
        trash_days=days["trash_days"], spam_days=days["spam_days"], notes=notes,
        legacy=legacy, sources=sources,
    )


def read_server(item: Any, r: Reader, line: int) -> Server | None:
    if not isinstance(item, Node):
        r.fail(line, "each server must be a mapping {protocol, host, port, security}")
        return None
    r.unknown_keys(item, {"protocol", "host", "port", "security"})
    protocol, host = r.text(item, "protocol"), r.text(item, "host")
    port, security = r.get(item, "port", int), r.text(item, "security")
    ok = True
    if protocol is not None and protocol not in PROTOCOLS:
        r.fail(item.line, f"protocol '{protocol}' must be one of {PROTOCOLS}")
        ok = False
    if security is not None and security not in SECURITIES:
        r.fail(item.line, f"security '{security}' must be one of {SECURITIES}")
        ok = False
    if port is not None and not 1 <= port <= 65535:
        r.fail(item.line, f"port {port} is out of range 1..65535")
        ok = False
    if host is not None and not _HOST.match(host.lower()):
        r.fail(item.line, f"'{host}' is not a host name")
        ok = False
    if not ok or None in (protocol, host, port, security):
        return None
    return Server(protocol, host.lower(), port, security)  # type: ignore[arg-type, union-attr]


def _localized_items(node: Node, key: str, r: Reader) -> tuple[Localized, ...]:
    items = r.get(node, key, list, required=False) or []
    out = []
    for item in items:
        texts = r.localized_value(item, key)
        if texts:
            out.append(texts)
    return tuple(out)


# --- the whole knowledge base ----------------------------------------------------------


def default_root() -> Path:
    """Where the knowledge lives: $MAILHELP_KNOWLEDGE, the installed copy, or the checkout."""
    if env := os.environ.get("MAILHELP_KNOWLEDGE"):
        return Path(env)
    installed = Path(str(resources.files("bot"))) / "knowledge"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / "knowledge"


def check(root: Path) -> tuple[Knowledge | None, list[Problem]]:
    """Read and validate everything under root; the knowledge only when there is no problem."""
    problems: list[Problem] = []
    providers: dict[str, Provider] = {}
    topics: dict[str, Topic] = {}
    flows: dict[str, Flow] = {}
    lines: dict[tuple[str, str], tuple[str, Node]] = {}
    for folder in ("providers", "topics", "flows"):
        paths = sorted((root / folder).glob("*.yaml"))
        if not paths:
            problems.append(Problem(f"{folder}/", 1, f"no {folder} found under {root}"))
        for path in paths:
            rel = f"{folder}/{path.name}"
            node = read_yaml(path, rel, problems)
            if node is None:
                continue
            reader = Reader(rel, problems)
            item: Provider | Topic | Flow | None
            if folder == "providers":
                item = provider = _provider(node, reader)
                if provider:
                    providers[provider.id] = provider
            elif folder == "topics":
                item = topic = read_topic(node, reader)
                if topic:
                    topics[topic.id] = topic
            else:
                item = flow = parse_flow(node, reader)
                if flow:
                    flows[flow.id] = flow
            if item is not None:
                lines[(folder, item.id)] = (rel, node)
    out_of_scope = _out_of_scope(root, problems)
    by_domain = _cross_check(providers, topics, lines, problems)
    for flow in flows.values():
        rel, node = lines[("flows", flow.id)]
        problems += check_graph(flow, flows, topics, rel, node["states"].key_lines)
    if problems:
        return None, problems
    knowledge = Knowledge(
        providers=MappingProxyType(providers), topics=MappingProxyType(topics),
        flows=MappingProxyType(dict(sorted(flows.items(), key=lambda kv: kv[1].order))),
        root=root, out_of_scope=out_of_scope, _by_domain=MappingProxyType(by_domain),
    )
    return knowledge, []


def _out_of_scope(root: Path, problems: list[Problem]) -> LocalizedList:
    """out-of-scope.yaml: examples of questions the base does not answer (optional file)."""
    rel = "out-of-scope.yaml"
    if not (root / rel).is_file():
        return MappingProxyType({})
    node = read_yaml(root / rel, rel, problems)
    if node is None:
        return MappingProxyType({})
    reader = Reader(rel, problems)
    reader.unknown_keys(node, {"id", "examples"})
    return reader.localized_lists(node, "examples")


def _cross_check(
    providers: dict[str, Provider],
    topics: dict[str, Topic],
    lines: dict[tuple[str, str], tuple[str, Node]],
    problems: list[Problem],
) -> dict[str, str]:
    """References between files: provider and topic ids, one owner per domain.

    Returns the index from address domains and server host names to provider ids.
    """
    by_domain: dict[str, str] = {}
    for provider in providers.values():
        rel, node = lines[("providers", provider.id)]
        for domain in provider.domains:
            owner = by_domain.setdefault(domain, provider.id)
            if owner != provider.id:
                problems.append(Problem(rel, node.key_lines["domains"],
                                        f"domain '{domain}' also belongs to '{owner}'"))
    for provider in providers.values():
        for server in provider.servers:
            if "{" not in server.host and not server.host.replace(".", "").isdigit():
                by_domain.setdefault(server.host, provider.id)
    for topic in topics.values():
        rel, node = lines[("topics", topic.id)]
        for pid in topic.variants:
            if pid not in providers:
                problems.append(Problem(rel, node.key_lines["variants"],
                                        f"variant for unknown provider '{pid}'"))
        for tid in topic.related:
            if tid not in topics:
                problems.append(Problem(rel, node.key_lines["related"],
                                        f"related topic '{tid}' does not exist"))
    _one_topic_per_pattern(topics, lines, problems)
    return by_domain


def _one_topic_per_pattern(topics: dict[str, Topic], lines: dict[tuple[str, str], tuple[str, Node]],
                           problems: list[Problem]) -> None:
    """A phrase taught to two topics teaches the matcher neither: say where the twin is."""
    owner: dict[tuple[str, str], str] = {}
    for topic in topics.values():
        for lang, patterns in topic.patterns.items():
            for pattern in patterns:
                first = owner.setdefault((lang, pattern.strip().lower()), topic.id)
                if first != topic.id:
                    rel, node = lines[("topics", topic.id)]
                    problems.append(Problem(rel, node.key_lines["patterns"],
                                            f"pattern '{pattern}' ({lang}) is also one of "
                                            f"'{first}'"))


def load(root: Path | None = None) -> Knowledge:
    """The knowledge base under root (default: default_root()); KnowledgeError if broken."""
    knowledge, problems = check(root or default_root())
    if knowledge is None:
        raise KnowledgeError(problems)
    return knowledge


@cache
def load_knowledge() -> Knowledge:
    """The default knowledge base, loaded once per process."""
    return load()
