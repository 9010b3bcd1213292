"""Read when something happened ("yesterday", "3 дня назад", "20.11") as days ago.

The words are data (the `when` section of knowledge/slots.yaml); numbers and dates are
read here: "3 days ago", "12.05", "12.05.2026", "2026-05-12".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

MAX_DAYS = 3650  # a date further back than this is not the day something was deleted

_TOKEN = re.compile(r"[^\W_]+")
_ISO = re.compile(r"(?<![\d.])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d.])")
_DMY = re.compile(r"(?<![\d.:])(\d{1,2})[./](\d{1,2})(?:[./](\d{4}|\d{2}))?(?![\d:]|\.\d)")


@dataclass(frozen=True)
class WhenWords:
    """Phrases with a fixed number of days, unit stems, the word "ago", number words."""

    phrases: re.Pattern[str]  # any of the phrases, the longest first
    days: Mapping[str, int]  # of each phrase
    units: tuple[tuple[str, int], ...]
    ago: frozenset[str]
    counts: Mapping[str, int]

    @classmethod
    def from_data(cls, data: Mapping[str, object]) -> WhenWords:
        def mapping(key: str) -> Mapping[object, object]:
            value = data[key]
            if not isinstance(value, Mapping):
                raise ValueError(f"slots.yaml: when.{key} must be a mapping")
            return value

        phrases = sorted(((str(p).lower(), int(str(days)))
                          for days, items in mapping("words").items()
                          for p in _items(items)), key=lambda pd: -len(pd[0]))
        agos = data["ago"]
        return cls(
            phrases=re.compile(r"(?<![\w'])(?:" + "|".join(re.escape(p) for p, _d in phrases)
                               + r")(?![\w])"),
            days=dict(phrases),
            units=tuple(sorted(((str(stem), int(str(days)))
                                for stem, days in mapping("units").items()),
                               key=lambda sd: -len(sd[0]))),
            ago=frozenset(str(a) for a in _items(agos)),
            counts={str(w): int(str(n)) for n, items in mapping("counts").items()
                    for w in _items(items)},
        )


def _items(value: object) -> list[object]:
    if not isinstance(value, list):
        raise ValueError(f"slots.yaml: expected a list, got {value!r}")
    return value


def days_ago(text: str, today: date, words: WhenWords, dates: bool = True) -> int | None:
    """How many days ago a normalized text says; None when it names no past day.

    `dates=False` reads only words and "N days ago", not numeric dates: in a message that
    is not an answer to "when?", "1.2" is more likely a version than a date."""
    text = " ".join(text.lower().replace("ё", "е").split())[:500]
    if found := words.phrases.search(text):
        return words.days[found.group(0)]
    tokens = _TOKEN.findall(text)
    for count, unit, ago in zip(tokens, tokens[1:], tokens[2:], strict=False):
        if ago not in words.ago:
            continue
        n = int(count) if count.isdigit() else words.counts.get(count)
        unit_days = next((d for stem, d in words.units if unit.startswith(stem)), None)
        if n is not None and unit_days is not None:
            return n * unit_days
    return _from_date(text, today, strict=not dates)


def _from_date(text: str, today: date, strict: bool) -> int | None:
    if m := _ISO.search(text):
        year, month, day = (int(g) for g in m.groups())
        explicit_year = True
    elif m := _DMY.search(text):
        day, month = int(m.group(1)), int(m.group(2))
        explicit_year = m.group(3) is not None
        if strict and not explicit_year and len(m.group(1)) + len(m.group(2)) < 4:
            return None
        year = int(m.group(3)) if explicit_year else today.year
        year += 2000 if year < 100 else 0
    else:
        return None
    try:
        when = date(year, month, day)
        if when > today and not explicit_year:  # "12.11" in January means last year
            when = date(year - 1, month, day)
    except ValueError:
        return None
    delta = (today - when).days
    return delta if 0 <= delta <= MAX_DAYS else None
