"""The matcher: accuracy, the three outcomes, evidence, the model cache, hostile input."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import kb
from bot.match import Matcher, Words, extract_codes, matcher_for, normalize, training
from bot.match import matcher as decision
from bot.match.features import read

DATA = Path(__file__).parent / "data"
MAILHELP = [sys.executable, "-c", "from bot.cli import main; main()"]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return matcher_for(kb.load_knowledge())


def run_jsonl(queries: list[str]) -> list[dict[str, Any]]:
    """`mailhelp faq --jsonl` as a separate process, exactly as the scoring tool runs it."""
    stdin = "".join(q.replace("\n", " ") + "\n" for q in queries)
    proc = subprocess.run([*MAILHELP, "faq", "--jsonl"], input=stdin.encode(),
                          capture_output=True, timeout=120, check=True)
    return [json.loads(line) for line in proc.stdout.decode().splitlines()]


@pytest.mark.parametrize(("name", "min_top1", "min_top3"), [
    ("dev", 0.95, 0.98),  # the development set and the bars set for it
    ("paraphrases", 0.90, 0.95),  # phrasings the knowledge base was not written against
])
def test_labelled_sets_clear_the_bars(name: str, min_top1: float, min_top3: float) -> None:
    cases = yaml.safe_load((DATA / f"{name}.yaml").read_text(encoding="utf-8"))
    results = run_jsonl([c["q"] for c in cases])
    assert len(results) == len(cases)
    top1 = top3 = inside = rejected = outside = providers_ok = providers = 0
    misses = []
    for case, res in zip(cases, results, strict=True):
        assert res["query"] == case["q"]
        ids = [m["id"] for m in res["matches"]]
        if case["expect"] is None:
            outside += 1
            rejected += not ids
            if ids:
                misses.append((case["q"], None, ids))
            continue
        inside += 1
        accept = case["expect"] if isinstance(case["expect"], list) else [case["expect"]]
        top1 += bool(ids) and ids[0] in accept
        top3 += any(i in accept for i in ids[:3])
        if not ids or ids[0] not in accept:
            misses.append((case["q"], accept, ids))
        if case.get("provider"):
            providers += 1
            providers_ok += bool(ids) and res["matches"][0]["provider"] == case["provider"]
    report = "\n".join(map(str, misses))
    assert top1 / inside >= min_top1, report
    assert top3 / inside >= min_top3, report
    assert rejected / outside >= 0.85, report
    assert providers_ok == providers, report


def test_output_follows_the_contract(matcher: Matcher) -> None:
    out = matcher.match("554 5.7.1 Relay access denied", n=2).as_json()
    assert set(out) == {"query", "lang", "matches", "suggestions", "ambiguous"}
    assert out["suggestions"] == []
    assert out["lang"] in ("en", "ru", "it")
    matches = out["matches"]
    assert isinstance(matches, list) and 1 <= len(matches) <= 2
    assert matches[0]["id"] == "smtp-auth-required"
    scores = [m["score"] for m in matches]
    assert scores == sorted(scores, reverse=True)
    assert all(set(m) == {"id", "score", "provider"} for m in matches)


@pytest.mark.parametrize(("text", "codes"), [
    ("553 5.7.1 Sender address rejected: not owned by auth user", ["553", "5.7.1"]),
    ("534-5.7.9 Application-specific password required", ["534", "5.7.9"]),
    ("Outlook error 0x800CCC0E", ["0x800ccc0e"]),
    ("* NO [AUTHENTICATIONFAILED] Invalid credentials", ["[authenticationfailed]"]),
    ("-ERR [AUTH] Authentication failed.", ["[auth]"]),
    ("port 25 or 587, and port 465?", []),
    ("version 1.2.3 of the app", []),
])
def test_codes_are_extracted(text: str, codes: list[str]) -> None:
    assert extract_codes(normalize(text)) == codes


@pytest.mark.parametrize(("query", "provider"), [
    ("my address is ivan.petrov@list.ru and it fails", "mailru"),
    ("what port does smtp.mail.ru use", "mailru"),
    ("настройки для яндекса", "yandex"),
    ("imap.gmail.com refuses me", "gmail"),
    ("hotmail won't sync", "outlook"),
    ("my outlook 2016 keeps asking for the password", None),
    ("time out when sending", None),
    ("Hi all, since yesterday Outlook on my Windows 11 laptop cannot send anything: it says "
     "the server requires authentication. Receiving works fine. Provider is mail.ru.", "mailru"),
    ("Добрый день. Письма с ivan@yandex.ru не уходят, в логе: connect to smtp.example.com "
     "failed, 550 5.7.1 rejected", "yandex"),
])
def test_provider_is_detected(matcher: Matcher, query: str, provider: str | None) -> None:
    assert matcher.providers.detect(normalize(query)) == provider


@pytest.mark.parametrize(("query", "lang"), [
    ("ошибка 553 5.7.1 Sender address rejected: not owned by auth user", "ru"),
    ("пишет Authentication required", "ru"),
    ("non riesco a inviare la posta, dice Relay access denied", "it"),
    ("Plaintext authentication disallowed on non-secure connections", "en"),
    ("530 5.7.0 Authentication required", "en"),
    ("la mia casella è piena", "it"),
    ("Добрый день! Thunderbird пишет: Sending of the message failed. The message could not "
     "be sent because the connection to Outgoing server (SMTP) smtp.example.com timed out. "
     "Try again.", "ru"),
    ("Buongiorno, Outlook mi dice: Your IMAP server wants to alert you to the following: "
     "Invalid login or password. Cosa devo fare?", "it"),
])
def test_language_is_detected(matcher: Matcher, query: str, lang: str) -> None:
    assert matcher.match(query).lang == lang


def test_codes_alone_are_enough(matcher: Matcher) -> None:
    result = matcher.match("0x800CCC0E")
    assert result.matches and result.matches[0].topic == "cannot-connect"


def test_an_error_inside_a_long_paste_is_found(matcher: Matcher) -> None:
    paste = ("Hello, this is the mail system at host mx.example.net. " * 5
             + "553 5.7.1 <me@example.net>: Sender address rejected: not owned by auth user")
    result = matcher.match(paste)
    assert result.matches and result.matches[0].topic == "sender-not-owned"


def test_typos_are_forgiven(matcher: Matcher) -> None:
    result = matcher.match("Relay acess denied")
    assert result.matches and result.matches[0].topic == "smtp-auth-required"


def test_one_common_word_is_not_an_answer_but_one_rare_word_is(matcher: Matcher) -> None:
    assert not matcher.match("почта").matches
    result = matcher.match("undeliverable")
    assert result.matches and result.matches[0].topic == "bounce-report"


def test_lang_override(matcher: Matcher) -> None:
    assert matcher.match("how do I restore deleted mail", lang="it").lang == "it"


def test_ambiguity_is_flagged_only_for_close_scores(matcher: Matcher) -> None:
    clear = matcher.match("553 5.7.1 Sender address rejected: not owned by auth user")
    assert not clear.ambiguous
    if len(clear.matches) > 1:
        assert clear.matches[0].score - clear.matches[1].score >= 0.06


@pytest.mark.parametrize("query", [
    "", "   \t  ", "\x00\x01\x02\x7f", "🙂🙂🙂", "https://example.com/some/page?x=1",
    "абв abc àèì 中文 العربية", "a" * 1_000_000, "mail " * 200_000,
    bytes(range(256)).decode("latin-1"),
    "a." * 500_000, "[a" * 500_000, "a@a." * 250_000,
    "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
])
def test_bad_input_gives_an_answer_or_none(matcher: Matcher, query: str) -> None:
    result = matcher.match(query)
    assert result.lang in ("en", "ru", "it")
    assert all(0 < m.score <= 1 for m in result.matches)


def test_binary_lines_on_stdin_do_not_break_the_stream() -> None:
    garbage = b"\xff\xfe\x00bad\x80line\n" + b"530 5.7.0 Authentication required\n"
    proc = subprocess.run([*MAILHELP, "faq", "--jsonl"], input=garbage, capture_output=True,
                          timeout=60, check=True)
    lines = proc.stdout.decode().splitlines()
    assert len(lines) == 2
    assert json.loads(lines[1])["matches"][0]["id"] == "smtp-auth-required"


@pytest.mark.parametrize(("query", "topic"), [
    ("Thunderbird says: the certificate for mail.example.com expired on 03.02.2026, do you "
     "want to continue?", "certificate-error"),
    ("Hi all, since yesterday Outlook on my Windows 11 laptop cannot send anything: it says "
     "the server requires authentication. Receiving works fine. Provider is mail.ru. What "
     "should I change?", "smtp-auth-required"),
    ("Authentication failed. Please check the username and password", "login-failed"),
])
def test_long_real_shapes_are_answered(matcher: Matcher, query: str, topic: str) -> None:
    """Host names, dates, greetings and context around the problem do not hide it."""
    result = matcher.match(query)
    assert result.matches and result.matches[0].topic == topic


@pytest.mark.parametrize("query", [
    "I have a question about email", "how do I bake a cake", "посоветуйте сериал",
    "che ore sono a Tokyo", "my printer is out of toner",
])
def test_out_of_scope_gets_no_answer(matcher: Matcher, query: str) -> None:
    assert not matcher.match(query).matches


def test_three_outcomes_are_exclusive_and_scores_are_probabilities(matcher: Matcher) -> None:
    cases = yaml.safe_load((DATA / "paraphrases.yaml").read_text(encoding="utf-8"))
    seen = {"answer": 0, "did you mean": 0, "nothing": 0}
    for case in cases + [{"q": q} for q in ("imap", "mail", "letters", "the server says no")]:
        result = matcher.match(case["q"], n=3)
        scores = [m.score for m in result.matches + result.suggestions]
        assert sum(scores) <= 1.0 + 1e-6  # one probability spread over the topics
        assert scores == sorted(scores, reverse=True)
        if result.matches:
            seen["answer"] += 1
            assert result.matches[0].score >= decision.CONFIDENT and not result.suggestions
        elif result.suggestions:
            seen["did you mean"] += 1
            assert len(result.suggestions) <= 3
            assert all(decision.SUGGEST <= m.score < decision.CONFIDENT
                       for m in result.suggestions)
        else:
            seen["nothing"] += 1
    assert all(seen.values()), seen


@pytest.fixture
def knowledge_copy(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    shutil.copytree(kb.default_root(), root)
    return root


def test_an_editors_out_of_scope_example_takes_effect_on_restart(
        knowledge_copy: Path, tmp_path: Path) -> None:
    """The model is cached by the knowledge's content: an edited file means a new model."""
    cache = [tmp_path / "cache"]
    question = "thunderbird shows my calendar invitations twice"
    before = Matcher(kb.load(knowledge_copy), cache=cache)
    oos = knowledge_copy / "out-of-scope.yaml"
    oos.write_text(oos.read_text(encoding="utf-8").replace(
        "  en:\n", "  en:\n    - thunderbird shows calendar invitations twice\n"
        "    - calendar invitations appear two times in thunderbird\n", 1), encoding="utf-8")
    after = Matcher(kb.load(knowledge_copy), cache=cache)
    assert len(list(cache[0].glob("matcher-*.npz"))) == 2
    probability = {m: _probability(m, question, training.OUT_OF_SCOPE) for m in (before, after)}
    assert probability[after] > probability[before]
    assert not after.match(question).matches


@pytest.mark.parametrize("query", ["my emails land in junk",
                                   "письма попадают в спам",
                                   "le email finiscono nella posta indesiderata"])
def test_a_concept_is_read_the_same_in_every_language(matcher: Matcher, query: str) -> None:
    """What the model learns of "spam" from English phrases reaches Russian and Italian."""
    reading = read(normalize(query), matcher.words, None)
    assert reading.features.get("x:spam", 0) > 0
    assert {f for f in reading.features if f.startswith("x:")} <= {"x:spam", "x:letter"}


@pytest.mark.parametrize(("text", "garbled"), [
    ("the subject reads ÐŸÑ€Ð¸Ð²ÐµÑ‚ Ð¼Ð¸Ñ€ instead of Russian", True),  # UTF-8 as Latin-1
    ("пришло письмо: РџСЂРёРІРµС‚ РјРёСЂ", True),  # UTF-8 as Windows-1251
    ("la mail dice perchÃ© Ã¨ cosÃ¬", True),
    ("caffè, perché è così; Ñandú; Ðoàn", False),  # letters of real words are not noise
    ("привет мир", False),
])
def test_text_in_the_wrong_character_set_is_one_placeholder(text: str, garbled: bool) -> None:
    normalized = normalize(text)
    assert (normalized.count("<garbled>") == 1) is garbled


def test_a_word_in_two_concepts_is_an_editors_mistake(knowledge_copy: Path) -> None:
    language = knowledge_copy / "language.yaml"
    language.write_text(language.read_text(encoding="utf-8").replace(
        "  trash: [trash,", "  trash: [junk, trash,", 1), encoding="utf-8")
    with pytest.raises(ValueError, match="'junk' is read as both spam and trash"):
        Words.load(knowledge_copy)


def _probability(matcher: Matcher, query: str, label: str) -> float:
    text = normalize(query)
    probs, _ = matcher.probabilities(text, None)
    return float(probs[matcher.trained.classes.index(label)])


def test_a_cached_model_is_loaded_not_trained(knowledge_copy: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    cache = [tmp_path / "cache"]
    knowledge = kb.load(knowledge_copy)
    first = Matcher(knowledge, cache=cache)

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("trained although a cached model exists")

    monkeypatch.setattr(training, "train", no_training)
    second = Matcher(knowledge, cache=cache)
    assert second.trained.vocabulary == first.trained.vocabulary
    query = "553 5.7.1 Sender address rejected: not owned by auth user"
    assert second.match(query) == first.match(query)


def test_old_cached_models_are_pruned(knowledge_copy: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    for i in range(training.KEEP_MODELS + 2):
        old = folder / f"matcher-old{i}.npz"
        old.write_bytes(b"stale")
        os.utime(old, (1_000_000 + i, 1_000_000 + i))
    knowledge = kb.load(knowledge_copy)
    Matcher(knowledge, cache=[folder])
    kept = sorted(p.name for p in folder.glob("matcher-*.npz"))
    current = f"matcher-{training.content_hash(knowledge)}.npz"
    assert len(kept) == training.KEEP_MODELS and current in kept
    assert "matcher-old0.npz" not in kept and "matcher-old5.npz" in kept


def test_an_unwritable_cache_trains_in_memory(knowledge_copy: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    matcher = Matcher(kb.load(knowledge_copy), cache=[blocked / "cache"])
    assert matcher.match("0x800CCC0E").matches[0].topic == "cannot-connect"


def test_a_broken_cache_file_is_replaced(knowledge_copy: Path, tmp_path: Path) -> None:
    knowledge = kb.load(knowledge_copy)
    folder = tmp_path / "cache"
    folder.mkdir()
    path = folder / f"matcher-{training.content_hash(knowledge)}.npz"
    path.write_bytes(b"PK\x03\x04 truncated")
    matcher = Matcher(knowledge, cache=[folder])
    assert matcher.match("0x800CCC0E").matches[0].topic == "cannot-connect"
    assert path.stat().st_size > 1000


def _training_texts() -> list[str]:
    return [normalize(e.text) for e in training.examples(kb.load_knowledge())]


def test_held_out_real_messages_are_not_trained_on() -> None:
    """No case of the held-out real messages is a training text or part of one."""
    path = DATA / "real_messages.yaml"
    taught = _training_texts()
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    leaked = [c["q"] for c in cases if any(normalize(c["q"]).strip() in t for t in taught)]
    assert not leaked


def _thread(source: str) -> str:
    """The conversation a case was taken from: an issue or a forum question, not one comment."""
    source = source.split("#")[0].rstrip("/")
    issue = re.match(r"https://github\.com/[^/]+/[^/]+/(?:issues|pull|discussions)/\d+", source)
    forum = re.match(r"https://support\.mozilla\.org/[^/]+/questions/(\d+)", source)
    return issue.group(0) if issue else f"sumo:{forum.group(1)}" if forum else source


def test_held_out_and_tuning_messages_come_from_different_threads() -> None:
    """Tuning on a thread teaches its wording: the held-out set shares no thread with it."""
    threads = {name: {_thread(c["source"]) for c in yaml.safe_load(
        (DATA / f"{name}.yaml").read_text(encoding="utf-8"))}
        for name in ("real_messages", "real_tuning")}
    assert not threads["real_messages"] & threads["real_tuning"]


@pytest.mark.parametrize("name", ["real_messages", "real_tuning"])
def test_real_message_sets_are_well_formed(name: str) -> None:
    """One case a line with its source; labels are topics of the knowledge base or null."""
    cases = yaml.safe_load((DATA / f"{name}.yaml").read_text(encoding="utf-8"))
    topics = set(kb.load_knowledge().topics)
    for case in cases:
        assert set(case) <= {"lang", "expect", "provider", "source", "q"}
        assert case["lang"] in kb.LANGS and case["q"].strip()
        assert str(case["source"]).startswith("http")
        expect = case["expect"]
        assert expect is None or set(expect if isinstance(expect, list) else [expect]) <= topics
    assert len({c["q"] for c in cases}) == len(cases)  # no case twice


def test_the_held_out_set_is_large_and_varied_enough() -> None:
    cases = yaml.safe_load((DATA / "real_messages.yaml").read_text(encoding="utf-8"))
    assert len(cases) >= 300
    assert all(sum(c["lang"] == lang for c in cases) >= 60 for lang in kb.LANGS)
    assert sum(c["expect"] is None for c in cases) >= 0.15 * len(cases)
