"""Schema fuzzing: requests generated from the OpenAPI description, valid and invalid, against
the real server. Whatever a client sends, the answer is never a 5xx.

Bounded for the suite (a fixed number of examples per operation, the same ones each run);
set FUZZ_EXAMPLES=1000 locally for a longer hunt.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import httpx2 as httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from bot.channels.web.docs import schema_for
from bot.check import CheckPolicy
from bot.config import Config, load_config
from tests.check.conftest import FAST
from tests.dns.conftest import dns_server  # noqa: F401  (the NSD fixture)
from tests.dns.nsd import DnsServer

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))

SCHEMA = schemathesis.openapi.from_dict(schema_for(None))
SCHEMA.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                max_examples=FUZZ_EXAMPLES, deterministic=True)


@pytest.fixture
def web_config(tmp_path: Path, dns_server: DnsServer) -> Config:  # noqa: F811
    """Names are asked of the test DNS server on loopback: nothing leaves this machine."""
    return load_config({"MAILHELP_DATA": str(tmp_path / "data"),
                        "MAILHELP_RESOLVER": dns_server.address})


@pytest.fixture
def check_policy() -> CheckPolicy:
    """Public addresses only, as deployed, and quick to give up: generated targets are
    refused before any connection, or fail to resolve at once."""
    return replace(FAST, allow_private=False, dns_timeout=0.2, check_timeout=1)


@pytest.fixture
def session(live_server: str) -> str:
    """A conversation that exists, so that generated messages reach the engine."""
    opened = httpx.post(live_server + "/api/v1/sessions", json={}, timeout=10)
    assert opened.status_code == 200
    return str(opened.json()["session"])


@SCHEMA.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error(case: schemathesis.Case, live_server: str,
                                        session: str) -> None:
    if case.path_parameters and "session" in case.path_parameters:
        case.path_parameters["session"] = session
    case.call_and_validate(base_url=live_server, checks=[not_a_server_error], timeout=10)
