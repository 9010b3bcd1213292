"""`mailhelp serve`: the web app and, with a bot token, the Telegram bot, in one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.channels.dns_actions import DnsActions
from bot.channels.telegram import TelegramBot, build_application
from bot.channels.web.app import create_app, session_policy
from bot.channels.web.server import server_for
from bot.check import CheckLimiter, CheckPolicy
from bot.check.redis_limits import SESSION_RATE_PREFIX, RedisCheckLimiter
from bot.config import Config
from bot.conversation import from_config
from bot.store import SessionStore

log = logging.getLogger(__name__)

SWEEP_SECONDS = 3600.0  # how often expired conversations are deleted while serving


def check_policy(config: Config) -> CheckPolicy:
    count, seconds = config.check_rate
    return CheckPolicy(allow_private=config.check_allow_private, rate_limit=count,
                       rate_window=seconds, max_concurrent=config.check_concurrency)


def session_limiter(config: Config) -> CheckLimiter:
    """New conversations per requester, counted like live checks (in Redis when shared)."""
    policy = session_policy(config)
    if config.redis_url:
        return RedisCheckLimiter(policy, config.redis_url, prefix=SESSION_RATE_PREFIX)
    return CheckLimiter(policy)


async def sweep_expired(store: SessionStore, every: float = SWEEP_SECONDS) -> None:
    """Delete the conversations idle past their ttl, every `every` seconds, until cancelled."""
    while True:
        await asyncio.sleep(every)
        try:
            removed = await asyncio.to_thread(store.expire)
        except Exception as error:  # whatever the store's driver raises: try again later
            log.warning("expired conversations not swept: %s", type(error).__name__)
        else:
            log.info("swept %d expired conversation(s)", removed)


async def serve(config: Config) -> None:
    """Run until SIGTERM or SIGINT, then finish the requests in flight and close everything."""
    conversations = from_config(config)
    policy = check_policy(config)
    limiter = (RedisCheckLimiter(policy, config.redis_url) if config.redis_url
               else CheckLimiter(policy))
    sessions = session_limiter(config)
    dns_actions = DnsActions.default(config.resolver, config.dnsbl, policy, limiter)
    telegram = (TelegramBot(build_application(config, conversations, limiter=limiter,
                                              policy=policy, dns_actions=dns_actions,
                                              resolver=dns_actions.check_resolver), config)
                if config.telegram_token else None)
    app = create_app(config, conversations, limiter=limiter, policy=policy,
                     telegram=telegram.webhook if telegram else None, session_limiter=sessions,
                     dns_actions=dns_actions)
    server = server_for(app, config.host, config.port, log_level="info")
    sweeper = asyncio.create_task(sweep_expired(conversations.store))
    try:
        if telegram:
            await telegram.start()
        log.info("mailhelp on http://%s:%d (Telegram: %s)", config.host, config.port,
                 "webhook" if config.public_url and telegram else
                 "polling" if telegram else "off")
        await server.serve()
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        if telegram:
            await telegram.stop()
        for each in (limiter, sessions):
            if isinstance(each, RedisCheckLimiter):
                each.close()
        conversations.store.close()
    log.info("mailhelp stopped")


def run(config: Config) -> int:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(config))
    return 0
