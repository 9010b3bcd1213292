"""Replies shaped for Telegram: HTML escaping, pieces under the length limit, keyboards."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import User

from bot.channels.telegram.format import (
    escape,
    keyboard,
    language_hint,
    read_command,
    report_messages,
    split_text,
)
from bot.dialog import Button


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_escape_shows_markup_as_text() -> None:
    assert escape('<b>x</b> & "y"') == '&lt;b&gt;x&lt;/b&gt; &amp; "y"'


def test_split_cuts_at_line_ends() -> None:
    assert split_text("short") == ["short"]
    assert split_text("a\n\nb") == ["a\n\nb"]
    assert split_text("12345\n67890\nabc", limit=10) == ["12345", "67890\nabc"]
    assert split_text("x" * 25, limit=10) == ["x" * 10, "x" * 10, "x" * 5]
    # An emoji is two UTF-16 units, as Telegram counts.
    assert split_text("😀" * 6, limit=10) == ["😀" * 5, "😀"]
    assert split_text("") == [] and split_text(" \n \n") == []


@given(st.text(alphabet=st.sampled_from("ab \n😀<&"), max_size=200),
       st.integers(min_value=2, max_value=30))
def test_split_keeps_every_character_within_the_limit(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert all(0 < units(piece) <= limit and piece.strip() for piece in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())


def test_keyboard_pairs_short_labels_only() -> None:
    labels = ["Outlook", "Thunderbird", "Apple Mail / iPhone", "Android", "Other", "Menu"]
    markup = keyboard(tuple(Button(label, f"v{i}") for i, label in enumerate(labels)))
    assert markup is not None
    assert [[b.text for b in row] for row in markup.inline_keyboard] == [
        ["Outlook", "Thunderbird"], ["Apple Mail / iPhone"], ["Android", "Other"], ["Menu"]]
    assert [b.callback_data for row in markup.inline_keyboard for b in row] == [
        f"v{i}" for i in range(6)]


def test_keyboard_leaves_out_values_telegram_cannot_carry(
        caplog: pytest.LogCaptureFixture) -> None:
    fits = "я" * 32  # 64 bytes
    markup = keyboard((Button("A", "x" * 65), Button("B", fits), Button("C", "я" * 33),
                       Button("D", "")))
    assert markup is not None
    assert [b.callback_data for row in markup.inline_keyboard for b in row] == [fits]
    assert caplog.text.count("left out") == 3
    assert keyboard((Button("A", "x" * 65),)) is None and keyboard(()) is None


def test_a_report_fits_in_one_message_when_it_can() -> None:
    messages = report_messages("Checking <a>…", "PROTOCOL  HOST\nimap      a&b", "Fine & well.")
    assert messages == ["Checking &lt;a&gt;…\n\n<pre>PROTOCOL  HOST\nimap      a&amp;b</pre>"
                        "\n\nFine &amp; well."]


def test_a_long_report_is_spread_over_messages_with_whole_pre_blocks() -> None:
    table = "\n".join(f"imap host{i}.example.com 993 ok" for i in range(300))
    findings = "\n".join(f"finding {i}" for i in range(500))
    messages = report_messages("Checking", table, findings, limit=1000)
    assert len(messages) > 3
    for html_text in messages:
        assert html_text.count("<pre>") == html_text.count("</pre>") <= 1
        shown = html_text.replace("<pre>", "").replace("</pre>", "")
        assert units(shown.replace("&amp;", "&")) <= 1000
    shown = "\n".join(messages)
    assert "host0." in messages[0] and "host299." in shown and "finding 499" in messages[-1]


def test_commands_and_languages_are_read_from_telegram() -> None:
    assert read_command("/Start@MailhelpBot ru") == ("start", "MailhelpBot")
    assert read_command("/help") == ("help", "")

    def person(code: str | None) -> User:
        return User(1, "T", is_bot=False, language_code=code)

    assert [language_hint(person(c)) for c in ("ru-RU", "it", "EN", "de", None)] == [
        "ru", "it", "en", None, None]
    assert language_hint(None) is None


def test_a_skipped_button_is_logged_without_what_it_carried(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    keyboard((Button("ivan.petrov@example.com", "use:ivan.petrov@example.com:" + "x" * 40),))
    assert "left out" in caplog.text and "ivan" not in caplog.text
