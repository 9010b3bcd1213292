"""`mailhelp serve`: the web app and, with a bot token, the Telegram bot, in one process."""

from __future__ import annotations

import asyncio
import logging

import uvicorn

from bot.channels.dns_actions import DnsActions
from bot.channels.telegram import TelegramBot, build_application
from bot.channels.web.app import create_app
from bot.check import CheckLimiter, CheckPolicy
from bot.check.redis_limits import RedisCheckLimiter
from bot.config import Config
from bot.conversation import from_config

log = logging.getLogger(__name__)


def check_policy(config: Config) -> CheckPolicy:
    count, seconds = config.check_rate
    return CheckPolicy(allow_private=config.check_allow_private, rate_limit=count,
                       rate_window=seconds, max_concurrent=config.check_concurrency)


async def serve(config: Config) -> None:
    """Run until interrupted (SIGINT/SIGTERM are uvicorn's)."""
    conversations = from_config(config)
    policy = check_policy(config)
    limiter = (RedisCheckLimiter(policy, config.redis_url) if config.redis_url
               else CheckLimiter(policy))
    dns_actions = DnsActions.default(config.resolver, config.dnsbl, policy, limiter)
    telegram = (TelegramBot(build_application(config, conversations, limiter=limiter,
                                              policy=policy, dns_actions=dns_actions,
                                              resolver=dns_actions.check_resolver), config)
                if config.telegram_token else None)
    app = create_app(config, conversations, limiter=limiter, policy=policy,
                     telegram=telegram.webhook if telegram else None, dns_actions=dns_actions)
    # The asyncio loop, not uvloop: the live check's buffered protocol and start_tls are
    # tested on asyncio's.
    server = uvicorn.Server(uvicorn.Config(app, host=config.host, port=config.port,
                                           loop="asyncio", log_level="info",
                                           proxy_headers=False, server_header=False,
                                           # the access log would hold client addresses
                                           # and session ids; /metrics counts requests
                                           access_log=False))
    if telegram:
        await telegram.start()
    log.info("mailhelp on http://%s:%d (Telegram: %s)", config.host, config.port,
             "webhook" if config.public_url and telegram else "polling" if telegram else "off")
    try:
        await server.serve()
    finally:
        if telegram:
            await telegram.stop()
        if isinstance(limiter, RedisCheckLimiter):
            limiter.close()
        conversations.store.close()


def run(config: Config) -> int:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(config))
    return 0
