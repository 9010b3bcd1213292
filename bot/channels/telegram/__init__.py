"""The Telegram door: Bot API updates become engine events, replies become HTML messages.

A thin adapter over `Conversations`, which owns every state: one conversation per chat
(`tg:<chat id>`), buttons as inline keyboards, the live check shown by editing one message
as each endpoint finishes. It runs by long polling, or by webhook behind the web server
when a public URL is configured. format.py is how replies look, channel.py the handlers,
app.py building and running the application.
"""

from bot.channels.telegram.app import TelegramBot, TelegramWebhook, build_application

__all__ = ["TelegramBot", "TelegramWebhook", "build_application"]
