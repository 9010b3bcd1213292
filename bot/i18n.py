"""The bot's own phrases in English, Russian and Italian: gettext catalogs under locales/.

Catalogs are the `.po` files an editor or translator changes; they are compiled with
Babel when first used, so there is no build step to forget. Knowledge texts are not
here: they live in the knowledge base's YAML.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path

from bot.kb import LANGS

DOMAIN = "mailhelp"
DEFAULT_LANG = "en"


def locales_root() -> Path:
    """The installed catalogs, or the checkout's."""
    installed = Path(str(resources.files("bot"))) / "locales"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / "locales"


def catalog_path(lang: str) -> Path:
    return locales_root() / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of one language (English for an unknown one)."""
    from babel.messages.mofile import write_mo  # imported late: only human output needs it
    from babel.messages.pofile import read_po

    lang = lang if lang in LANGS else DEFAULT_LANG
    with catalog_path(lang).open("rb") as po:
        catalog = read_po(po, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def translator(lang: str) -> Callable[[str], str]:
    """`_` for one language: the phrase translated, or the English phrase if missing."""
    return translations(lang).gettext
