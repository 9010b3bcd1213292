"""Conversations: one engine turn per event, kept in a session store, gaps logged.

This is what every channel talks to. A turn is committed to the store before its replies
are returned, so a crash between turns loses nothing a person has seen.
"""

from __future__ import annotations

import secrets
from typing import Any

from bot.config import Config
from bot.dialog import Engine, EngineSettings, Event, Reply, Session, Turn
from bot.gaps import GapLog
from bot.kb import load_knowledge
from bot.match import matcher_for
from bot.redis_store import RedisSessionStore
from bot.store import SessionStore, SQLiteSessionStore


class UnknownSession(LookupError):
    """No conversation with that id (never started, or expired): start a new one."""


class Conversations:
    def __init__(self, engine: Engine, store: SessionStore, gaps: GapLog | None = None) -> None:
        self.engine = engine
        self.store = store
        self.gaps = gaps

    def open(self, lang: str | None = None, hint: str | None = None,
             session_id: str | None = None) -> tuple[str, tuple[Reply, ...]]:
        """A new conversation (under a channel's own id, e.g. a chat's): its id and greeting."""
        session_id = session_id or secrets.token_urlsafe(16)
        turn = self.engine.start(Session(lang=lang, hint=hint))
        self.store.run_turn(session_id, lambda _old: (turn.session.to_dict(), None))
        return session_id, turn.replies

    def send(self, session_id: str, event: Event) -> tuple[Reply, ...]:
        """One event in a conversation; UnknownSession if there is none with that id."""
        return self.turn(session_id, event).replies

    def turn(self, session_id: str, event: Event) -> Turn:
        """Like send, with the whole turn (for channels that count answers and gaps)."""

        def step(data: dict[str, Any] | None) -> tuple[dict[str, Any], Turn]:
            if data is None:
                raise UnknownSession(session_id)
            turn = self.engine.handle(Session.from_dict(data), event)
            return turn.session.to_dict(), turn

        turn = self.store.run_turn(session_id, step)
        if turn.unanswered and self.gaps is not None:
            self.gaps.record(turn.unanswered, turn.session.language)
        return turn


def from_config(config: Config) -> Conversations:
    """The engine over the shipped knowledge; sessions in Redis when configured, else in
    SQLite; gaps in the data folder."""
    knowledge = load_knowledge()
    engine = Engine(knowledge, matcher_for(knowledge),
                    EngineSettings(human_contact=config.human_contact))
    ttl = config.session_days * 86400
    store: SessionStore = (RedisSessionStore(config.redis_url, ttl_seconds=ttl)
                           if config.redis_url else
                           SQLiteSessionStore(config.sessions_path, ttl_seconds=ttl))
    store.expire()  # forget conversations that went idle while nothing was running
    return Conversations(engine, store, GapLog(config.gaps_path))
