"""What the web server counts, in Prometheus' text format: turns, answers, checks, latencies.

Everything is updated from the event loop's thread only, so plain integers and floats
need no lock. One WebMetrics belongs to one app; several instances are summed by
Prometheus, not here.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator

TURN_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
CHECK_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Counter:
    """A counter with one label; the label's values are a small fixed set chosen by code."""

    def __init__(self, name: str, help_text: str, label: str) -> None:
        self.name = name
        self.help = help_text
        self.label = label
        self.values: dict[str, int] = {}

    def inc(self, value: str) -> None:
        self.values[value] = self.values.get(value, 0) + 1

    def lines(self) -> Iterator[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} counter"
        for value, count in sorted(self.values.items()):
            yield f'{self.name}{{{self.label}="{value}"}} {count}'


class Histogram:
    """Durations in seconds, counted into cumulative buckets."""

    def __init__(self, name: str, help_text: str, buckets: tuple[float, ...]) -> None:
        self.name = name
        self.help = help_text
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)  # the last one is +Inf
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, seconds)] += 1
        self.sum += seconds

    def lines(self) -> Iterator[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} histogram"
        running = 0
        for bound, count in zip((*self.buckets, float("inf")), self.counts, strict=True):
            running += count
            le = "+Inf" if bound == float("inf") else f"{bound:g}"
            yield f'{self.name}_bucket{{le="{le}"}} {running}'
        yield f"{self.name}_sum {self.sum:.6f}"
        yield f"{self.name}_count {running}"


class WebMetrics:
    """The counters and histograms of one web app."""

    def __init__(self) -> None:
        self.turns = Counter("mailhelp_turns_total",
                             "Conversation turns served, by what started them.", "kind")
        self.answers = Counter("mailhelp_answers_total",
                               "Typed questions answered from the knowledge base or not.",
                               "result")
        self.faq = Counter("mailhelp_faq_queries_total",
                           "FAQ lookups, by whether anything matched.", "result")
        self.checks = Counter("mailhelp_checks_total",
                              "Live checks, by outcome (a report's status, refused, "
                              "rate_limited, or abandoned by the client).", "outcome")
        self.turn_seconds = Histogram("mailhelp_turn_seconds",
                                      "Time to answer one conversation turn.", TURN_BUCKETS)
        self.check_seconds = Histogram("mailhelp_check_seconds",
                                       "Time a live check took, from request to summary.",
                                       CHECK_BUCKETS)

    def render(self) -> str:
        parts = (self.turns, self.answers, self.faq, self.checks, self.turn_seconds,
                 self.check_seconds)
        return "\n".join(line for part in parts for line in part.lines()) + "\n"
