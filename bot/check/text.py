"""Making text that came from a server safe to show in a terminal, a chat or a web page."""

from __future__ import annotations

import unicodedata

_REPLACEMENT = "\ufffd"


def printable(text: str) -> str:
    """`text` with control and format characters (escapes, bidi overrides) replaced."""
    if text.isprintable():
        return text
    return "".join(
        _REPLACEMENT if unicodedata.category(ch) in ("Cc", "Cf") and ch != "\t" else ch
        for ch in text)
