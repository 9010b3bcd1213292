"""`mailhelp settings --discover` and `mailhelp check --domain` against the test DNS server."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from tests.check.daemons import Dovecot
from tests.dns.nsd import DnsServer


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def test_settings_discover_json_names_its_source(capsys: pytest.CaptureFixture[str],
                                                 dns_server: DnsServer) -> None:
    code, out, _ = run(capsys, "settings", "anna@ms-hosted.test", "--discover", "--json",
                       "--resolver", dns_server.address)
    settings = json.loads(out)
    assert code == 0
    assert settings["source"] == "mx" and settings["name"] == "Microsoft 365"
    assert settings["servers"][0] == {"protocol": "imap", "host": "outlook.office365.com",
                                      "port": 993, "security": "ssl"}
    assert settings["username"] == "anna@ms-hosted.test"
    assert {"address", "provider", "name", "servers", "username", "notes"} <= set(settings)


def test_settings_discover_reads_the_resolver_from_the_environment(
        capsys: pytest.CaptureFixture[str], dns_server: DnsServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILHELP_RESOLVER", dns_server.address)
    code, out, _ = run(capsys, "settings", "anna@srv-only.test", "--discover", "--lang", "ru")
    assert code == 0
    assert "mail.srv-only.test" in out and "SRV-записях" in out


def test_a_known_provider_stays_the_knowledge_bases(capsys: pytest.CaptureFixture[str],
                                                    dns_server: DnsServer) -> None:
    code, out, _ = run(capsys, "settings", "anna@gmail.com", "--discover", "--json",
                       "--resolver", dns_server.address)
    assert code == 0 and json.loads(out)["source"] == "knowledge"


def test_nothing_found_says_so_with_exit_1(capsys: pytest.CaptureFixture[str],
                                           dns_server: DnsServer) -> None:
    code, out, _ = run(capsys, "settings", "anna@loop.test", "--discover", "--lang", "it",
                       "--resolver", dns_server.address)
    assert code == 1 and "Nessuna impostazione trovata per loop.test" in out


@pytest.mark.parametrize("resolver", ["nonsense", "127.0.0.1:0", "127.0.0.1:99999", "host:53"])
def test_a_bad_resolver_is_a_clear_error(capsys: pytest.CaptureFixture[str],
                                         resolver: str) -> None:
    code, _, err = run(capsys, "settings", "anna@x.test", "--discover", "--resolver", resolver)
    assert code == 2 and "--resolver" in err


def test_check_domain_json(capsys: pytest.CaptureFixture[str], dns_server: DnsServer) -> None:
    code, out, _ = run(capsys, "check", "--domain", "spf11.test", "--json", "--lang", "it",
                       "--resolver", dns_server.address)
    report = json.loads(out)
    assert code == 1 and report["status"] == "error"
    spf = next(f for f in report["findings"] if f["check"] == "spf")
    assert spf["code"] == "spf_too_many_lookups" and spf["topic"] == "my-mail-goes-to-spam"
    assert "11 interrogazioni DNS" in spf["message"]


def test_check_domain_text_with_a_blocklist(capsys: pytest.CaptureFixture[str],
                                            dns_server: DnsServer) -> None:
    code, out, _ = run(capsys, "check", "--domain", "listed.test", "--dnsbl", "dnsbl.test",
                       "--resolver", dns_server.address)
    assert code == 1  # 192.0.2.66 is a documentation address: not public, so not looked up
    assert "MX: The mail server mx.listed.test points to 192.0.2.66" in out
    assert "DNSBL" not in out
    code, out, _ = run(capsys, "check", "--domain", "listed.test", "--dnsbl", "dnsbl.test",
                       "--resolver", dns_server.address, "--allow-private")
    assert "DNSBL: The address 192.0.2.66 of mx.listed.test is on the blocklist dnsbl.test" in out
    assert "mailhelp faq spam-rejected" in out


def test_check_needs_a_target_or_a_domain(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check")
    assert code == 2 and "--domain" in err
    code, _, err = run(capsys, "check", "--domain", "127.0.0.1")
    assert code == 2 and "refused" in err.lower()


@pytest.mark.parametrize("text", ["not an address", "anna@127.0.0.1", "anna@host.test:25", ""])
def test_settings_discover_refuses_what_is_no_address(capsys: pytest.CaptureFixture[str],
                                                      dns_server: DnsServer, text: str) -> None:
    code, out, err = run(capsys, "settings", text, "--discover", "--resolver", dns_server.address)
    assert code == 2 and out == "" and "refused" in err.lower()


def test_the_live_check_resolves_through_the_chosen_server(
        capsys: pytest.CaptureFixture[str], dns_server: DnsServer, dovecot: Dovecot) -> None:
    # Names only the test DNS server knows: a refusal naming 127.0.0.1 proves it was asked.
    code, _, err = run(capsys, "check", "mail.loopback.test:993", "--resolver",
                       dns_server.address)
    assert code == 2 and "127.0.0.1" in err
    code, out, _ = run(capsys, "check", f"imap.guess.test:{dovecot.imaps}", "--json",
                       "--allow-private", "--resolver", dns_server.address)
    endpoint = json.loads(out)["endpoints"][0]
    assert (endpoint["host"], endpoint["ip"], endpoint["protocol"]) == (
        "imap.guess.test", "127.0.0.1", "imap")


def test_the_live_check_of_an_address_on_an_unknown_domain_discovers_its_servers(
        capsys: pytest.CaptureFixture[str], dns_server: DnsServer) -> None:
    code, out, _ = run(capsys, "check", "anna@ms-hosted.test", "--json", "--resolver",
                       dns_server.address)
    hosts = {e["host"] for e in json.loads(out)["endpoints"]}
    # Found by MX; the test DNS server does not know Microsoft's names, so they fail there.
    assert hosts == {"outlook.office365.com", "smtp.office365.com"}
    assert code == 1


def test_the_live_check_still_refuses_a_domain_discovery_finds_nothing_for(
        capsys: pytest.CaptureFixture[str], dns_server: DnsServer) -> None:
    code, _, err = run(capsys, "check", "anna@loop.test", "--resolver", dns_server.address)
    assert code == 2 and "loop.test" in err
