"""The `mailhelp` command: FAQ lookup, provider settings, knowledge-base tools, live check.

Each subcommand parses its arguments, calls the engine and prints; nothing here decides
what to answer.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import textwrap
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import yaml

from bot import kb
from bot.answer import provider_settings, render_settings, render_topic, settings_for
from bot.check.cli import add_parser as add_check_parser
from bot.config import ConfigError, load_config, settings_help
from bot.discover.cli import add_arguments as add_discover_arguments
from bot.discover.rules import check_rules
from bot.flows import flows_markdown, mermaid
from bot.i18n import translator
from bot.match import Result, Words, matcher_for
from bot.slots import SlotReader
from bot.tasks import Tasks


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        sys.exit(2)
    try:
        sys.exit(args.handler(args))
    except ConfigError as exc:
        print(f"mailhelp: {exc}", file=sys.stderr)
        sys.exit(2)
    except kb.KnowledgeError as exc:
        print(f"mailhelp: the knowledge base is broken:\n{exc}", file=sys.stderr)
        sys.exit(2)
    except BrokenPipeError:
        sys.exit(1)


USAGE_ERROR = "2 bad arguments, settings or knowledge base"


def exit_codes(*codes: str) -> str:
    """The epilog listing a command's exit statuses; every command ends with USAGE_ERROR."""
    return "exit status: " + "; ".join((*codes, USAGE_ERROR))


def version() -> str:
    try:
        return metadata.version("mailhelp")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mailhelp", description="Helpdesk bot for setting up and repairing e-mail.",
        epilog=exit_codes("0 done", "1 see each command's --help"))
    parser.add_argument("--version", action="version", version=f"mailhelp {version()}")
    sub = parser.add_subparsers(metavar="COMMAND")

    faq = sub.add_parser("faq", help="find the answer to a question or a pasted error",
                         description="Find the answer to a question or a pasted error message. "
                         "With no query, list the topics.",
                         epilog=exit_codes("0 answered (or the topics listed)",
                                           "1 no confident answer"))
    faq.add_argument("query", nargs="*", help="the question or error text")
    mode = faq.add_mutually_exclusive_group()
    mode.add_argument("--json", action="store_true", help="print the matches as one JSON object")
    mode.add_argument("--jsonl", action="store_true",
                      help="read one query a line on stdin, write one JSON object a line")
    faq.add_argument("-n", type=int, default=3, metavar="N", help="how many matches (default 3)")
    faq.add_argument("--lang", choices=kb.LANGS, help="answer in this language")
    faq.set_defaults(handler=run_faq)

    settings = sub.add_parser("settings", help="a provider's server settings for an address",
                              epilog=exit_codes("0 settings found",
                                                "1 none known (or discovered)"))
    settings.add_argument("address", help="an e-mail address or a domain")
    settings.add_argument("--json", action="store_true", help="print JSON")
    settings.add_argument("--lang", choices=kb.LANGS, default="en", help="language of the notes")
    add_discover_arguments(settings)
    settings.set_defaults(handler=run_settings)

    kb_parser = sub.add_parser("kb", help="knowledge-base tools for editors",
                               epilog=exit_codes("0 done", "1 lint found problems"))
    kb_sub = kb_parser.add_subparsers(metavar="ACTION", required=True)
    lint = kb_sub.add_parser("lint", help="check the knowledge base; problems as file:line",
                             epilog=exit_codes("0 no problems", "1 problems found"))
    lint.add_argument("--root", type=Path, help="knowledge folder (default: the shipped one)")
    lint.set_defaults(handler=run_lint)
    listing = kb_sub.add_parser("list", help="list the topics", epilog=exit_codes("0 listed"))
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=run_list)
    diagram = kb_sub.add_parser("diagram", help="draw flows as Mermaid state diagrams",
                                epilog=exit_codes("0 drawn"))
    diagram.add_argument("flow", nargs="?", help="one flow id (default: all, as Markdown)")
    diagram.set_defaults(handler=run_diagram)
    gaps = kb_sub.add_parser("gaps", help="the questions nobody could answer, most frequent first",
                             epilog=exit_codes("0 listed (or none recorded)"))
    gaps.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    gaps.set_defaults(handler=run_gaps)

    chat = sub.add_parser("chat", help="talk to the bot in the terminal",
                          description="Talk to the bot. Buttons are numbered: type the "
                          "number to press one. Commands: /menu /back /help /language L "
                          "/start /quit. Without a terminal, reads one message per line.",
                          epilog=exit_codes("0 the conversation ended"))
    chat.add_argument("--lang", choices=kb.LANGS, help="the conversation's language")
    chat.set_defaults(handler=run_chat)

    serve = sub.add_parser(
        "serve", help="run the web widget, the agents' page, the API and the Telegram bot",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Serve the chat widget (/widget.js, demo page at /), the agents' page "
        "(/agent), the JSON API (/api/v1, schema at /docs) and, with TELEGRAM_BOT_TOKEN, the "
        "Telegram bot. Settings come from environment variables (or MAILHELP_CONFIG):",
        epilog=settings_help() + "\n\n" + textwrap.fill(exit_codes(
            "0 stopped by SIGTERM or SIGINT after finishing the requests in flight",
            "3 the address could not be listened on"), 88))
    serve.add_argument("--host", help="address to listen on (wins over MAILHELP_HOST)")
    serve.add_argument("--port", type=port_number,
                       help="port to listen on (wins over MAILHELP_PORT)")
    serve.set_defaults(handler=run_serve)

    add_check_parser(sub)
    return parser


def run_faq(args: argparse.Namespace) -> int:
    knowledge = kb.load_knowledge()
    matcher = matcher_for(knowledge)
    if args.jsonl:
        for raw in sys.stdin.buffer:
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            result = matcher.match(line, n=args.n, lang=args.lang)
            sys.stdout.write(json.dumps(result.as_json(), ensure_ascii=False) + "\n")
        return 0
    if not args.query:
        return run_list(argparse.Namespace(json=args.json))
    result = matcher.match(" ".join(args.query), n=args.n, lang=args.lang)
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False))
        return 0
    config = load_config()
    if not result.matches and not result.suggestions:
        from bot.gaps import GapLog

        GapLog(config.gaps_path).record(result.query, result.lang)
    print(render_result(knowledge, result, config.human_contact))
    return 0 if result.matches else 1


def render_result(knowledge: kb.Knowledge, result: Result, contact: str = "") -> str:
    """What a person reads: the answer, the topics it might be, or "I don't know"."""
    _ = translator(result.lang)
    if not result.matches:
        parts = [_(
            "I have no confident answer to that. Paste the exact error message your mail "
            "program shows, or name your mail provider and what you were doing."
        )]
        if result.suggestions:
            titles = [knowledge.topics[m.topic].title[result.lang] for m in result.suggestions]
            parts.append(_("Or did you mean:") + "\n" + "\n".join(f"- {t}" for t in titles))
        elif contact:
            parts.append(_("You can also ask a person: {contact}").format(contact=contact))
        return "\n\n".join(parts)
    provider = knowledge.providers.get(result.provider or "")
    best = knowledge.topics[result.matches[0].topic]
    parts = [render_topic(best, result.lang, provider)]
    if provider and best.id == "provider-settings":
        parts.append(render_settings(provider_settings(provider), result.lang))
    others = [knowledge.topics[m.topic].title[result.lang] for m in result.matches[1:]]
    if others:
        label = _("Or did you mean:") if result.ambiguous else _("See also:")
        parts.append(label + "\n" + "\n".join(f"- {title}" for title in others))
    return "\n\n".join(parts)


def run_settings(args: argparse.Namespace) -> int:
    if args.discover:
        from bot.discover.cli import run as run_discovery

        return run_discovery(args)
    settings = settings_for(kb.load_knowledge(), args.address)
    if args.json:
        print(json.dumps(settings.as_json(args.lang), ensure_ascii=False, indent=2))
    else:
        print(render_settings(settings, args.lang))
    return 0 if settings.provider else 1


def run_lint(args: argparse.Namespace) -> int:
    root = args.root or kb.default_root()
    knowledge, problems = kb.check(root)
    rules, rule_problems = check_rules(root, set(knowledge.providers) if knowledge else None)
    problems += rule_problems
    for problem in problems:
        print(problem)
    if knowledge is None or rules is None:
        print(f"{len(problems)} problem(s) in {root}", file=sys.stderr)
        return 1
    try:  # the conversation engine's word lists and tasks
        SlotReader.load(root, Words.load(root).stopwords)
        Tasks.load(knowledge)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        print(exc)
        return 1
    print(f"ok: {len(knowledge.providers)} providers, {len(knowledge.topics)} topics, "
          f"{len(knowledge.flows)} flows, {len(rules.hosting)} mail hosting services")
    return 0


def run_list(args: argparse.Namespace) -> int:
    topics = kb.load_knowledge().topics.values()
    if args.json:
        rows = [{"id": t.id, "kind": t.kind, "languages": sorted(t.steps)} for t in topics]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        width = max(len(t.id) for t in topics)
        for t in topics:
            print(f"{t.id:{width}}  {t.kind:8}  {t.title['en']}")
    return 0


def run_diagram(args: argparse.Namespace) -> int:
    flows = kb.load_knowledge().flows
    if args.flow:
        if args.flow not in flows:
            print(f"mailhelp: no flow '{args.flow}'; flows: {', '.join(flows)}", file=sys.stderr)
            return 2
        print(mermaid(flows[args.flow]))
        return 0
    print(flows_markdown(flows))
    return 0


def run_gaps(args: argparse.Namespace) -> int:
    from bot.gaps import GapLog

    log = GapLog(load_config().gaps_path)
    rows = log.summarize(limit=args.limit)
    if not rows:
        print("no unanswered questions recorded")
    for question, count, lang in rows:
        print(f"{count:5}  {lang}  {question}")
    return 0


def port_number(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535, not {text!r}")
    return int(text)


def run_serve(args: argparse.Namespace) -> int:
    from bot.serve import run

    config = load_config()
    flags = {"host": args.host, "port": args.port}
    return run(dataclasses.replace(config, **{k: v for k, v in flags.items() if v is not None}))


def run_chat(args: argparse.Namespace) -> int:
    # Imported here, as for serve: `mailhelp faq` starts faster without the chat stack.
    from bot.channels.console import chat
    from bot.conversation import from_config

    conversations = from_config(load_config())
    return chat(conversations, args.lang, sys.stdin, sys.stdout, sys.stdin.isatty())
