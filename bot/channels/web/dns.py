"""POST /api/v1/discover and /api/v1/domain-check: settings discovery and the domain check.

Both are rate limited with the live check (discovery may confirm guesses by connecting,
and both send DNS questions on the requester's behalf); a value that is not an address
or a domain is a 400 before anything is asked.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.channels.dns_actions import DnsActions
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
from bot.check import CheckRefused
from bot.check.report import refusal_text


class DnsApi:
    """The two DNS endpoints over the process's DNS actions."""

    def __init__(self, actions: DnsActions) -> None:
        self.actions = actions

    async def discover(self, request: Request) -> JSONResponse:
        address, lang = await _read(request, "address")
        try:
            settings = await self.actions.settings(address, lang, client_address(request))
        except CheckRefused as refused:
            raise _refusal(refused, lang, "address") from None
        return JSONResponse(settings)

    async def domain_check(self, request: Request) -> JSONResponse:
        domain, lang = await _read(request, "domain")
        try:
            report = await self.actions.domain_report(domain, client_address(request))
        except CheckRefused as refused:
            raise _refusal(refused, lang, "domain") from None
        except TimeoutError:
            raise ApiError(504, "timeout", "DNS gave no complete answer in time") from None
        return JSONResponse({**report.as_json(lang), "text": report.render(lang)})


async def _read(request: Request, field: str) -> tuple[str, str]:
    body = await read_json(request)
    only_fields(body, (field, "lang"))
    text = text_field(body, field, MAX_TARGET_CHARS).strip()
    lang = (lang_field(body.get("lang"))
            or accept_language(request.headers.get("accept-language", "")) or "en")
    return text, lang


def _refusal(refused: CheckRefused, lang: str, field: str) -> ApiError:
    if refused.code == "rate_limited":
        return ApiError(429, "rate_limited", refusal_text(refused, lang),
                        headers={"Retry-After": refused.params.get("seconds", "60")})
    return ApiError(400, "refused", refusal_text(refused, lang), field=field)
