"""What prometheus_client costs the web server: per turn, per scrape, at start.

    python benchmarks/metrics_bench.py [--turns 100000] [--rounds 7]

Side by side in one run: a chat turn's metric updates (two labelled counters and a
histogram, as the chat endpoint makes them) through WebMetrics (prometheus_client),
and through plain dict counters with bisect-bucketed histograms, the least any
hand-written exposition can do; one /metrics rendering of each; and the import time of
prometheus_client in a fresh interpreter. Medians over rounds. A chat turn takes about
430 us of server CPU (benchmarks/web_bench.py), so the per-turn difference is quoted as a
share of that.
"""

from __future__ import annotations

import argparse
import bisect
import statistics
import subprocess
import sys
import timeit
from collections.abc import Callable

from bot.channels.web.metrics import TURN_BUCKETS, WebMetrics

TURN_CPU_US = 430.0  # server CPU per chat turn, README's web_bench figure


class PlainMetrics:
    """Counters in a dict, a histogram as bucket counts: the baseline."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.buckets = [0] * (len(TURN_BUCKETS) + 1)
        self.total = 0.0

    def turn(self) -> None:
        self.counts["turn:text"] = self.counts.get("turn:text", 0) + 1
        self.counts["answer:match"] = self.counts.get("answer:match", 0) + 1
        self.buckets[bisect.bisect_left(TURN_BUCKETS, 0.0004)] += 1
        self.total += 0.0004

    def render(self) -> str:
        lines = [f'mailhelp_{name} {count}' for name, count in sorted(self.counts.items())]
        running = 0
        for bound, count in zip((*TURN_BUCKETS, "+Inf"), self.buckets, strict=True):
            running += count
            lines.append(f'mailhelp_turn_seconds_bucket{{le="{bound}"}} {running}')
        return "\n".join(lines) + "\n"


def median_us(call: Callable[[], object], number: int, rounds: int) -> float:
    times = timeit.repeat(call, number=number, repeat=rounds)
    return statistics.median(times) / number * 1e6


def import_ms(rounds: int) -> float:
    code = "import time; t = time.perf_counter(); import prometheus_client; " \
           "print((time.perf_counter() - t) * 1000)"
    return statistics.median(float(subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    web, plain = WebMetrics(), PlainMetrics()

    def web_turn() -> None:
        web.turns.labels("text").inc()
        web.answers.labels("match").inc()
        web.turn_seconds.observe(0.0004)

    client_turn = median_us(web_turn, args.turns, args.rounds)
    plain_turn = median_us(plain.turn, args.turns, args.rounds)
    client_render = median_us(web.render, 200, args.rounds)
    plain_render = median_us(plain.render, 200, args.rounds)
    print(f"metric updates of one chat turn, median of {args.rounds} rounds")
    print(f"  prometheus_client   {client_turn:6.2f} us/turn  "
          f"({client_turn / TURN_CPU_US:.1%} of a turn's ~{TURN_CPU_US:g} us CPU)")
    print(f"  plain dict counters {plain_turn:6.2f} us/turn  "
          f"(ratio {client_turn / plain_turn:.1f}x)")
    print("one /metrics rendering (prometheus_client includes the process's figures)")
    print(f"  prometheus_client   {client_render:6.0f} us")
    print(f"  plain               {plain_render:6.0f} us")
    print(f"import prometheus_client: {import_ms(args.rounds):.0f} ms, once at serve start")


if __name__ == "__main__":
    main()
