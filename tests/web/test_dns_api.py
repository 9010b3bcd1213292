"""POST /api/v1/discover and /api/v1/domain-check against the real test DNS server (NSD)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bot.config import load_config
from tests.check.conftest import FAST
from tests.dns.conftest import dns_server  # noqa: F401  (the NSD fixture)
from tests.dns.nsd import DnsServer
from tests.web.conftest import AppFactory


@pytest.fixture
def dns_client(make_app: AppFactory, dns_server: DnsServer,  # noqa: F811
               tmp_path: Path) -> Iterator[TestClient]:
    config = load_config({"MAILHELP_DATA": str(tmp_path / "data"),
                          "MAILHELP_RESOLVER": dns_server.address,
                          "MAILHELP_DNSBL": "dnsbl.test"})
    with TestClient(make_app(config=config)) as client:
        yield client


def test_discover_an_address_on_a_hosted_domain(dns_client: TestClient) -> None:
    answer = dns_client.post("/api/v1/discover",
                             json={"address": "anna@google-hosted.test", "lang": "ru"})
    assert answer.status_code == 200
    settings = answer.json()
    assert settings["source"] == "mx" and settings["provider"] == "gmail"
    assert settings["username"] == "anna@google-hosted.test"
    assert "MX-записи" in settings["notes"][0]
    assert settings["text"].startswith("Google Workspace (anna@google-hosted.test)")


def test_discover_a_bare_domain_by_srv(dns_client: TestClient) -> None:
    settings = dns_client.post("/api/v1/discover", json={"address": "SRV-only.test"}).json()
    assert settings["source"] == "srv" and settings["username"] is None
    assert settings["servers"][0]["host"] == "mail.srv-only.test"


def test_domain_check_over_the_api(dns_client: TestClient) -> None:
    answer = dns_client.post("/api/v1/domain-check", json={"domain": "anna@spf11.test"},
                             headers={"Accept-Language": "it"})
    assert answer.status_code == 200
    report = answer.json()
    assert report["domain"] == "spf11.test" and report["status"] == "error"
    codes = {f["code"] for f in report["findings"]}
    assert {"spf_too_many_lookups", "dmarc_missing"} <= codes
    assert "Verifica del dominio spf11.test" in report["text"]


@pytest.mark.parametrize("body", [
    {"domain": "127.0.0.1"}, {"domain": "mx.example:25"}, {"domain": ""},
    {"domain": "x" * 400}, {"domain": 5}, {"domain": "ok.test", "extra": 1}, {},
])
def test_hostile_input_is_a_400(dns_client: TestClient, body: dict[str, object]) -> None:
    answer = dns_client.post("/api/v1/domain-check", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"] in ("refused", "bad_request", "invalid")


def test_the_check_rate_limit_applies(make_app: AppFactory, dns_server: DnsServer,  # noqa: F811
                                      tmp_path: Path) -> None:
    config = load_config({"MAILHELP_DATA": str(tmp_path / "data"),
                          "MAILHELP_RESOLVER": dns_server.address})
    with TestClient(make_app(config=config, policy=replace(FAST, rate_limit=2))) as client:
        statuses = [client.post("/api/v1/discover", json={"address": "loop.test"}).status_code
                    for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_the_live_check_resolves_through_the_configured_server(dns_client: TestClient) -> None:
    # Only the test DNS server knows this name; the check then finds nothing on the port.
    answer = dns_client.post("/api/v1/check", json={"target": "mail.loopback.test:2525"},
                             headers={"Accept": "application/json"})
    assert answer.status_code == 200
    endpoint = answer.json()["endpoints"][0]
    assert (endpoint["host"], endpoint["ip"]) == ("mail.loopback.test", "127.0.0.1")


def test_the_live_check_of_an_address_on_an_unknown_domain(dns_client: TestClient) -> None:
    answer = dns_client.post("/api/v1/check", json={"target": "anna@srv-only.test"},
                             headers={"Accept": "application/json"})
    assert answer.status_code == 200
    assert {(e["host"], e["port"]) for e in answer.json()["endpoints"]} == {
        ("mail.srv-only.test", 993), ("mail.srv-only.test", 143),
        ("smtp.srv-only.test", 465), ("smtp.srv-only.test", 587)}
