"""Building the Telegram application and running it: long polling or the webhook.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from bot.channels.dns_actions import DnsActions
from bot.channels.telegram.channel import (
    SEND_RETRY_DELAYS,
    TelegramApp,
    TelegramChannel,
    is_network_failure,
)
from bot.check import CheckLimiter, CheckPolicy
from bot.check.resolve import Resolver, system_resolver
from bot.config import Config, ConfigError
from bot.conversation import Conversations
from telegram import (
    Update,
)
from telegram.error import BadRequest, InvalidToken, TelegramError
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
)

WEBHOOK_PATH = "/telegram/webhook"
ALLOWED_UPDATES = ("message", "callback_query")
log = logging.getLogger(__name__)
RECONNECT_DELAYS = (1.0, 60.0)  # first wait to reconnect at start, doubling up to the second
# Webhook updates taken but not yet handled; past this, Telegram is told to send later
# (while Telegram is unreachable, replies fail slowly and updates would pile up).
MAX_PENDING_UPDATES = 256


def build_application(config: Config, conversations: Conversations, *, limiter: CheckLimiter,
                      policy: CheckPolicy, base_url: str | None = None,
                      resolver: Resolver = system_resolver,
                      retry_delays: Sequence[float] = SEND_RETRY_DELAYS,
                      dns_actions: DnsActions | None = None) -> TelegramApp:
    """The bot's Application with its handlers; nothing is sent until it is started.

    `base_url` points the Bot API elsewhere (tests use a fake server on loopback);
    `resolver` is the live check's name lookup; `dns_actions` the process's discovery.
    """
    # httpx logs each request's URL at INFO, and a Bot API URL holds the bot's token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    builder = (ApplicationBuilder().token(config.telegram_token)
               .rate_limiter(AIORateLimiter(max_retries=3)).concurrent_updates(True))
    if base_url is not None:
        builder = builder.base_url(base_url)
    application = builder.build()
    TelegramChannel(conversations, limiter=limiter, policy=policy, resolver=resolver,
                    retry_delays=retry_delays, agent_chat=config.telegram_agent_chat,
                    dns_actions=dns_actions).install(application)
    return application


class TelegramWebhook:
    """What the web app needs to take Telegram's webhook calls (its TelegramHook)."""

    def __init__(self, application: TelegramApp, secret: str,
                 max_pending: int = MAX_PENDING_UPDATES) -> None:
        self.path = WEBHOOK_PATH
        self.secret = secret
        self.max_pending = max_pending
        self._application = application
        self._pending: set[asyncio.Task[None]] = set()

    async def feed(self, update: dict[str, Any]) -> bool:
        """Take one update, checked by the web app against the secret-token header.

        Handled in a task of its own, so the web request ends at once and Telegram does
        not redeliver while a live check runs; a malformed update is dropped. False, and
        nothing taken, while `max_pending` updates are still being handled or the bot has
        not started yet (Telegram sends it again later).
        """
        if len(self._pending) >= self.max_pending or not self._application.running:
            return False
        try:
            parsed = Update.de_json(update, self._application.bot)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            log.warning("Telegram webhook: malformed update dropped (%s)", type(error).__name__)
            return True
        # Tasks start in the order they are created: one chat's turns keep their order.
        task = asyncio.create_task(self._application.process_update(parsed))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return True

    @property
    def pending(self) -> int:
        """How many taken updates are still being handled."""
        return len(self._pending)

    async def finish(self) -> None:
        """Wait for the updates taken so far to be handled."""
        if self._pending:
            await asyncio.wait(set(self._pending))


class TelegramBot:
    """Starting and stopping the bot inside the web server's event loop.

    Long polling by default; with MAILHELP_PUBLIC_URL, Telegram's webhook is set to the
    web server's `webhook.path` instead. A token Telegram rejects is a ConfigError at
    start; Telegram being unreachable is logged and retried in the background.
    """

    def __init__(self, application: TelegramApp, config: Config,
                 reconnect_delays: tuple[float, float] = RECONNECT_DELAYS) -> None:
        self.application = application
        self.reconnect_delays = reconnect_delays
        self.webhook = (TelegramWebhook(application, config.webhook_secret)
                        if config.public_url else None)
        self._webhook_url = config.public_url + WEBHOOK_PATH if config.public_url else ""
        self._retrying: asyncio.Task[None] | None = None

    async def start(self) -> None:
        try:
            await self._connect()
        except TelegramError as error:
            if not is_network_failure(error):
                raise self._config_error(error) from None
            log.warning("Telegram unreachable (%s); retrying in the background",
                        type(error).__name__)
            self._retrying = asyncio.create_task(self._keep_connecting())

    async def stop(self) -> None:
        if self.webhook is not None:
            await self.webhook.finish()
        if self._retrying is not None:
            self._retrying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retrying
        application = self.application
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()

    async def _connect(self) -> None:
        application = self.application
        await application.initialize()  # getMe; a no-op once it has succeeded
        if not application.running:
            await application.start()
        if self.webhook is not None:
            await application.bot.set_webhook(self._webhook_url, secret_token=self.webhook.secret,
                                              allowed_updates=list(ALLOWED_UPDATES))
        elif application.updater is not None:
            await application.updater.start_polling(allowed_updates=list(ALLOWED_UPDATES),
                                                    error_callback=_polling_error)

    async def _keep_connecting(self) -> None:
        delay, longest = self.reconnect_delays
        while True:
            await asyncio.sleep(delay)
            try:
                await self._connect()
            except TelegramError as error:
                if not is_network_failure(error):
                    log.error("Telegram bot off: %s", self._config_error(error))
                    return
                delay = min(delay * 2, longest)
                log.warning("Telegram unreachable (%s); again in %g s", type(error).__name__,
                            delay)
            else:
                log.info("Telegram bot connected")
                return

    def _config_error(self, error: TelegramError) -> ConfigError:
        """What to fix, for a refusal that waiting will not heal."""
        if isinstance(error, InvalidToken):
            return ConfigError("TELEGRAM_BOT_TOKEN: Telegram does not accept this token")
        if isinstance(error, BadRequest) and self.webhook is not None:
            return ConfigError(f"MAILHELP_PUBLIC_URL: Telegram refused the webhook "
                               f"{self._webhook_url}: {error.message}")
        return ConfigError(f"TELEGRAM_BOT_TOKEN: Telegram refused to start the bot: "
                           f"{type(error).__name__}: {error.message}")


def _polling_error(error: TelegramError) -> None:
    # ptb's polling loop retries by itself, backing off; this only logs what happened.
    log.warning("Telegram polling: %s", type(error).__name__)
