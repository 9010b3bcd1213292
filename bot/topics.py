"""Topics as knowledge/topics/*.yaml states them: what people say, what programs print, the answer.

`bot.kb` reads each topic file with `read_topic` while it loads the whole base.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bot.yaml_reader import LANGS, Localized, LocalizedList, Node, Reader

TOPIC_KINDS = ("error", "setup", "recovery", "check")
# Codes as bot.match extracts them: SMTP basic/enhanced, Outlook hex, bracketed response codes.
CODE_FORM = re.compile(r"^([245]\d\d|[245]\.\d{1,3}\.\d{1,3}|0x[0-9a-f]{8}|\[[a-z0-9-]+\])$")


@dataclass(frozen=True)
class Printed:
    """A fragment a mail program or server really prints, in one language, and who prints it."""

    lang: str
    text: str
    program: str


@dataclass(frozen=True)
class Topic:
    id: str
    kind: str
    title: Localized
    codes: tuple[str, ...]
    patterns: LocalizedList
    messages: tuple[Printed, ...]
    steps: LocalizedList
    variants: Mapping[str, LocalizedList]
    related: tuple[str, ...]
    sources: tuple[str, ...]

    def steps_for(self, lang: str, provider: str | None) -> tuple[str, ...]:
        """The answer steps, the provider's own variant when it has one."""
        variant = self.variants.get(provider or "")
        return (variant or self.steps)[lang]


_TOPIC_KEYS = {
    "id", "kind", "title", "codes", "patterns", "messages", "steps", "variants", "related",
    "sources",
}


def _printed(node: Node, r: Reader) -> tuple[Printed, ...]:
    """The `messages` list; every language needs at least one, each naming its program."""
    out = []
    for item in r.get(node, "messages", list, required=False) or []:
        if not isinstance(item, Node):
            r.fail(r.line_of(node, "messages"), "each message must be {lang, text, program}")
            continue
        r.unknown_keys(item, {"lang", "text", "program"})
        lang, text, program = (r.text(item, k) for k in ("lang", "text", "program"))
        if lang is not None and lang not in LANGS:
            r.fail(item.line, f"'lang' must be one of {LANGS}")
        elif lang and text and program:
            out.append(Printed(lang, text, program))
    missing = [lang for lang in LANGS if not any(p.lang == lang for p in out)]
    if missing:
        r.fail(r.line_of(node, "messages"),
               f"'messages' has no message a program prints in {', '.join(missing)}")
    return tuple(out)


def read_topic(node: Node, r: Reader) -> Topic | None:
    r.unknown_keys(node, _TOPIC_KEYS)
    kind = r.text(node, "kind")
    if kind is not None and kind not in TOPIC_KINDS:
        r.fail(r.line_of(node, "kind"), f"'kind' must be one of {TOPIC_KINDS}")
    codes = tuple(str(c).lower() for c in r.strings(node, "codes", required=False))
    for code in codes:
        if not CODE_FORM.match(code):
            r.fail(r.line_of(node, "codes"), f"code '{code}' is not a reply code, an Outlook "
                   "code (0x...) or a bracketed response code")
    variants = {}
    for item in r.get(node, "variants", list, required=False) or []:
        if not isinstance(item, Node):
            r.fail(r.line_of(node, "variants"), "each variant must be {provider, steps}")
            continue
        r.unknown_keys(item, {"provider", "steps"})
        provider = r.text(item, "provider")
        if provider:
            if provider in variants:
                r.fail(item.line, f"two variants for provider '{provider}'")
            variants[provider] = r.localized_lists(item, "steps")
    title = r.localized(node, "title")
    patterns = r.localized_lists(node, "patterns")
    messages = _printed(node, r)
    steps = r.localized_lists(node, "steps")
    sources = r.strings(node, "sources")
    if kind is None or title is None:
        return None
    return Topic(
        id=node["id"], kind=kind, title=title, codes=codes, patterns=patterns,
        messages=messages, steps=steps,
        variants=MappingProxyType(variants),
        related=r.strings(node, "related", required=False), sources=sources,
    )
