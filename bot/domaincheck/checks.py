"""The domain check's parts, one function each: MX, SPF, DMARC, DKIM, MTA-STS, TLS-RPT,
reverse DNS and blocklists. Each reads DNS only and returns its findings; a DNS failure
becomes a finding about that part rather than stopping the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, ip_address

from bot.check.errors import CheckRefused
from bot.check.policy import vet_addresses
from bot.check.settings import CheckPolicy
from bot.dnsclient import DnsClient, DnsError
from bot.domaincheck.findings import Finding
from bot.domaincheck.spf import MAX_LOOKUPS, evaluate, parse_spf, spf_records

# Bounds on what one domain can make the check ask: MX hosts looked at (best first), and
# MX addresses given reverse-DNS and blocklist questions.
MAX_MX_HOSTS = 10
MAX_MX_ADDRESSES = 8


@dataclass(frozen=True, slots=True)
class MailHosts:
    """The MX hosts and the public addresses they resolve to, with the MX findings."""

    addresses: tuple[tuple[str, str], ...]  # (host, ip)
    findings: tuple[Finding, ...]


def guarded(check: str, run: Callable[[], Awaitable[list[Finding]]]
            ) -> Callable[[], Awaitable[list[Finding]]]:
    """`run`, with a DNS failure turned into that part's finding."""
    async def wrapper() -> list[Finding]:
        try:
            return await run()
        except DnsError as exc:
            if exc.code == "txt_too_large":
                return [Finding(check, "txt_too_large", {"name": exc.name})]
            return [Finding(check, "dns_error", {"name": exc.name, "detail": exc.detail})]
    return wrapper


async def mail_hosts(domain: str, dns: DnsClient, policy: CheckPolicy) -> MailHosts:
    """The MX hosts' addresses; one the SSRF policy refuses is not usable on the internet."""
    try:
        answer = await dns.mx(domain)
    except DnsError as exc:
        return MailHosts((), (Finding("mx", "dns_error", {"name": exc.name,
                                                          "detail": exc.detail}),))
    hosts = [r.host for r in answer.records][:MAX_MX_HOSTS]
    if not hosts:
        return MailHosts((), (Finding("mx", "mx_missing", {"domain": domain}),))
    if hosts == ["."]:
        return MailHosts((), (Finding("mx", "mx_null", {"domain": domain}),))
    outcomes = await asyncio.gather(*(dns.addresses(h) for h in hosts), return_exceptions=True)
    findings: list[Finding] = []
    addresses: list[tuple[str, str]] = []
    for host, outcome in zip(hosts, outcomes, strict=True):
        if isinstance(outcome, BaseException) and not isinstance(outcome, DnsError):
            raise outcome
        if isinstance(outcome, DnsError) or not outcome.records:
            detail = outcome.detail if isinstance(outcome, DnsError) else "no A or AAAA record"
            findings.append(Finding("mx", "mx_unresolvable", {"host": host, "detail": detail}))
            continue
        for ip in outcome.records:
            try:
                vet_addresses(host, [ip], policy)
            except CheckRefused:
                findings.append(Finding("mx", "mx_not_public", {"host": host, "address": ip}))
            else:
                addresses.append((host, ip))
    if not findings:
        findings.append(Finding("mx", "mx_ok", {"domain": domain, "hosts": ", ".join(hosts)}))
    return MailHosts(tuple(addresses[:MAX_MX_ADDRESSES]), tuple(findings))


async def spf(domain: str, dns: DnsClient) -> list[Finding]:
    records = spf_records((await dns.txt(domain)).records)
    if not records:
        return [Finding("spf", "spf_missing", {"domain": domain})]
    if len(records) > 1:
        return [Finding("spf", "spf_multiple", {"domain": domain, "count": str(len(records))})]
    record = parse_spf(records[0])
    if record.bad_term is not None:
        return [Finding("spf", "spf_syntax", {"domain": domain, "term": _shown(record.bad_term)})]
    verdict = await evaluate(record, dns)
    findings: list[Finding] = []
    if verdict.missing_include is not None:
        findings.append(Finding("spf", "spf_include_missing",
                                {"domain": domain, "name": verdict.missing_include}))
    if verdict.lookups > MAX_LOOKUPS:
        findings.append(Finding("spf", "spf_too_many_lookups",
                                {"domain": domain, "lookups": str(verdict.lookups)}))
    final = record.all or ""
    if final == "+all":
        findings.append(Finding("spf", "spf_pass_all", {"domain": domain, "all": final}))
    elif final == "?all":
        findings.append(Finding("spf", "spf_weak_all", {"domain": domain, "all": final}))
    elif not final and "redirect=" not in record.text.lower():
        findings.append(Finding("spf", "spf_no_all", {"domain": domain}))
    if not findings:
        findings.append(Finding("spf", "spf_ok", {"domain": domain, "all": final or "redirect",
                                                  "lookups": str(verdict.lookups)}))
    return findings


async def dmarc(domain: str, dns: DnsClient) -> list[Finding]:
    texts = (await dns.txt(f"_dmarc.{domain}")).records
    records = [t for t in texts if t.replace(" ", "").lower().startswith("v=dmarc1")]
    if not records:
        return [Finding("dmarc", "dmarc_missing", {"domain": domain})]
    if len(records) > 1:
        return [Finding("dmarc", "dmarc_multiple", {"domain": domain,
                                                    "count": str(len(records))})]
    tags = _tags(records[0])
    policy = tags.get("p", "").lower()
    if policy not in ("none", "quarantine", "reject"):
        return [Finding("dmarc", "dmarc_syntax", {"domain": domain,
                                                  "record": _shown(records[0])})]
    findings = [Finding("dmarc", "dmarc_none" if policy == "none" else "dmarc_ok",
                        {"domain": domain, "policy": policy})]
    if not tags.get("rua"):
        findings.append(Finding("dmarc", "dmarc_no_rua", {"domain": domain}))
    return findings


async def dkim(domain: str, dns: DnsClient, selectors: tuple[str, ...]) -> list[Finding]:
    answers = await asyncio.gather(
        *(dns.txt(f"{s}._domainkey.{domain}") for s in selectors), return_exceptions=True)
    found: list[str] = []
    findings: list[Finding] = []
    for selector, answer in zip(selectors, answers, strict=True):
        if isinstance(answer, BaseException):
            if isinstance(answer, DnsError) and answer.code != "dns_timeout":
                continue  # one broken selector name says nothing about the others
            raise answer
        keys = [_tags(t) for t in answer.records if "p=" in t.replace(" ", "")]
        if any(not k.get("p") for k in keys):
            findings.append(Finding("dkim", "dkim_revoked", {"selector": selector}))
        elif keys:
            found.append(selector)
    if found:
        findings.append(Finding("dkim", "dkim_found", {"selectors": ", ".join(found)}))
    elif not findings:
        findings.append(Finding("dkim", "dkim_not_found", {"selectors": ", ".join(selectors)}))
    return findings


async def mta_sts(domain: str, dns: DnsClient) -> list[Finding]:
    return await _policy_record(domain, dns, f"_mta-sts.{domain}", "v=stsv1", ("id",),
                                "mta_sts", "mta-sts")


async def tls_rpt(domain: str, dns: DnsClient) -> list[Finding]:
    return await _policy_record(domain, dns, f"_smtp._tls.{domain}", "v=tlsrptv1", ("rua",),
                                "tlsrpt", "tls-rpt")


async def reverse_dns(hosts: MailHosts, dns: DnsClient) -> list[Finding]:
    """Forward-confirmed reverse DNS of each MX address."""
    outcomes = await asyncio.gather(*(_fcrdns(host, ip, dns) for host, ip in hosts.addresses))
    findings = [f for f in outcomes if f is not None]
    if hosts.addresses and not findings:
        findings.append(Finding("ptr", "ptr_ok"))
    return findings


async def blocklists(hosts: MailHosts, dns: DnsClient, lists: tuple[str, ...]) -> list[Finding]:
    """Each IPv4 MX address asked of each DNS blocklist zone (only when lists are set)."""
    if not hosts.addresses:
        return []
    asks = [(host, ip, zone) for host, ip in hosts.addresses
            if isinstance(ip_address(ip), IPv4Address) for zone in lists]
    answers = await asyncio.gather(
        *(dns.addresses(".".join(reversed(ip.split("."))) + "." + zone)
          for _, ip, zone in asks))
    findings = [Finding("dnsbl", "dnsbl_listed", {"host": host, "ip": ip, "list": zone})
                for (host, ip, zone), answer in zip(asks, answers, strict=True)
                if any(a.startswith("127.") for a in answer.records)]
    return findings or [Finding("dnsbl", "dnsbl_clean", {"lists": ", ".join(lists)})]


async def _fcrdns(host: str, ip: str, dns: DnsClient) -> Finding | None:
    names = (await dns.ptr(ip)).records
    if not names:
        return Finding("ptr", "ptr_missing", {"host": host, "ip": ip})
    for name in names:
        try:
            if ip in (await dns.addresses(name)).records:
                return None
        except DnsError:
            continue  # a reverse name that does not resolve confirms nothing

    return Finding("ptr", "ptr_mismatch", {"host": host, "ip": ip, "name": names[0]})


async def _policy_record(domain: str, dns: DnsClient, name: str, version: str,
                         required: tuple[str, ...], code: str, check: str) -> list[Finding]:
    texts = (await dns.txt(name)).records
    records = [t for t in texts if t.replace(" ", "").lower().startswith(version)]
    if not records:
        return [Finding(check, f"{code}_missing", {"domain": domain})]
    tags = _tags(records[0])
    if len(records) > 1 or not all(tags.get(key) for key in required):
        return [Finding(check, f"{code}_syntax", {"domain": domain,
                                                  "record": _shown(records[0])})]
    return [Finding(check, f"{code}_ok", {"domain": domain})]


def _shown(text: str, limit: int = 120) -> str:
    """A record's text as quoted in a finding: whatever DNS holds, at most `limit` chars."""
    return text if len(text) <= limit else text[:limit] + "…"


def _tags(record: str) -> dict[str, str]:
    """`k=v; k=v` tags (DMARC, DKIM, MTA-STS, TLS-RPT), names lowercased."""
    tags: dict[str, str] = {}
    for part in record.split(";"):
        name, sep, value = part.partition("=")
        if sep:
            tags.setdefault(name.strip().lower(), value.strip())
    return tags
