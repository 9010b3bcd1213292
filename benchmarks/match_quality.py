"""Matcher quality, side by side with a textbook baseline trained on the same knowledge.

    python benchmarks/match_quality.py [--folds 5]

Needs scikit-learn (the test extras) for the textbook baseline: TF-IDF word 1-2-grams
plus character 2-5-grams inside word boundaries, multinomial logistic regression, hosts
and addresses masked, trained on the same topics' titles, patterns, printed messages and
codes (it has no out-of-scope class: that is the matcher's), answering its best topic
when that topic's probability clears the threshold that scores best on the tuning data.

Prints, per language, top-1 (the first answer is right), top-3 (a right topic among the
answers and "did you mean" suggestions) and refused (out-of-scope questions given no
answer) for: (a) k-fold cross-validation over the knowledge base's own examples, (b) the
development and paraphrase sets, (c) the real messages, tuning part and held-out part.
Then the calibration: the curve of top-1 and refused against the answer threshold, and
how often an answer given with a probability is right. Only aggregate figures are
printed: no case of the held-out set is shown.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline, make_union

from bot import kb
from bot.match import Matcher, Words, normalize
from bot.match import matcher as decide
from bot.match.text import ADDRESS, HOST
from bot.match.training import OUT_OF_SCOPE, Example, examples, train

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
SETS = {  # name: file under tests/data
    "dev": "dev.yaml",
    "paraphrases": "paraphrases.yaml",
    "real (tuning)": "real_tuning.yaml",
    "real (held out)": "real_messages.yaml",
}
LANGS = ("en", "ru", "it")
THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


@dataclass(frozen=True)
class Case:
    q: str
    lang: str
    expect: tuple[str, ...]  # empty: out of scope


@dataclass(frozen=True)
class Verdict:
    """What one matcher did with one case: its ranked topics, how sure it was of the first."""

    case: Case
    ranked: tuple[str, ...]  # answers then suggestions, best first
    answered: bool
    confidence: float  # the best topic's probability

    def at(self, threshold: float) -> Verdict:
        """The same verdict had the answer threshold been `threshold`."""
        return replace(self, answered=self.confidence >= threshold)


def load_set(path: Path) -> list[Case]:
    cases = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    out = []
    for c in cases:
        expect = c["expect"]
        ids = () if expect is None else tuple(expect) if isinstance(expect, list) else (expect,)
        out.append(Case(str(c["q"]), c["lang"], ids))
    return out


# --- the two matchers ------------------------------------------------------------------


def ours(matcher: Matcher, cases: Sequence[Case]) -> list[Verdict]:
    out = []
    for case in cases:
        result = matcher.match(case.q)
        ranked = tuple(m.topic for m in result.matches + result.suggestions)
        best = (result.matches + result.suggestions)[:1]
        out.append(Verdict(case, ranked, bool(result.matches), best[0].score if best else 0.0))
    return out


_MASKS = ((ADDRESS, " emailaddress "), (HOST, " hostname "))


def baseline_text(text: str) -> str:
    text = normalize(text)
    for regex, token in _MASKS:
        text = regex.sub(token, text)
    return text


class Baseline:
    """TF-IDF word and character n-grams + multinomial logistic regression."""

    def __init__(self, items: Sequence[Example]) -> None:
        self.model = make_pipeline(
            make_union(TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
                       TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5),
                                       sublinear_tf=True)),
            LogisticRegression(C=10, max_iter=2000))
        topics = [e for e in items if e.label != OUT_OF_SCOPE]
        self.model.fit([baseline_text(e.text) for e in topics], [e.label for e in topics])
        self.classes = list(self.model.classes_)

    def verdicts(self, cases: Sequence[Case]) -> list[Verdict]:
        """Verdicts at threshold 0: re-threshold them with Verdict.at."""
        if not cases:
            return []
        probs = self.model.predict_proba([baseline_text(c.q) for c in cases])
        return [Verdict(case, tuple(self.classes[i] for i in np.argsort(-p)[:3]), True,
                        float(p.max())) for case, p in zip(cases, probs, strict=True)]


# --- scoring ---------------------------------------------------------------------------


@dataclass
class Score:
    inside: int = 0
    top1: int = 0
    top3: int = 0
    outside: int = 0
    refused: int = 0

    def add(self, v: Verdict) -> None:
        if not v.case.expect:
            self.outside += 1
            self.refused += not v.answered
            return
        self.inside += 1
        self.top1 += v.answered and bool(v.ranked) and v.ranked[0] in v.case.expect
        self.top3 += any(t in v.case.expect for t in v.ranked[:3])

    def cells(self) -> str:
        def rate(a: int, b: int) -> str:
            return f"{a / b:5.2f}" if b else "    -"
        return (f"{rate(self.top1, self.inside)} {rate(self.top3, self.inside)} "
                f"{rate(self.refused, self.outside)} {self.inside:4}/{self.outside:<3}")


def by_lang(verdicts: Sequence[Verdict]) -> dict[str, Score]:
    scores: dict[str, Score] = defaultdict(Score)
    for v in verdicts:
        scores[v.case.lang].add(v)
        scores["all"].add(v)
    return scores


def print_table(rows: list[tuple[str, Sequence[Verdict], Sequence[Verdict]]]) -> None:
    head = "top1  top3  refus  in/out"
    print(f"{'set':16} {'lang':4} | {'matcher: ' + head:38} | {'baseline: ' + head:39}")
    for name, mine, theirs in rows:
        a, b = by_lang(mine), by_lang(theirs)
        for lang in (*LANGS, "all"):
            if lang in a:
                print(f"{name:16} {lang:4} |          {a[lang].cells()} |"
                      f"           {b[lang].cells()}")


# --- cross-validation ------------------------------------------------------------------


def folds(items: list[Example], k: int) -> list[tuple[list[Example], list[Example]]]:
    """k train/test splits; code-only examples always train (a code is not a phrasing)."""
    rng = random.Random(5)
    shuffled = items[:]
    rng.shuffle(shuffled)
    out = []
    for i in range(k):
        test = [e for j, e in enumerate(shuffled) if j % k == i and not _code_only(e)]
        held = {id(e) for e in test}
        out.append(([e for e in shuffled if id(e) not in held], test))
    return out


def _code_only(e: Example) -> bool:
    return bool(re.fullmatch(r"[\d.x\[\]a-z-]*\d[\d.x\[\]a-z-]*", e.text)) and " " not in e.text


def as_case(e: Example) -> Case:
    return Case(e.text, e.lang, () if e.label == OUT_OF_SCOPE else (e.label,))


# --- calibration -----------------------------------------------------------------------


def at(verdicts: Sequence[Verdict], threshold: float) -> list[Verdict]:
    return [v.at(threshold) for v in verdicts]


def curve(name: str, verdicts: Sequence[Verdict]) -> None:
    print(f"{name}: answer threshold -> top1, refused, wrong answers among answers")
    for t in THRESHOLDS:
        s = Score()
        wrong = answered = 0
        for v in at(verdicts, t):
            s.add(v)
            if v.answered:
                answered += 1
                wrong += not v.case.expect or v.ranked[0] not in v.case.expect
        print(f"  {t:4.2f}  top1 {s.top1 / max(1, s.inside):5.2f}  refused "
              f"{s.refused / max(1, s.outside):5.2f}  wrong {wrong / max(1, answered):5.2f}")


def reliability(verdicts: Sequence[Verdict]) -> None:
    """Per band of the best topic's probability: how often that topic is right."""
    print("matcher's probability of its best topic -> how often that topic is right")
    for lo, hi in ((0.0, 0.3), (0.3, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.01)):
        band = [v for v in verdicts if lo <= v.confidence < hi]
        right = sum(bool(v.ranked) and v.ranked[0] in v.case.expect for v in band)
        share = f"{right / len(band):5.2f}" if band else "    -"
        print(f"  [{lo:.1f}, {min(hi, 1.0):.1f})  cases {len(band):4}  right {share}")


def best_threshold(verdicts: Sequence[Verdict]) -> float:
    """The threshold with the best sum of top-1 and refused; the higher one on a tie."""
    def value(t: float) -> float:
        s = Score()
        for v in at(verdicts, t):
            s.add(v)
        return s.top1 / max(1, s.inside) + s.refused / max(1, s.outside)
    return max(reversed(THRESHOLDS), key=value)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()
    knowledge = kb.load()
    words = Words.load(knowledge.root)
    shipped = Matcher(knowledge, words)
    items = list(examples(knowledge))
    sets = {name: load_set(DATA / f) for name, f in SETS.items() if (DATA / f).is_file()}
    tuning = sets.get("real (tuning)", []) + sets.get("dev", [])

    started = time.perf_counter()
    cv_mine: list[Verdict] = []
    cv_base: list[Verdict] = []
    for train_items, test_items in folds(items, args.folds):
        cases = [as_case(e) for e in test_items]
        trained = train(knowledge, words, shipped.providers, train_items)
        cv_mine += ours(Matcher(knowledge, words, trained=trained), cases)
        cv_base += Baseline(train_items).verdicts(cases)
    baseline = Baseline(items)
    base_tuning = cv_base + baseline.verdicts(tuning)
    threshold = best_threshold(base_tuning)
    print(f"{len(items)} examples, {len(knowledge.topics)} topics; {args.folds}-fold "
          f"cross-validation; baseline threshold {threshold} (best on the tuning data: "
          f"cross-validation, dev, real tuning); {time.perf_counter() - started:.0f} s\n")
    rows = [(f"{args.folds}-fold CV", cv_mine, at(cv_base, threshold))]
    for name, cases in sets.items():
        rows.append((name, ours(shipped, cases), at(baseline.verdicts(cases), threshold)))
    print_table(rows)

    print()
    mine_tuning = cv_mine + ours(shipped, tuning)
    curve("matcher, tuning data", mine_tuning)
    curve("baseline, tuning data", base_tuning)
    reliability(mine_tuning)
    print(f"\nshipped: answer at p >= {decide.CONFIDENT}, did-you-mean at p >= "
          f"{decide.SUGGEST}, temperature {decide.TEMPERATURE}")


if __name__ == "__main__":
    main()
