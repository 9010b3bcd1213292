"""Deployment settings: defaults, a KEY=VALUE file, and a clear error naming each bad one."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import SETTINGS, ConfigError, load_config, settings_help


def test_defaults_serve_loopback_with_sqlite() -> None:
    config = load_config({})
    assert (config.host, config.port) == ("127.0.0.1", 8080)
    assert config.redis_url == "" and config.telegram_token == "" and config.webhook_secret == ""
    assert config.telegram_agent_chat is None
    assert load_config({"MAILHELP_TELEGRAM_AGENT_CHAT": "-1001234567890"}
                       ).telegram_agent_chat == -1001234567890
    assert config.sessions_path.name == "sessions.sqlite3"
    assert config.check_rate == (10, 60.0) and not config.check_allow_private


def test_a_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    file = tmp_path / "mailhelp.env"
    file.write_text("# comment\nMAILHELP_PORT=9000\nMAILHELP_HUMAN_CONTACT='desk@example.com'\n"
                    "\nMAILHELP_CHECK_RATE=5/30\n", encoding="utf-8")
    config = load_config({"MAILHELP_CONFIG": str(file), "MAILHELP_PORT": "9100"})
    assert config.port == 9100
    assert config.human_contact == "desk@example.com"
    assert config.check_rate == (5, 30.0)


def test_the_webhook_secret_is_derived_the_same_on_every_instance() -> None:
    one = load_config({"TELEGRAM_BOT_TOKEN": "123:abc"}).webhook_secret
    assert one == load_config({"TELEGRAM_BOT_TOKEN": "123:abc"}).webhook_secret
    assert one != load_config({"TELEGRAM_BOT_TOKEN": "123:xyz"}).webhook_secret
    assert "123:abc" not in one and 1 <= len(one) <= 256


@pytest.mark.parametrize(("env", "named"), [
    ({"MAILHELP_PORT": "http"}, "MAILHELP_PORT"),
    ({"MAILHELP_PORT": "70000"}, "MAILHELP_PORT"),
    ({"MAILHELP_SESSION_DAYS": "0"}, "MAILHELP_SESSION_DAYS"),
    ({"MAILHELP_PUBLIC_URL": "http://bot.example.com"}, "MAILHELP_PUBLIC_URL"),
    ({"MAILHELP_REDIS_URL": "localhost:6379"}, "MAILHELP_REDIS_URL"),
    ({"MAILHELP_CORS_ORIGINS": "https://ok.example.com, example.org"}, "MAILHELP_CORS_ORIGINS"),
    ({"MAILHELP_CORS_ORIGINS": "https://x.example.com/path"}, "MAILHELP_CORS_ORIGINS"),
    ({"MAILHELP_CHECK_ALLOW_PRIVATE": "maybe"}, "MAILHELP_CHECK_ALLOW_PRIVATE"),
    ({"MAILHELP_CHECK_RATE": "10"}, "MAILHELP_CHECK_RATE"),
    ({"MAILHELP_CHECK_CONCURRENCY": "0"}, "MAILHELP_CHECK_CONCURRENCY"),
    ({"MAILHELP_SESSION_RATE": "60"}, "MAILHELP_SESSION_RATE"),
    ({"MAILHELP_SESSION_RATE": "0/60"}, "MAILHELP_SESSION_RATE"),
    ({"MAILHELP_WEBHOOK_SECRET": "has spaces"}, "MAILHELP_WEBHOOK_SECRET"),
    ({"MAILHELP_TELEGRAM_AGENT_CHAT": "@helpdesk"}, "MAILHELP_TELEGRAM_AGENT_CHAT"),
    ({"MAILHELP_PROT": "8080"}, "MAILHELP_PROT"),
    ({"MAILHELP_CONFIG": "/nonexistent/mailhelp.env"}, "MAILHELP_CONFIG"),
])
def test_bad_settings_are_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_config(env)


def test_a_malformed_file_line_is_named(tmp_path: Path) -> None:
    file = tmp_path / "bad.env"
    file.write_text("MAILHELP_PORT=1\nthis is not a setting\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.env:2: expected KEY=VALUE"):
        load_config({"MAILHELP_CONFIG": str(file)})


def test_serve_help_documents_every_setting(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    for setting in SETTINGS:
        assert setting.name in out
    assert settings_help().splitlines()[0].strip().startswith("MAILHELP_CONFIG")


def test_a_bad_setting_stops_a_command_with_exit_2(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MAILHELP_SESSION_DAYS", "forever")
    with pytest.raises(SystemExit) as done:
        main(["kb", "gaps"])
    assert done.value.code == 2
    assert "MAILHELP_SESSION_DAYS" in capsys.readouterr().err
