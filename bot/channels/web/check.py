"""POST /api/v1/check: the live check over HTTP, streamed as Server-Sent Events or as one JSON.

Events, in order: `start` ({"target", "total", "text"}), one `endpoint` per endpoint as
it completes (that endpoint's object of the JSON report), and `summary` (the whole report
plus "text", its findings in words). A refused target is a 400 and a requester over the
rate limit a 429, both before anything is sent anywhere.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from bot.channels.dns_actions import DnsActions
from bot.channels.web.input import (
    ApiError,
    accept_language,
    client_address,
    lang_field,
    only_fields,
    read_json,
    text_field,
    wants_json,
)
from bot.channels.web.metrics import WebMetrics
from bot.check import CheckLimiter, CheckPolicy, CheckRefused, RunningCheck, finish_report
from bot.check.messages import catalogue
from bot.check.report import refusal_text, render_findings, report_json
from bot.check.results import CheckReport, EndpointResult
from bot.check.runner import start_check

MAX_TARGET_CHARS = 320  # an address: 64 for the local part, 255 for the domain, the @


class CheckApi:
    """The check endpoint over one process-wide limiter."""

    def __init__(self, policy: CheckPolicy, limiter: CheckLimiter, metrics: WebMetrics,
                 dns_actions: DnsActions) -> None:
        self.policy = policy
        self.limiter = limiter
        self.metrics = metrics
        self.dns_actions = dns_actions

    async def check(self, request: Request) -> Response:
        body = await read_json(request)
        only_fields(body, ("target", "lang"))
        target = text_field(body, "target", MAX_TARGET_CHARS).strip()
        lang = (lang_field(body.get("lang"))
                or accept_language(request.headers.get("accept-language", "")) or "en")
        started = time.perf_counter()
        requester = client_address(request)
        try:
            # An address on a domain the knowledge base does not know: its servers are
            # discovered first.
            servers = await self.dns_actions.check_servers(target, requester)
            running = await start_check(target, self.policy, requester=requester,
                                        limiter=self.limiter, providers=servers,
                                        resolver=self.dns_actions.check_resolver)
        except CheckRefused as refused:
            raise self._refusal(refused, lang) from None
        if wants_json(request.headers.get("accept", "")):
            results = [result async for result in running]
            report = finish_report(target, results)
            self._finished(report.status, started)
            return JSONResponse(summary(report, lang))
        return StreamingResponse(
            self._events(target, running, lang, started), media_type="text/event-stream",
            # X-Accel-Buffering: a reverse proxy must pass each event on at once.
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def _events(self, target: str, running: RunningCheck, lang: str,
                      started: float) -> AsyncIterator[str]:
        messages = catalogue()
        total = len(running.endpoints)
        outcome = "abandoned"  # unless the summary goes out: the client left first
        results: list[EndpointResult] = []
        landing = aiter(running)
        try:
            yield event("start", {"target": target, "total": total,
                                  "text": messages.text("checking", lang, count=str(total),
                                                        target=target)})
            async for result in landing:
                results.append(result)
                yield event("endpoint",
                            result.as_json(lambda problem: messages.describe(problem, lang)))
            report = finish_report(target, results)
            outcome = report.status
            yield event("summary", summary(report, lang))
        finally:
            # Closing the results ends the probes still running; shielded, since a client
            # that went away cancels this stream and every await in it.
            if isinstance(landing, AsyncGenerator):
                with anyio.CancelScope(shield=True):
                    await landing.aclose()
            self._finished(outcome, started)

    def _refusal(self, refused: CheckRefused, lang: str) -> ApiError:
        if refused.code == "rate_limited":
            self.metrics.checks.labels("rate_limited").inc()
            return ApiError(429, "rate_limited", refusal_text(refused, lang),
                            headers={"Retry-After": refused.params.get("seconds", "60")})
        self.metrics.checks.labels("refused").inc()
        return ApiError(400, "refused", refusal_text(refused, lang), field="target")

    def _finished(self, outcome: str, started: float) -> None:
        self.metrics.checks.labels(outcome).inc()
        self.metrics.check_seconds.observe(time.perf_counter() - started)


def summary(report: CheckReport, lang: str) -> dict[str, Any]:
    return {**report_json(report, lang), "text": render_findings(report, lang)}


def event(name: str, data: dict[str, Any]) -> str:
    """One Server-Sent Event; compact JSON has no line breaks, so one data line holds it."""
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
