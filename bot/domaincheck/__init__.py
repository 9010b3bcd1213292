"""The domain check: what DNS says about a domain's mail (MX, SPF, DMARC, DKIM, MTA-STS,
TLS-RPT, reverse DNS, blocklists), each finding explained and linked to its topic."""

from bot.domaincheck.findings import Finding
from bot.domaincheck.run import DomainReport, check_domain

__all__ = ["DomainReport", "Finding", "check_domain"]
