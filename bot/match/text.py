"""Normalizing a query: Unicode and case, reply codes, and typed placeholders for the noise.

Real messages carry host names, addresses, dates, user names and numbers that say nothing
about the problem. They become placeholder tokens (`<host>`, `<addr>`, `<date>` ...), so
the model learns from the shape of a message and not from one person's server name; the
reply codes (535, 5.7.8, 0x800ccc0e, [authenticationfailed]) are read out as evidence.
"""

from __future__ import annotations

import re
import unicodedata

# Only this much of a query is read: enough for any pasted error, bounded for hostile input.
MAX_SCAN_CHARS = 65_536
MAX_TEXT_CHARS = 4_000

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")
_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_BASIC = re.compile(r"(?<![\w.:])([245][0-5]\d)(?=[\s\-,;:)]|$)")
_OUTLOOK = re.compile(r"\b(?:0x)?(800ccc[0-9a-f]{2}|8004[0-9a-f]{4}|800c[0-9a-f]{4})\b")
_BRACKET = re.compile(r"\[([a-z][a-z0-9-]{1,40})\]")
_PORT_WORD = re.compile(r"(?:port|порт|porta)\w*\s*$")
# Label counts are bounded: an unbounded repeat backtracks quadratically on "a.a.a.a...".
ADDRESS = re.compile(r"[\w.+'-]{1,64}@((?:[\w-]{1,63}\.){1,8}[a-z]{2,24})\b", re.IGNORECASE)
HOST = re.compile(r"\b((?:[a-z0-9][a-z0-9-]{0,62}\.){1,8}(?:[a-z]{2,24}|рф))\b")
WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
CYRILLIC = re.compile(r"[а-я]")

# The noise a message carries, each kind replaced by its placeholder, in this order.
_NOISE = (
    ("<url>", re.compile(r"\b(?:https?|ftp)://\S{1,2000}|\bwww\.\S{1,2000}")),
    ("<addr>", ADDRESS),
    ("<ip>", re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?(?![\w.])")),
    ("<date>", re.compile(r"\b\d{1,4}[./-]\d{1,2}[./-]\d{2,4}\b")),
    ("<time>", re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b")),
    ("<id>", re.compile(r"\b(?=[a-z]{0,40}\d)(?=\d{0,40}[a-z])[a-z0-9]{12,80}\b")),
)
# Text shown in the wrong character set ("Ð¿Ñ€Ð¸", "Ã¨", "РїСЂРё") is the
# evidence of the encoding topic: read before NFKC, which would take it apart.
_CP1252 = "\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc" \
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
_MOJIBAKE = re.compile(
    f"[ÃÂÐÑ][{_CP1252}ÐÑ]|â€|[РС][ЂЃЉЊЋЏђѓєѕіїјљњћќўџ‚„…†‡€‰‹›µ·°±№]|\ufffd", re.IGNORECASE)
_SPACES = re.compile(r"(\s+)")
_GARBLED = "<garbled>"
_GARBLED_RUN = re.compile(f"{_GARBLED}(?:\\s+{_GARBLED})+")
_HOST_LABELS = {"imap", "pop", "pop3", "smtp", "mail", "mx", "webmail"}
# Ports say which protocol or security a question is about; other numbers say nothing.
KNOWN_PORTS = frozenset({"25", "110", "143", "465", "587", "993", "995", "2525"})
_NUMBER = re.compile(r"^\d+$")


def normalize(text: str) -> str:
    """Lower case, canonical Unicode, 'ё' as 'е', control characters as spaces, bounded."""
    text = unicodedata.normalize("NFKC", _mark_garbled(text[:MAX_SCAN_CHARS]))
    return _CONTROL.sub(" ", text).lower().replace("ё", "е").replace("’", "'")


def _mark_garbled(text: str) -> str:
    """Words shown in the wrong character set, when there are a few, as one placeholder."""
    if len(_MOJIBAKE.findall(text, 0, MAX_TEXT_CHARS)) < 3:
        return text
    parts = [_GARBLED if _MOJIBAKE.search(p) else p for p in _SPACES.split(text)]
    return _GARBLED_RUN.sub(_GARBLED, "".join(parts))


def extract_codes(text: str) -> list[str]:
    """Reply codes in a normalized query, in the form topics list them (see topics.CODE_FORM)."""
    found: list[tuple[int, str]] = []
    found += [(m.start(), ".".join(m.groups())) for m in _ENHANCED.finditer(text)]
    found += [(m.start(), "0x" + m.group(1)) for m in _OUTLOOK.finditer(text)]
    found += [(m.start(), m.group(0)) for m in _BRACKET.finditer(text)]
    found += [(m.start(), m.group(1)) for m in _BASIC.finditer(text)
              if not _PORT_WORD.search(text, max(0, m.start() - 12), m.start())]
    return list(dict.fromkeys(code for _, code in sorted(found)))


def mask(text: str, codes: list[str]) -> str:
    """A normalized text with its codes removed and its noise replaced by placeholders.

    A server name keeps its protocol label: `smtp.mail.ru` says "smtp" besides "<host>".
    """
    text = text[:MAX_TEXT_CHARS]
    for code in codes:
        text = text.replace(code, " ")
    for placeholder, regex in _NOISE:
        text = regex.sub(f" {placeholder} ", text)
    return HOST.sub(lambda m: f" {_protocol_label(m.group(1))} <host> ", text)


def _protocol_label(host: str) -> str:
    label = host.split(".", 1)[0]
    return label if label in _HOST_LABELS else ""


_TOKEN = re.compile(r"<(?:url|addr|ip|date|time|id|host|garbled)>|[^\W_]+(?:['\-][^\W_]+)*")


def tokens(masked: str) -> list[str]:
    """The words and placeholders of a masked text; numbers other than ports become <num>."""
    out = []
    for token in _TOKEN.findall(masked):
        if _NUMBER.match(token) and token not in KNOWN_PORTS:
            token = "<num>"
        out.append(token)
    return out
