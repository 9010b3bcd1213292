"""Guided dialogs as data: read knowledge/flows/*.yaml, check their graphs, draw them.

A flow is a set of named states (see knowledge/README.md). The checks here are what
keeps an edited flow walkable: every target exists, every state is reachable from the
start, none is a dead end, and every button's callback data fits Telegram's 64 bytes.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bot.yaml_reader import LANGS, Localized, Node, Problem, Reader

ASK_KINDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "address": ("known", "unknown"),
    "date": ("answered", "unknown"),
    "error": ("answered", "unknown"),
})
# Outcomes a flow may route but need not (each falls back to "known" when not given):
# "oauth", a provider that lets programs in only through its own sign-in page, and
# "closed", a provider whose mailboxes no longer exist.
OPTIONAL_OUTCOMES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"address": ("oauth", "closed")})
SHOW_BLOCKS = ("settings", "notes", "retention", "check")
SPECIAL_TARGETS = ("menu", "human", "back")
PLACEHOLDERS = ("address", "provider")
CALLBACK_LIMIT = 64  # bytes of callback data Telegram carries back for a button

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SET_KEY = re.compile(r"^[a-z][a-z_]*$")
_STATE_KEYS = {"say", "topic", "show", "buttons", "ask", "next"}


@dataclass(frozen=True)
class Button:
    label: Localized
    go: str
    set: Mapping[str, str | int]


@dataclass(frozen=True)
class State:
    name: str
    say: Localized | None
    topic: str | None
    show: str | None
    buttons: tuple[Button, ...]
    ask: str | None
    branches: Mapping[str, str]  # ask outcome -> target
    next: str | None  # where to go on at once

    def targets(self) -> Iterator[tuple[str, str]]:
        """(target, why) for every way out of this state."""
        for button in self.buttons:
            yield button.go, button.label["en"]
        for outcome, target in self.branches.items():
            yield target, outcome
        if self.next:
            yield self.next, ""


@dataclass(frozen=True)
class Flow:
    id: str
    order: int
    title: Localized
    start: str
    states: Mapping[str, State]

    def resolve(self, target: str) -> tuple[str, str | None]:
        """(flow id, state) a target names; state None means that flow's start or a special."""
        if target in self.states:
            return self.id, target
        flow, _, state = target.partition(".")
        return flow, state or None


# Every value a button of the bot carries: ids, "kind:id", "flow.state.index", "menu".
BUTTON_VALUE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def callback_data(flow: str, state: str, index: int) -> str:
    """What a button carries back: where it was offered, so a stale press still makes sense."""
    return f"{flow}.{state}.{index}"


def parse_flow(node: Node, r: Reader) -> Flow | None:
    """One flows/*.yaml file, every problem recorded in r."""
    r.unknown_keys(node, {"id", "order", "title", "start", "states"})
    order = r.get(node, "order", int)
    title = r.localized(node, "title")
    start = r.text(node, "start")
    states: dict[str, State] = {}
    for name, value in (r.get(node, "states", dict) or {}).items():
        line = r.line_of(node["states"], str(name))
        if not isinstance(name, str) or not _NAME.match(name):
            r.fail(line, f"state name '{name}' must be lowercase letters, digits and '_'")
        elif not isinstance(value, Node):
            r.fail(line, f"state '{name}' must be a mapping")
        else:
            states[name] = _state(name, value, r)
    if start and states and start not in states:
        r.fail(r.line_of(node, "start"), f"start state '{start}' does not exist")
    if order is None or title is None or start is None or not states:
        return None
    return Flow(node["id"], order, title, start, MappingProxyType(states))


def _state(name: str, node: Node, r: Reader) -> State:
    r.unknown_keys(node, _STATE_KEYS)
    say = r.localized(node, "say", required=False)
    if say:
        _check_placeholders(say, r, r.line_of(node, "say"))
    show = r.text(node, "show", required=False)
    if show is not None and show not in SHOW_BLOCKS:
        r.fail(r.line_of(node, "show"), f"'show' must be one of {SHOW_BLOCKS}")
    ask = r.text(node, "ask", required=False)
    branches: dict[str, str] = {}
    plain_next = None
    raw_next = node.get("next")
    if ask is not None:
        if ask not in ASK_KINDS:
            r.fail(r.line_of(node, "ask"), f"'ask' must be one of {tuple(ASK_KINDS)}")
        elif not isinstance(raw_next, Node) or not (
                set(ASK_KINDS[ask]) <= set(raw_next)
                <= set(ASK_KINDS[ask]) | set(OPTIONAL_OUTCOMES.get(ask, ()))):
            optional = list(OPTIONAL_OUTCOMES.get(ask, ()))
            r.fail(r.line_of(node, "next"),
                   f"'ask: {ask}' needs 'next' with exactly {list(ASK_KINDS[ask])}"
                   + (f" (and optionally {optional})" if optional else ""))
        else:
            branches = {k: str(v) for k, v in raw_next.items()}
    elif raw_next is not None:
        plain_next = r.text(node, "next")
    buttons = tuple(_buttons(node, r))
    if bool(buttons or ask) == (plain_next is not None):
        r.fail(node.line, f"state '{name}' needs one way on: buttons and/or ask, or next")
    if not (say or node.get("topic") or show):
        r.fail(node.line, f"state '{name}' says nothing: give it say, topic or show")
    return State(name, say, r.text(node, "topic", required=False), show, buttons, ask,
                 MappingProxyType(branches), plain_next)


def _buttons(node: Node, r: Reader) -> Iterator[Button]:
    for item in r.get(node, "buttons", list, required=False) or []:
        if not isinstance(item, Node):
            r.fail(r.line_of(node, "buttons"), "each button must be {label, go, set?}")
            continue
        r.unknown_keys(item, {"label", "go", "set"})
        label, go = r.localized(item, "label"), r.text(item, "go")
        values = r.get(item, "set", dict, required=False) or {}
        for key, value in values.items():
            if not _SET_KEY.match(str(key)) or not isinstance(value, (str, int)):
                r.fail(item.line, f"'set' needs simple names and values, got {key}: {value!r}")
        if label and go:
            yield Button(label, go, MappingProxyType(dict(values)))


def _check_placeholders(texts: Localized, r: Reader, line: int) -> None:
    for lang in LANGS:
        try:
            names = {f for _, f, _, _ in string.Formatter().parse(texts[lang]) if f is not None}
        except ValueError as exc:
            r.fail(line, f"text ({lang}) has a broken {{placeholder}}: {exc}")
            continue
        for name in names - set(PLACEHOLDERS):
            r.fail(line, f"text ({lang}) uses unknown placeholder {{{name}}}; "
                   f"known: {', '.join(PLACEHOLDERS)}")


def check_graph(flow: Flow, flows: Mapping[str, Flow], topics: Mapping[str, object],
                rel: str, lines: Mapping[str, int]) -> list[Problem]:
    """Targets exist, topics exist, everything reachable, callback data short enough."""
    problems = []
    for state in flow.states.values():
        line = lines.get(state.name, 1)
        if state.topic and state.topic not in topics:
            problems.append(Problem(rel, line, f"topic '{state.topic}' does not exist"))
        for target, _ in state.targets():
            if target in SPECIAL_TARGETS or target in flow.states:
                if target in flows and target in flow.states:
                    problems.append(Problem(rel, line, f"'{target}' is both a state here "
                                            "and a flow: rename the state"))
                continue
            other, other_state = flow.resolve(target)
            if other not in flows or (other_state and other_state not in flows[other].states):
                problems.append(Problem(rel, line, f"target '{target}' does not exist"))
        for i, _ in enumerate(state.buttons):
            data = callback_data(flow.id, state.name, i)
            if len(data.encode()) > CALLBACK_LIMIT:
                problems.append(Problem(rel, line, f"button callback '{data}' is over "
                                        f"{CALLBACK_LIMIT} bytes: shorten the state name"))
    for name in sorted(set(flow.states) - reachable(flow)):
        problems.append(Problem(rel, lines.get(name, 1), f"state '{name}' is never reached "
                                f"from '{flow.start}'"))
    return problems


def reachable(flow: Flow) -> set[str]:
    seen, todo = set(), [flow.start]
    while todo:
        name = todo.pop()
        if name in seen or name not in flow.states:
            continue
        seen.add(name)
        todo += [t for t, _ in flow.states[name].targets() if t in flow.states]
    return seen


def mermaid(flow: Flow) -> str:
    """The flow as a Mermaid state diagram, English labels."""
    out = ["stateDiagram-v2", f"    [*] --> {flow.start}"]
    outside: dict[str, str] = {}
    for state in flow.states.values():
        what = state.topic or (f"show {state.show}" if state.show else "")
        if state.ask:
            what = f"ask {state.ask}"
        if what:
            out.append(f"    {state.name}: {state.name} ({_label(what)})")
        for target, why in state.targets():
            node = target
            if target not in flow.states:
                node = "to_" + re.sub(r"\W", "_", target)
                outside[node] = target
            out.append(f"    {state.name} --> {node}" + (f": {_label(why)}" if why else ""))
    for node, target in outside.items():
        out.append(f'    state "→ {target}" as {node}')
    return "\n".join(out)


def flows_markdown(flows: Mapping[str, Flow]) -> str:
    """Every flow's diagram in one Markdown page (docs/flows.md is this, regenerated)."""
    parts = ["# The guided dialogs", "",
             "Generated by `mailhelp kb diagram` from knowledge/flows/*.yaml; do not edit.", ""]
    for flow in flows.values():
        parts += [f"## {flow.title['en']} (`{flow.id}`)", "", "```mermaid", mermaid(flow),
                  "```", ""]
    return "\n".join(parts)


def _label(text: str) -> str:
    """Text safe inside a Mermaid transition label."""
    return re.sub(r"[:;\"<>{}#]", " ", text).strip()[:40]
