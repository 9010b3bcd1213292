"""Discovery's plain-language texts (messages.yaml), read once and checked."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from bot.textdata import fill, localized, read_sections


@cache
def _texts() -> dict[str, dict[str, Mapping[str, str]]]:
    sections = read_sections("bot.discover", "messages.yaml")
    return {name: {key: localized(entry, f"messages.yaml: {name}.{key}")
                   for key, entry in entries.items()}
            for name, entries in sections.items()}


def text(section: str, key: str, lang: str, **params: str) -> str:
    """One text of messages.yaml, in `lang`, placeholders filled."""
    return fill(_texts()[section][key], lang, params)
