"""Skipping tests whose real servers are missing, visibly, unless CI demands them.

`MAILHELP_REQUIRE_SERVERS=1` (set by CI) turns every such skip into a failure, so a
machine without Dovecot or Postfix cannot pass by skipping.
"""

from __future__ import annotations

import os
import shutil

import pytest

REQUIRE_VARIABLE = "MAILHELP_REQUIRE_SERVERS"


def servers_required() -> bool:
    return os.environ.get(REQUIRE_VARIABLE) == "1"


def need(condition: bool, reason: str) -> None:
    """Skip (or, when servers are required, fail) the test unless `condition` holds."""
    if condition:
        return
    if servers_required():
        pytest.fail(f"{reason} ({REQUIRE_VARIABLE}=1)", pytrace=False)
    pytest.skip(reason)


def need_binary(name: str) -> str:
    """The path of program `name`, searched in PATH and the sbin directories."""
    path = shutil.which(name, path=os.pathsep.join(
        [os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/local/sbin"]))
    need(path is not None, f"{name} is not installed (Debian: apt-get install {_package(name)})")
    assert path is not None
    return path


def _package(name: str) -> str:
    return {"dovecot": "dovecot-imapd dovecot-pop3d", "postfix": "postfix"}.get(name, name)
