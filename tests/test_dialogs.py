"""The typed-only conversation set (tests/data/dialogs.yaml): at least 60 conversations in
en/ru/it, at least 90% of them understood, and each language on its own too."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.kb import LANGS
from tests.dialog_scripts import Dialog, load, run

GOAL = 0.9

ENGINE, DIALOGS = load()


def test_the_set_is_big_enough_and_covers_every_language() -> None:
    assert len(DIALOGS) >= 60
    per_lang = Counter(d.lang for d in DIALOGS)
    assert set(per_lang) == set(LANGS) and min(per_lang.values()) >= 20, per_lang
    assert len({d.id for d in DIALOGS}) == len(DIALOGS), "dialog ids must be unique"
    assert all(d.expect or d.action for d in DIALOGS), "every dialog must check something"


@pytest.mark.parametrize("lang", LANGS)
def test_typed_conversations_are_understood(lang: str) -> None:
    outcomes = [run(ENGINE, d) for d in DIALOGS if d.lang == lang]
    failed = [f"{o.dialog.id}: {o.why}" for o in outcomes if not o.passed]
    rate = 1 - len(failed) / len(outcomes)
    assert rate >= GOAL, f"{lang}: {rate:.0%} understood; failed:\n" + "\n\n".join(failed)


def test_a_wrong_expectation_fails() -> None:
    """The runner really checks: the same lines with an answer they cannot give fail."""
    dialog = next(d for d in DIALOGS if d.id == "en-deleted-yesterday-yandex")
    wrong = Dialog(dialog.id, dialog.lang, dialog.batch, dialog.hint, dialog.lines,
                   ("24 December 2026",), None)
    assert run(ENGINE, dialog).passed
    assert not run(ENGINE, wrong).passed
