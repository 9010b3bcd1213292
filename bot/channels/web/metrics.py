"""What the web server counts for Prometheus: turns, answers, checks, latencies, the process.

prometheus_client does the exposition; its process collector adds CPU, memory and open
file descriptors (the figure that shows idle sockets piling up). One WebMetrics belongs
to one app, with a registry of its own; several instances are summed by Prometheus.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

TURN_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
CHECK_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class WebMetrics:
    """The counters and histograms of one web app. Counter labels are small fixed sets
    chosen by code, never anything a client sent."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.turns = Counter("mailhelp_turns", "Conversation turns served, by what started them.",
                             ["kind"], registry=registry)
        self.answers = Counter("mailhelp_answers",
                               "Typed questions answered from the knowledge base or not.",
                               ["result"], registry=registry)
        self.faq = Counter("mailhelp_faq_queries", "FAQ lookups, by outcome: match, "
                           "suggestion (did you mean) or no_match.", ["result"], registry=registry)
        self.checks = Counter("mailhelp_checks", "Live checks, by outcome (a report's status, "
                              "refused, rate_limited, or abandoned by the client).",
                              ["outcome"], registry=registry)
        self.turn_seconds = Histogram("mailhelp_turn_seconds",
                                      "Time to answer one conversation turn.",
                                      buckets=TURN_BUCKETS, registry=registry)
        self.check_seconds = Histogram("mailhelp_check_seconds",
                                       "Time a live check took, from request to summary.",
                                       buckets=CHECK_BUCKETS, registry=registry)
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
