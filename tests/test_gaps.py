"""Unanswered-questions log: masked before writing, grouped for editors, robust to damage."""

from __future__ import annotations

import json
import multiprocessing
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.gaps import MAX_LOG_BYTES, MAX_QUESTION_CHARS, GapLog


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "gaps" / "unanswered.jsonl"


def lines_of(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_questions_are_masked_before_writing(log_path: Path) -> None:
    log = GapLog(log_path)
    # Neither message is a password as a whole, but each carries one.
    log.record("I am ivan.petrov@yandex.ru, I typed Qwerty123 into Outlook, server 10.1.2.3, "
               "phone +7 916 123-45-67", "en")
    log.record("мой ящик maria@mail.ru, ввожу Sol!nce77 и ошибка", "ru")
    raw = log_path.read_text(encoding="utf-8")
    for secret in ("ivan.petrov", "Qwerty123", "10.1.2.3", "916 123", "maria@", "Sol!nce77"):
        assert secret not in raw
    entries = lines_of(log_path)
    assert [entry["question"] for entry in entries] == [
        "I am i***@yandex.ru, I typed [secret] into Outlook, server [ip], phone [number]",
        "мой ящик m***@mail.ru, ввожу [secret] и ошибка",
    ]
    assert [entry["lang"] for entry in entries] == ["en", "ru"]


def test_entry_format(log_path: Path) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    GapLog(log_path).record("  how do I\n\tset up   Thunderbird?  ", "en")
    (entry,) = lines_of(log_path)
    assert set(entry) == {"at", "lang", "question"}
    assert entry["question"] == "how do I set up Thunderbird?"
    at = datetime.fromisoformat(entry["at"])
    assert at.tzinfo is not None and at.utcoffset() == timedelta(0)
    assert before <= at <= datetime.now(UTC)


def test_long_questions_are_cut(log_path: Path) -> None:
    GapLog(log_path).record("word " * 1000, "it")
    (entry,) = lines_of(log_path)
    assert len(entry["question"]) == MAX_QUESTION_CHARS
    assert entry["question"].startswith("word word")


@pytest.mark.parametrize("message", ["Qwerty123", "my password is hunter2", "мой пароль qwerty",
                                     "la password è Gatto2024", "   ", ""])
def test_passwords_and_empty_messages_are_never_recorded(log_path: Path, message: str) -> None:
    GapLog(log_path).record(message, "en")
    assert not log_path.exists()


def test_grouping_and_order(log_path: Path) -> None:
    log = GapLog(log_path)
    for question, lang in [
        ("How do I set up Outlook?", "en"),
        ("Где мои письма?", "ru"),
        ("how do i  set up outlook", "en"),
        ("Perché non ricevo la posta", "it"),
        ("Где мои письма", "ru"),
        ("HOW DO I SET UP OUTLOOK!!", "en"),
        ("Perché non ricevo la posta?", "it"),  # ties with "Где мои письма", but newer
        ("Why is mail from anna@gmail.com rejected?", "en"),
    ]:
        log.record(question, lang)
    assert log.summarize() == [
        ("HOW DO I SET UP OUTLOOK!!", 3, "en"),
        ("Perché non ricevo la posta?", 2, "it"),
        ("Где мои письма", 2, "ru"),
        ("Why is mail from a***@gmail.com rejected?", 1, "en"),
    ]
    assert log.summarize(limit=2) == [("HOW DO I SET UP OUTLOOK!!", 3, "en"),
                                      ("Perché non ricevo la posta?", 2, "it")]
    assert log.skipped == 0


def test_masked_addresses_group_by_their_masked_form(log_path: Path) -> None:
    log = GapLog(log_path)
    log.record("server 10.0.0.1 refuses", "en")
    log.record("server 192.168.1.1 refuses", "en")
    assert log.summarize() == [("server [ip] refuses", 2, "en")]


def test_corrupt_lines_are_skipped_and_counted(log_path: Path) -> None:
    log = GapLog(log_path)
    log.record("where is my mail", "en")
    with log_path.open("ab") as damaged:
        damaged.write(b"not json at all\n")
        damaged.write(b'{"at": "2024-01-01T00:00:00+00:00", "lang": "en"}\n')  # no question
        damaged.write(b'["a", "list"]\n')
        damaged.write(b'{"lang": 5, "question": "where is my mail"}\n')
        damaged.write(b'{"lang": "en", "question": "\xff\xfe broken bytes"}\n')
        damaged.write(b"\n")  # a blank line is not an entry, damaged or not
        # A hand-added line is masked on reading too.
        damaged.write(b'{"lang": "en", "question": "Where is my mail, bob@mail.ru?"}\n')
    log.record("where is my mail?", "en")
    with log_path.open("ab") as damaged:
        damaged.write(b'{"at": "2024-01-01T00:00:00+00:00", "lang": "en", "quest')  # torn
    assert log.summarize() == [("where is my mail?", 2, "en"),
                               ("Where is my mail, b***@mail.ru?", 1, "en")]
    assert log.skipped == 6


def test_missing_file_summarises_to_nothing(log_path: Path) -> None:
    log = GapLog(log_path)
    assert log.summarize() == []
    assert log.skipped == 0
    with pytest.raises(ValueError):
        log.summarize(limit=0)


def long_question(worker: int, index: int) -> str:
    return f"worker {worker} question {index} " + "почему не приходит почта " * 15


def test_threads_write_whole_lines(log_path: Path) -> None:
    log = GapLog(log_path)
    threads_count, per_thread = 8, 100
    start = threading.Barrier(threads_count)

    def work(worker: int) -> None:
        start.wait()
        for index in range(per_thread):
            log.record(long_question(worker, index), "ru")

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads_count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    questions = [entry["question"] for entry in lines_of(log_path)]
    expected = {" ".join(long_question(w, i).split())
                for w in range(threads_count) for i in range(per_thread)}
    assert len(questions) == threads_count * per_thread
    assert set(questions) == expected


def record_in_process(path: str, worker: int, count: int, start: object,
                      max_bytes: int = MAX_LOG_BYTES) -> None:
    """A worker process: its own log object on the same file."""
    log = GapLog(Path(path), max_bytes=max_bytes)
    start.wait()  # type: ignore[attr-defined]
    for index in range(count):
        log.record(long_question(worker, index), "ru")


def write_from_processes(log_path: Path, processes: int, count: int,
                         max_bytes: int = MAX_LOG_BYTES) -> None:
    """`processes` workers, started together, each recording `count` questions."""
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [context.Process(target=record_in_process,
                               args=(str(log_path), n, count, start, max_bytes))
               for n in range(processes)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0


def test_processes_write_whole_lines(log_path: Path) -> None:
    count = 200
    write_from_processes(log_path, 2, count)
    questions = {entry["question"] for entry in lines_of(log_path)}
    assert len(lines_of(log_path)) == 2 * count
    assert questions == {" ".join(long_question(w, i).split())
                         for w in range(2) for i in range(count)}


def test_the_log_is_rotated_and_both_files_are_read(tmp_path: Path) -> None:
    log = GapLog(tmp_path / "data" / "unanswered.jsonl", max_bytes=2000)
    for number in range(100):
        log.record(f"question number {number} about nothing in particular", "en")
    current, previous = log.path.stat().st_size, log.previous.stat().st_size
    assert current < 2000 and previous < 2100  # never much past the cap, two files at most
    assert sorted(p.name for p in log.path.parent.iterdir()) == [
        "unanswered.jsonl", "unanswered.jsonl.1"]
    seen = {question for question, _count, _lang in log.summarize(limit=100)}
    assert "question number 99 about nothing in particular" in seen
    kept = sum(len(path.read_bytes().splitlines()) for path in (log.path, log.previous))
    assert len(seen) == kept > 10  # every line of both files, each question once
    assert stat.S_IMODE(log.path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600


def test_processes_rotating_at_once_lose_no_line_shape(log_path: Path) -> None:
    """Several processes rotating the same small log: none fails, every line kept is whole."""
    write_from_processes(log_path, 3, 300, max_bytes=3000)
    # The last writer may have just rotated: then only NAME.1 exists.
    kept = [line for path in (log_path, log_path.with_name(log_path.name + ".1"))
            if path.exists() for line in path.read_bytes().splitlines()]
    assert kept and all(json.loads(line)["question"].startswith("worker ") for line in kept)
