"""tests/servers.py: a missing server skips visibly, or fails when CI requires servers."""

from __future__ import annotations

import pytest

from tests.servers import REQUIRE_VARIABLE, need, need_binary


def test_a_missing_server_skips_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_VARIABLE, raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install"):
        need_binary("no-such-mail-daemon")


def test_ci_turns_the_skip_into_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_VARIABLE, "1")
    with pytest.raises(pytest.fail.Exception, match="dovecot is missing"):
        need(False, "dovecot is missing")


def test_a_present_server_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_VARIABLE, "1")
    need(True, "never shown")
    assert need_binary("sh").endswith("/sh")
