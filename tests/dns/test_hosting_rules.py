"""knowledge/mail-hosting.yaml: the shipped rules load, MX patterns match what they should,
an editor's mistakes are reported with file and line; findings link to existing topics."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import kb
from bot.discover.rules import FILE, check_rules, load_rules
from bot.discover.texts import text
from bot.domaincheck.findings import catalogue


@pytest.mark.parametrize(("mx", "hosting"), [
    ("aspmx.l.google.com", "google-workspace"),
    ("alt3.aspmx.l.google.com", "google-workspace"),
    ("smtp.google.com", "google-workspace"),
    ("contoso-com.mail.protection.outlook.com", "microsoft-365"),
    ("mx.yandex.net", "yandex-360"),
    ("emx.mail.ru", "vk-workmail"),
    ("mx2.zoho.eu", "zoho-workplace-eu"),
    ("mx.zoho.com", "zoho-workplace"),
    ("mx01.mail.icloud.com", "icloud-custom-domain"),
    ("in2-smtp.messagingengine.com", "fastmail"),
    ("mx00.ionos.de", "ionos-de"),
    ("mx3.mail.ovh.net", "ovh"),
    ("mailstore1.secureserver.net", "godaddy-workspace"),
    ("mailsec.protonmail.ch", "proton-custom-domain"),
    ("mx.pec.aruba.it", "aruba-pec-domain"),
    ("aspmx.l.google.com.evil.example", None),
    ("mail.protection.outlook.com.example", None),
    ("mx.example.com", None),
])
def test_mx_patterns(mx: str, hosting: str | None) -> None:
    hit = load_rules().hosting_for((mx,))
    assert (hit[0].id if hit else None) == hosting


def test_the_first_mx_that_names_a_hosting_wins() -> None:
    hit = load_rules().hosting_for(("mx.example.com", "mx.yandex.net", "aspmx.l.google.com"))
    assert hit is not None and (hit[0].id, hit[1]) == ("yandex-360", "mx.yandex.net")


def test_lint_reports_mistakes_with_file_and_line(tmp_path: Path) -> None:
    root = tmp_path / "knowledge"
    shutil.copytree(kb.default_root(), root)
    (root / FILE).write_text(
        "id: mail-hosting\n"
        "hosting:\n"
        "  - id: a\n"
        "    name: A\n"
        "    provider: nobody\n"
        "    mx: [mx.a.example]\n"
        "    sources: [https://a.example]\n"
        "  - id: b\n"
        "    name: B\n"
        "    mx: [mx.b.example]\n"
        "    servers: [{protocol: imap, host: imap.b.example, port: 99999, security: ssl}]\n"
        "    sources: [https://b.example]\n"
        "autoconfig: [http://autoconfig.example/x.xml]\n"
        "guesses: []\n", encoding="utf-8")
    rules, problems = check_rules(root, set(kb.check(root)[0].providers))  # type: ignore[union-attr]
    messages = [str(p) for p in problems]
    assert rules is None
    assert "mail-hosting.yaml:5: no provider 'nobody' in providers/" in messages
    assert any(m.startswith("mail-hosting.yaml:11: port 99999") for m in messages), messages
    assert any("autoconfig URL 'http://autoconfig.example/x.xml'" in m for m in messages)


def test_every_finding_links_to_a_topic_the_knowledge_base_has() -> None:
    topics = kb.load_knowledge().topics
    findings, _ = catalogue()
    assert {f.topic for f in findings.values()} <= set(topics)


def test_discovery_texts_exist_in_every_language() -> None:
    for lang in kb.LANGS:
        assert "{" not in text("sources", "mx", lang, via="mx.example", name="X")
        assert "x.example" in text("ui", "nothing_found", lang, domain="x.example")
