"""`mailhelp check TARGET`: the live check on the command line, with progress and verdicts."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import sys
from dataclasses import replace
from typing import TextIO

from bot.check.errors import CheckRefused
from bot.check.messages import catalogue
from bot.check.providers import ProviderLookup, knowledge_servers
from bot.check.report import (
    progress_line,
    refusal_text,
    render_findings,
    render_table,
    report_json,
)
from bot.check.resolve import Resolver, system_resolver
from bot.check.results import CheckReport, EndpointResult
from bot.check.runner import finish_report, start_check
from bot.check.settings import CheckPolicy
from bot.discover.cli import add_resolver_argument, resolver_from
from bot.kb import LANGS

EXIT_OK, EXIT_PROBLEMS, EXIT_REFUSED = 0, 1, 2


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `check` with the `mailhelp` command."""
    parser = subparsers.add_parser(
        "check", help="check a mail server's ports and TLS, without a password",
        description="Connect to a mail server's IMAP, POP3 and SMTP ports, read the greeting "
        "and capabilities, try STARTTLS and TLS, inspect the certificate, and say what it "
        "means for the mail program's settings. No login or password is ever sent.",
        epilog="exit status: 0 all fine; 1 problems found; 2 refused or bad input")
    parser.add_argument("target", metavar="TARGET", nargs="?",
                        help="an e-mail address, a server name, or name:port")
    parser.add_argument("--domain", metavar="DOMAIN",
                        help="instead, check what DNS says about a domain's mail: MX, SPF, "
                        "DMARC, DKIM, MTA-STS, TLS-RPT, reverse DNS (no connection to it)")
    parser.add_argument("--dnsbl", metavar="ZONES",
                        help="with --domain: also ask these comma-separated DNS blocklists "
                        "about the MX addresses (default: MAILHELP_DNSBL, else none)")
    parser.add_argument("--dkim-selector", metavar="NAME", action="append",
                        help="with --domain: the DKIM selector to look for (repeatable; "
                        "default: the common ones)")
    add_resolver_argument(parser)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--lang", choices=LANGS, default=None,
                        help="language of the verdicts (default: from $LANG, else en)")
    parser.add_argument("--allow-private", action="store_true",
                        help="for tests and private networks only: allow private, loopback "
                        "and other non-public addresses, and any port")
    parser.add_argument("--cafile", metavar="PEM",
                        help="trust the CA certificates in this file instead of the system's")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help=f"limit for the whole check (default {CheckPolicy().check_timeout:g})")
    parser.add_argument("--source-address", metavar="IP",
                        help="connect from this local address")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the check the arguments describe; returns the exit status."""
    lang = args.lang or _lang_from_environment()
    try:
        policy = _policy(args)
    except ValueError as exc:
        print(f"mailhelp check: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    if (args.target is None) == (args.domain is None):
        print("mailhelp check: give a TARGET or --domain DOMAIN (one of them)", file=sys.stderr)
        return EXIT_REFUSED
    if args.domain is not None:
        from bot.domaincheck.cli import run_domain_check

        return run_domain_check(args, policy, lang)
    progress = sys.stderr if not args.json and sys.stderr.isatty() else None
    try:
        report = asyncio.run(_collect(args.target, policy, lang, progress,
                                      resolver_from(args)))
    except CheckRefused as refused:
        print(refusal_text(refused, lang), file=sys.stderr)
        return EXIT_REFUSED
    if args.json:
        print(json.dumps(report_json(report, lang), ensure_ascii=False, indent=2))
    else:
        print(render_table(report))
        print()
        print(render_findings(report, lang))
    return EXIT_OK if report.status == "ok" else EXIT_PROBLEMS


def _policy(args: argparse.Namespace) -> CheckPolicy:
    if args.cafile is not None:
        try:
            ssl.create_default_context(cafile=args.cafile)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"cannot use --cafile {args.cafile}: {exc}") from None
    policy = CheckPolicy(allow_private=args.allow_private, cafile=args.cafile,
                         source_address=args.source_address)
    if args.timeout is not None:
        policy = replace(policy, check_timeout=args.timeout)
    return policy


async def _collect(
    target: str, policy: CheckPolicy, lang: str, progress: TextIO | None,
    nameserver: tuple[str, int] | None,
) -> CheckReport:
    # Imported here: only a check that needs DNS beyond the system's loads it.
    from bot.discover.discovery import check_servers, default_discoverer, unknown_domain

    resolver: Resolver = system_resolver
    servers: ProviderLookup = knowledge_servers
    if nameserver is not None or unknown_domain(target):
        discoverer = default_discoverer(nameserver, policy)
        servers = await check_servers(discoverer, target)
        if nameserver is not None:
            resolver = discoverer.dns.resolve_host
    check = await start_check(target, policy, resolver=resolver, providers=servers)
    total = len(check.endpoints)
    _show(progress, catalogue().text("checking", lang, count=str(total), target=target))
    results: list[EndpointResult] = []
    async for result in check:
        results.append(result)
        _show(progress, progress_line(result, len(results), total))
    return finish_report(target, results)


def _show(progress: TextIO | None, line: str) -> None:
    if progress is not None:
        progress.write(line + "\n")
        progress.flush()


def _lang_from_environment() -> str:
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if value[:2] in LANGS:
            return value[:2]
    return "en"
