"""Texts kept as data: YAML sections of entries with an en, ru and it text each.

The discovery and the domain check read their plain-language texts through this, so a
translator edits a YAML file and a missing language is an error at load time.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from typing import Any

import yaml

from bot.yaml_reader import LANGS

DEFAULT_LANG = "en"


class TextsError(Exception):
    """A texts file is malformed; the message says where."""


class _Blank(dict[str, str]):
    # A placeholder the code did not fill shows as "?" rather than breaking the text.
    def __missing__(self, key: str) -> str:
        return "?"


def read_sections(package: str, name: str) -> dict[str, dict[str, dict[str, Any]]]:
    """The file's top-level sections, each mapping keys to entries (mappings)."""
    source = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    data = yaml.safe_load(source)
    if not isinstance(data, dict):
        raise TextsError(f"{name}: expected a mapping at the top")
    for section, entries in data.items():
        if not isinstance(entries, dict) or not all(isinstance(e, dict) for e in entries.values()):
            raise TextsError(f"{name}: '{section}' must map keys to entries")
    return data


def localized(entry: Mapping[str, Any], where: str) -> dict[str, str]:
    """The entry's text in every language; TextsError names a missing one."""
    texts: dict[str, str] = {}
    for lang in LANGS:
        text = entry.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise TextsError(f"{where}: missing the '{lang}' text")
        texts[lang] = text.strip()
    return texts


def fill(texts: Mapping[str, str], lang: str, params: Mapping[str, str]) -> str:
    """The text in `lang` (else English) with its {placeholders} filled."""
    return (texts.get(lang) or texts[DEFAULT_LANG]).format_map(_Blank(params))
