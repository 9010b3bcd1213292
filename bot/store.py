"""Conversation sessions: where each conversation's state lives between turns.

A turn loads a session's data, lets the engine compute the new data and its replies, and
stores the new data before the replies are handed back, so whatever a person was answered
is already on disk. Turns of one session never overlap, even across processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

SessionData = dict[str, Any]
Step = Callable[[SessionData | None], tuple[SessionData, T]]

MAX_ID_CHARS = 128
MAX_DATA_BYTES = 256 * 1024
DEFAULT_TTL_SECONDS = 30 * 86400.0
# A turn waits this long for another process's turn to finish before giving up.
BUSY_TIMEOUT_SECONDS = 30.0


class SessionStore(Protocol):
    """Where sessions live; every implementation serialises the turns of one session."""

    def run_turn(self, session_id: str, step: Step[T]) -> T:
        """Run one turn: step(stored data or None) -> (new data, result).

        The new data is committed before the result is returned; if step raises, nothing
        is stored and the exception propagates.
        """
        ...

    def get(self, session_id: str) -> SessionData | None:
        """A session's data, or None when it is unknown or expired."""
        ...

    def delete(self, session_id: str) -> None:
        """Forget a session (nothing happens when it is unknown)."""
        ...

    def expire(self) -> int:
        """Remove the sessions idle longer than the store's ttl; returns how many."""
        ...

    def close(self) -> None:
        """Release the store's resources."""
        ...


def check_session_id(session_id: str) -> None:
    if not session_id or len(session_id) > MAX_ID_CHARS:
        raise ValueError(f"a session id has 1 to {MAX_ID_CHARS} characters")


def private_folder(folder: Path) -> None:
    """Create `folder` (and its parents) if needed, the folder itself readable by us alone."""
    if not folder.is_dir():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def private_file(path: Path) -> None:
    """Create `path` empty if it is missing; either way, readable and writable by us alone."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    if path.stat().st_mode & 0o077:
        # A file of another owner that we may still use is left as it is.
        with contextlib.suppress(PermissionError):
            path.chmod(0o600)


def encode_data(data: SessionData) -> str:
    """Session data as compact JSON, refused when it is over the size limit."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if len(text.encode("utf-8")) > MAX_DATA_BYTES:
        raise ValueError(f"session data is over {MAX_DATA_BYTES} bytes")
    return text


class SQLiteSessionStore:
    """Sessions in one SQLite file (WAL), shared safely by threads and processes.

    One connection serves all threads, guarded by a lock: SQLite lets one writer in at a
    time anyway (a turn holds the file's write lock from BEGIN IMMEDIATE to COMMIT), so
    per-thread connections would add no write parallelism, only connections that no
    other thread may close. Steps run inside the write transaction and must be quick.
    """

    def __init__(self, path: str | Path, ttl_seconds: float = DEFAULT_TTL_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self.path = Path(path)
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        private_folder(self.path.parent)
        # SQLite gives the -wal and -shm files the database's permissions.
        private_file(self.path)
        # isolation_level=None: transactions are begun and ended here, explicitly.
        self._conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS,
                                     isolation_level=None, check_same_thread=False)
        try:
            mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise RuntimeError(f"{self.path}: SQLite refused WAL journal mode ({mode})")
            # NORMAL in WAL mode: a committed turn survives any crash of this process
            # (kill -9 included); only a power cut or an OS crash can lose the last turns.
            # FULL would fsync every commit and cost a fifth of the web server's turns/s.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("CREATE TABLE IF NOT EXISTS sessions ("
                               "id TEXT PRIMARY KEY, data TEXT NOT NULL, updated REAL NOT NULL)")
            self._conn.execute(
                "CREATE INDEX IF NOT EXISTS sessions_updated ON sessions(updated)")
        except BaseException:
            self._conn.close()
            raise

    def run_turn(self, session_id: str, step: Step[T]) -> T:
        check_session_id(session_id)
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                now = self._clock()
                row = conn.execute("SELECT data, updated FROM sessions WHERE id = ?",
                                   (session_id,)).fetchone()
                new_data, result = step(self._live(row, now))
                conn.execute(
                    "INSERT INTO sessions (id, data, updated) VALUES (?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET data = excluded.data, "
                    "updated = excluded.updated",
                    (session_id, encode_data(new_data), now))
                conn.execute("COMMIT")
            except BaseException:
                # COMMIT itself may have failed and ended the transaction already.
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return result

    def get(self, session_id: str) -> SessionData | None:
        check_session_id(session_id)
        with self._lock:
            row = self._conn.execute("SELECT data, updated FROM sessions WHERE id = ?",
                                     (session_id,)).fetchone()
            return self._live(row, self._clock())

    def delete(self, session_id: str) -> None:
        check_session_id(session_id)
        with self._lock:
            self._conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    def expire(self) -> int:
        with self._lock:
            cursor = self._conn.execute("DELETE FROM sessions WHERE updated < ?",
                                        (self._clock() - self.ttl_seconds,))
            return cursor.rowcount

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _live(self, row: tuple[str, float] | None, now: float) -> SessionData | None:
        """The stored data, unless there is none or it has been idle past the ttl."""
        if row is None or now - row[1] > self.ttl_seconds:
            return None
        data: SessionData = json.loads(row[0])
        return data
