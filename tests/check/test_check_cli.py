"""`mailhelp check` as a person and a script use it: exit codes, table, verdicts, JSON."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from tests.check.daemons import Dovecot
from tests.check.pki import Pki


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(["check", *argv])
    captured = capsys.readouterr()
    return int(done.value.code or 0), captured.out, captured.err


@pytest.mark.parametrize(
    ("target", "lang", "says"),
    [
        ("127.0.0.1", "en", "loopback"),
        ("10.0.0.1:993", "ru", "частный"),
        ("0x7f000001", "it", "notazione insolita"),
        ("mail.example.org:22", "en", "Only mail ports"),
        ("", "en", "Type a server name"),
    ],
)
def test_refusals_exit_2_with_a_reason(
    capsys: pytest.CaptureFixture[str], target: str, lang: str, says: str,
) -> None:
    code, out, err = run(capsys, target, "--lang", lang)
    assert code == 2
    assert out == ""
    assert says in err


def test_bad_cafile_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "mail.example.org", "--cafile", "/nonexistent/ca.pem")
    assert code == 2 and "--cafile" in err


def test_a_good_server_exits_0_with_json(
    capsys: pytest.CaptureFixture[str], dovecot: Dovecot, pki: Pki,
) -> None:
    code, out, _ = run(capsys, f"localhost:{dovecot.imaps}", "--allow-private", "--json",
                       "--cafile", str(pki.ca_file))
    assert code == 0
    report = json.loads(out)
    assert report["target"] == f"localhost:{dovecot.imaps}"
    (endpoint,) = report["endpoints"]
    assert {"host", "ip", "port", "protocol", "tls", "status", "connect_ms", "banner",
            "capabilities", "starttls", "tls_version", "cipher", "auth_mechanisms",
            "certificate", "problems"} <= set(endpoint)
    assert (endpoint["host"], endpoint["ip"], endpoint["port"]) == (
        "localhost", "127.0.0.1", dovecot.imaps)
    assert (endpoint["protocol"], endpoint["tls"], endpoint["status"]) == (
        "imap", "implicit", "ok")
    assert endpoint["certificate"]["verdict"] == "valid"
    assert endpoint["certificate"]["verify_code"] == 0
    assert endpoint["problems"] == []


def test_problems_exit_1_with_table_and_verdicts(
    capsys: pytest.CaptureFixture[str], dovecot: Dovecot, pki: Pki,
) -> None:
    code, out, _ = run(capsys, f"localhost:{dovecot.imap}", "--allow-private", "--lang", "it",
                       "--cafile", str(pki.ca_file), "--source-address", "127.0.0.1")
    assert code == 1
    table, _, findings = out.partition("\n\n")
    assert table.splitlines()[0].split()[:3] == ["PROTOCOL", "HOST", "IP"]
    assert "STARTTLS" in table and "valid" in table
    assert "prima che la cifratura sia attiva" in findings
    assert "tls-required" in findings


def test_json_problems_carry_code_topic_and_message(
    capsys: pytest.CaptureFixture[str], dovecot: Dovecot,
) -> None:
    code, out, _ = run(capsys, f"localhost:{dovecot.pop3s}", "--allow-private", "--json")
    assert code == 1
    problems = json.loads(out)["endpoints"][0]["problems"]
    untrusted = next(p for p in problems if p["code"] == "cert_untrusted")
    assert untrusted["topic"] == "certificate-error"
    assert "Testing CA" in untrusted["message"] or "trustme" in untrusted["message"]
