"""Live, credential-free check of a mail server's ports, protocols, TLS and certificate.

`start_check` plans a check whose results arrive as each endpoint completes (iterate
over it); `check_report` returns the whole report. Neither ever sends a login or a
password.
"""

from bot.check.errors import CheckRefused
from bot.check.limits import CheckLimiter
from bot.check.results import CheckReport, EndpointResult
from bot.check.runner import RunningCheck, check_report, finish_report, start_check
from bot.check.settings import CheckPolicy

__all__ = [
    "CheckLimiter",
    "CheckPolicy",
    "CheckRefused",
    "CheckReport",
    "EndpointResult",
    "RunningCheck",
    "check_report",
    "finish_report",
    "start_check",
]
