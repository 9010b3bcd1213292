"""Read the values a conversation needs from whatever a person types: the slots.

The address (and so the provider), a provider named in words, the mail program or device,
the protocol, when something happened, yes or no, a request for a person, words that name
setting a program up, and the language the message is clearly written in. The word lists
are data: knowledge/slots.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.kb import LANGS, Knowledge
from bot.match import ADDRESS, Result, normalize
from bot.when import WhenWords, days_ago

PREFIX_MIN = 5  # a listed word this long also matches the typed words it begins
TYPO_MIN = 5  # typed and listed words this long also match with one typo
HUMAN_MAX_WORDS = 12  # a longer message describes a problem rather than asks for a person
CLEAR_LANGUAGE = 2  # words only one language uses, needed to call a message that language
SHORT_MESSAGE = 3  # words; in a message this short one such word is enough

_WORD = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*")
_CYRILLIC_WORD = re.compile(r"[а-я]{3,}")
_ITALIAN_ACCENT = re.compile(r"[àèéìòù]")

Answer = Literal["yes", "no"]


class WordList:
    """Words and phrases, each naming a key (a device, a language), matched on normalized
    text."""

    def __init__(self, entries: Mapping[str, Iterable[object]]) -> None:
        keyed = {" ".join(str(e).lower().replace("ё", "е").split()): str(key)
                 for key, items in entries.items() for e in items}
        phrases = sorted((t for t in keyed if " " in t), key=len, reverse=True)
        self.phrases = re.compile(r"(?<![\w'])(?:" + "|".join(map(re.escape, phrases))
                                  + r")(?![\w])") if phrases else None
        self.keys = keyed
        self.words = frozenset(t for t in keyed if " " not in t)
        self._long = frozenset(w for w in self.words if len(w) >= PREFIX_MIN)
        self._long_list = sorted(self._long)

    def which(self, text: str, words: list[str]) -> str | None:
        """The key of the first of these a normalized text (split into `words`) holds."""
        if self.phrases is not None and (found := self.phrases.search(text)):
            return self.keys[found.group(0)]
        for typed in words:
            if typed in self.words:
                return self.keys[typed]
            if len(typed) >= TYPO_MIN and self._long:
                prefix = next((typed[:n] for n in range(PREFIX_MIN, len(typed))
                               if typed[:n] in self._long), None)
                if prefix is not None:
                    return self.keys[prefix]
                close = process.extractOne(typed, self._long_list, scorer=OSA.distance,
                                           score_cutoff=1)
                if close is not None:
                    return self.keys[close[0]]
        return None

    def found(self, text: str, words: list[str]) -> bool:
        return self.which(text, words) is not None


@dataclass(frozen=True)
class Slots:
    """What one message says, as far as a conversation needs it."""

    address: str | None = None
    provider: str | None = None  # the address's provider, else one named in words
    device: str | None = None
    protocol: str | None = None
    days_ago: int | None = None
    answer: Answer | None = None
    unsure: bool = False  # does not know the answer
    human: bool = False  # asks for a person
    setup: bool = False  # names setting a program up
    deleted: bool = False  # names deleting letters oneself
    settings: bool = False  # asks for server settings
    language: str | None = None  # the language the message is clearly written in

    def values(self) -> dict[str, str | int]:
        """The slots a conversation keeps, under the names the flows use."""
        found = {"address": self.address, "provider": self.provider, "device": self.device,
                 "protocol": self.protocol, "days_ago": self.days_ago}
        return {k: v for k, v in found.items() if v is not None}


class SlotReader:
    """The word lists of knowledge/slots.yaml, ready to read messages with."""

    def __init__(self, data: Mapping[str, Any], stopwords: Mapping[str, frozenset[str]]):
        try:
            self.devices = WordList(data["devices"])
            self.protocols = _table(data["protocols"])
            self.yes, self.no = WordList(data["yes"]), WordList(data["no"])
            self.human, self.setup = WordList(data["human"]), WordList(data["setup"])
            self.deleted = WordList(data["deleted"])
            self.by_themselves = WordList(data["by_themselves"])
            self.settings, self.other = WordList(data["settings"]), WordList(data["other"])
            self.unsure = WordList(data["unsure"])
            self.when = WhenWords.from_data(data["when"])
            # words that tell one language from the others: function words and these lists
            own = {lang: set(stopwords.get(lang, ())) | {
                str(w).lower() for key in ("yes", "no", "human", "setup", "deleted")
                for w in data[key][lang] if " " not in str(w)} for lang in LANGS}
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"knowledge/slots.yaml is malformed: {exc!r}") from exc
        self._language_words = {lang: frozenset(words - set().union(
            *(own[other] for other in LANGS if other != lang))) for lang, words in own.items()}

    @classmethod
    def load(cls, root: Path, stopwords: Mapping[str, frozenset[str]]) -> SlotReader:
        data = yaml.safe_load((root / "slots.yaml").read_text(encoding="utf-8"))
        return cls(data, stopwords)

    def read(self, text: str, result: Result, knowledge: Knowledge, today: date,
             answers_when: bool = False) -> Slots:
        """The slots of one message. `answers_when`: the message answers "when?", so a bare
        "1.12" is a date rather than, say, a version number."""
        norm, words = words_of(text)
        address = ADDRESS.search(norm)
        provider = result.provider
        if address:
            found = knowledge.provider_for_address(address.group(0))
            provider = found.id if found else None
        protocols = [p for p, lst in self.protocols.items() if set(words) & lst.words]
        return Slots(
            address=address.group(0) if address else None,
            provider=provider,
            device=self.devices.which(norm, words),
            protocol=protocols[0] if len(protocols) == 1 else None,
            days_ago=days_ago(ADDRESS.sub(" ", norm), today, self.when, dates=answers_when),
            answer=self.answer(norm, words),
            unsure=self.unsure.found(norm, words),
            human=len(words) <= HUMAN_MAX_WORDS and self.human.found(norm, words),
            setup=self.setup.found(norm, words),
            deleted=self.deleted.found(norm, words) and not self.by_themselves.found(norm,
                                                                   words),
            settings=provider is not None and self.settings.found(norm, words),
            language=self.language(words),
        )

    def answer(self, norm: str, words: list[str]) -> Answer | None:
        """Yes or no, when the message says one; a "no" word wins ("no thanks")."""
        if self.no.found(norm, words):
            return "no"
        if self.yes.found(norm, words):
            return "yes"
        return None

    def label_answer(self, label: str) -> Answer | None:
        """Whether a button's (English) label means yes or no."""
        return self.answer(*words_of(label))

    def label_unsure(self, label: str) -> bool:
        """Whether a button's (English) label is for not knowing ("Not sure")."""
        return self.unsure.found(*words_of(label))

    def label_other(self, label: str) -> bool:
        """Whether a button's (English) label offers something else."""
        return self.other.found(*words_of(label))

    def language(self, words: list[str]) -> str | None:
        """ru, it or en when the words clearly are that language; else None."""
        if any(_CYRILLIC_WORD.search(w) for w in words):
            return "ru"
        score = {lang: sum(w in self._language_words[lang] for w in words)
                 for lang in ("en", "it")}
        score["it"] += sum(bool(_ITALIAN_ACCENT.search(w)) for w in words)
        best, other = sorted(score, key=lambda lang: -score[lang])
        if score[best] >= CLEAR_LANGUAGE and score[best] >= 3 * score[other]:
            return best
        if score[best] == 1 and score[other] == 0 and len(words) <= SHORT_MESSAGE:
            return best  # "no, niente": a short answer has few words to tell by
        return None


def _table(section: Mapping[str, Any]) -> dict[str, WordList]:
    return {str(key): WordList({key: items}) for key, items in section.items()}


def words_of(text: str) -> tuple[str, list[str]]:
    """A message normalized (as the matcher does) and split into words."""
    norm = " ".join(normalize(text[:2000]).split())
    return norm, _WORD.findall(norm)

