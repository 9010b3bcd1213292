"""The matcher: a message in, its language, provider, codes and the three-way decision out.

The model gives every topic, and the class "out of scope", a probability. A topic at or
above CONFIDENT is answered; when none is, topics at or above SUGGEST are offered as
"did you mean"; below that, or when "out of scope" wins, the answer is "I don't know".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from bot.kb import Knowledge
from bot.match.detect import Languages, Providers, Words
from bot.match.features import read, vector
from bot.match.model import Array, softmax
from bot.match.text import MAX_TEXT_CHARS, WORD, normalize
from bot.match.training import OUT_OF_SCOPE, Trained, load_or_train

# Chosen on the measured curve (benchmarks/match_quality.py prints it).
TEMPERATURE = 0.7  # logits are divided by this before the softmax: calibration
CONFIDENT = 0.5  # the best topic's probability at which it is answered
SEE_ALSO = 0.05  # further topics this likely are listed after a confident one
SUGGEST = 0.15  # "did you mean" from here up to CONFIDENT
AMBIGUOUS = 0.3  # a runner-up at least this likely: ask which of the two was meant
MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class Match:
    """One candidate topic for a query; score is its probability."""

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


class Matcher:
    """Ranks the topics of one knowledge base for a query. Build once, call match() often."""

    def __init__(self, knowledge: Knowledge, words: Words | None = None,
                 trained: Trained | None = None, cache: list[Path] | None = None) -> None:
        """`trained`: a model to use as it is; `cache`: folders to keep the model in."""
        self.knowledge = knowledge
        self.words = words or Words.load(knowledge.root)
        self.providers = Providers(knowledge)
        self.trained = trained or load_or_train(knowledge, self.words, self.providers, cache)
        self.languages = Languages(self.words, self.trained.lang_words)
        self._topics = np.array([c != OUT_OF_SCOPE for c in self.trained.classes])

    def probabilities(self, text: str, provider: str | None) -> tuple[Array, tuple[str, ...]]:
        """Per class, the probability for a normalized text, and the codes read from it."""
        reading = read(text, self.words, provider)
        features = vector(reading.features, self.trained.vocabulary, self.trained.idf)
        return softmax(self.trained.model.logits(features), TEMPERATURE), reading.codes

    def match(self, query: str, n: int = 3, lang: str | None = None) -> Result:
        """Rank the topics for one query; `lang` overrides the detected language."""
        text = normalize(query)
        provider = self.providers.detect(text)
        probs, codes = self.probabilities(text, provider)
        detected = self.languages.detect(WORD.findall(text[:MAX_TEXT_CHARS]))
        classes = self.trained.classes
        order = [int(i) for i in np.argsort(-probs) if self._topics[i]]
        best = order[0] if order else None
        confident = best is not None and probs[best] >= CONFIDENT
        matches: tuple[Match, ...] = ()
        suggestions: tuple[Match, ...] = ()
        if confident and n > 0:
            chosen = [i for i in order[:n] if i == best or probs[i] >= SEE_ALSO]
            matches = tuple(Match(classes[i], float(probs[i]), provider) for i in chosen)
        elif not confident:
            chosen = [i for i in order[:MAX_SUGGESTIONS] if probs[i] >= SUGGEST]
            suggestions = tuple(Match(classes[i], float(probs[i]), provider) for i in chosen)
        ambiguous = len(matches) > 1 and matches[1].score >= AMBIGUOUS
        return Result(query=query, lang=lang or detected, matches=matches,
                      suggestions=suggestions, ambiguous=ambiguous, provider=provider,
                      codes=codes)


@lru_cache(maxsize=4)
def matcher_for(knowledge: Knowledge) -> Matcher:
    """One matcher per knowledge base, built on first use."""
    return Matcher(knowledge)
