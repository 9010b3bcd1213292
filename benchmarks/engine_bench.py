"""Conversation engine speed: turns per second in-process, with and without the SQLite store.

    python benchmarks/engine_bench.py [--conversations 200] [--rounds 5]

Every conversation opens, picks the setup flow, gives an address, presses the first
button three times, asks a free-text question and pastes an error: 8 turns. Measured
side by side in one run: the engine alone (sessions kept in memory) and the engine with
every turn committed to the SQLite store, as `mailhelp` runs it. Medians over rounds.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bot import kb
from bot.conversation import Conversations
from bot.dialog import Engine, Event, Press, Session, Text
from bot.match import matcher_for
from bot.store import SQLiteSessionStore

QUESTIONS = ["how do I restore deleted mail", "не приходят письма в outlook",
             "535 5.7.8 Authentication failed", "la posta inviata non si vede sul telefono"]


def script(i: int) -> list[Callable[[tuple[Event, ...]], Event]]:
    """The events of conversation i; a step may read the last reply's buttons."""
    return [
        lambda _b: Press("flow:setup"),
        lambda _b: Text(f"user{i}@yandex.ru"),
        lambda b: Press(b[0].value),  # type: ignore[attr-defined]
        lambda b: Press(b[0].value),  # type: ignore[attr-defined]
        lambda b: Press(b[0].value),  # type: ignore[attr-defined]
        lambda _b: Text(QUESTIONS[i % len(QUESTIONS)]),
        lambda _b: Text("553 5.7.1 Sender address rejected: not owned by auth user"),
    ]


def with_store(conversations: Conversations, n: int) -> int:
    turns = 0
    for i in range(n):
        session_id, replies = conversations.open(lang="en")
        turns += 1
        for step in script(i):
            replies = conversations.send(session_id, step(replies[-1].buttons))
            turns += 1
    return turns


def engine_only(engine: Engine, n: int) -> int:
    turns = 0
    for i in range(n):
        turn = engine.start(Session(lang="en"))
        turns += 1
        for step in script(i):
            session = Session.from_dict(turn.session.to_dict())
            turn = engine.handle(session, step(turn.replies[-1].buttons))
            turns += 1
    return turns


def rate(run: Callable[[], int], rounds: int) -> tuple[float, float]:
    """Median turns per second and median milliseconds per turn."""
    per_second = []
    for _ in range(rounds):
        start = time.perf_counter()
        turns = run()
        per_second.append(turns / (time.perf_counter() - start))
    median = statistics.median(per_second)
    return median, 1000 / median


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conversations", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    knowledge = kb.load_knowledge()
    engine = Engine(knowledge, matcher_for(knowledge))
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteSessionStore(Path(folder) / "sessions.sqlite3")
        conversations = Conversations(engine, store)
        n = args.conversations
        print(f"{n} conversations of 8 turns, median of {args.rounds} rounds")
        for label, run in (("engine only", lambda: engine_only(engine, n)),
                           ("engine + SQLite store", lambda: with_store(conversations, n))):
            per_second, ms = rate(run, args.rounds)
            print(f"  {label:22} {per_second:8.0f} turns/s  {ms:6.2f} ms/turn")
        store.close()


if __name__ == "__main__":
    main()
