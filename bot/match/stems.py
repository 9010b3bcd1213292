"""Word stems: Snowball for Russian, and for other words both English and Italian."""

from __future__ import annotations

from functools import lru_cache

import Stemmer

from bot.match.text import CYRILLIC

_STEMMERS = {lang: Stemmer.Stemmer(name)
             for lang, name in (("en", "english"), ("ru", "russian"), ("it", "italian"))}


@lru_cache(maxsize=65_536)
def stems(word: str) -> tuple[str, ...]:
    """The stems a word is known by: Russian for Cyrillic, English and Italian otherwise."""
    if word.startswith("<") or any(c.isdigit() for c in word):
        return (word,)
    if CYRILLIC.search(word):
        return (_STEMMERS["ru"].stemWord(word),)
    en, it = _STEMMERS["en"].stemWord(word), _STEMMERS["it"].stemWord(word)
    return (en,) if en == it else (en, it)
