"""Read knowledge YAML files with line numbers, collecting problems instead of stopping.

Every value is checked as it is read; what is wrong becomes a Problem naming the file and
line, so an editor sees all mistakes of a file at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

LANGS = ("en", "ru", "it")

Localized = Mapping[str, str]
LocalizedList = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the knowledge base, where it is."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class Node(dict[str, Any]):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int
    key_lines: dict[str, int]


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Node:
        result = Node(super().construct_mapping(node, deep=True))
        result.line = node.start_mark.line + 1
        result.key_lines = {
            str(k.value): k.start_mark.line + 1 for k, _ in node.value if hasattr(k, "value")
        }
        return result


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping
)


class Reader:
    """Typed access to one file's YAML, recording problems instead of failing at the first."""

    def __init__(self, rel: str, problems: list[Problem]) -> None:
        self.rel = rel
        self.problems = problems

    def fail(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.rel, line, message))

    def line_of(self, node: Any, key: str) -> int:
        if isinstance(node, Node):
            return node.key_lines.get(key, node.line)
        return 1

    def get(self, node: Node, key: str, kind: type, required: bool = True) -> Any:
        if key not in node or node[key] is None:
            if required:
                self.fail(node.line, f"missing '{key}'")
            return None
        value = node[key]
        if kind is int and isinstance(value, bool):
            value = None
        if not isinstance(value, kind):
            self.fail(self.line_of(node, key), f"'{key}' must be {_kind_name(kind)}")
            return None
        return value

    def text(self, node: Node, key: str, required: bool = True) -> str | None:
        value = self.get(node, key, str, required)
        if value is not None and not value.strip():
            self.fail(self.line_of(node, key), f"'{key}' is empty")
            return None
        return value  # type: ignore[no-any-return]

    def strings(self, node: Node, key: str, required: bool = True) -> tuple[str, ...]:
        items = self.get(node, key, list, required) or []
        out = []
        for item in items:
            scalar = isinstance(item, (str, int, float)) and not isinstance(item, bool)
            if scalar and str(item).strip():
                out.append(str(item).strip())
                continue
            self.fail(self.line_of(node, key), f"'{key}' must list non-empty texts, got {item!r}")
        return tuple(out)

    def localized(self, node: Node, key: str, required: bool = True) -> Localized | None:
        value = self.get(node, key, dict, required)
        if value is None:
            return None
        return self.localized_value(value, key)

    def localized_value(self, value: Any, what: str) -> Localized | None:
        if not isinstance(value, Node):
            self.fail(1, f"'{what}' must be a mapping of en/ru/it texts")
            return None
        self._check_langs(value, what)
        texts = {}
        for lang in LANGS:
            text = value.get(lang)
            if lang in value and (not isinstance(text, str) or not text.strip()):
                self.fail(self.line_of(value, lang), f"'{what}.{lang}' must be a non-empty text")
            elif isinstance(text, str):
                texts[lang] = text.strip()
        return MappingProxyType(texts) if len(texts) == len(LANGS) else None

    def localized_lists(self, node: Node, key: str, required: bool = True) -> LocalizedList:
        value = self.get(node, key, dict, required)
        if value is None:
            return MappingProxyType({})
        self._check_langs(value, key)
        lists = {}
        for lang in LANGS:
            if lang in value:
                items = self.strings(value, lang)
                if not items:
                    self.fail(self.line_of(value, lang), f"'{key}.{lang}' is empty")
                lists[lang] = items
        return MappingProxyType(lists)

    def _check_langs(self, value: Node, what: str) -> None:
        for lang in LANGS:
            if lang not in value:
                self.fail(value.line, f"'{what}' has no '{lang}' text")
        for extra in set(value) - set(LANGS):
            self.fail(self.line_of(value, extra), f"'{what}' has unknown language '{extra}'")

    def unknown_keys(self, node: Node, allowed: set[str]) -> None:
        for key in set(node) - allowed:
            self.fail(self.line_of(node, key), f"unknown key '{key}'")


def _kind_name(kind: type) -> str:
    return {str: "a text", int: "a whole number", bool: "true or false", list: "a list",
            dict: "a mapping"}[kind]


def read_yaml(path: Path, rel: str, problems: list[Problem]) -> Node | None:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(rel, 1, f"cannot read: {exc}"))
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problems.append(Problem(rel, line, f"not valid YAML: {getattr(exc, 'problem', exc)}"))
        return None
    if not isinstance(data, Node):
        problems.append(Problem(rel, 1, "must be a mapping of keys to values"))
        return None
    if data.get("id") != path.stem:
        problems.append(Problem(rel, data.key_lines.get("id", 1), f"'id' must be '{path.stem}'"))
    return data
