"""The check's texts: every finding and refusal speaks en, ru and it, links a real topic,
and fills the same placeholders in every language."""

from __future__ import annotations

import string

import pytest

from bot.check import CheckRefused
from bot.check.addresses import refusal_reason
from bot.check.messages import MessagesError, catalogue, parse_catalogue
from bot.check.results import Problem
from bot.kb import LANGS, load_knowledge

# Every code the check can produce, kept in step with bot/check by the tests below.
FAILURES = ["dns_failed", "connect_refused", "connect_timeout", "unreachable", "connect_failed",
            "no_greeting", "reply_timeout", "closed", "too_much_data", "unexpected_reply",
            "unknown_protocol", "tls_failed", "check_timeout", "certificate_unreadable"]
FINDINGS = ["starttls_missing", "starttls_refused", "starttls_injection",
            "plaintext_login_before_tls", "old_tls_version", "no_auth_offered",
            "cert_expired", "cert_not_yet_valid", "cert_self_signed", "cert_untrusted",
            "cert_incomplete_chain", "cert_hostname_mismatch", "cert_cn_only",
            "cert_expires_soon", "address_unreachable", "use_other_port", "use_other_smtp_port"]
REFUSALS = ["empty_target", "target_too_long", "bad_characters", "bad_address", "bad_host",
            "bad_port", "bad_provider_server", "odd_notation", "port_not_allowed",
            "address_not_public", "unknown_provider", "rate_limited"]


def placeholders(text: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)


def test_every_problem_code_has_its_texts() -> None:
    assert set(catalogue().problems) == set(FAILURES + FINDINGS)


def test_every_refusal_has_its_texts() -> None:
    assert set(catalogue().refusals) == set(REFUSALS)


@pytest.mark.parametrize("code", FAILURES + FINDINGS)
def test_languages_fill_the_same_placeholders(code: str) -> None:
    texts = catalogue().problem(code).texts
    for lang in LANGS:
        assert placeholders(texts[lang]) == placeholders(texts["en"]), lang


def test_topics_exist_in_the_knowledge_base() -> None:
    known = set(load_knowledge().topics)
    assert {text.topic for text in catalogue().problems.values()} <= known


def test_every_address_kind_has_words() -> None:
    kinds = {refusal_reason(a) for a in ["10.0.0.1", "127.0.0.1", "169.254.1.1", "100.64.0.1",
                                         "224.0.0.1", "255.255.255.255", "240.0.0.1",
                                         "192.0.2.1", "198.18.0.1", "0.0.0.1", "::",
                                         "::ffff:1.2.3.4", "fd00::1", "fec0::1"]}
    assert kinds <= set(catalogue().address_kinds)


def test_messages_are_filled_in() -> None:
    problem = Problem("connect_refused", "cannot-connect", "error",
                      {"host": "mail.example.org", "port": "995"})
    assert catalogue().describe(problem, "ru").startswith("mail.example.org отклоняет")
    assert "995" in catalogue().describe(problem, "it")
    refused = CheckRefused("address_not_public", host="x.test", address="10.0.0.1",
                           kind="private")
    assert "частный" in catalogue().refusal(refused, "ru")
    assert "privato" in catalogue().refusal(refused, "it")


def test_a_broken_catalogue_is_rejected_with_the_place() -> None:
    with pytest.raises(MessagesError, match=r"problems\.x: missing the 'it' text"):
        parse_catalogue("problems:\n  x: {topic: t, severity: error, en: a, ru: b}\n"
                        "refusals: {}\naddress_kinds: {}\nui: {}\n")
    with pytest.raises(MessagesError, match="severity"):
        parse_catalogue("problems:\n  x: {topic: t, severity: fatal, en: a, ru: b, it: c}\n")
