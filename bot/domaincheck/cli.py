"""`mailhelp check --domain DOMAIN`: the domain check on the command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from bot.check.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_REFUSED
from bot.check.errors import CheckRefused
from bot.check.report import refusal_text
from bot.check.settings import CheckPolicy
from bot.config import dnsbl_zones, load_config
from bot.discover.cli import resolver_from
from bot.discover.found import domain_of
from bot.dnsclient import DnsClient
from bot.domaincheck.run import check_domain


def run_domain_check(args: argparse.Namespace, policy: CheckPolicy, lang: str) -> int:
    """Check args.domain and print the findings; the exit status says how it went."""
    try:
        domain = domain_of(args.domain)
    except CheckRefused as refused:
        print(refusal_text(refused, lang), file=sys.stderr)
        return EXIT_REFUSED
    dnsbl = dnsbl_zones(args.dnsbl, "--dnsbl") if args.dnsbl is not None else load_config().dnsbl
    selectors = tuple(args.dkim_selector) if args.dkim_selector else None
    dns = DnsClient(resolver_from(args), policy.dns_timeout)
    try:
        report = asyncio.run(check_domain(domain, dns, policy, dnsbl=dnsbl,
                                          dkim_selectors=selectors))
    except TimeoutError:
        print(f"mailhelp check: no complete answer within {policy.check_timeout:g} s",
              file=sys.stderr)
        return EXIT_PROBLEMS
    if args.json:
        print(json.dumps(report.as_json(lang), ensure_ascii=False, indent=2))
    else:
        print(report.render(lang))
    return EXIT_PROBLEMS if report.status in ("warning", "error") else EXIT_OK
