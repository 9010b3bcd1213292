"""Matcher speed: marginal cost per query, a cold `mailhelp faq --json` process, and growth.

    python benchmarks/faq_bench.py [--rounds 7] [--cold 10]

Marginal cost: every query of the development set, matched `rounds` times in one
process; the median over rounds of the mean time per query. Cold: the median wall time of
whole `mailhelp faq --json` processes. Growth: the same marginal measurement on synthetic
knowledge bases 10x and 100x the shipped one (every topic copied with its patterns and a
few words of its own, so the vocabulary grows too), all in this one run.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import yaml

from bot import kb
from bot.match import Matcher, Words

DEV_SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "dev.yaml"


def synthetic(knowledge: kb.Knowledge, factor: int, seed: int = 7) -> kb.Knowledge:
    """The knowledge base with every topic present `factor` times, each copy a little different."""
    rng = random.Random(seed)
    syllables = ["ka", "ro", "mi", "te", "lu", "sa", "no", "vi", "de", "pa", "zo", "qu"]
    topics = dict(knowledge.topics)
    for copy in range(1, factor):
        for topic in knowledge.topics.values():
            extra = "".join(rng.choice(syllables) for _ in range(4))
            patterns = MappingProxyType({
                lang: tuple(f"{p} {extra}{i % 7}" for i, p in enumerate(items))
                for lang, items in topic.patterns.items()
            })
            new_id = f"{topic.id}-x{copy}"
            topics[new_id] = replace(topic, id=new_id, patterns=patterns)
    return replace(knowledge, topics=MappingProxyType(topics))


def marginal_ms(matcher: Matcher, queries: list[str], rounds: int) -> float:
    per_round = []
    for _ in range(rounds):
        start = time.perf_counter()
        for q in queries:
            matcher.match(q)
        per_round.append((time.perf_counter() - start) / len(queries) * 1000)
    return statistics.median(per_round)


def cold_ms(runs: int) -> float:
    exe = shutil.which("mailhelp")
    cmd = [exe] if exe else [sys.executable, "-c", "from bot.cli import main; main()"]
    cmd += ["faq", "--json", "553 5.7.1 Sender address rejected: not owned by auth user"]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--cold", type=int, default=10)
    args = ap.parse_args()

    queries = [c["q"] for c in yaml.safe_load(DEV_SET.read_text(encoding="utf-8"))]
    knowledge = kb.load()
    words = Words.load(knowledge.root)
    print(f"{len(queries)} queries; median of {args.rounds} rounds")
    print(f"{'knowledge base':>16} {'topics':>7} {'patterns':>9} {'build ms':>9} "
          f"{'ms/query':>9} {'x shipped':>10}")
    base = None
    for factor in (1, 10, 100):
        k = synthetic(knowledge, factor) if factor > 1 else knowledge
        start = time.perf_counter()
        matcher = Matcher(k, words)
        build = (time.perf_counter() - start) * 1000
        cost = marginal_ms(matcher, queries, args.rounds)
        base = base or cost
        patterns = sum(len(p) for t in k.topics.values() for p in t.patterns.values())
        label = "shipped" if factor == 1 else f"{factor}x synthetic"
        print(f"{label:>16} {len(k.topics):>7} {patterns:>9} {build:>9.0f} {cost:>9.3f} "
              f"{cost / base:>10.1f}")
    print(f"cold `mailhelp faq --json` process: median {cold_ms(args.cold):.0f} ms "
          f"over {args.cold} runs")


if __name__ == "__main__":
    main()
