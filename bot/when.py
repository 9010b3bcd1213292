"""Read when something happened ("yesterday", "3 дня назад", "12.05.2026") as days ago."""

from __future__ import annotations

import re
from datetime import date

_WORDS = {
    0: ("today", "сегодня", "oggi", "just now", "только что", "adesso", "poco fa"),
    1: ("yesterday", "вчера", "ieri"),
    2: ("day before yesterday", "позавчера", "l'altro ieri", "altro ieri"),
}
_UNITS = (  # (stem, days): "3 days ago", "2 недели назад", "5 giorni fa"
    ("day", 1), ("week", 7), ("month", 30), ("дн", 1), ("день", 1), ("недел", 7),
    ("месяц", 30), ("giorn", 1), ("settiman", 7), ("mes", 30),
)
_ONE = {"a": 1, "an": 1, "one": 1, "один": 1, "одну": 1, "un": 1, "una": 1, "uno": 1}
_COUNT = re.compile(r"(\d{1,4}|[a-zа-я]+)?\s*([a-zа-я]+)\s*(ago|назад|fa)\b")
_BARE_UNIT = re.compile(r"(?:^|\s)(неделю|месяц)\s+назад\b")
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_DMY = re.compile(r"\b(\d{1,2})[./-](\d{1,2})(?:[./-](\d{2,4}))?\b")


def days_ago(text: str, today: date) -> int | None:
    """How many days ago the text says; None when it names no past day."""
    text = " ".join(text.lower().replace("ё", "е").split())[:200]
    for days in sorted(_WORDS, reverse=True):  # "day before yesterday" before "yesterday"
        if any(word in text for word in _WORDS[days]):
            return days
    if m := _BARE_UNIT.search(text):
        return 7 if m.group(1) == "неделю" else 30
    if m := _COUNT.search(text):
        count, unit = m.group(1), m.group(2)
        n = int(count) if count and count.isdigit() else _ONE.get(count or "a")
        unit_days = next((d for stem, d in _UNITS if unit.startswith(stem)), None)
        if n is not None and unit_days is not None:
            return n * unit_days
    return _from_date(text, today)


def _from_date(text: str, today: date) -> int | None:
    if m := _ISO.search(text):
        year, month, day = (int(g) for g in m.groups())
        explicit_year = True
    elif m := _DMY.search(text):
        day, month = int(m.group(1)), int(m.group(2))
        explicit_year = m.group(3) is not None
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
    return delta if 0 <= delta <= 3650 else None
