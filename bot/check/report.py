"""Showing a check: the JSON document, the table, the findings in words, progress lines."""

from __future__ import annotations

from typing import Any

from bot.check.errors import CheckRefused
from bot.check.messages import catalogue
from bot.check.results import CheckReport, EndpointResult, TlsMode

_TLS_LABELS: dict[TlsMode, str] = {"implicit": "SSL/TLS", "starttls": "STARTTLS", "none": "none"}
_HEADINGS = ("PROTOCOL", "HOST", "IP", "PORT", "TLS", "CONNECT", "TLS VERSION", "CERTIFICATE",
             "STATUS")
_MARKS = {"error": "✗", "warning": "!"}


def report_json(report: CheckReport, lang: str) -> dict[str, Any]:
    """The report as the documented JSON object, messages in `lang`."""
    messages = catalogue()
    return report.as_json(lambda problem: messages.describe(problem, lang))


def refusal_text(refused: CheckRefused, lang: str) -> str:
    messages = catalogue()
    return messages.text("refused", lang, reason=messages.refusal(refused, lang))


def render_table(report: CheckReport) -> str:
    """One row an endpoint, columns aligned."""
    rows = [_HEADINGS, *(_row(result) for result in report.endpoints)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADINGS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows)


def render_findings(report: CheckReport, lang: str) -> str:
    """The problems of every endpoint in plain words, each with its topic."""
    messages = catalogue()
    blocks: list[str] = []
    for result in report.endpoints:
        if not result.problems:
            continue
        lines = [_endpoint_label(result)]
        for problem in result.problems:
            topic = messages.text("topic", lang, topic=problem.topic)
            lines.append(f"  {_MARKS[problem.severity]} {messages.describe(problem, lang)}"
                         f" ({topic})")
        blocks.append("\n".join(lines))
    if not blocks:
        return messages.text("all_fine", lang)
    return "\n\n".join([messages.text("problems_found", lang), *blocks])


def progress_line(result: EndpointResult, done: int, total: int) -> str:
    """One line saying that an endpoint finished, and how."""
    outcome = result.failure or result.status
    timing = f" {result.connect_ms:.0f} ms" if result.connect_ms is not None else ""
    return f"[{done}/{total}] {_endpoint_label(result)}: {outcome}{timing}"


def _row(result: EndpointResult) -> tuple[str, ...]:
    e = result.endpoint
    cert = result.certificate
    return (
        result.protocol or e.protocol or "?",
        e.host,
        e.ip or "-",
        str(e.port),
        "-" if result.failure and result.tls == "none" else _TLS_LABELS[result.tls],
        f"{result.connect_ms:.0f} ms" if result.connect_ms is not None else "-",
        result.tls_version or "-",
        cert.verdict if cert is not None else "-",
        result.status.upper() if result.status == "error" else result.status,
    )


def _endpoint_label(result: EndpointResult) -> str:
    e = result.endpoint
    protocol = result.protocol or e.protocol or "?"
    host = f"[{e.host}]" if ":" in e.host else e.host
    address = f" ({e.ip})" if e.ip and e.ip != e.host else ""
    return f"{protocol} {host}:{e.port}{address}"
