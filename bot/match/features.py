"""What the model sees of a message: weighted features over its codes, provider and words.

Words are stemmed (Snowball for en/ru/it) and paired into bigrams; a negation joins the
word it negates; function words are weak features of their own ("what ... use" asks for
settings); character 4-grams inside word boundaries carry typos and word forms the
stemmer misses; a word of a concept (knowledge/language.yaml) is also read as that idea,
the same in every language; reply codes, their classes (5.7.x) and whether a provider is
named are features too, so a code is strong evidence without being a hard rule. Placeholders
(<host>, <date>) weigh little: they say a message is real, not what it is about.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from bot.match.detect import Words
from bot.match.stems import stems
from bot.match.text import extract_codes, mask, tokens

# How much each kind of feature weighs before the vector is scaled to unit length.
WEIGHTS = {"code": 2.0, "class": 0.7, "provider": 0.7, "word": 1.0, "bigram": 0.7,
           "chars": 0.25, "mail": 0.5, "function": 0.3, "placeholder": 0.4,
           "concept": 0.8}
CHAR_GRAMS = (4,)
UNKNOWN_SHARE = 0.35  # how much the features the model does not know lengthen a vector
MAX_WORDS = 400  # a long paste is read this far; what follows rarely names the problem
NEGATIONS = frozenset({"не", "нет", "ни", "not", "no", "non", "never", "can't", "cannot",
                       "don't", "doesn't", "didn't", "won't", "isn't", "aren't", "mai"})


@dataclass(frozen=True)
class Reading:
    """One message read: its reply codes and its features with their weights."""

    codes: tuple[str, ...]
    features: dict[str, float]


@lru_cache(maxsize=65_536)
def char_grams(word: str) -> tuple[str, ...]:
    padded = f"<{word}>"
    return tuple(padded[i:i + n] for n in CHAR_GRAMS for i in range(len(padded) - n + 1))


def content_words(words: Words, raw: list[str]) -> list[str]:
    """The words that can carry meaning: no stopwords, elisions and compounds split."""
    out = []
    for word in raw[:MAX_WORDS * 2]:
        if word.startswith("<"):
            out.append(word)
            continue
        if "'" in word:  # Italian elision (l'email, dell'account) or English contraction
            head, _, tail = word.partition("'")
            elided = words.is_stopword(head + "'") or words.is_stopword(head)
            word = tail if elided else head + tail
        for part in _split_compound(word):
            if not words.is_stopword(part) and (len(part) > 1 or part.isdigit()):
                out.append(part)
    return out[:MAX_WORDS]


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


def read(text: str, words: Words, provider: str | None) -> Reading:
    """Features of a normalized text whose provider was already detected."""
    codes = extract_codes(text)
    raw = tokens(mask(text, codes))
    content = content_words(words, raw)
    f: dict[str, float] = {}

    def add(name: str, kind: str) -> None:
        f[name] = max(f.get(name, 0.0), WEIGHTS[kind])

    for code in codes:
        add("c:" + code, "code")
        add("k:" + _code_class(code), "class")
    if provider:  # that one is named, not which: its name is a word feature when written
        add("p:*", "provider")
    negated = False
    for word in raw[:MAX_WORDS]:
        if words.is_stopword(word):  # "what ... use" asks for settings, "check" for a test
            add("s:" + word, "function")
            negated = negated or word in NEGATIONS
        elif negated:  # "не приходят", "non arrivano", "not received": the problem itself
            add("n:" + stems(word)[0], "bigram")
            negated = False
    previous = ""
    for word in content:
        word_stems = stems(word)
        for s in word_stems:
            add("w:" + s, "placeholder" if word.startswith("<") else "word")
        if previous:
            pair = f"{previous} {word_stems[0]}"
            add("b:" + pair, "placeholder" if "<" in pair else "bigram")
        previous = word_stems[0]
        concept = words.concepts.get(word_stems[0])
        if concept:
            add("x:" + concept, "concept")
        if word in words.mail_words:
            add("m:mail", "mail")
        if not word.startswith("<") and len(word) > 2 and not word.isdigit():
            for gram in char_grams(word):
                add("g:" + gram, "chars")
    return Reading(tuple(codes), f)


def vector(features: dict[str, float], index: dict[str, int],
           idf: npt.NDArray[np.float32]) -> dict[int, float]:
    """Known features weighted by rarity and scaled to unit length, by feature index.

    Features the model does not know count toward the length as the rarest known ones
    would: a long text of unfamiliar words weighs its familiar part less.
    """
    known = {index[f]: v * float(idf[index[f]]) for f, v in features.items() if f in index}
    rarest = float(idf.max()) if len(idf) else 1.0
    unknown = sum((v * rarest) ** 2 for f, v in features.items() if f not in index)
    norm = math.sqrt(sum(v * v for v in known.values()) + UNKNOWN_SHARE * unknown) or 1.0
    return {i: v / norm for i, v in known.items()}


def _code_class(code: str) -> str:
    if code.startswith("0x"):
        return code[:8]
    if code.startswith("["):
        return "[]"
    if "." in code:
        return code.rsplit(".", 1)[0]
    return code[0] + "xx"
