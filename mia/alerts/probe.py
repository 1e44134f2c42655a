"""`mia telegram test`: one test message to each configured chat, and what happened to it.

``probe(settings)`` asks the Bot API who the bot is (getMe: a rejected token or an unreachable
server is said once for every chat), then sends each chat a short message; each chat's outcome
is one line: delivered, or why not (bad token, chat not found, bot blocked, unreachable,
flood control). No traceback, and the token appears nowhere.
"""
from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import (BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter,
                            TelegramError, TimedOut)
from telegram.request import HTTPXRequest

from mia.alerts.html import escape
from mia.alerts.outbox import retry_after_s
from mia.alerts.scrub import forget, protect, scrub
from mia.alerts.settings import TelegramSettings
from mia.calendar import iso


@dataclass
class Outcome:
    chat: int
    role: str
    ok: bool
    detail: str

    def line(self) -> str:
        if self.ok:
            return f"chat {self.chat} ({self.role}): delivered" + (f" {self.detail}" if self.detail else "")
        return f"chat {self.chat} ({self.role}): NOT delivered: {self.detail}"


def _why(exc: BaseException, settings: TelegramSettings) -> str:
    text = scrub(str(exc))
    if isinstance(exc, InvalidToken):
        return "bad token: the Bot API server rejected it (401); check telegram.token_env / token"
    if isinstance(exc, ChatMigrated):
        return f"the chat became supergroup {exc.new_chat_id}: put that id in telegram.chat_ids"
    if isinstance(exc, BadRequest):
        if "chat not found" in text.lower():
            return "chat not found: check the id, and send the bot a message from that chat first"
        return f"refused: {text}"
    if isinstance(exc, Forbidden):
        return f"forbidden: the bot was blocked in this chat or is not a member ({text})"
    if isinstance(exc, RetryAfter):
        return f"flood control: Telegram asks to wait {retry_after_s(exc):g} s"
    if isinstance(exc, TimedOut):
        return f"unreachable: {settings.base_url} did not answer in time"
    if isinstance(exc, NetworkError):
        return f"unreachable: {settings.base_url} ({text})"
    if isinstance(exc, TelegramError):
        return f"failed: {text}"
    return f"failed: {type(exc).__name__}: {text}"


async def probe(settings: TelegramSettings) -> list[Outcome]:
    protect(settings.token)
    bot = Bot(settings.token, base_url=settings.api_url,
              request=HTTPXRequest(connect_timeout=5.0, read_timeout=10.0, write_timeout=10.0))
    roles = {chat: settings.role(chat) or "?" for chat in settings.chat_ids}
    try:
        try:
            await bot.initialize()
        except Exception as exc:
            why = _why(exc, settings)
            return [Outcome(chat, roles[chat], False, why) for chat in settings.chat_ids]
        me = f"@{bot.username}" if bot.username else "the bot"
        out = []
        for chat in settings.chat_ids:
            text = (f"✅ <b>mia</b>: test message from {escape(socket.gethostname())} at "
                    f"{escape(iso(__import__('time').time())[:19].replace('T', ' '))} (New York). This chat is "
                    f"<b>{escape(roles[chat])}</b>: alerts come here; /help lists the commands.")
            try:
                await bot.send_message(chat, text, parse_mode=ParseMode.HTML)
            except Exception as exc:
                out.append(Outcome(chat, roles[chat], False, _why(exc, settings)))
            else:
                out.append(Outcome(chat, roles[chat], True, f"as {me}"))
        return out
    finally:
        try:
            await asyncio.wait_for(bot.shutdown(), 5)
        except Exception:
            pass
        forget(settings.token)
