"""SPF (RFC 7208) read the way receivers read it: one record, known terms, at most 10 lookups.

Includes and redirects are followed (each level asked at once) to count every DNS
lookup the record costs; following stops as soon as the limit is passed, so a record
built to explode costs a bounded number of questions.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from dataclasses import dataclass

from bot.dnsclient import DnsClient

MAX_LOOKUPS = 10
_LOOKUP_MECHANISMS = ("include", "a", "mx", "ptr", "exists")
_MECHANISMS = (*_LOOKUP_MECHANISMS, "all", "ip4", "ip6")
_TERM = re.compile(r"([+\-~?]?)([a-z0-9]+)([:/=].*)?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SpfRecord:
    text: str
    all: str | None  # the final all with its qualifier ("-all", "~all", ...)
    targets: tuple[str, ...]  # include: and redirect= names, followed for the count
    lookups: int  # lookups this record itself costs
    bad_term: str | None


@dataclass(frozen=True, slots=True)
class SpfVerdict:
    record: SpfRecord
    lookups: int
    missing_include: str | None


def spf_records(texts: tuple[str, ...]) -> list[str]:
    return [t for t in texts if t.lower() == "v=spf1" or t.lower().startswith("v=spf1 ")]


def parse_spf(text: str) -> SpfRecord:
    final_all: str | None = None
    targets: list[str] = []
    lookups = 0
    for term in text.split()[1:]:
        match = _TERM.fullmatch(term)
        if match is None:
            return SpfRecord(text, final_all, tuple(targets), lookups, term)
        qualifier, name, rest = match.group(1), match.group(2).lower(), match.group(3) or ""
        if rest.startswith("="):
            if name == "redirect":
                targets.append(rest[1:].lower().rstrip("."))
                lookups += 1
            continue  # exp= and unknown modifiers are allowed and ignored
        if name not in _MECHANISMS or not _valid_argument(name, rest):
            return SpfRecord(text, final_all, tuple(targets), lookups, term)
        if name == "all":
            final_all = (qualifier or "+") + "all"
        elif name in _LOOKUP_MECHANISMS:
            lookups += 1
            if name == "include":
                targets.append(rest[1:].lower().rstrip("."))
    return SpfRecord(text, final_all, tuple(targets), lookups, None)


def _valid_argument(name: str, rest: str) -> bool:
    if name in ("ip4", "ip6"):
        try:
            network = ipaddress.ip_network(rest[1:], strict=False)
        except ValueError:
            return False
        return network.version == (4 if name == "ip4" else 6)
    if name == "all":
        return rest == ""
    if name in ("include", "exists"):
        return rest.startswith(":") and len(rest) > 1
    return True


async def evaluate(record: SpfRecord, dns: DnsClient) -> SpfVerdict:
    """The record's total lookup count, following includes and redirects level by level."""
    total = record.lookups
    seen: set[str] = set()
    level = list(record.targets)
    while level and total <= MAX_LOOKUPS:
        names = [n for n in dict.fromkeys(level) if n not in seen and "%" not in n]
        seen.update(names)
        answers = await asyncio.gather(*(dns.txt(name) for name in names))
        level = []
        for name, answer in zip(names, answers, strict=True):
            found = spf_records(answer.records)
            if not found:
                return SpfVerdict(record, total, name)
            included = parse_spf(found[0])
            total += included.lookups
            level += included.targets
    return SpfVerdict(record, total, None)
