"""Matcher speed: training, loading the cached model, cost per query, a cold process, growth.

    python benchmarks/faq_bench.py [--rounds 7] [--cold 10]

Training: the model trained from the knowledge base in memory; load: the same model read
from its cache file. Marginal cost: every query of the development and real-tuning sets,
matched `rounds` times in one process; the median over rounds of the mean time per
query. Cold: the median wall time of whole `mailhelp faq --json` processes with the model
cached (as after the first start), and one first start with an empty cache. Growth: the
same on a synthetic knowledge base 10x the shipped one (every topic copied with its
patterns and a few words of its own, so classes and vocabulary grow too), in this one run.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import yaml

from bot import kb
from bot.match import Matcher, Words
from bot.match.training import examples, load_or_train

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
SETS = ("dev.yaml", "real_tuning.yaml")


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


def cold_ms(runs: int, cache: Path) -> list[float]:
    exe = shutil.which("mailhelp")
    cmd = [exe] if exe else [sys.executable, "-c", "from bot.cli import main; main()"]
    cmd += ["faq", "--json", "553 5.7.1 Sender address rejected: not owned by auth user"]
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    env.pop("MAILHELP_DATA", None)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--cold", type=int, default=10)
    args = ap.parse_args()

    queries = [c["q"] for name in SETS if (DATA / name).is_file()
               for c in yaml.safe_load((DATA / name).read_text(encoding="utf-8"))]
    knowledge = kb.load()
    words = Words.load(knowledge.root)
    print(f"{len(queries)} queries; median of {args.rounds} rounds")
    print(f"{'knowledge base':>16} {'topics':>7} {'examples':>9} {'train ms':>9} {'load ms':>8} "
          f"{'ms/query':>9} {'x shipped':>10}")
    base = None
    with tempfile.TemporaryDirectory() as tmp:
        for factor in (1, 10):
            k = synthetic(knowledge, factor) if factor > 1 else knowledge
            cache = [Path(tmp) / f"x{factor}"]
            start = time.perf_counter()
            matcher = Matcher(k, words, cache=cache)  # trains and stores the model
            train = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            load_or_train(k, words, matcher.providers, cache)
            load = (time.perf_counter() - start) * 1000
            cost = marginal_ms(matcher, queries, args.rounds)
            base = base or cost
            count = sum(1 for _ in examples(k))
            label = "shipped" if factor == 1 else f"{factor}x synthetic"
            print(f"{label:>16} {len(k.topics):>7} {count:>9} {train:>9.0f} {load:>8.0f} "
                  f"{cost:>9.3f} {cost / base:>10.1f}")
        first = cold_ms(1, Path(tmp) / "cold")[0]
        warm = statistics.median(cold_ms(args.cold, Path(tmp) / "cold"))
    print(f"cold `mailhelp faq --json` process: median {warm:.0f} ms over {args.cold} runs "
          f"with the model cached; {first:.0f} ms for the first start (trains, caches)")


if __name__ == "__main__":
    main()
