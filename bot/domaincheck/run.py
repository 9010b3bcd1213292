"""Running the domain check: every part at once, the findings in a fixed order, shown.

`check_domain` reads DNS only; the parts that need the MX addresses (reverse DNS,
blocklists) wait for the MX part, everything else runs alongside it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.check.settings import CheckPolicy
from bot.discover.rules import load_rules
from bot.dnsclient import DnsClient
from bot.domaincheck import checks
from bot.domaincheck.findings import STATUSES, Finding, Status, ui_text

_MARKS = {"ok": "✓", "info": "i", "warning": "!", "error": "✗"}


@dataclass(frozen=True, slots=True)
class DomainReport:
    domain: str
    findings: tuple[Finding, ...]
    seconds: float

    @property
    def status(self) -> Status:
        return max((f.status for f in self.findings), key=STATUSES.index, default="ok")

    def as_json(self, lang: str) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "status": self.status,
            "findings": [{"check": f.check, "code": f.code, "status": f.status,
                          "topic": f.topic, "message": f.message(lang),
                          "params": dict(f.params)} for f in self.findings],
        }

    def render(self, lang: str) -> str:
        lines = [ui_text("heading", lang, domain=self.domain)]
        for f in self.findings:
            lines.append(f"  {_MARKS[f.status]} {f.check.upper()}: {f.message(lang)}")
            if f.status in ("warning", "error"):
                lines.append(f"      ({ui_text('topic', lang, topic=f.topic)})")
        return "\n".join(lines)


async def check_domain(domain: str, dns: DnsClient, policy: CheckPolicy, *,
                       dnsbl: tuple[str, ...] = (),
                       dkim_selectors: tuple[str, ...] | None = None) -> DomainReport:
    """Every finding about `domain` (a name domain_of accepted), within the policy's
    check_timeout (TimeoutError past it); MX addresses are judged by the SSRF policy.
    DKIM keys are looked for under `dkim_selectors`, else those of mail-hosting.yaml."""
    selectors = dkim_selectors or load_rules().dkim_selectors
    started = time.perf_counter()
    timeout = policy.check_timeout
    hosts_task = asyncio.ensure_future(checks.mail_hosts(domain, dns, policy))

    async def after_mx(run: Callable[[checks.MailHosts], Awaitable[list[Finding]]]
                       ) -> list[Finding]:
        return await run(await hosts_task)

    parts: list[Callable[[], Awaitable[list[Finding]]]] = [
        checks.guarded("spf", lambda: checks.spf(domain, dns)),
        checks.guarded("dmarc", lambda: checks.dmarc(domain, dns)),
        checks.guarded("dkim", lambda: checks.dkim(domain, dns, selectors)),
        checks.guarded("mta-sts", lambda: checks.mta_sts(domain, dns)),
        checks.guarded("tls-rpt", lambda: checks.tls_rpt(domain, dns)),
        checks.guarded("ptr", lambda: after_mx(lambda h: checks.reverse_dns(h, dns))),
    ]
    if dnsbl:
        parts.append(checks.guarded(
            "dnsbl", lambda: after_mx(lambda h: checks.blocklists(h, dns, dnsbl))))
    try:
        async with asyncio.timeout(timeout):
            results = await asyncio.gather(*(part() for part in parts))
            hosts = await hosts_task
    finally:
        hosts_task.cancel()
    findings = [*hosts.findings, *(f for result in results for f in result)]
    return DomainReport(domain, tuple(findings), time.perf_counter() - started)
