"""A finding of the domain check: its code, status, topic and text (messages.yaml)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Literal, cast

from bot.textdata import TextsError, fill, localized, read_sections

Status = Literal["ok", "info", "warning", "error"]
STATUSES: tuple[Status, ...] = ("ok", "info", "warning", "error")


@dataclass(frozen=True, slots=True)
class FindingText:
    status: Status
    topic: str
    texts: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the check learnt; `check` groups it (mx, spf, dmarc, dkim, ...)."""

    check: str
    code: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def status(self) -> Status:
        return finding_text(self.code).status

    @property
    def topic(self) -> str:
        return finding_text(self.code).topic

    def message(self, lang: str) -> str:
        return fill(finding_text(self.code).texts, lang, self.params)


@cache
def catalogue() -> tuple[dict[str, FindingText], dict[str, Mapping[str, str]]]:
    """The findings and the other phrases of messages.yaml, checked once."""
    sections = read_sections("bot.domaincheck", "messages.yaml")
    findings: dict[str, FindingText] = {}
    for code, entry in sections["findings"].items():
        status, topic = entry.get("status"), entry.get("topic")
        if status not in STATUSES or not isinstance(topic, str) or not topic:
            raise TextsError(f"messages.yaml: findings.{code}: needs a status "
                             f"({', '.join(STATUSES)}) and a topic")
        findings[code] = FindingText(cast(Status, status), topic,
                                     localized(entry, f"messages.yaml: findings.{code}"))
    ui: dict[str, Mapping[str, str]] = {key: localized(entry, f"messages.yaml: ui.{key}")
          for key, entry in sections["ui"].items()}
    return findings, ui


def finding_text(code: str) -> FindingText:
    try:
        return catalogue()[0][code]
    except KeyError:
        raise TextsError(f"messages.yaml: no finding '{code}'") from None


def ui_text(key: str, lang: str, **params: str) -> str:
    return fill(catalogue()[1][key], lang, params)
