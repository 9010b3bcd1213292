"""The Telegram handlers: each update becomes one engine event, its replies messages.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from bot.channels.dns_actions import KINDS as DNS_KINDS
from bot.channels.dns_actions import DnsActions
from bot.channels.telegram.format import (
    escape,
    hand_over_text,
    keyboard,
    language_hint,
    read_command,
    report_messages,
    session_id,
    split_text,
)
from bot.check import CheckLimiter, CheckPolicy, CheckRefused, finish_report, start_check
from bot.check.messages import catalogue
from bot.check.report import progress_line, refusal_text, render_findings, render_table
from bot.check.resolve import Resolver, system_resolver
from bot.conversation import Conversations, UnknownSession
from bot.dialog import COMMANDS, Command, Event, Press, Reply, Text
from bot.flows import BUTTON_VALUE
from bot.kb import LANGS
from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram import Message as TelegramMessage
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    JobQueue,
    MessageHandler,
    filters,
)

T = TypeVar("T")
TelegramApp = Application[ExtBot[int], ContextTypes.DEFAULT_TYPE, dict[Any, Any],
                          dict[Any, Any], dict[Any, Any], JobQueue[ContextTypes.DEFAULT_TYPE]]
Context = ContextTypes.DEFAULT_TYPE
log = logging.getLogger(__name__)
SEND_RETRY_DELAYS = (1.0, 3.0)  # seconds before each new attempt of a failed request
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def _origin(error: BaseException | None) -> str:
    """Where an error was raised (file:line in function): enough to find it, no message text,
    which could quote what a person typed."""
    if error is None or error.__traceback__ is None:
        return "?"
    frame = traceback.extract_tb(error.__traceback__)[-1]
    return f"{frame.filename}:{frame.lineno} in {frame.name}"


def is_network_failure(error: BaseException | None) -> bool:
    """Failures that heal by waiting: transport errors, timeouts, flood limits. BadRequest
    is a NetworkError subclass in ptb, but repeating a bad request gives the same answer."""
    return isinstance(error, NetworkError | RetryAfter) and not isinstance(error, BadRequest)


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
