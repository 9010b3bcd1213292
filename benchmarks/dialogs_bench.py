"""Typed-only conversations understood: the success rate per language, and per batch.

    python benchmarks/dialogs_bench.py [--failures]

Runs every conversation of tests/data/dialogs.yaml through the engine (what a person types,
line by line; the answer to the last line must say what the file expects) and prints how
many were understood, per language and per batch (batch 1 was written before the engine
learned to read typed answers, batches 2 and 3 later). Also the time per typed line,
after one warm-up pass.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' runner

from tests.dialog_scripts import load, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", action="store_true", help="show what each failure said")
    args = parser.parse_args()
    engine, dialogs = load()
    passed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for dialog in dialogs:  # once to warm up (lazy imports, caches); timed below
        run(engine, dialog)
    turns = 0
    started = time.perf_counter()
    for dialog in dialogs:
        outcome = run(engine, dialog)
        turns += len(dialog.lines)
        for key in (dialog.lang, f"batch {dialog.batch}", "all"):
            total[key] += 1
            passed[key] += outcome.passed
        if not outcome.passed:
            print(f"FAILED {dialog.id}" + (f"\n{outcome.why}\n" if args.failures else ""))
    elapsed = time.perf_counter() - started
    print(f"{len(dialogs)} typed conversations, {turns} lines typed")
    print("  set              understood")
    for key in (*sorted(k for k in total if len(k) == 2), *sorted(
            k for k in total if k.startswith("batch")), "all"):
        print(f"  {key:<10} {passed[key]:>4}/{total[key]:<4} {passed[key] / total[key]:>6.1%}")
    print(f"  {elapsed / turns * 1000:.2f} ms per typed line (engine in-process, after a warm-up)")


if __name__ == "__main__":
    main()
