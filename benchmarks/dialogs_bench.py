"""Typed-only conversations understood: the success rate per language, and per batch.

    python benchmarks/dialogs_bench.py [--failures]

Runs every conversation of tests/data/dialogs.yaml through the engine (what a person types,
line by line; the answer to the last line must say what the file expects) and prints how
many were understood, per language and per batch (batch 1 was written before the engine
learned to read typed answers, the others later). Also the CPU time per typed
line: the median of 5 rounds after a warm-up pass.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' runner

from tests.dialog_scripts import load, run

ROUNDS = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", action="store_true", help="show what each failure said")
    args = parser.parse_args()
    engine, dialogs = load()
    passed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for dialog in dialogs:
        outcome = run(engine, dialog)
        for key in (dialog.lang, f"batch {dialog.batch}", "all"):
            total[key] += 1
            passed[key] += outcome.passed
        if not outcome.passed:
            print(f"FAILED {dialog.id}" + (f"\n{outcome.why}\n" if args.failures else ""))
    turns = sum(len(d.lines) for d in dialogs)
    rounds = []
    for _round in range(ROUNDS):  # the first pass above warmed up lazy imports and caches
        started = time.process_time()
        for dialog in dialogs:
            run(engine, dialog)
        rounds.append(time.process_time() - started)
    elapsed = statistics.median(rounds)
    print(f"{len(dialogs)} typed conversations, {turns} lines typed")
    print("  set              understood")
    for key in (*sorted(k for k in total if len(k) == 2), *sorted(
            k for k in total if k.startswith("batch")), "all"):
        print(f"  {key:<10} {passed[key]:>4}/{total[key]:<4} {passed[key] / total[key]:>6.1%}")
    print(f"  {elapsed / turns * 1000:.2f} ms CPU per typed line (engine in-process, median of "
          f"{ROUNDS} rounds after a warm-up)")


if __name__ == "__main__":
    main()
