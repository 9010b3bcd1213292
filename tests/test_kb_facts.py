"""Provider facts as they stand in 2026: one test per dead end the knowledge used to contain."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from bot import kb
from bot.answer import provider_notes, provider_settings, render_settings


def provider_of(knowledge: kb.Knowledge, address: str) -> kb.Provider:
    provider = knowledge.provider_for_address(address)
    assert provider is not None, address
    return provider


def all_text(item: kb.Topic | kb.Provider, lang: str = "en") -> str:
    if isinstance(item, kb.Topic):
        parts = [*item.steps[lang], *(s for v in item.variants.values() for s in v[lang])]
    else:
        parts = [note[lang] for note in (*item.notes, *item.legacy)]
        parts += [item.enable[lang]] if item.enable else []
    return "\n".join(parts)


def test_outlook_com_imap_and_pop_are_switched_on_in_forwarding_and_imap(
        knowledge: kb.Knowledge) -> None:
    outlook = knowledge.providers["outlook"]
    assert outlook.enable is not None
    assert "Forwarding and IMAP" in outlook.enable["en"]
    assert "Sync email" not in outlook.enable["en"]  # the old label lives only in legacy
    assert "Let devices and apps use IMAP" in outlook.enable["en"]
    assert "IMAP needs no switch" not in outlook.enable["en"]
    variant = " ".join(knowledge.topics["enable-protocol"].steps_for("en", "outlook"))
    assert "User is authenticated but not connected" in variant
    assert not any("authenticated but not connected" in p
                   for p in knowledge.topics["exchange-enable-pop-imap"].patterns["en"])


def test_outlook_com_takes_no_password_in_mail_programs(knowledge: kb.Knowledge) -> None:
    outlook = provider_of(knowledge, "mario@hotmail.co.jp")
    assert outlook.id == "outlook" and outlook.oauth_only
    steps = " ".join(knowledge.topics["login-failed"].steps_for("en", "outlook"))
    assert "OAuth2" in steps and "16 September 2024" in steps
    assert "app password" in steps  # ... to say it is refused, not to suggest one
    assert "create an app password" not in steps.lower()


def test_microsoft_365_smtp_auth_ends_with_2026_and_can_be_re_enabled(
        knowledge: kb.Knowledge) -> None:
    text = all_text(knowledge.providers["outlook"])
    assert "end of December 2026" in text and "switch it back on" in text
    exchange = " ".join(knowledge.topics["oauth-required"].steps_for("en", "exchange"))
    assert "end of 2026" in exchange and "re-enable" in exchange


def test_gmail_never_takes_the_normal_password(knowledge: kb.Knowledge) -> None:
    gmail = knowledge.providers["gmail"]
    assert gmail.app_password == "always"
    notes = " ".join(provider_notes(gmail, "en"))
    assert "With two-step verification on" not in notes
    assert "30 September 2024" in notes


def test_gmail_no_longer_collects_other_mailboxes(knowledge: kb.Knowledge) -> None:
    steps = " ".join(knowledge.topics["gmail-other-account"].steps["en"])
    assert "2026" in steps and "forwarding" in steps and "Gmail app" in steps
    assert "Add a mail account" not in steps  # the closed POP fetcher is no way forward


def test_exchange_versions_and_securelogin_on_110_and_143(knowledge: kb.Knowledge) -> None:
    steps = " ".join(knowledge.topics["exchange-enable-pop-imap"].steps["en"])
    assert "Subscription Edition" in steps and "14 October 2025" in steps
    assert "after STARTTLS on 110/143" in steps
    assert "TLS only, 995 and 993" not in steps
    assert "replace them with a current program" in steps
    exchange = knowledge.providers["exchange"]
    assert {(s.port, s.security) for s in exchange.servers} >= {(143, "starttls"),
                                                                (110, "starttls")}


def test_aruba_pec_has_its_own_servers_and_poste_it_is_closed(
        knowledge: kb.Knowledge) -> None:
    for address in ("studio@pec.it", "mario@arubapec.it"):
        pec = provider_of(knowledge, address)
        assert pec.id == "arubapec"
        assert {s.host for s in pec.servers} == {
            "imaps.pec.aruba.it", "pop3s.pec.aruba.it", "smtps.pec.aruba.it"}
    poste = provider_of(knowledge, "mario@poste.it")
    assert poste.closed is not None and not poste.servers
    shown = render_settings(provider_settings(poste, "mario@poste.it"), "it")
    assert "chiuso" in shown and "relay.poste.it" not in shown


def test_retention_that_providers_state(knowledge: kb.Knowledge) -> None:
    outlook, yahoo = knowledge.providers["outlook"], knowledge.providers["yahoo"]
    assert (outlook.trash_days, outlook.spam_days) == (30, 10)
    assert (yahoo.trash_days, yahoo.spam_days) == (30, 30)
    yandex = all_text(knowledge.providers["yandex"])
    assert "half a year" in yandex
    outlook_steps = " ".join(knowledge.topics["deleted-recovery"].steps_for("en", "outlook"))
    assert "Recover items deleted from this folder" in outlook_steps and "30" in outlook_steps


RESET = re.compile(r"sign out (on|of) all devices|sign out everywhere|change (the|your) "
                   r"password|restor(e|ing) access", re.I)


def step_lists(knowledge: kb.Knowledge) -> Iterator[tuple[str, str | None, str]]:
    for topic in knowledge.topics.values():
        yield topic.id, None, " ".join(topic.steps["en"])
        for pid, steps in topic.variants.items():
            yield topic.id, pid, " ".join(steps["en"])


def test_every_password_reset_advice_asks_for_new_app_passwords(
        knowledge: kb.Knowledge) -> None:
    checked = 0
    for tid, pid, text in step_lists(knowledge):
        provider = knowledge.providers.get(pid or "")
        if not RESET.search(text) or (provider and provider.app_password == "never"):
            continue
        checked += 1
        assert "app password" in text or "external application" in text, (tid, pid)
    assert checked >= 6
    for flow in knowledge.flows.values():
        for state in flow.states.values():
            if state.say and RESET.search(state.say["en"]):
                assert "app password" in state.say["en"], (flow.id, state.name)
    yandex = knowledge.topics["letters-disappear"].steps_for("en", "yandex")
    assert any("id.yandex.ru/security/app-passwords" in step for step in yandex)


def test_ios_18_settings_path_is_given_wherever_the_old_one_is(
        knowledge: kb.Knowledge) -> None:
    texts = [text for _, _, text in step_lists(knowledge)]
    texts += [s.say["en"] for f in knowledge.flows.values() for s in f.states.values() if s.say]
    old = [t for t in texts if "Settings → Mail → Accounts" in t]
    assert old
    assert all("Settings → Apps → Mail → Mail Accounts" in t for t in old)


@pytest.mark.parametrize(("address", "provider", "host"), [
    ("anna@outlook.com.au", "outlook", "outlook.office365.com"),
    ("ken@hotmail.co.jp", "outlook", "outlook.office365.com"),
    ("sven@live.se", "outlook", "outlook.office365.com"),
    ("old@verizon.net", "aol", "imap.aol.com"),
    ("old@compuserve.com", "aol", "imap.aol.com"),
    ("hans@gmx.org", "gmx", "imap.gmx.com"),
    ("eva@zoho.eu", "zoho-eu", "imap.zoho.eu"),
    ("ivan@r0.ru", "rambler", "imap.rambler.ru"),
    ("jo@yahoo.ca", "yahoo", "imap.mail.yahoo.com"),
])
def test_regional_and_legacy_domains_find_their_servers(
        knowledge: kb.Knowledge, address: str, provider: str, host: str) -> None:
    found = provider_of(knowledge, address)
    assert found.id == provider
    assert host in {s.host for s in found.servers_for(address.partition("@")[2])}


def test_mail_ru_app_password_page_and_587_starttls(knowledge: kb.Knowledge) -> None:
    mailru = knowledge.providers["mailru"]
    assert mailru.app_password_url and "mail.ru" in mailru.app_password_url
    assert ("smtp.mail.ru", 587, "starttls") in {
        (s.host, s.port, s.security) for s in mailru.servers}


def test_italian_texts_say_messaggi_not_lettere(knowledge: kb.Knowledge) -> None:
    email_letter = re.compile(r"\b(le|una|ogni|delle|alle|sulle) lettere?\b(?! accentate)",
                              re.I)
    for tid, topic in knowledge.topics.items():
        if tid == "encoding":  # there "lettere" are characters of the alphabet
            continue
        texts = [*topic.steps["it"], *topic.patterns["it"],
                 *(s for v in topic.variants.values() for s in v["it"])]
        for text in texts:
            assert not email_letter.search(text.replace("16 lettere", "")), (tid, text)
