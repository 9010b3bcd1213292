"""Scripted typed-only conversations (tests/data/dialogs.yaml) run through the engine.

Shared by tests/test_dialogs.py and benchmarks/dialogs_bench.py: each conversation starts
fresh, types its lines one by one and checks the answer to the last line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from bot import kb
from bot.dialog import Engine, EngineSettings, Reply, Session, Text
from bot.match import matcher_for

DIALOGS = Path(__file__).resolve().parent / "data" / "dialogs.yaml"


@dataclass(frozen=True)
class Dialog:
    id: str
    lang: str
    batch: int
    hint: str | None
    lines: tuple[str, ...]
    expect: tuple[str, ...]
    action: str | None


@dataclass(frozen=True)
class Outcome:
    dialog: Dialog
    passed: bool
    why: str  # what was missing, and the last answer


def load(path: Path = DIALOGS) -> tuple[Engine, list[Dialog]]:
    """The engine set up as the file says (today, human contact) and its conversations."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    today = date.fromisoformat(str(data["today"]))
    knowledge = kb.load_knowledge()
    engine = Engine(knowledge, matcher_for(knowledge),
                    EngineSettings(human_contact=data["human_contact"], today=lambda: today))
    dialogs = [
        Dialog(id=d["id"], lang=d["lang"], batch=int(d["batch"]), hint=d.get("hint"),
               lines=tuple(str(line) for line in d["type"]),
               expect=tuple(str(e) for e in d.get("expect", ())), action=d.get("action"))
        for d in data["dialogs"]
    ]
    return engine, dialogs


def run(engine: Engine, dialog: Dialog) -> Outcome:
    """Type every line; check that the answer to the last one says what it must."""
    turn = engine.start(Session(hint=dialog.hint))
    for line in dialog.lines:
        turn = engine.handle(turn.session, Text(line))
    shown = "\n".join(_shown(reply) for reply in turn.replies)
    missing = [e for e in dialog.expect if e.lower() not in shown.lower()]
    actions = {a.kind for reply in turn.replies for a in reply.actions}
    if dialog.action and dialog.action not in actions:
        missing.append(f"action {dialog.action}")
    why = f"missing {missing} in:\n{shown}" if missing else ""
    return Outcome(dialog, not missing, why)


def _shown(reply: Reply) -> str:
    return "\n".join([reply.text, *(f"[{b.label}]" for b in reply.buttons)])
