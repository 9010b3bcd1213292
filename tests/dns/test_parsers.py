"""Whatever DNS or a web server hands over, the parsers answer or refuse; they never crash."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.discover.autoconfig import AutoconfigError, parse_autoconfig
from bot.discover.found import valid_host
from bot.domaincheck.spf import parse_spf, spf_records
from tests.dns.autoconfig_server import GOOD_XML

_XML_BITS = st.sampled_from([
    b"<clientConfig>", b"</clientConfig>", b"<emailProvider>", b"</emailProvider>",
    b'<incomingServer type="imap">', b"</incomingServer>", b"<hostname>", b"</hostname>",
    b"<port>", b"</port>", b"<socketType>", b"</socketType>", b"SSL", b"993", b"x.test",
    b"%EMAILDOMAIN%", b"<!DOCTYPE a>", b"&amp;", b"&x;", b"<![CDATA[", b"]]>", b"\x00",
    b"\xff\xfe", b" ", b"<", b">", b"\"", b"<?xml version='1.0'?>"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_XML_BITS, max_size=40).map(b"".join) | st.binary(max_size=2000))
def test_autoconfig_parser_answers_or_refuses(body: bytes) -> None:
    try:
        servers = parse_autoconfig(body, "example.test")
    except AutoconfigError:
        return
    assert servers
    for server in servers:
        assert valid_host(server.host) and 0 < server.port < 65536
        assert server.protocol in ("imap", "pop3", "smtp")


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=len(GOOD_XML)))
def test_a_cut_autoconfig_file_is_refused_or_read(cut: int) -> None:
    try:
        parse_autoconfig(GOOD_XML[:cut], "example.test")
    except AutoconfigError as refused:
        assert refused.code in ("xml_invalid", "xml_no_servers")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_spf_parser_never_crashes(text: str) -> None:
    record = "v=spf1 " + text
    assert spf_records((record,)) == [record]
    parsed = parse_spf(record)
    assert parsed.lookups >= 0
    assert parsed.bad_term is None or parsed.bad_term in record.split()


@pytest.mark.parametrize(("record", "lookups", "final", "bad"), [
    ("v=spf1 -all", 0, "-all", None),
    ("v=spf1 a mx ptr exists:%{i}.x.test include:a.test redirect=b.test", 6, None, None),
    ("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all", 0, "~all", None),
    ("v=spf1 all", 0, "+all", None),
    ("v=spf1 ?all exp=explain.test", 0, "?all", None),
    ("v=spf1 ip4:300.0.0.1 -all", 0, None, "ip4:300.0.0.1"),
    ("v=spf1 ip6:192.0.2.1 -all", 0, None, "ip6:192.0.2.1"),
    ("v=spf1 include: -all", 0, None, "include:"),
    ("v=spf1 nonsense -all", 0, None, "nonsense"),
    ("v=spf1 -all:x", 0, None, "-all:x"),
    ("v=spf1 a/24 mx:mail.test/26 -all", 2, "-all", None),
])
def test_spf_terms(record: str, lookups: int, final: str | None, bad: str | None) -> None:
    parsed = parse_spf(record)
    assert (parsed.lookups, parsed.bad_term) == (lookups, bad)
    if bad is None:
        assert parsed.all == final


def test_only_spf1_records_count() -> None:
    assert spf_records(("v=spf1", "V=SPF1 -all", "v=spf10 -all", "spf1", "google-site=x")) == [
        "v=spf1", "V=SPF1 -all"]
