"""The unanswered-questions log: what people asked that the knowledge base could not answer.

Each question is masked (addresses, IPs, secrets, long numbers) before it is written, and
anything that looks like a password is not written at all. Knowledge editors read the
summary, most frequent first, to see which answers are missing. Past MAX_LOG_BYTES the
log is rotated: the previous file is kept as `NAME.1`, so the two never exceed twice that.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.privacy import looks_like_password, mask
from bot.store import private_folder

MAX_QUESTION_CHARS = 500
MAX_LOG_BYTES = 10 * 1024 * 1024
_EDGE_PUNCTUATION = re.compile(r"^[\W_]+|[\W_]+$")


def normalise(text: str) -> str:
    """Whitespace collapsed, at most MAX_QUESTION_CHARS long."""
    return " ".join(text.split())[:MAX_QUESTION_CHARS]


def group_key(masked_question: str) -> str:
    """The form under which masked questions count as the same: lower case, trimmed."""
    key = normalise(masked_question).casefold()
    return _EDGE_PUNCTUATION.sub("", key) or key


@dataclass
class _Group:
    question: str
    lang: str
    count: int
    last_seen: int


class GapLog:
    """An append-only JSON-lines file of unanswered questions.

    Safe from several threads and processes: each line goes out in a single write() to a
    file opened for appending, so lines never interleave.
    """

    def __init__(self, path: Path, max_bytes: int = MAX_LOG_BYTES) -> None:
        self.path = path
        self.previous = path.with_name(path.name + ".1")
        self.max_bytes = max_bytes
        self.skipped = 0  # corrupt lines the last summarize() passed over
        self._lock = threading.Lock()

    def record(self, question: str, lang: str) -> None:
        """Log one unanswered question, masked; a password-like message is never logged."""
        if looks_like_password(question):
            return
        text = normalise(mask(question))
        if not text:
            return
        entry = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "lang": lang,
                 "question": text}
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            private_folder(self.path.parent)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                written = os.write(fd, line)
                # A short write only happens when the disk is full or a signal lands; the
                # rest still belongs on this line.
                while written < len(line):
                    written += os.write(fd, line[written:])
                full = os.fstat(fd).st_size >= self.max_bytes
            finally:
                os.close(fd)
            if full:
                # Atomic: a writer in another process that still has the old file open
                # appends its line to NAME.1, where it is still read. Another process may
                # have rotated it a moment ago: then there is nothing to move.
                with contextlib.suppress(FileNotFoundError):
                    os.replace(self.path, self.previous)

    def summarize(self, limit: int = 50) -> list[tuple[str, int, str]]:
        """(question, count, lang) per distinct question, most frequent first.

        Ties go to the most recently asked. The question and language shown are those of
        the group's latest entry. Corrupt lines are passed over and counted in `skipped`.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        groups: dict[str, _Group] = {}
        skipped = 0
        for index, entry in enumerate(self._entries()):
            if entry is None:
                skipped += 1
                continue
            question, lang = entry
            key = group_key(question)
            group = groups.get(key)
            if group is None:
                groups[key] = _Group(question, lang, 1, index)
            else:
                group.question, group.lang, group.last_seen = question, lang, index
                group.count += 1
        self.skipped = skipped
        ranked = sorted(groups.values(), key=lambda group: (-group.count, -group.last_seen))
        return [(group.question, group.count, group.lang) for group in ranked[:limit]]

    def _entries(self) -> Iterator[tuple[str, str] | None]:
        """Each non-blank line as (masked question, lang), or None when it is corrupt."""
        for path in (self.previous, self.path):
            yield from _file_entries(path)


def _file_entries(path: Path) -> Iterator[tuple[str, str] | None]:
    try:
        lines = path.open("rb")
    except FileNotFoundError:
        return
    with lines:
        for raw in lines:
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw.decode("utf-8"))
            except ValueError:  # also covers bytes that are not UTF-8
                yield None
                continue
            question = entry.get("question") if isinstance(entry, dict) else None
            lang = entry.get("lang") if isinstance(entry, dict) else None
            if not isinstance(question, str) or not isinstance(lang, str) or not question:
                yield None
                continue
            # Masked again: the file may predate a masking rule, or have been edited.
            yield normalise(mask(question)), lang
