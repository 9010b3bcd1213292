"""Which language a message is written in and which provider it names or shows.

Both read the whole message, long pastes included: one Russian word makes a message
Russian (people paste English server replies into Russian sentences, the other way round
does not happen), and a few Italian function words make it Italian; the provider is the
first one an address, a server name or a brand word points at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.kb import LANGS, Knowledge
from bot.match.stems import stems
from bot.match.text import ADDRESS, CYRILLIC, HOST, WORD

_ITALIAN_LETTERS = frozenset("àèéìòù")


@dataclass(frozen=True)
class Words:
    """The word lists of knowledge/language.yaml."""

    stopwords: Mapping[str, frozenset[str]]
    mail_words: frozenset[str]
    concepts: Mapping[str, str]  # a word's stem -> the idea it names in every language

    @classmethod
    def load(cls, root: Path) -> Words:
        text = (root / "language.yaml").read_text(encoding="utf-8")
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        stop = {lang: frozenset(str(w).lower() for w in data["stopwords"][lang]) for lang in LANGS}
        mail = frozenset(str(w).lower() for lang in LANGS for w in data["mail_words"][lang])
        return cls(stopwords=stop, mail_words=mail, concepts=_concepts(data.get("concepts") or {}))

    def is_stopword(self, word: str) -> bool:
        return any(word in words for words in self.stopwords.values())


def _concepts(data: Mapping[str, list[object]]) -> dict[str, str]:
    """Stem -> concept; a stem in two concepts is an editor's mistake, said by name."""
    out: dict[str, str] = {}
    for name, ws in data.items():
        for w in ws:
            stem = stems(str(w).lower())[0]
            if out.setdefault(stem, name) != name:
                raise ValueError(f"knowledge/language.yaml: concepts: '{w}' is read as both "
                                 f"{out[stem]} and {name}")
    return out


class Providers:
    """Finds the provider a message names or shows, for one knowledge base."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge
        brands = sorted(((b, p.id) for p in knowledge.providers.values() for b in p.brands),
                        key=lambda bp: -len(bp[0]))
        phrases = [b for b, _ in brands if " " in b or "." in b]
        self._phrase_owner = {b: pid for b, pid in brands if b in phrases}
        # Longest first, so "exchange online" wins over "exchange" at the same place.
        self._phrases = re.compile(
            r"(?<![\w.])(" + "|".join(map(re.escape, phrases)) + r")(?!\w)") if phrases else None
        self._words = {b: pid for b, pid in reversed(brands) if b not in self._phrase_owner}
        self._prefix_lengths = sorted({len(b) for b in self._words if len(b) >= 5}, reverse=True)

    def detect(self, text: str) -> str | None:
        """The provider an address, host name or brand word in a normalized text points at.

        The first one named wins; of brands starting at the same place, the longest
        ("exchange online" over "exchange").
        """
        found: list[tuple[int, int, str]] = []
        for regex in (ADDRESS, HOST):
            for m in regex.finditer(text):
                p = self.knowledge.provider_for_domain(m.group(1))
                if p:
                    found.append((m.start(), 0, p.id))
        if self._phrases:
            found += [(m.start(), -len(m.group(1)), self._phrase_owner[m.group(1)])
                      for m in self._phrases.finditer(text)]
        seen: set[str] = set()
        for m in WORD.finditer(text):
            word = m.group(0)
            candidates = [word] + [word[:n] for n in self._prefix_lengths if len(word) > n]
            for brand in candidates:
                pid = self._words.get(brand)
                if pid and brand not in seen:
                    seen.add(brand)
                    found.append((m.start(), -len(brand), pid))
                    break
        return min(found)[2] if found else None


class Languages:
    """Tells en, ru and it apart by script, function words and the examples' vocabulary."""

    def __init__(self, words: Words, vocabulary: Mapping[str, frozenset[str]]) -> None:
        """`vocabulary`: per language, the words its training examples use."""
        self.words = words
        self.vocabulary = vocabulary

    def detect(self, words: Iterable[str]) -> str:
        """en, ru or it: Cyrillic means Russian; else Italian or English by their words."""
        words = list(words)
        if any(len(w) >= 3 and CYRILLIC.search(w) for w in words):
            return "ru"
        score = {"en": 0.0, "it": 0.0}
        stop, vocabulary = self.words.stopwords, self.vocabulary
        for w in words:
            if w in stop["en"] and w not in stop["it"]:
                score["en"] += 1
            elif w in stop["it"] and w not in stop["en"]:
                score["it"] += 1
            elif w in vocabulary["en"] and w not in vocabulary["it"]:
                score["en"] += 0.5
            elif w in vocabulary["it"] and w not in vocabulary["en"]:
                score["it"] += 0.5
            if _ITALIAN_LETTERS.intersection(w):
                score["it"] += 1
        # Italians paste English errors into Italian sentences, not the other way round:
        # a few Italian function words outweigh the English of a quoted message.
        italian = score["it"] > score["en"] or (score["it"] >= 2 and 2 * score["it"] >= score["en"])
        return "it" if italian else "en"
