"""The bot's own phrases: every catalog complete, nothing fuzzy, plurals right."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import catalog_path, translations
from bot.kb import LANGS

BOT = Path(__file__).resolve().parents[1] / "bot"


def phrases_in_code() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(BOT)):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("lang", LANGS)
def test_catalog_is_complete_and_not_fuzzy(lang: str) -> None:
    with catalog_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang)
    ids = set()
    for message in catalog:
        if not message.id:
            continue
        ids.add(message.id if isinstance(message.id, str) else message.id[0])
        assert not message.fuzzy, f"{lang}: fuzzy {message.id!r}"
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{lang}: untranslated {message.id!r}"
        assert len(strings) == (catalog.num_plurals if message.pluralizable else 1)
    missing = phrases_in_code() - ids
    assert not missing, f"{lang}: phrases not in the catalog: {missing}"


@pytest.mark.parametrize(("lang", "n", "word"), [
    ("ru", 1, "день"), ("ru", 3, "дня"), ("ru", 11, "дней"), ("ru", 21, "день"),
    ("ru", 30, "дней"), ("it", 1, "giorno"), ("it", 30, "giorni"), ("en", 1, "day."),
])
def test_plural_forms(lang: str, n: int, word: str) -> None:
    text = translations(lang).ngettext(
        "{name} keeps spam for {days} day.", "{name} keeps spam for {days} days.", n)
    assert text.format(name="X", days=n).endswith(word) or f" {word}" in text


def test_template_holds_exactly_the_phrases_in_code() -> None:
    with (catalog_path("en").parents[2] / "mailhelp.pot").open("rb") as f:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    assert template == phrases_in_code(), (
        "regenerate: pybabel extract -F babel.cfg --no-location --omit-header --sort-output "
        "-o locales/mailhelp.pot .")
