"""`mailhelp settings ADDRESS --discover`: settings for any domain, on the command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from bot.config import load_config, resolver_setting


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The discovery options of `mailhelp settings`."""
    parser.add_argument("--discover", action="store_true",
                        help="for a domain the knowledge base does not know, look it up: MX "
                        "records -> known hosting, SRV records, autoconfig, verified guesses")
    add_resolver_argument(parser)


def add_resolver_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--resolver", metavar="HOST:PORT",
                        help="the DNS server to ask (default: MAILHELP_RESOLVER, else the "
                        "system's resolvers)")


def resolver_from(args: argparse.Namespace) -> tuple[str, int] | None:
    """--resolver, else MAILHELP_RESOLVER; ConfigError names a bad value."""
    if args.resolver is not None:
        return resolver_setting(args.resolver, "--resolver")
    return load_config().resolver


def run(args: argparse.Namespace) -> int:
    """Print the settings for args.address, discovering them when needed."""
    # Imported here: `mailhelp` builds this parser for every command, DNS code is heavy.
    from bot.check.errors import CheckRefused
    from bot.check.report import refusal_text
    from bot.check.settings import CheckPolicy
    from bot.discover.discovery import default_discoverer
    from bot.discover.report import render_discovered, settings_with_discovery

    config = load_config()
    policy = CheckPolicy(allow_private=config.check_allow_private)
    discoverer = default_discoverer(resolver_from(args), policy)
    try:
        settings = asyncio.run(settings_with_discovery(discoverer, args.address, args.lang))
    except CheckRefused as refused:
        print(refusal_text(refused, args.lang), file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(settings, ensure_ascii=False, indent=2))
    else:
        print(render_discovered(settings, args.lang))
    return 0 if settings["servers"] else 1
