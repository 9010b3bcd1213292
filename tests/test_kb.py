"""The shipped knowledge base is complete, and the validator names each problem's file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot import kb

SPEC = Path(__file__).resolve().parents[2] / "shared" / "spec" / "topics.yaml"



def spec_topics() -> list[dict[str, str]]:
    if not SPEC.is_file():
        pytest.skip(f"topic spec not found at {SPEC}")
    return yaml.safe_load(SPEC.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_every_spec_topic_exists_with_its_kind(knowledge: kb.Knowledge) -> None:
    for entry in spec_topics():
        topic = knowledge.topics.get(entry["id"])
        assert topic is not None, f"topic {entry['id']} is missing"
        assert topic.kind == entry["kind"], entry["id"]


def test_every_topic_answers_in_three_languages(knowledge: kb.Knowledge) -> None:
    for topic in knowledge.topics.values():
        for lang in kb.LANGS:
            assert topic.title[lang].strip()
            assert len(topic.steps[lang]) >= 2, (topic.id, lang)
            assert len(topic.patterns[lang]) >= 5, (topic.id, lang)
        assert topic.sources, topic.id


REQUIRED_PROVIDERS = {
    "yandex", "mailru", "gmail", "outlook", "exchange", "rambler", "yahoo", "icloud", "aol",
    "gmx", "zoho", "proton", "libero", "virgilio", "tim", "tiscali", "aruba", "fastweb", "poste",
}


def test_providers_cover_the_required_ones(knowledge: kb.Knowledge) -> None:
    assert set(knowledge.providers) >= REQUIRED_PROVIDERS
    for provider in knowledge.providers.values():
        assert provider.sources, provider.id
        protocols = [s.protocol for s in provider.servers]
        assert "smtp" in protocols or provider.closed, provider.id


def test_today_facts_win_over_the_old_guides(knowledge: kb.Knowledge) -> None:
    mailru = knowledge.providers["mailru"]
    first = {s.protocol: s for s in reversed(mailru.servers)}
    assert (first["imap"].port, first["imap"].security) == (993, "ssl")
    assert (first["pop3"].port, first["pop3"].security) == (995, "ssl")
    assert first["smtp"].port == 465
    assert all(s.port not in (110, 25, 2525, 143) for s in mailru.servers)
    assert mailru.legacy, "the old guides' ports stay as notes"
    assert set(mailru.domains) >= {"mail.ru", "list.ru", "bk.ru", "inbox.ru", "internet.ru"}
    yandex = knowledge.providers["yandex"]
    assert (yandex.trash_days, yandex.spam_days) == (30, 10)


def test_domains_and_hosts_find_their_provider(knowledge: kb.Knowledge) -> None:
    found = knowledge.provider_for_address("Someone@BK.RU")
    assert found is not None and found.id == "mailru"
    found = knowledge.provider_for_domain("imap.yandex.ru")
    assert found is not None and found.id == "yandex"
    assert knowledge.provider_for_address("no-at-sign") is None
    assert knowledge.provider_for_domain("example.org") is None


# --- the validator -------------------------------------------------------------------------


@pytest.fixture()
def kb_copy(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    shutil.copytree(kb.default_root(), root)
    return root


def lint(root: Path) -> list[str]:
    knowledge, problems = kb.check(root)
    assert (knowledge is None) == bool(problems)
    return [str(p) for p in problems]


def test_the_shipped_knowledge_base_is_clean() -> None:
    assert lint(kb.default_root()) == []


def replace_in(path: Path, old: str, new: str) -> int:
    """Edit a file; the 1-based line of the edit."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return line


def test_port_out_of_range_is_named_with_file_and_line(kb_copy: Path) -> None:
    line = replace_in(kb_copy / "providers/yandex.yaml", "port: 993", "port: 99300")
    assert f"providers/yandex.yaml:{line}: port 99300 is out of range 1..65535" in lint(kb_copy)


def test_unknown_security_and_protocol(kb_copy: Path) -> None:
    path = kb_copy / "providers/gmail.yaml"
    replace_in(path, "security: ssl", "security: tls")
    replace_in(path, "protocol: imap", "protocol: jmap")
    problems = lint(kb_copy)
    assert any("gmail.yaml" in p and "security 'tls'" in p for p in problems)
    assert any("gmail.yaml" in p and "protocol 'jmap'" in p for p in problems)


def test_missing_language_is_named(kb_copy: Path) -> None:
    path = kb_copy / "topics/sender-not-owned.yaml"
    data = path.read_text(encoding="utf-8")
    start = data.index("title:")
    it_line = data.index("\n  it:", start)
    line_end = data.index("\n", it_line + 1)
    path.write_text(data[:it_line] + data[line_end:], encoding="utf-8")
    problems = lint(kb_copy)
    assert any(p.startswith("topics/sender-not-owned.yaml:") and "'title' has no 'it'" in p
               for p in problems), problems


def test_unknown_references_are_named(kb_copy: Path) -> None:
    path = kb_copy / "topics/login-failed.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "\nrelated: [no-such-topic]\n", encoding="utf-8") if (
        "related:" not in text) else replace_in(path, "related: [", "related: [no-such-topic, ")
    problems = lint(kb_copy)
    assert any("login-failed.yaml" in p and "'no-such-topic' does not exist" in p
               for p in problems), problems


def test_broken_yaml_and_wrong_id(kb_copy: Path) -> None:
    (kb_copy / "topics/broken.yaml").write_text("id: broken\nkind: [unclosed\n", encoding="utf-8")
    replace_in(kb_copy / "providers/aol.yaml", "id: aol", "id: aol2")
    problems = lint(kb_copy)
    assert any(p.startswith("topics/broken.yaml:") and "not valid YAML" in p for p in problems)
    assert any(p.startswith("providers/aol.yaml:1:") and "'id' must be 'aol'" in p
               for p in problems)


def test_duplicate_domain_and_bad_code(kb_copy: Path) -> None:
    replace_in(kb_copy / "providers/gmail.yaml", "gmail.com", "mail.ru")
    path = kb_copy / "topics/cannot-connect.yaml"
    replace_in(path, "codes:", "codes:\n  - 'error 42'")
    problems = lint(kb_copy)
    assert any("domain 'mail.ru' also belongs to" in p for p in problems), problems
    assert any("cannot-connect.yaml" in p and "code 'error 42'" in p for p in problems)


def test_a_pattern_taught_to_two_topics_is_named(kb_copy: Path) -> None:
    line = replace_in(kb_copy / "topics/sending-limit.yaml", "patterns:\n  en:\n",
                      "patterns:\n  en:\n    - Authentication failed message in the mail client\n")
    problems = lint(kb_copy)
    assert (f"topics/sending-limit.yaml:{line}: pattern 'Authentication failed message in the "
            "mail client' (en) is also one of 'login-failed'") in problems, problems


def test_load_raises_with_every_problem(kb_copy: Path) -> None:
    replace_in(kb_copy / "providers/yandex.yaml", "port: 993", "port: 0")
    with pytest.raises(kb.KnowledgeError) as err:
        kb.load(kb_copy)
    assert "port 0 is out of range" in str(err.value)


def test_every_topic_quotes_what_programs_print_in_every_language(
        knowledge: kb.Knowledge) -> None:
    for topic in knowledge.topics.values():
        for lang in kb.LANGS:
            printed = [m for m in topic.messages if m.lang == lang]
            assert printed, (topic.id, lang)
            assert all(m.program.strip() and m.text.strip() for m in printed), topic.id


def test_a_language_without_real_messages_is_named(kb_copy: Path) -> None:
    path = kb_copy / "topics/tls-required.yaml"
    text = path.read_text(encoding="utf-8")
    kept = [line for line in text.splitlines(keepends=True) if "{lang: ru," not in line]
    path.write_text("".join(kept), encoding="utf-8")
    line = text[: text.index("\nmessages:")].count("\n") + 2
    assert (f"topics/tls-required.yaml:{line}: 'messages' has no message a program prints in ru"
            in lint(kb_copy))


def test_a_message_without_its_program_is_named(kb_copy: Path) -> None:
    path = kb_copy / "topics/tls-required.yaml"
    line = replace_in(path, '{lang: it, program: "Thunderbird, imapMsgs.properties", ',
                      "{lang: it, ")
    problems = lint(kb_copy)
    assert f"topics/tls-required.yaml:{line}: missing 'program'" in problems, problems
