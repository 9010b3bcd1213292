"""Privacy: passwords are recognised, and masked text never leaks addresses, IPs or secrets."""

from __future__ import annotations

import ipaddress
import random
import string

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.privacy import MAX_INPUT_CHARS, MAX_OUTPUT_CHARS, looks_like_password, mask

PASSWORDS = [
    "password: Qwerty123",
    "my password is hunter2",
    "My password is qwerty",
    "the password is Tr0ub4dor&3",
    "password = abc123XYZ",
    "password:Secret99",
    "my password is 19051987",
    "my password is 'Qwerty!1'",
    "my password for gmail is Qwerty1",
    "my app password is abcd efgh ijkl mnop",
    "hi, my password is Summer2024 and Outlook keeps rejecting it",
    "pwd: s3cr3t!",
    "pass: MyP4ss",
    "пароль: Kj8#mPq2",
    "Пароль: 12345678",
    "мой пароль qwerty123",
    "Мой пароль — Zx9!zx9!",
    "мой пароль от почты: solnce77",
    "вот мой пароль: abcDEF12",
    "пароль — это Lk9$aa11",
    "la password è Gatto2024",
    "La mia password è ciao1234",
    "la password è: Roma#77",
    "password: ciao!2024",
    "Qwerty123",
    "  Qwerty123  ",
    "Kj8#mPq2",
    "P@ssw0rd",
    "zx!9QW",
    "hello_World99",
    "Пароль2024",
]

NOT_PASSWORDS = [
    "535 5.7.8 Username and Password not accepted",
    "535-5.7.8 Username and Password not accepted. Learn more at https://support.google.com/",
    "0x800CCC0E",
    "0x800CCC0E error in Outlook",
    "Error 0x8004010F",
    "5.7.1",
    "550-5.7.1",
    "553 5.7.1 Sender address rejected",
    "[AUTHENTICATIONFAILED] Invalid credentials (Failure)",
    "ivan.petrov@yandex.ru",
    "smtp.mail.ru",
    "imap.yandex.ru:993",
    "Smtp.Gmail.Com:587",
    "Mail.Ru",
    "https://mail.yandex.ru/?uid=1",
    "192.168.1.10",
    "192.168.0.1:25",
    "2001:DB8::1",
    "[2001:db8::1]:993",
    "C:\\Users\\Ivan\\AppData",
    "/start",
    "AUTH=PLAIN",
    "IMAP/POP3",
    "IMAP4rev1",
    "TLSv1.2",
    "Office365",
    "Outlook2016",
    "iPhone15",
    "Send/Receive",
    "Outlook's",
    "hello",
    "qwerty",
    "Thunderbird",
    "How do I change my password?",
    "I forgot my password",
    "What is an app password?",
    "Outlook keeps asking for password",
    "Outlook keeps asking for password: what do I do",
    "my password is wrong",
    "my password is too short",
    "my password is the same as before",
    "the password is correct but login fails",
    "password-protected file",
    "pass the test please",
    "Password:",
    "password: ******",
    "+7 (916) 123-45-67",
    "мой пароль не подходит",
    "пароль неверный",
    "мой пароль украли",
    "пароль для приложений где взять?",
    "la password è sbagliata",
    "la password è cambiata ieri",
    "la password non funziona",
]


def test_tables_are_large_enough() -> None:
    assert len(PASSWORDS) >= 25 and len(NOT_PASSWORDS) >= 25


@pytest.mark.parametrize("text", PASSWORDS)
def test_passwords_are_recognised(text: str) -> None:
    assert looks_like_password(text)


@pytest.mark.parametrize("text", NOT_PASSWORDS)
def test_ordinary_messages_are_not_passwords(text: str) -> None:
    assert not looks_like_password(text)


@pytest.mark.parametrize(("text", "masked"), [
    # English
    ("my address is ivan.petrov@gmail.com, help", "my address is i***@gmail.com, help"),
    ("my password is Qwerty123 and it fails", "my password is [secret] and it fails"),
    ("I typed Kj8#mPq2 but it fails", "I typed [secret] but it fails"),
    ("login ivan password Qwerty123", "login ivan password [secret]"),
    ("Auth failed for 8.8.8.8:587", "Auth failed for [ip]:587"),
    ("From 2001:db8:85a3::8a2e:370:7334 port 25", "From [ip] port 25"),
    ("connect to [fe80::1]:993", "connect to [[ip]]:993"),
    ("call +1 (555) 123-4567 now", "call [number] now"),
    ("card 4111 1111 1111 1111 expired", "card [number] expired"),
    ("my app password is abcd efgh ijkl mnop", "my app password is [secret]"),
    ("my password is wrong", "my password is wrong"),
    # Russian
    ("Мой ящик ivan.petrov@yandex.ru, телефон +7 (916) 123-45-67",
     "Мой ящик i***@yandex.ru, телефон [number]"),
    ("логин: ivan, пароль: Sol!nce77", "логин: ivan, пароль: [secret]"),
    ("мой пароль qwerty", "мой пароль [secret]"),
    ("мой пароль не подходит", "мой пароль не подходит"),
    ("сервер 192.168.0.1 не отвечает", "сервер [ip] не отвечает"),
    ("почта на кириллице: админ@почта.рф", "почта на кириллице: а***@почта.рф"),
    # Italian
    ("Ciao, la mia password è Roma#77 e l'indirizzo mario.rossi@libero.it",
     "Ciao, la mia password è [secret] e l'indirizzo m***@libero.it"),
    ("chiamate il 333 123 4567", "chiamate il [number]"),
    ("la password è sbagliata", "la password è sbagliata"),
])
def test_mask_examples(text: str, masked: str) -> None:
    assert mask(text) == masked


@pytest.mark.parametrize("text", [
    "553 5.7.1 Sender address rejected",
    "535-5.7.8 Username and Password not accepted",
    "Outlook: 0x800CCC0E, porta 993, server imap.mail.ru",
    "Error 0x8004010F in Outlook 2016",
    "IMAP 993 SSL/TLS, SMTP 465, POP3 995",
    "ports 993 995 465 587",
    "deleted on 2024-01-15, restore until 2024-02-14",
    "smtp.gmail.com:587 STARTTLS",
    "version 16.0.5278.20000",
    "at 12:30:45 UTC",
    "[AUTHENTICATIONFAILED] Invalid credentials (Failure)",
    "сервер imap.yandex.ru, порт 993, ошибка 0x800CCC0E",
    "IMAP4rev1 TLSv1.2 Office365 iPhone15",
])
def test_mask_keeps_codes_ports_and_hosts(text: str) -> None:
    assert mask(text) == text


def test_mask_bounds_its_output() -> None:
    masked = mask("word " * 10_000)
    assert len(masked) == MAX_OUTPUT_CHARS
    assert masked.endswith("…")


@pytest.mark.parametrize("secret", ["ivan.petrov@yandex.ru", "+7 916 123 45 67"])
def test_truncation_never_splits_a_secret_into_a_readable_part(secret: str) -> None:
    # The input cut falls inside the secret.
    text = "x " * ((MAX_INPUT_CHARS - 4) // 2) + secret + " tail"
    assert text.index(secret) < MAX_INPUT_CHARS < text.index(secret) + len(secret)
    masked = mask(text)
    assert masked.endswith("…")
    for part in ("ivan", "petrov", "916", "123"):
        assert part not in masked


def test_short_text_is_not_marked_as_truncated() -> None:
    assert mask("hello") == "hello"
    assert mask("") == ""


# Property tests: whatever is generated, the masked text never contains it.

LOCAL = st.from_regex(r"[a-z0-9][a-z0-9._+-]{1,30}", fullmatch=True)
DOMAIN = st.from_regex(r"(?:[a-z0-9][a-z0-9-]{0,20}\.){1,3}[a-z]{2,10}", fullmatch=True)
TEMPLATES = st.sampled_from([
    "my address is {} please help",
    "мой адрес {}, не приходят письма",
    "il mio indirizzo è {}.",
    "{}",
    "(from: {})",
])


@given(LOCAL, DOMAIN, TEMPLATES)
def test_mask_never_leaks_an_address(local: str, domain: str, template: str) -> None:
    address = f"{local}@{domain}"
    masked = mask(template.format(address))
    assert address not in masked
    assert f"{local}@" not in masked
    assert f"@{domain}" in masked  # the provider stays readable


@given(st.ip_addresses(), TEMPLATES)
def test_mask_never_leaks_an_ip(address: ipaddress.IPv4Address | ipaddress.IPv6Address,
                                template: str) -> None:
    masked = mask(template.format(address))
    assert str(address) not in masked
    assert "[ip]" in masked


def passwords() -> st.SearchStrategy[str]:
    """Passwords with lower and upper case, a digit and a symbol, in any order.

    No "x" or "X", so that a generated password cannot contain an Outlook code, which
    `mask` keeps on purpose.
    """
    lower = st.sampled_from("abcdefghijklmnopqrstuvwyz")
    upper = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWYZ")
    digit = st.sampled_from("0123456789")
    symbol = st.sampled_from("!#$%&*")
    required = st.tuples(lower, upper, digit, symbol).map(list)
    extra = st.lists(st.one_of(lower, upper, digit, symbol), min_size=4, max_size=20)
    return st.tuples(required, extra, st.randoms()).map(
        lambda parts: "".join(parts[2].sample(parts[0] + parts[1], len(parts[0] + parts[1]))))


SECRET_TEMPLATES = st.sampled_from([
    "my password is {}",
    "password: {} thanks",
    "I typed {} and Outlook says no",
    "мой пароль {}",
    "пароль: {}, логин ivan",
    "la mia password è {} ma non funziona",
    "{}",
])


@given(passwords(), SECRET_TEMPLATES)
def test_mask_never_leaks_a_password(password: str, template: str) -> None:
    masked = mask(template.format(password))
    assert password not in masked
    assert "[secret]" in masked


@given(passwords())
@example("aA0aa!!!")  # its trailing symbols are part of it, not the sentence's end
def test_a_lone_password_is_recognised(password: str) -> None:
    assert looks_like_password(password)


@given(st.from_regex(r"\+7 \(9\d\d\) \d{3}-\d\d-\d\d|\d{4} \d{4} \d{4} \d{4}", fullmatch=True),
       st.sampled_from(["call me at {}", "номер {}, помогите", "carta {} scaduta"]))
def test_mask_never_leaks_a_long_number(number: str, template: str) -> None:
    masked = mask(template.format(number))
    assert number not in masked
    assert "".join(filter(str.isdigit, number)) not in "".join(filter(str.isdigit, masked))


@given(st.text(max_size=300), st.integers(min_value=1, max_value=60))
def test_mask_never_fails_and_stays_bounded(chunk: str, repeat: int) -> None:
    text = chunk * repeat
    masked = mask(text)
    assert len(masked) <= MAX_OUTPUT_CHARS
    looks_like_password(text)


APP_PASSWORDS = [
    "qwer tyui asdf ghjk",
    "qwertyuiasdfghjk",
    "my app password qwer tyui asdf ghjk does not work",
    "outlook refuses xkcd mvbt plrq zsaw again",
    "I pasted qwertyuiasdfghjk into Thunderbird",
    "passphrase is correct horse battery staple",
    "my passphrase: Tango Mike Alpha Bravo",
]


@pytest.mark.parametrize("text", APP_PASSWORDS)
def test_app_passwords_are_never_kept(text: str) -> None:
    assert looks_like_password(text)
    masked = mask(text)
    assert "[secret]" in masked
    for secret in ("qwer", "tyui", "ghjk", "mvbt", "horse", "Tango"):
        assert secret not in masked


@pytest.mark.parametrize("text", [
    "what does this mean", "help with mail sync", "when will mail work",
    "the passphrase is wrong", "the passphrase is not accepted by the server",
    "misconfiguration of the smtp server",
])
def test_four_words_of_four_letters_are_not_an_app_password(text: str) -> None:
    assert not looks_like_password(text)
    assert "[secret]" not in mask(text)


def test_most_random_app_passwords_are_caught() -> None:
    chooser = random.Random(12)
    samples = [" ".join("".join(chooser.choice(string.ascii_lowercase) for _ in range(4))
                        for _ in range(4)) for _ in range(2000)]
    caught = sum(looks_like_password(sample) for sample in samples)
    assert caught / len(samples) > 0.95


@pytest.mark.parametrize(("text", "masked"), [
    ("call +7.916.123.45.67 please", "call [number] please"),
    ("my number is 916.123.4567", "my number is [number]"),
    ("Outlook 16.0.17928.20114 since 12.05.2026", "Outlook 16.0.17928.20114 since 12.05.2026"),
])
def test_dotted_phone_numbers_are_masked(text: str, masked: str) -> None:
    assert mask(text) == masked
