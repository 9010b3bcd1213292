"""POST /api/v1/discover and /api/v1/domain-check: settings discovery and the domain check.

Both are rate limited with the live check (discovery may confirm guesses by connecting,
and both send DNS questions on the requester's behalf); a value that is not an address
or a domain is a 400 before anything is asked.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.channels.web.check import MAX_TARGET_CHARS
from bot.channels.web.input import (
    ApiError,
    accept_language,
    client_address,
    lang_field,
    only_fields,
    read_json,
    text_field,
)
from bot.check import CheckLimiter, CheckRefused
from bot.check.report import refusal_text
from bot.discover.discovery import Discoverer
from bot.discover.report import settings_with_discovery
from bot.domaincheck.run import check_domain, domain_name


class DnsApi:
    """The two DNS endpoints over the process's discoverer and check limiter."""

    def __init__(self, discoverer: Discoverer, dnsbl: tuple[str, ...],
                 limiter: CheckLimiter) -> None:
        self.discoverer = discoverer
        self.dnsbl = dnsbl
        self.limiter = limiter

    async def discover(self, request: Request) -> JSONResponse:
        address, domain, lang = await self._read(request, "address")
        local = address.rpartition("@")[0] if "@" in address else ""
        settings = await settings_with_discovery(
            self.discoverer, f"{local}@{domain}" if local else domain, lang)
        return JSONResponse(settings)

    async def domain_check(self, request: Request) -> JSONResponse:
        _, domain, lang = await self._read(request, "domain")
        try:
            report = await check_domain(domain, self.discoverer.dns, self.discoverer.policy,
                                        dnsbl=self.dnsbl)
        except TimeoutError:
            raise ApiError(504, "timeout", "DNS gave no complete answer in time") from None
        return JSONResponse({**report.as_json(lang), "text": report.render(lang)})

    async def _read(self, request: Request, field: str) -> tuple[str, str, str]:
        body = await read_json(request)
        only_fields(body, (field, "lang"))
        text = text_field(body, field, MAX_TARGET_CHARS).strip()
        lang = (lang_field(body.get("lang"))
                or accept_language(request.headers.get("accept-language", "")) or "en")
        try:
            domain = domain_name(text)
            self.limiter.admit(client_address(request))
        except CheckRefused as refused:
            raise _refusal(refused, lang, field) from None
        return text, domain, lang


def _refusal(refused: CheckRefused, lang: str, field: str) -> ApiError:
    if refused.code == "rate_limited":
        return ApiError(429, "rate_limited", refusal_text(refused, lang),
                        headers={"Retry-After": refused.params.get("seconds", "60")})
    return ApiError(400, "refused", refusal_text(refused, lang), field=field)


