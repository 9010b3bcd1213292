"""The Telegram door: Bot API updates become engine events, replies become HTML messages.

A thin adapter over `Conversations`, which owns every state: one conversation per chat
(`tg:<chat id>`), buttons as inline keyboards, the live check shown by editing one message
as each endpoint finishes. It runs by long polling, or by webhook behind the web server
when a public URL is configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import traceback
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram import Message as TelegramMessage
from telegram import User as TelegramUser
from telegram.constants import ParseMode
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    JobQueue,
    MessageHandler,
    filters,
)

from bot.channels.dns_actions import KINDS as DNS_KINDS
from bot.channels.dns_actions import DnsActions
from bot.check import CheckLimiter, CheckPolicy, CheckRefused, finish_report, start_check
from bot.check.messages import catalogue
from bot.check.report import progress_line, refusal_text, render_findings, render_table
from bot.check.resolve import Resolver, system_resolver
from bot.config import Config, ConfigError
from bot.conversation import Conversations, UnknownSession
from bot.dialog import COMMANDS, Action, Button, Command, Event, Press, Reply, Text
from bot.flows import BUTTON_VALUE
from bot.kb import LANGS

T = TypeVar("T")
TelegramApp = Application[ExtBot[int], ContextTypes.DEFAULT_TYPE, dict[Any, Any],
                          dict[Any, Any], dict[Any, Any], JobQueue[ContextTypes.DEFAULT_TYPE]]
Context = ContextTypes.DEFAULT_TYPE

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
ALLOWED_UPDATES = ("message", "callback_query")
# Telegram takes at most 4096 characters (UTF-16 code units) of text once the HTML is
# parsed; the margin leaves room for the line breaks that join pieces.
MAX_TEXT = 4000
MAX_CALLBACK_BYTES = 64
SHORT_LABEL = 14  # two buttons with labels at most this long share a row
SEND_RETRY_DELAYS = (1.0, 3.0)  # seconds before each new attempt of a failed request
RECONNECT_DELAYS = (1.0, 60.0)  # first wait to reconnect at start, doubling up to the second
# Webhook updates taken but not yet handled; past this, Telegram is told to send later
# (while Telegram is unreachable, replies fail slowly and updates would pile up).
MAX_PENDING_UPDATES = 256
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


# --- pure translation: ids, languages, text, keyboards ----------------------------------


def session_id(chat_id: int) -> str:
    return f"tg:{chat_id}"


def language_hint(user: TelegramUser | None) -> str | None:
    """The conversation language a Telegram user's interface suggests ("ru-RU" -> "ru")."""
    code = (user.language_code or "") if user else ""
    lang = code.split("-")[0].lower()
    return lang if lang in LANGS else None


def escape(text: str) -> str:
    """Text for parse_mode HTML: every <, > and & shown as itself."""
    return html.escape(text, quote=False)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` UTF-16 units, cut at line ends (inside a line only when it
    alone is too long); blank pieces are dropped, since Telegram refuses empty messages."""
    pieces: list[str] = []
    lines: list[str] = []
    size = 0
    for line in text.split("\n"):
        for part in _cut(line, limit):
            added = _units(part) + (1 if lines else 0)
            if lines and size + added > limit:
                pieces.append("\n".join(lines))
                lines, added = [], _units(part)
                size = 0
            lines.append(part)
            size += added
    pieces.append("\n".join(lines))
    return [piece.strip("\n") for piece in pieces if piece.strip()]


def keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """An inline keyboard: one button a row, two when both labels are short.

    A button whose value does not fit Telegram's 64-byte callback data is left out (and
    logged): Telegram would refuse the whole message otherwise.
    """
    rows: list[list[InlineKeyboardButton]] = []
    for button in buttons:
        size = len(button.value.encode("utf-8"))
        if not 0 < size <= MAX_CALLBACK_BYTES:
            # Neither label nor value is logged: either may carry an address.
            log.warning("a button left out: its value has %d bytes (Telegram takes 1-%d)",
                        size, MAX_CALLBACK_BYTES)
            continue
        shown = InlineKeyboardButton(button.label, callback_data=button.value)
        last = rows[-1] if rows else None
        if last is not None and len(last) == 1 and _short(last[0].text) and _short(button.label):
            last.append(shown)
        else:
            rows.append([shown])
    return InlineKeyboardMarkup(rows) if rows else None


def report_messages(head: str, table: str, findings: str, limit: int = MAX_TEXT) -> list[str]:
    """A finished check as HTML messages: the head, the table in <pre> blocks, the findings,
    packed into as few messages as the limit allows."""
    blocks = [(_units(head), escape(head))]
    blocks += [(_units(part), f"<pre>{escape(part)}</pre>") for part in split_text(table, limit)]
    blocks += [(_units(part), escape(part)) for part in split_text(findings, limit)]
    messages: list[str] = []
    sizes: list[int] = []
    for size, block in blocks:
        if messages and sizes[-1] + 2 + size <= limit:
            messages[-1] += "\n\n" + block
            sizes[-1] += 2 + size
        else:
            messages.append(block)
            sizes.append(size)
    return messages


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cut(line: str, limit: int) -> list[str]:
    if _units(line) <= limit:
        return [line]
    parts: list[str] = []
    start = size = 0
    for index, char in enumerate(line):
        width = 2 if ord(char) > 0xFFFF else 1
        if size + width > limit:
            parts.append(line[start:index])
            start, size = index, 0
        size += width
    parts.append(line[start:])
    return parts


def hand_over_text(chat_id: int, action: Action) -> str:
    """A hand-over for the agents' chat: which chat, its language, the masked transcript."""
    lines = [f"Hand-over from Telegram chat {chat_id} (language: {action.lang})"]
    lines += [f"{'Person' if who == 'person' else 'Bot'}: {text}"
              for who, text in action.transcript]
    return "\n".join(lines)


def _short(label: str) -> bool:
    return len(label) <= SHORT_LABEL


def read_command(text: str) -> tuple[str, str]:
    """"/Start@MailhelpBot ru" -> ("start", "MailhelpBot"): the name and whom it addresses."""
    name, _sep, addressee = text.split(maxsplit=1)[0][1:].partition("@")
    return name.lower(), addressee


def _origin(error: BaseException | None) -> str:
    """Where an error was raised (file:line in function): enough to find it, no message text,
    which could quote what a person typed."""
    if error is None or error.__traceback__ is None:
        return "?"
    frame = traceback.extract_tb(error.__traceback__)[-1]
    return f"{frame.filename}:{frame.lineno} in {frame.name}"


def _is_network(error: BaseException | None) -> bool:
    """Failures that heal by waiting: transport errors, timeouts, flood limits. BadRequest
    is a NetworkError subclass in ptb, but repeating a bad request gives the same answer."""
    return isinstance(error, NetworkError | RetryAfter) and not isinstance(error, BadRequest)


# --- the handlers ---------------------------------------------------------------------


class TelegramChannel:
    """Each update becomes one engine event; its replies are sent in order.

    Updates are processed concurrently, but one chat's turns take a per-chat lock, so they
    are answered in the order they came (a live check included).
    """

    def __init__(self, conversations: Conversations, *, limiter: CheckLimiter,
                 policy: CheckPolicy, resolver: Resolver = system_resolver,
                 retry_delays: Sequence[float] = SEND_RETRY_DELAYS,
                 agent_chat: int | None = None,
                 dns_actions: DnsActions | None = None) -> None:
        self.conversations = conversations
        self.agent_chat = agent_chat  # where hand-overs are posted, with the transcript
        self.limiter = limiter
        self.policy = policy
        self.resolver = resolver
        self.dns_actions = dns_actions or DnsActions.default(None, (), policy, limiter)
        self.retry_delays = tuple(retry_delays)
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = (
            weakref.WeakValueDictionary())

    def install(self, application: TelegramApp) -> None:
        application.add_handler(CommandHandler(list(COMMANDS), self.on_command))
        application.add_handler(MessageHandler(filters.COMMAND, self.on_other_command))
        application.add_handler(MessageHandler(
            (filters.TEXT | filters.CAPTION) & ~filters.COMMAND, self.on_text))
        application.add_handler(CallbackQueryHandler(self.on_press))
        application.add_error_handler(self.on_error)

    # --- updates in ---------------------------------------------------------------------

    async def on_command(self, update: Update, context: Context) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None or not message.text:
            return
        name, _addressee = read_command(message.text)
        arg = " ".join(context.args or ())
        await self._event(context.bot, chat.id, language_hint(update.effective_user),
                          Command(name, arg))

    async def on_other_command(self, update: Update, context: Context) -> None:
        """A command the bot does not have: the engine says so, unless it is another bot's."""
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None or not message.text:
            return
        name, addressee = read_command(message.text)
        if addressee and addressee.lower() != context.bot.username.lower():
            return
        await self._event(context.bot, chat.id, language_hint(update.effective_user),
                          Command(name))

    async def on_text(self, update: Update, context: Context) -> None:
        message, chat = update.effective_message, update.effective_chat
        text = (message.text or message.caption) if message else None
        if chat is None or not text:
            return
        await self._event(context.bot, chat.id, language_hint(update.effective_user), Text(text))

    async def on_press(self, update: Update, context: Context) -> None:
        query, chat = update.callback_query, update.effective_chat
        if query is None:
            return
        if chat is None or not query.data:
            await self._answer(query)
            return
        # Data no button of ours carries (a client can send any) is a stale button to the
        # engine: it is answered "no longer valid", like one from an old keyboard.
        value = query.data if BUTTON_VALUE.fullmatch(query.data) else ""
        await self._event(context.bot, chat.id, language_hint(query.from_user), Press(value),
                          query=query)

    async def on_error(self, update: object, context: Context) -> None:
        """Log and carry on: only the update id, the error type and, for an error of ours,
        where it was raised. Telegram's refusals and network failures are warnings."""
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        if isinstance(error, TelegramError):
            log.warning("Telegram update %s: %s", update_id, type(error).__name__)
        else:
            log.error("Telegram update %s failed: %s at %s", update_id, type(error).__name__,
                      _origin(error))

    # --- one turn -------------------------------------------------------------------------

    async def _event(self, bot: Bot, chat_id: int, hint: str | None, event: Event,
                     query: CallbackQuery | None = None) -> None:
        # The lock is taken before anything is awaited: ptb starts each update's task in
        # the order the updates came, so a chat's turns queue up in that order.
        async with self._lock(chat_id):
            if query is not None:
                await self._answer(query)
            replies = await asyncio.to_thread(self._turn, session_id(chat_id), event, hint)
            await self._show(bot, chat_id, replies)

    async def _answer(self, query: CallbackQuery) -> None:
        """Answer a callback query, stale or not, so its button stops spinning."""
        try:
            await self._retry(query.answer)
        except TelegramError as error:
            log.warning("callback query not answered: %s", type(error).__name__)

    def _turn(self, sid: str, event: Event, hint: str | None) -> tuple[Reply, ...]:
        """One event in a chat's conversation; a chat without one (new, or expired) gets a
        new conversation first, so what the person sent is still answered."""
        try:
            return self.conversations.send(sid, event)
        except UnknownSession:
            pass
        if isinstance(event, Command) and event.name == "start":
            lang = event.arg if event.arg in LANGS else None
            return self.conversations.open(lang=lang, hint=hint, session_id=sid)[1]
        self.conversations.open(hint=hint, session_id=sid)
        return self.conversations.send(sid, event)

    def _lock(self, chat_id: int) -> asyncio.Lock:
        # Weak values: a lock lives while some turn of its chat holds or awaits it.
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = self._locks[chat_id] = asyncio.Lock()
        return lock

    async def _show(self, bot: Bot, chat_id: int, replies: Sequence[Reply]) -> None:
        for reply in replies:
            await self._send(bot, chat_id, [escape(p) for p in split_text(reply.text)],
                             keyboard(reply.buttons))
            for action in reply.actions:
                if action.kind == "check" and action.target:
                    await self._check(bot, chat_id, action.target, action.lang)
                elif action.kind == "human" and self.agent_chat is not None:
                    # the person read how to reach someone; the agents get the conversation
                    await self._send(bot, self.agent_chat,
                                     [escape(p) for p in split_text(hand_over_text(
                                         chat_id, action))])
                elif action.kind in DNS_KINDS and action.target:
                    text = await self.dns_actions.reply(action.kind, action.target,
                                                        action.lang, session_id(chat_id))
                    await self._send(bot, chat_id, [escape(p) for p in split_text(text)])

    # --- the live check ---------------------------------------------------------------

    async def _check(self, bot: Bot, chat_id: int, target: str, lang: str) -> None:
        """Run the check: one message, edited as each endpoint finishes, then the report."""
        try:
            servers = await self.dns_actions.check_servers(target, session_id(chat_id))
            running = await start_check(target, self.policy, requester=session_id(chat_id),
                                        limiter=self.limiter, resolver=self.resolver,
                                        providers=servers)
        except CheckRefused as refused:
            await self._send_one(bot, chat_id, escape(refusal_text(refused, lang)))
            return
        total = len(running.endpoints)
        head = catalogue().text("checking", lang, count=str(total), target=target)
        message = await self._send_one(bot, chat_id, escape(head))
        results = []
        lines = [head]
        async for result in running:
            results.append(result)
            lines.append(progress_line(result, len(results), total))
            await self._progress(bot, message, escape("\n".join(lines)))
        report = finish_report(target, results)
        first, *rest = report_messages(head, render_table(report),
                                       render_findings(report, lang))
        await self._retry(lambda: bot.edit_message_text(
            first, chat_id=chat_id, message_id=message.message_id, parse_mode=ParseMode.HTML,
            link_preview_options=_NO_PREVIEW))
        await self._send(bot, chat_id, rest)

    async def _progress(self, bot: Bot, message: TelegramMessage, text: str) -> None:
        """One progress edit, tried once: the next edit or the report supersedes it."""
        try:
            await bot.edit_message_text(text, chat_id=message.chat_id,
                                        message_id=message.message_id,
                                        parse_mode=ParseMode.HTML,
                                        link_preview_options=_NO_PREVIEW)
        except TelegramError as error:
            log.warning("check progress not shown: %s", type(error).__name__)

    # --- requests out -------------------------------------------------------------------

    async def _send(self, bot: Bot, chat_id: int, pieces: Sequence[str],
                    markup: InlineKeyboardMarkup | None = None) -> None:
        """HTML pieces as messages in order, the keyboard under the last one."""
        for index, piece in enumerate(pieces):
            await self._send_one(bot, chat_id, piece,
                                 markup if index == len(pieces) - 1 else None)

    async def _send_one(self, bot: Bot, chat_id: int, piece: str,
                        markup: InlineKeyboardMarkup | None = None) -> TelegramMessage:
        return await self._retry(lambda: bot.send_message(
            chat_id, piece, parse_mode=ParseMode.HTML, reply_markup=markup,
            link_preview_options=_NO_PREVIEW))

    async def _retry(self, call: Callable[[], Awaitable[T]]) -> T:
        """A request, repeated after a network failure or a timeout. Flood waits
        (RetryAfter) are AIORateLimiter's to repeat, after the wait Telegram asks for."""
        for delay in self.retry_delays:
            try:
                return await call()
            except BadRequest:
                raise
            except NetworkError as error:
                log.warning("Telegram request failed (%s); again in %g s",
                            type(error).__name__, delay)
            await asyncio.sleep(delay)
        return await call()


# --- building and running -------------------------------------------------------------


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
            if not _is_network(error):
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
                if not _is_network(error):
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
