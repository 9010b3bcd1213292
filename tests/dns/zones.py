"""The test zones: one domain a case, every planted problem named by its domain.

HTTPS is the loopback address the autoconfig test server listens on; GUESS_IP where
Dovecot and Postfix listen for the guesses.
"""

from __future__ import annotations

HTTPS = "127.0.0.2"
GUESS_IP = "127.0.0.1"
SPF_INCLUDES = 11
HUGE_TXT_PARTS = 120  # 120 strings of 250 bytes: about 30 KB, only over TCP

_HEADER = """$ORIGIN {origin}.
$TTL 300
@ IN SOA ns.test. admin.test. 1 3600 600 86400 300
@ IN NS ns.test.
"""

_TEST = """
ns A 127.0.0.1

; Hosted on Google Workspace and Microsoft 365
google-hosted MX 1 aspmx.l.google.com.
google-hosted MX 5 alt1.aspmx.l.google.com.
ms-hosted MX 0 ms-hosted-test.mail.protection.outlook.com.

; SRV records only (the MX names no known hosting, its reverse name points elsewhere);
; POP3 deliberately not offered
srv-only MX 10 mx.srv-only.test.
mx.srv-only A 192.0.2.20
_imaps._tcp.srv-only SRV 0 1 993 mail.srv-only.test.
_imap._tcp.srv-only SRV 10 1 143 mail.srv-only.test.
_pop3s._tcp.srv-only SRV 0 0 0 .
_submissions._tcp.srv-only SRV 0 1 465 smtp.srv-only.test.
_submission._tcp.srv-only SRV 0 1 587 smtp.srv-only.test.

; autoconfig only, and the hostile autoconfig answers, all at the HTTPS test server
autoconfig.autoconfig-only A {https}
autoconfig.huge-xml A {https}
autoconfig.entities A {https}
autoconfig.drip A {https}
autoconfig.redirect A {https}
autoconfig.redirect-name A {https}
autoconfig.redirect-loop A {https}
autoconfig.redirect-http A {https}
autoconfig.redirect-odd A {https}
loopback-name A 127.0.0.1

; No mail at all
nomail A 192.0.2.1

; Everything right
good MX 10 mx.good.test.
mx.good A 192.0.2.10
good TXT "v=spf1 mx ip4:192.0.2.0/24 -all"
_dmarc.good TXT "v=DMARC1; p=reject; rua=mailto:dmarc@good.test"
default._domainkey.good TXT "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"
_mta-sts.good TXT "v=STSv1; id=20260101T000000"
_smtp._tls.good TXT "v=TLSRPTv1; rua=mailto:tls@good.test"

; SPF needing 11 lookups, and no DMARC
spf11 MX 10 mx.good.test.
spf11 TXT "v=spf1 {includes} -all"
{include_targets}

; No DMARC, SPF ending in +all, no reverse name for its MX
nodmarc MX 10 mx.nodmarc.test.
mx.nodmarc A 192.0.2.30
nodmarc TXT "v=spf1 a mx +all"

; CNAME loops: the MX, the autoconfig host and the guesses all loop
loop MX 10 mail.loop.test.
mail.loop CNAME mail2.loop.test.
mail2.loop CNAME mail.loop.test.
autoconfig.loop CNAME mail.loop.test.
imap.loop CNAME mail.loop.test.
smtp.loop CNAME mail.loop.test.

; A huge TXT record where the SPF record should be
bigtxt MX 10 mx.good.test.
bigtxt TXT {huge}

; Names that resolve to this machine
loopback MX 10 mail.loopback.test.
mail.loopback A 127.0.0.1
imap.loopback A 127.0.0.1
smtp.loopback A 127.0.0.1
autoconfig.loopback A 127.0.0.1

; Every record present and broken; a null MX
broken MX 0 .
broken TXT "v=spf1 ip4:300.1.1.1 -all"
_dmarc.broken TXT "v=DMARC1; p=maybe"
selector1._domainkey.broken TXT "v=DKIM1; k=rsa; p="
_mta-sts.broken TXT "v=STSv1;"
_smtp._tls.broken TXT "v=TLSRPTv1;"

; Two SPF and two DMARC records
twice TXT "v=spf1 -all"
twice TXT "v=spf1 mx -all"
_dmarc.twice TXT "v=DMARC1; p=reject"
_dmarc.twice TXT "v=DMARC1; p=none"

; SPF including a name without SPF and ending in ?all; SPF without any all
weak TXT "v=spf1 include:nomail.test ?all"
noall TXT "v=spf1 mx"

; Guessable servers (Dovecot and Postfix on loopback)
imap.guess A {guess}
smtp.guess A {guess}

; On a blocklist, DMARC only watching
listed MX 10 mx.listed.test.
mx.listed A 192.0.2.66
66.2.0.192.dnsbl TXT "listed for testing"
66.2.0.192.dnsbl A 127.0.0.2
_dmarc.listed TXT "v=DMARC1; p=none"
"""

_REVERSE = """
10 PTR mx.good.test.
20 PTR somewhere-else.example.
66 PTR mx.listed.test.
"""


def include_name(n: int) -> str:
    return f"i{n}.spf11.test"


def zones() -> dict[str, str]:
    includes = " ".join(f"include:{include_name(n)}" for n in range(SPF_INCLUDES))
    targets = "\n".join(f'i{n}.spf11 TXT "v=spf1 -all"' for n in range(SPF_INCLUDES))
    huge = " ".join(f'"{chr(97 + n % 26) * 250}"' for n in range(HUGE_TXT_PARTS))
    test = _TEST.format(https=HTTPS, guess=GUESS_IP, includes=includes,
                        include_targets=targets, huge=huge)
    return {
        "test": _HEADER.format(origin="test") + test,
        "2.0.192.in-addr.arpa": _HEADER.format(origin="2.0.192.in-addr.arpa") + _REVERSE,
    }
