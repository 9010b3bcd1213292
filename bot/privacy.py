"""What must never be stored or logged: addresses, IPs, passwords, phone and card numbers.

`mask` rewrites a text so it can be kept (the unanswered-questions log, logs): e-mail
addresses keep their first letter and their domain, IP addresses become `[ip]`, anything
password-like `[secret]`, long digit runs `[number]`. What the bot needs to understand a
problem stays: reply codes (`553 5.7.1`), Outlook codes (`0x800CCC0E`), ports, host names.
`looks_like_password` tells whether a message is probably a password, so the bot can warn
and keep it nowhere.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

MAX_OUTPUT_CHARS = 4_000
# Only this much input is read; more than the output can hold even after masks shrink it.
MAX_INPUT_CHARS = 2 * MAX_OUTPUT_CHARS
ELLIPSIS = "…"

SECRET = "[secret]"
IP = "[ip]"
NUMBER = "[number]"

_EMAIL = re.compile(
    # The lookbehind makes a local part start at its first character, so a long run of
    # word characters is scanned once, not once per position; the domain's label count
    # is bounded for the same reason ("a.a.a.a..." backtracks otherwise).
    r"(?<![\w.+'-])([\w.+'-]+)@((?:[\w-]{1,63}\.){1,8}[^\W\d_]{2,24})")
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9a-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]{1,4})?"
    r"(?![\w:]|\.\d)", re.IGNORECASE)
_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?!\w|\.\d)")
_DIGIT_RUN = re.compile(r"(?<![\w.])\+?\d(?:[ \t()-]{0,2}\d){6,}")
# "+7.916.123.45.67", "916.123.4567": a phone number written with dots. Versions
# ("16.0.17928.20114") have a one-digit or five-digit group, dates ("12.05.2026") fewer digits.
_DOTTED_NUMBER = re.compile(r"(?<![\w.])\+?\d{1,4}(?:\.\d{2,4}){2,5}(?![\w.])")
_DOTTED_NUMBER_DIGITS = 9
# An app password (Google's: 16 letters, shown as four groups of four), spaced or not.
_APP_PASSWORD = re.compile(r"(?<![\w-])(?:[a-z]{4}(?: [a-z]{4}){3}|[a-z]{16})(?![\w-])",
                           re.IGNORECASE)
_UNPRONOUNCEABLE = re.compile(r"[^aeiouy]{3}|[aeiouy]{3}")
_FEW_VOWELS = 3  # of 16 letters: written words have five or more
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MAIL_PORTS = {"25", "110", "143", "465", "587", "993", "995", "2525"}
_TOKEN = re.compile(r"\S+")

# "password: X", "my password is X", "пароль: X", "мой пароль X", "la password è X".
# The keyword, then an optional "for/от/per <account>", then a separator; Russian needs
# none after "мой" because it drops the copula.
_KEYWORD = re.compile(
    r"(?<!\w)(?:(?P<ru_own>мой|моя)\s+(?:\w+\s+)?)?"
    r"(?P<word>password|passwd|passcode|passphrase|pass|pwd|pw|пароль|parola\s+d['’]ordine)"
    r"(?!\w)"
    r"(?:\s+(?:for|to|of|от|для|к|di|per|del|della)\s+[^\s:=]{1,80})?",
    re.IGNORECASE)
_SEPARATOR = re.compile(
    r"\s*[:=]\s*|\s*[–—]\s*это\s+|\s+-\s+|\s*[–—]\s*|\s+(?:is|è|e'|é|это)\s*:?\s+",
    re.IGNORECASE)
_SPACE = re.compile(r"\s+")
# Gmail's app passwords are shown as four groups of four letters.
_VALUE = re.compile(r"[a-z]{4}(?: [a-z]{4}){3}(?!\S)|\S+")
_PHRASE = re.compile(r"[^\n.!?;]{1,200}")  # a passphrase: words up to the sentence's end
_LOOSE_KEYWORDS = {"pass", "pw", "pwd"}  # everyday words too: only with ":" or "="

# Words that follow "password is" in a sentence about the password, not in one giving it.
_NOT_A_VALUE = frozenset({
    "a", "an", "the", "this", "that", "it", "its", "not", "no", "too", "also", "still", "just",
    "now", "same", "different", "my", "your", "wrong", "incorrect", "correct", "right",
    "invalid", "valid", "expired", "outdated", "old", "new", "weak", "strong", "short", "long",
    "fine", "ok", "okay", "good", "bad", "changed", "reset", "blocked", "locked", "rejected",
    "accepted", "saved", "forgotten", "lost", "stolen", "compromised", "empty", "blank",
    "missing", "required", "needed", "unknown", "set", "being", "definitely", "probably",
    "surely", "case", "sensitive",
    "не", "нет", "тот", "такой", "же", "неверный", "неправильный", "верный", "правильный",
    "неверно", "неправильно", "верно", "правильно", "точно", "тоже", "всё", "все", "ещё",
    "еще", "уже", "старый", "новый", "простой", "сложный", "короткий", "длинный", "сохранен",
    "сохранён", "изменен", "изменён", "сброшен", "заблокирован", "подходит", "работает",
    "non", "la", "il", "lo", "è", "e", "sbagliata", "errata", "giusta", "corretta", "scaduta",
    "vecchia", "nuova", "debole", "forte", "corta", "lunga", "cambiata", "bloccata", "salvata",
    "stessa", "quella", "questa", "valida", "sicura", "persa", "dimenticata", "ancora", "già",
    "what", "how", "why", "where", "when", "which", "help", "please", "что", "как", "почему",
    "где", "когда", "помогите", "cosa", "come", "perché", "dove", "quando", "aiuto",
})

_STRIP_AROUND = "\"'«»“”„‘’`()[]{}<>"
_STRIP_AFTER = ".,;:!?"
_REST_IS_PUNCTUATION = re.compile(r"[\s" + re.escape(_STRIP_AROUND + _STRIP_AFTER) + r"]*\Z")

_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]{0,20}://|www\.)", re.IGNORECASE)
_BARE_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^\W\d_]{2,}$")
_HOST = re.compile(r"^((?:[^\W_](?:[\w-]{0,62})\.){1,8}[^\W\d_]{2,24})\.?(?::\d{1,5})?$")
_BRACKETED_IP = re.compile(r"\[?([0-9a-f:.]+)\](?::\d{1,5})?", re.IGNORECASE)
_IPV4_WITH_PORT = re.compile(r"([\d.]+):\d{1,5}")
_REPLY_CODE = re.compile(r"^(?:[245]\d\d[ -]?)?[245]\.\d{1,3}\.\d{1,3}$|^[245]\d\d$")
_OUTLOOK_CODE = re.compile(r"(?<![0-9a-z])0x[0-9a-f]{8}(?![0-9a-z])", re.IGNORECASE)
_PATH = re.compile(r"^(?:[a-z]:[\\/]|\\\\)|[\\/].*[\\/]", re.IGNORECASE)
_PIECES = re.compile(r"[^\W_]+")
# Product and protocol words that users type glued to digits: "IMAP4rev1", "Office365".
_TECH_WORDS = frozenset({
    "imap", "imaprev", "pop", "smtp", "ssl", "sslv", "tls", "tlsv", "ipv", "utf", "http",
    "https", "office", "outlook", "windows", "win", "iphone", "ipad", "ios", "macos",
    "android", "galaxy", "exchange", "server", "thunderbird", "icloud", "gmail", "yandex",
})
_TECH_JOINERS = frozenset("/-._")
_NO_DIGITS = str.maketrans("", "", "0123456789")


def mask(text: str) -> str:
    """The text with addresses, IPs, secrets and long numbers masked.

    At most MAX_INPUT_CHARS of input are read (cut at a word boundary, so a cut never
    leaves half an address or number unmasked) and at most MAX_OUTPUT_CHARS are returned,
    ending with an ellipsis when something was left out.
    """
    window, truncated = _bounded(text)
    claimed = bytearray(len(window))
    spans: list[tuple[int, int, str]] = []

    def claim(start: int, end: int, replacement: str) -> None:
        if start < end and not any(claimed[start:end]):
            claimed[start:end] = b"\x01" * (end - start)
            spans.append((start, end, replacement))

    # Most specific first: a span claimed earlier is not looked at again.
    for start, end in _explicit_values(window, strict=False):
        claim(start, end, SECRET)
    for match in _APP_PASSWORD.finditer(window):
        if _is_app_password(match.group()):
            claim(match.start(), match.end(), SECRET)
    for match in _EMAIL.finditer(window):
        claim(match.start(), match.end(), f"{match.group(1)[0]}***@{match.group(2)}")
    for match in _IPV6.finditer(window):
        if _is_ip(match.group()):
            claim(match.start(), match.end(), IP)
    for match in _IPV4.finditer(window):
        claim(match.start(), match.end(), IP)
    for match in _TOKEN.finditer(window):
        start, end = _core_span(window, match.start(), match.end())
        if _is_secret_token(window[start:end]):
            claim(start, end, SECRET)
    for match in _DIGIT_RUN.finditer(window):
        if not _is_harmless_number(match.group()):
            claim(match.start(), match.end(), NUMBER)
    for match in _DOTTED_NUMBER.finditer(window):
        if sum(char.isdigit() for char in match.group()) >= _DOTTED_NUMBER_DIGITS:
            claim(match.start(), match.end(), NUMBER)

    pieces = []
    position = 0
    for start, end, replacement in sorted(spans):
        pieces.append(window[position:start])
        pieces.append(replacement)
        position = end
    pieces.append(window[position:])
    masked = "".join(pieces)
    if truncated or len(masked) > MAX_OUTPUT_CHARS:
        # A prefix of masked text reveals nothing the whole did not.
        return masked[:MAX_OUTPUT_CHARS - 1] + ELLIPSIS
    return masked


def looks_like_password(text: str) -> bool:
    """True when a message probably is, or gives, a password.

    Either an explicit "password: X" / "my password is X" (en, ru, it) where X reads as a
    password rather than as the rest of a sentence ("my password is wrong"), or the whole
    message is one token of 6-64 characters mixing at least three of lower case, upper
    case, digits and symbols that is not an address, host name, URL, path or code.
    """
    window, _truncated = _bounded(text)
    for _span in _explicit_values(window, strict=True):
        return True
    if any(_is_app_password(match.group()) for match in _APP_PASSWORD.finditer(window)):
        return True
    token = window.strip()
    if not token or any(char.isspace() for char in token):
        return False
    start, end = _core_span(token, 0, len(token))
    core = token[start:end]
    # Trailing "!!!" may be part of a short password ("aA0aa!!!"), not the sentence's end.
    return _is_secret_token(core if len(core) >= 6 else token)


def _bounded(text: str) -> tuple[str, bool]:
    """At most MAX_INPUT_CHARS of text, cut where no address, number or secret is split."""
    if len(text) <= MAX_INPUT_CHARS:
        return text, False
    cut = MAX_INPUT_CHARS
    while cut and not text[cut].isspace():
        cut -= 1
    # A phone number is written with spaces: drop a trailing run of its digits too.
    return text[:cut].rstrip("0123456789 \t\n()+-"), True


def _explicit_values(text: str, strict: bool) -> Iterator[tuple[int, int]]:
    """Spans of the X in "password: X" and its variants.

    Loose (for masking): X is anything but a word that continues the sentence. Strict
    (for warning): X must also read as a password; a lone lower-case word counts only
    when the message ends with it ("my password is qwerty").
    """
    for keyword in _KEYWORD.finditer(text):
        separator = _SEPARATOR.match(text, keyword.end())
        if separator is not None:
            if (keyword.group("word").lower() in _LOOSE_KEYWORDS
                    and separator.group().strip() not in {":", "="}):
                continue
        elif keyword.group("ru_own") is not None:
            separator = _SPACE.match(text, keyword.end())
        if separator is None:
            continue
        if keyword.group("word").lower() == "passphrase":
            phrase = _PHRASE.match(text, separator.end())
            start, end = _core_span(text, phrase.start(), phrase.end()) if phrase else (0, 0)
            if _is_phrase(text[start:end]):
                yield start, end
            continue
        value = _VALUE.match(text, separator.end())
        if value is None:
            continue
        start, end = _core_span(text, value.start(), value.end())
        ends_text = _REST_IS_PUNCTUATION.match(text, value.end()) is not None
        if _is_value(text[start:end], strict, ends_text):
            yield start, end


def _is_phrase(phrase: str) -> bool:
    """Whether the words after "passphrase is" are the passphrase, not the rest of the
    sentence: no word that goes on a sentence ("wrong", "the"), except as the first of
    several ("correct horse battery staple" is one, "not accepted by the server" is not)."""
    words = phrase.casefold().split()
    if len(words) == 1:
        return words[0] not in _NOT_A_VALUE
    return bool(words) and not _NOT_A_VALUE.intersection(words[1:])


def _is_value(core: str, strict: bool, ends_text: bool) -> bool:
    """Whether the word after a password keyword is the password (see _explicit_values)."""
    if not any(char.isalnum() for char in core) or core.casefold() in _NOT_A_VALUE:
        return False
    letters_only = all(char.isalpha() or char == " " for char in core)
    # The providers take Latin-only passwords, so a Cyrillic word after "пароль" is part
    # of the sentence ("мой пароль украли").
    if letters_only and not core.isascii():
        return False
    if not strict:
        return True
    if not 4 <= len(core) <= 64 or _is_technical(core):
        return False
    return not letters_only or ends_text or " " in core


def _is_app_password(letters: str) -> bool:
    """Whether 16 letters (four groups of four) read as random rather than as words.

    Random letters almost always have a group no word has (three consonants or three
    vowels in a row, no vowel at all) or too few vowels; "what does this mean" has
    neither. About 97% of random app passwords are caught this way.
    """
    squeezed = letters.replace(" ", "").lower()
    groups = [squeezed[index:index + 4] for index in range(0, 16, 4)]
    vowels = sum(char in "aeiouy" for char in squeezed)
    return vowels <= _FEW_VOWELS or any(
        _UNPRONOUNCEABLE.search(group) or not any(char in "aeiouy" for char in group)
        for group in groups)


def _core_span(text: str, start: int, end: int) -> tuple[int, int]:
    """A token's span without the quotes, brackets and sentence punctuation around it."""
    while start < end and text[start] in _STRIP_AROUND:
        start += 1
    while end > start and (text[end - 1] in _STRIP_AROUND or text[end - 1] in _STRIP_AFTER):
        end -= 1
    return start, end


def _is_secret_token(token: str) -> bool:
    if not 6 <= len(token) <= 64 or _is_technical(token):
        return False
    has_digit = any(char.isdigit() for char in token)
    classes = (any(char.islower() for char in token) + any(char.isupper() for char in token)
               + has_digit + any(not char.isalnum() for char in token))
    if classes < 3:
        return False
    pieces = _PIECES.findall(token)
    # Ordinary words joined by punctuation: "Send/Receive", "Outlook's", "Re-Enter".
    if not has_digit and all(_naturally_cased(piece) for piece in pieces):
        return False
    # "IMAP4rev1", "IMAP/POP3", "TLSv1.2", "Office365": a product or protocol and a version.
    joiners = {char for char in token if not char.isalnum()}
    return not (joiners <= _TECH_JOINERS and all(
        piece.translate(_NO_DIGITS).casefold() in _TECH_WORDS or piece.isdigit()
        for piece in pieces))


def _naturally_cased(word: str) -> bool:
    return word.islower() or word.isupper() or word.istitle() or len(word) == 1


def _is_technical(token: str) -> bool:
    """An address, URL, host name, IP, path or code: things people paste that are not secret."""
    if (_URL.match(token) or _BARE_EMAIL.match(token) or _REPLY_CODE.match(token)
            or _OUTLOOK_CODE.search(token) or _PATH.search(token)):
        return True
    host = _HOST.match(token)
    if host and all(_naturally_cased(label) for label in host.group(1).split(".")):
        return True
    bracketed = _BRACKETED_IP.fullmatch(token)
    with_port = _IPV4_WITH_PORT.fullmatch(token)
    return (_is_ip(token) or (bracketed is not None and _is_ip(bracketed.group(1)))
            or (with_port is not None and _is_ip(with_port.group(1))))


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_harmless_number(run: str) -> bool:
    """Dates and lists of mail ports are digit runs worth keeping."""
    if _ISO_DATE.fullmatch(run):
        return True
    groups = re.split(r"[ \t()-]+", run.strip())
    return all(group in _MAIL_PORTS for group in groups)

