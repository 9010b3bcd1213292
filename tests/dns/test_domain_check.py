"""The domain check against real NSD: each planted problem is reported, with its topic."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from bot.check import CheckPolicy, CheckRefused
from bot.discover.found import domain_of
from bot.dnsclient import DnsClient, parse_resolver
from bot.domaincheck.findings import catalogue
from bot.domaincheck.run import check_domain
from bot.kb import LANGS
from tests.dns.conftest import QUICK

# The documentation range the test MX hosts live in counts as "the internet" here.
TRUSTING = replace(QUICK, trusted_networks=("192.0.2.0/24",))


async def codes(domain: str, dns: DnsClient, policy: CheckPolicy = TRUSTING,
                **kwargs: object) -> set[str]:
    report = await check_domain(domain, dns, policy, **kwargs)  # type: ignore[arg-type]
    return {f.code for f in report.findings}


async def test_a_healthy_domain_has_only_good_findings(dns: DnsClient) -> None:
    report = await check_domain("good.test", dns, TRUSTING, dnsbl=("dnsbl.test",))
    assert {f.code for f in report.findings} == {
        "mx_ok", "spf_ok", "dmarc_ok", "dkim_found", "mta_sts_ok", "tlsrpt_ok", "ptr_ok",
        "dnsbl_clean"}
    assert report.status == "ok"


@pytest.mark.parametrize(("domain", "planted"), [
    ("nomail.test", {"mx_missing", "spf_missing", "dmarc_missing", "dkim_not_found",
                     "mta_sts_missing", "tlsrpt_missing"}),
    ("spf11.test", {"spf_too_many_lookups", "dmarc_missing"}),
    ("nodmarc.test", {"dmarc_missing", "spf_pass_all", "ptr_missing"}),
    ("srv-only.test", {"ptr_mismatch"}),
    ("listed.test", {"dnsbl_listed", "dmarc_none", "dmarc_no_rua"}),
    ("loop.test", {"mx_unresolvable"}),
    ("bigtxt.test", {"txt_too_large"}),
    ("broken.test", {"mx_null", "spf_syntax", "dmarc_syntax", "dkim_revoked",
                     "mta_sts_syntax", "tlsrpt_syntax"}),
    ("twice.test", {"spf_multiple", "dmarc_multiple"}),
    ("weak.test", {"spf_include_missing", "spf_weak_all"}),
    ("noall.test", {"spf_no_all"}),
])
async def test_each_planted_problem_is_reported(dns: DnsClient, domain: str,
                                                planted: set[str]) -> None:
    found = await codes(domain, dns, dnsbl=("dnsbl.test",))
    assert planted <= found, found
    assert not {c for c in found if c.endswith("_ok")} & {
        f"{c.split('_')[0]}_ok" for c in planted if c.split("_")[0] in ("spf", "mx", "ptr")}


async def test_spf_lookup_count_is_exact(dns: DnsClient) -> None:
    report = await check_domain("spf11.test", dns, TRUSTING)
    spf = next(f for f in report.findings if f.code == "spf_too_many_lookups")
    assert spf.params["lookups"] == "11"
    assert spf.topic == "my-mail-goes-to-spam"


async def test_mx_on_a_private_address_is_reported_by_the_ssrf_policy(dns: DnsClient) -> None:
    report = await check_domain("loopback.test", dns, QUICK)
    finding = next(f for f in report.findings if f.code == "mx_not_public")
    assert finding.params == {"host": "mail.loopback.test", "address": "127.0.0.1"}
    assert "ptr_ok" not in {f.code for f in report.findings}


async def test_a_chosen_dkim_selector_is_the_only_one_asked(dns: DnsClient) -> None:
    assert "dkim_not_found" in await codes("good.test", dns, dkim_selectors=("other",))
    assert "dkim_found" in await codes("good.test", dns, dkim_selectors=("default",))


async def test_a_dead_resolver_ends_within_the_timeout() -> None:
    silent = DnsClient(parse_resolver("127.0.0.1:9"), timeout=0.5)
    report = await check_domain("good.test", silent, replace(QUICK, check_timeout=5))
    assert {f.code for f in report.findings} == {"dns_error"}
    assert report.seconds < 5


@pytest.mark.parametrize("text", ["", "127.0.0.1", "[::1]", "a b.test", "x" * 300, "host:25",
                                  "localhost", "\x00.test"])
def test_what_is_not_a_domain_is_refused(text: str) -> None:
    with pytest.raises(CheckRefused):
        domain_of(text)


def test_an_address_counts_as_its_domain() -> None:
    assert domain_of(" Anna@Company.Example ") == "company.example"


def test_every_finding_has_every_language_and_the_same_placeholders() -> None:
    findings, _ = catalogue()
    for code, entry in findings.items():
        placeholders = {lang: set(re.findall(r"{(\w+)}", entry.texts[lang])) for lang in LANGS}
        assert placeholders["ru"] == placeholders["en"] == placeholders["it"], code
