"""The check's plain-language texts: loading messages.yaml and filling in its placeholders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, cast

import yaml

from bot.check.errors import CheckRefused
from bot.check.results import Problem, Severity
from bot.textdata import DEFAULT_LANG, TextsError, fill, localized

_SEVERITIES: tuple[Severity, ...] = ("warning", "error")


class MessagesError(TextsError):
    """messages.yaml is malformed; the message says where."""


@dataclass(frozen=True, slots=True)
class ProblemText:
    topic: str
    severity: Severity
    texts: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Every text of the check, by code and language."""

    problems: Mapping[str, ProblemText]
    refusals: Mapping[str, Mapping[str, str]]
    address_kinds: Mapping[str, Mapping[str, str]]
    ui: Mapping[str, Mapping[str, str]]

    def problem(self, code: str) -> ProblemText:
        try:
            return self.problems[code]
        except KeyError:
            raise MessagesError(f"messages.yaml: no problem '{code}'") from None

    def describe(self, problem: Problem, lang: str) -> str:
        return fill(self.problem(problem.code).texts, lang, problem.params)

    def refusal(self, refused: CheckRefused, lang: str) -> str:
        params = dict(refused.params)
        if "kind" in params and params["kind"] in self.address_kinds:
            params["kind"] = _pick(self.address_kinds[params["kind"]], lang)
        texts = self.refusals.get(refused.code)
        if texts is None:
            raise MessagesError(f"messages.yaml: no refusal '{refused.code}'")
        return fill(texts, lang, params)

    def text(self, key: str, lang: str, **params: str) -> str:
        return fill(self.ui[key], lang, params)


@cache
def catalogue() -> Catalogue:
    """The shipped messages.yaml, read once."""
    source = resources.files("bot.check").joinpath("messages.yaml").read_text(encoding="utf-8")
    return parse_catalogue(source)


def parse_catalogue(source: str) -> Catalogue:
    """Read and validate the catalogue text; MessagesError names what is wrong."""
    data = yaml.safe_load(source)
    if not isinstance(data, dict):
        raise MessagesError("messages.yaml: expected a mapping at the top")
    problems: dict[str, ProblemText] = {}
    for code, entry in _section(data, "problems").items():
        severity = entry.get("severity")
        topic = entry.get("topic")
        if severity not in _SEVERITIES:
            raise MessagesError(f"messages.yaml: problems.{code}: severity must be warning|error")
        if not isinstance(topic, str) or not topic:
            raise MessagesError(f"messages.yaml: problems.{code}: needs a topic id")
        problems[code] = ProblemText(topic, cast(Severity, severity),
                                     _texts(entry, f"problems.{code}"))
    sections = {
        name: {code: _texts(entry, f"{name}.{code}")
               for code, entry in _section(data, name).items()}
        for name in ("refusals", "address_kinds", "ui")
    }
    return Catalogue(problems, sections["refusals"], sections["address_kinds"], sections["ui"])


def _section(data: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    section = data.get(name)
    if not isinstance(section, dict) or not all(isinstance(v, dict) for v in section.values()):
        raise MessagesError(f"messages.yaml: '{name}' must map codes to entries")
    return section


def _texts(entry: dict[str, Any], where: str) -> dict[str, str]:
    try:
        return localized(entry, f"messages.yaml: {where}")
    except TextsError as error:
        raise MessagesError(str(error)) from None


def _pick(texts: Mapping[str, str], lang: str) -> str:
    return texts.get(lang) or texts[DEFAULT_LANG]

