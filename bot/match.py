"""Turn what a person typed or pasted into ranked topics, with its language and provider.

The query is read in four passes: reply codes (SMTP, Outlook, IMAP/POP3 response codes)
are taken out as strong evidence; addresses, host names and brand words name a provider;
function words tell the language; the remaining words are stemmed and compared with every
topic's patterns, weighting rare words more. A topic is answered only when its score
clears a threshold; two close scores are flagged as ambiguous.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import Stemmer
import yaml
from rapidfuzz import fuzz, process

from bot.kb import LANGS, Knowledge

# Only this much of a query is read: enough for any pasted error, bounded for hostile input.
MAX_SCAN_CHARS = 65_536
MAX_TEXT_CHARS = 4_000
MAX_FUZZY_WORDS = 40

THRESHOLD = 0.5  # below this a topic is not confident enough to answer
SUGGEST = 0.35  # from here up to THRESHOLD a topic is offered as "did you mean"
AMBIGUITY_GAP = 0.06  # top two closer than this: ask which one was meant
NO_MAIL_CONTEXT = 0.75  # score factor for queries with no mail word, code or provider
UNKNOWN_WORD_SHARE = 0.7  # an unknown word weighs this share of the rarest known word
CODE_STRENGTH = {"basic": 0.55, "strong": 0.85}  # evidence of a code unique to one topic
COVERAGE_SHARE = 0.35  # topic score: this much how much of the query all its patterns explain,
# the rest how well its single best pattern fits
MIN_EVIDENCE = 2.0  # a pattern explaining less query weight than this is scaled down, so one
# common word ("mail") is not an answer while one rare word ("undeliverable") is
BRAND_WEIGHT = 0.3  # a provider's name says which provider, hardly which problem
PREFIX_MIN = 4  # stems this long match when one is a prefix of the other,
PREFIX_MAX_EXTRA = 3  # and the longer one has at most this many letters more

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")
_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_BASIC = re.compile(r"(?<![\w.:])([245][0-5]\d)(?=[\s\-,;:)]|$)")
_OUTLOOK = re.compile(r"\b(?:0x)?(800ccc[0-9a-f]{2}|8004[0-9a-f]{4}|800c[0-9a-f]{4})\b")
_BRACKET = re.compile(r"\[([a-z][a-z0-9-]{1,40})\]")
_PORT_WORD = re.compile(r"(?:port|порт|porta)\w*\s*$")
# Label counts are bounded: an unbounded repeat backtracks quadratically on "a.a.a.a...".
ADDRESS = re.compile(r"[\w.+'-]{1,64}@((?:[\w-]{1,63}\.){1,8}[a-z]{2,24})\b", re.IGNORECASE)
_URL = re.compile(r"\bhttps?://\S{1,2000}")
_HOST = re.compile(r"\b((?:[a-z0-9][a-z0-9-]{0,62}\.){1,8}(?:[a-z]{2,24}|рф))\b")
_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_CYRILLIC = re.compile(r"[а-я]")
_PROTOCOL_LABELS = {"imap", "pop", "pop3", "smtp", "mail"}
_STEMMERS = {lang: Stemmer.Stemmer(name)
             for lang, name in (("en", "english"), ("ru", "russian"), ("it", "italian"))}


@dataclass(frozen=True)
class Match:
    """One candidate topic for a query."""

    topic: str
    score: float
    provider: str | None


@dataclass(frozen=True)
class Result:
    """Everything the matcher read from one query."""

    query: str
    lang: str
    matches: tuple[Match, ...]  # confident answers, best first
    suggestions: tuple[Match, ...]  # the "did you mean" band: likely, not confident
    ambiguous: bool
    provider: str | None
    codes: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        """The object `mailhelp faq --json` prints (the contract in DESIGN.md)."""
        return {
            "query": self.query,
            "lang": self.lang,
            "matches": [
                {"id": m.topic, "score": round(m.score, 4), "provider": m.provider}
                for m in self.matches
            ],
            "suggestions": [
                {"id": m.topic, "score": round(m.score, 4), "provider": m.provider}
                for m in self.suggestions
            ],
            "ambiguous": self.ambiguous,
        }


def normalize(text: str) -> str:
    """Lower case, canonical Unicode, 'ё' as 'е', control characters as spaces, bounded."""
    text = unicodedata.normalize("NFKC", text[:MAX_SCAN_CHARS])
    return _CONTROL.sub(" ", text).lower().replace("ё", "е").replace("’", "'")


def extract_codes(text: str) -> list[str]:
    """Reply codes in a normalized query, in the form topics list them (see kb.CODE_FORM)."""
    found: list[tuple[int, str]] = []
    found += [(m.start(), ".".join(m.groups())) for m in _ENHANCED.finditer(text)]
    found += [(m.start(), "0x" + m.group(1)) for m in _OUTLOOK.finditer(text)]
    found += [(m.start(), m.group(0)) for m in _BRACKET.finditer(text)]
    found += [(m.start(), m.group(1)) for m in _BASIC.finditer(text)
              if not _PORT_WORD.search(text, max(0, m.start() - 12), m.start())]
    return list(dict.fromkeys(code for _, code in sorted(found)))


def _stem(word: str) -> frozenset[str]:
    """The keys a word is matched by: its stems in the languages its script allows."""
    if any(c.isdigit() for c in word):
        return frozenset((word,))
    if _CYRILLIC.search(word):
        return frozenset((_STEMMERS["ru"].stemWord(word),))
    return frozenset((_STEMMERS["en"].stemWord(word), _STEMMERS["it"].stemWord(word)))


@dataclass(frozen=True)
class Words:
    """The word lists of knowledge/language.yaml."""

    stopwords: Mapping[str, frozenset[str]]
    mail_keys: frozenset[str]

    @classmethod
    def load(cls, root: Path) -> Words:
        data = yaml.safe_load((root / "language.yaml").read_text(encoding="utf-8"))
        stop = {lang: frozenset(str(w).lower() for w in data["stopwords"][lang]) for lang in LANGS}
        mail = {key for lang in LANGS for w in data["mail_words"][lang]
                for part in _split_compound(str(w).lower()) for key in _stem(part)}
        return cls(stopwords=stop, mail_keys=frozenset(mail))

    def content_words(self, text: str) -> list[str]:
        """The words of a normalized text that can carry meaning."""
        out = []
        for raw in _WORD.findall(text):
            if self.is_stopword(raw):
                continue
            if "'" in raw:  # Italian elision (l'email, dell'account) or English contraction
                head, _, tail = raw.partition("'")
                elided = self.is_stopword(head + "'") or self.is_stopword(head)
                raw = tail if elided else head + tail
            for word in _split_compound(raw):
                if not self.is_stopword(word) and (len(word) > 1 or word.isdigit()):
                    out.append(word)
        return out

    def is_stopword(self, word: str) -> bool:
        return any(word in words for words in self.stopwords.values())


def _split_compound(word: str) -> list[str]:
    """'two-factor' -> two, factor; a one-letter part joins the next: 'e-mail' -> email."""
    parts: list[str] = []
    carry = ""
    for part in word.split("-"):
        if len(part) == 1 and part.isalpha():
            carry += part
        else:
            parts.append(carry + part)
            carry = ""
    return parts + ([carry] if carry else [])


@lru_cache(maxsize=65_536)
def _keys(word: str) -> frozenset[str]:
    return _stem(word)


@dataclass
class _Pattern:
    topic: int
    total: float  # the summed weight of its words


class Matcher:
    """Ranks the topics of one knowledge base for a query. Build once, call match() often."""

    def __init__(self, knowledge: Knowledge, words: Words | None = None) -> None:
        self.knowledge = knowledge
        self.words = words or Words.load(knowledge.root)
        self.topic_ids = list(knowledge.topics)
        self._patterns: list[_Pattern] = []
        # key -> (pattern, word position, word weight) of every pattern word it matches
        self._postings: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
        self._code_topics: dict[str, list[int]] = defaultdict(list)
        self._vocabulary: dict[str, frozenset[str]] = {}
        self._lang_vocabulary: dict[str, set[str]] = {lang: set() for lang in LANGS}
        self._brands = self._brand_index()
        self._build()

    # --- index -------------------------------------------------------------------------

    def _build(self) -> None:
        tokenized: list[tuple[int, list[frozenset[str]]]] = []
        topics_of_key: dict[str, set[int]] = defaultdict(set)
        for t, topic in enumerate(self.knowledge.topics.values()):
            for code in topic.codes:
                self._code_topics[code].append(t)
            for lang, patterns in topic.patterns.items():
                for pattern in patterns:
                    words = self.words.content_words(normalize(pattern))
                    self._lang_vocabulary[lang].update(words)
                    keys = [_keys(w) for w in words]
                    for w, k in zip(words, keys, strict=True):
                        self._vocabulary[w] = k
                    for k in keys:
                        for key in k:
                            topics_of_key[key].add(t)
                    if keys:
                        tokenized.append((t, keys))
        n_topics = max(1, len(self.topic_ids))
        self._idf = {key: math.log(1 + n_topics / len(ts)) for key, ts in topics_of_key.items()}
        for brand, _ in self._brands:
            for key in _keys(brand):
                if key in self._idf:
                    self._idf[key] *= BRAND_WEIGHT
        self._unknown_weight = UNKNOWN_WORD_SHARE * math.log(1 + n_topics)
        for t, keys in tokenized:
            weights = [max(self._idf[key] for key in k) for k in keys]
            pid = len(self._patterns)
            self._patterns.append(_Pattern(t, sum(weights)))
            for i, (k, weight) in enumerate(zip(keys, weights, strict=True)):
                for key in k:
                    self._postings[key].append((pid, i, weight))
        self._extensions: dict[str, set[str]] = defaultdict(set)
        for key in self._postings:
            if key.isalpha():
                for n in range(max(PREFIX_MIN, len(key) - PREFIX_MAX_EXTRA), len(key)):
                    self._extensions[key[:n]].add(key)
        self._vocabulary_list = list(self._vocabulary)

    def _brand_index(self) -> list[tuple[str, str]]:
        brands = [(b, p.id) for p in self.knowledge.providers.values() for b in p.brands]
        return sorted(brands, key=lambda bp: -len(bp[0]))

    # --- reading a query ---------------------------------------------------------------

    def detect_provider(self, text: str) -> str | None:
        """The provider an address, host name or brand word in a normalized text points at.

        The first one named wins; of brands starting at the same place, the longest
        ("exchange online" over "exchange").
        """
        found: list[tuple[int, int, str]] = []
        for regex in (ADDRESS, _HOST):
            for m in regex.finditer(text):
                p = self.knowledge.provider_for_domain(m.group(1))
                if p:
                    found.append((m.start(), 0, p.id))
        words = [(m.start(), m.group(0)) for m in _WORD.finditer(text)]
        for brand, pid in self._brands:
            if " " in brand or "." in brand:
                at = _find_phrase(text, brand)
                if at >= 0:
                    found.append((at, -len(brand), pid))
                continue
            for start, word in words:
                if word == brand or (len(brand) >= 5 and word.startswith(brand)):
                    found.append((start, -len(brand), pid))
                    break
        return min(found)[2] if found else None

    def detect_language(self, words: Iterable[str]) -> str:
        """en, ru or it: Cyrillic means Russian; else Italian or English by their words.

        One Russian word is enough: people paste English server replies into Russian
        sentences, while English or Italian speakers do not write Cyrillic.
        """
        words = list(words)
        if any(len(w) >= 3 and _CYRILLIC.search(w) for w in words):
            return "ru"
        score = {"en": 0.0, "it": 0.0}
        for w in words:
            for lang in score:
                other = "it" if lang == "en" else "en"
                if w in self.words.stopwords[lang] and w not in self.words.stopwords[other]:
                    score[lang] += 1
                elif (w in self._lang_vocabulary[lang]
                      and w not in self._lang_vocabulary[other]):
                    score[lang] += 0.5
            if any(c in "àèéìòù" for c in w):
                score["it"] += 1
        return "it" if score["it"] > score["en"] else "en"

    def _query_keys(self, word: str) -> frozenset[str]:
        """The indexed keys a query word reaches: its stems, their prefixes and extensions."""
        out: set[str] = set()
        for key in _keys(word):
            if key in self._postings:
                out.add(key)
            if key.isalpha():
                out.update(self._extensions.get(key, ()))
                out.update(key[:n] for n in range(max(PREFIX_MIN, len(key) - PREFIX_MAX_EXTRA),
                                                  len(key)) if key[:n] in self._postings)
        return frozenset(out)

    def _word_weight(self, word: str, keys: frozenset[str]) -> float:
        """How much a query word says: the rarity of its own stem, else of its closest kin."""
        own = [self._idf[k] for k in _keys(word) if k in self._idf]
        if own:
            return max(own)
        return min((self._idf[k] for k in keys), default=self._unknown_weight)

    def _typo_keys(self, word: str) -> frozenset[str]:
        """For an unknown word, the keys of the closest known word, if it is close enough."""
        if len(word) < 5 or word.isdigit():
            return frozenset()
        best = process.extractOne(word, self._vocabulary_list, scorer=fuzz.ratio,
                                  score_cutoff=85)
        return self._query_keys(best[0]) if best else frozenset()

    # --- scoring -----------------------------------------------------------------------

    def match(self, query: str, n: int = 3, lang: str | None = None) -> Result:
        """Rank the topics for one query; `lang` overrides the detected language."""
        text = normalize(query)
        codes = extract_codes(text)
        provider = self.detect_provider(text)
        words_text = _URL.sub(" ", text[:MAX_TEXT_CHARS])
        hosts = _HOST.findall(words_text) + ADDRESS.findall(words_text)
        words_text = ADDRESS.sub(" ", words_text)
        words_text = _HOST.sub(lambda m: " " + _protocol_label(m.group(1)) + " ", words_text)
        for code in codes:
            words_text = words_text.replace(code, " ")
        all_words = _WORD.findall(words_text)
        detected = self.detect_language(all_words)
        words = self.words.content_words(words_text)
        scores = self._score(words, codes)
        context = bool(codes or provider or hosts) or any(
            _keys(w) & self.words.mail_keys for w in words)
        if not context:
            scores = {t: s * NO_MAIL_CONTEXT for t, s in scores.items()}
        ranked = sorted(scores.items(), key=lambda ts: -ts[1])
        confident = [(t, s) for t, s in ranked if s >= THRESHOLD][: max(0, n)]
        ambiguous = len(ranked) > 1 and bool(confident) and (
            ranked[0][1] - ranked[1][1] < AMBIGUITY_GAP)
        matches = tuple(Match(self.topic_ids[t], min(1.0, s), provider) for t, s in confident)
        suggestions = () if matches else tuple(
            Match(self.topic_ids[t], s, provider) for t, s in ranked[:3] if s >= SUGGEST)
        return Result(query=query, lang=lang or detected, matches=matches,
                      suggestions=suggestions, ambiguous=ambiguous, provider=provider,
                      codes=tuple(codes))

    def _score(self, words: list[str], codes: list[str]) -> dict[int, float]:
        text_scores = self._text_scores(words) if words else {}
        code_scores = self._code_scores(codes)
        out = {}
        for t in set(text_scores) | set(code_scores):
            text, code = text_scores.get(t, 0.0), code_scores.get(t, 0.0)
            out[t] = text + (1 - text) * code
        return out

    def _code_scores(self, codes: list[str]) -> dict[int, float]:
        out: dict[int, float] = {}
        for code in codes:
            topics = self._code_topics.get(code, [])
            strength = CODE_STRENGTH["basic" if code.isdigit() else "strong"] / max(1, len(topics))
            for t in topics:
                out[t] = max(out.get(t, 0.0), strength)
        return out

    def _text_scores(self, words: list[str]) -> dict[int, float]:
        """Per topic: how well its best pattern fits the words, and how much it explains."""
        query: list[tuple[frozenset[str], float]] = []
        for w in dict.fromkeys(words):
            keys = self._query_keys(w)
            if not keys and len(query) < MAX_FUZZY_WORDS:
                keys = self._typo_keys(w)
            query.append((keys, self._word_weight(w, keys)))
        query_total = sum(weight for _, weight in query) or 1.0
        matched: dict[int, float] = defaultdict(float)  # pattern -> weight of its words found
        explained: dict[int, float] = defaultdict(float)  # pattern -> weight of query words
        last_word: dict[int, int] = {}
        seen: set[tuple[int, int]] = set()
        covered: dict[int, set[int]] = defaultdict(set)  # topic -> query words it explains
        patterns = self._patterns
        for qi, (keys, weight) in enumerate(query):
            for key in keys:
                for pid, position, word_weight in self._postings[key]:
                    if (pid, position) not in seen:
                        seen.add((pid, position))
                        matched[pid] += word_weight
                    if last_word.get(pid) != qi:
                        last_word[pid] = qi
                        explained[pid] += weight
                        covered[patterns[pid].topic].add(qi)
        best: dict[int, float] = {}
        for pid, found in matched.items():
            pattern = patterns[pid]
            recall = found / pattern.total
            precision = explained[pid] / query_total
            f = 2 * recall * precision / (recall + precision)
            f *= min(1.0, explained[pid] / MIN_EVIDENCE)
            if f > best.get(pattern.topic, 0.0):
                best[pattern.topic] = f
        return {
            t: (1 - COVERAGE_SHARE) * f
            + COVERAGE_SHARE * sum(query[qi][1] for qi in covered[t]) / query_total
            for t, f in best.items()
        }


def _protocol_label(host: str) -> str:
    label = host.split(".", 1)[0]
    return label if label in _PROTOCOL_LABELS else ""


def _find_phrase(text: str, phrase: str) -> int:
    """Where a phrase stands in text as whole words, or -1."""
    m = re.search(r"(?<![\w.])" + re.escape(phrase) + r"(?![\w])", text)
    return m.start() if m else -1


@lru_cache(maxsize=4)
def matcher_for(knowledge: Knowledge) -> Matcher:
    """One matcher per knowledge base, built on first use."""
    return Matcher(knowledge)
