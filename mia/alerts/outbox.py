"""Alerts to Telegram through the journal's outbox: queued at once, delivered in order, never lost.

``Outbox.on_alert`` is an alert-bus subscriber: it renders the alert (``Templates``), cuts it
to Telegram's length, writes one row per part and chat into the journal's outbox (persisted,
its own small transaction) and returns; it never waits for the network. ``Outbox.run`` is the
sender, a task of its own: the oldest waiting row first, one at a time, so every chat gets its
messages in order. What Telegram answers decides what comes next (``classify``):

- delivered: the row is marked sent;
- 429 Too Many Requests: the row waits exactly ``retry_after`` seconds, then goes again;
- unreachable, timed out, 5xx, a rejected token: the row waits (``retry_min_s`` doubled per
  attempt up to ``retry_max_s``) and goes again; nothing behind it overtakes it;
- the chat is gone, the bot was blocked, a request Telegram will never take: the row is given
  up (kept in the journal with the reason) and the next one goes;
- HTML Telegram cannot parse (it should not happen: values are escaped, templates checked):
  the same text goes again as plain text.

Rows left when mia stops are sent by the next run. A crash between Telegram's answer and the
row marked sent sends that message twice: at least once, never lost.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import html as _html
import logging
import re
import time
import warnings

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.warnings import PTBDeprecationWarning
from telegram.error import (BadRequest, ChatMigrated, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter,
                            TelegramError, TimedOut)

from mia.alerts import html
from mia.alerts.scrub import scrub
from mia.alerts.templates import Templates
from mia.runtime.alerts import Alert

log = logging.getLogger(__name__)
# python-telegram-bot 22 warns when a 429's retry_after is read as a number; mia reads both forms
warnings.filterwarnings("ignore", message=r".*retry_after.*", category=PTBDeprecationWarning)

CHANNEL = "telegram"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def retry_after_s(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ra = exc.retry_after
    return ra.total_seconds() if isinstance(ra, dt.timedelta) else float(ra)


def classify(exc: BaseException) -> tuple[str, float | None, str]:
    """What to do after a failed request: ("retry", seconds or None for the backoff, why),
    ("give_up", None, why) or ("plain", None, why)."""
    text = scrub(str(exc))
    if isinstance(exc, RetryAfter):
        return "retry", retry_after_s(exc), f"429 flood control: retry after {retry_after_s(exc):g} s"
    if isinstance(exc, InvalidToken):
        return "retry", None, "the bot token was rejected (401): check telegram.token_env / token"
    if isinstance(exc, ChatMigrated):
        return "give_up", None, f"the chat became supergroup {exc.new_chat_id}: put that id in telegram.chat_ids"
    if isinstance(exc, Forbidden):
        return "give_up", None, f"forbidden (403, the bot was blocked or removed from the chat): {text}"
    if isinstance(exc, BadRequest):
        if "parse entities" in text.lower():
            return "plain", None, text
        return "give_up", None, f"refused (400): {text}"
    if isinstance(exc, TimedOut):
        return "retry", None, "timed out"
    if isinstance(exc, Conflict):
        return "retry", None, f"conflict (409): {text}"
    if isinstance(exc, (NetworkError, TelegramError)):
        return "retry", None, f"unreachable or failing: {text}"
    return "retry", None, f"{type(exc).__name__}: {text}"


def plain(markup: str) -> str:
    """A message's text without its markup (for a last try as plain text)."""
    return _html.unescape(re.sub(r"<[^>]*>", "", markup))


class Outbox:
    """Subscriber (``on_alert``) and sender (``run``) of the Telegram outbox in ``journal``."""

    def __init__(self, journal, templates: Templates, settings, bot):
        self.journal = journal
        self.templates = templates
        self.settings = settings
        self.bot = bot
        self.wake = asyncio.Event()
        self.idle = asyncio.Event()
        self.delivered = 0
        self._failing: str | None = None

    # -- the subscriber (called by the supervisor's consumer, after its commit) -----------------------
    def on_alert(self, alert: Alert) -> None:
        rendered = self.templates.render(alert)
        if rendered is None:
            return
        markup, silent = rendered
        parts = html.split(markup)
        own = alert.fields.get("origin") if alert.kind == "command" else None
        rows = [(str(chat), part, silent) for chat in self.settings.chat_ids if own != f"telegram:{chat}"
                for part in parts]
        self.journal.outbox_put(CHANNEL, rows)
        self.idle.clear()
        self.wake.set()

    # -- the sender ---------------------------------------------------------------------------------------
    async def run(self) -> None:
        while True:
            try:
                await self._run_once()
            except asyncio.CancelledError:
                raise
            except Exception:                   # a journal error, a bug: said, and the sender goes on
                log.exception("telegram: the outbox sender failed; trying again in %g s", self.settings.retry_max_s)
                await asyncio.sleep(self.settings.retry_max_s)

    async def _run_once(self) -> None:
        while True:
            self.wake.clear()
            rows = self.journal.outbox_pending(CHANNEL, 200)
            if not rows:
                self.idle.set()
                await self.wake.wait()
                continue
            self.idle.clear()
            for row in rows:
                wait = row["next_try"] - time.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not await self._deliver(row):
                    break

    async def drain(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for the outbox to empty; True when it did."""
        self.wake.set()
        try:
            await asyncio.wait_for(self._empty(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def _empty(self) -> None:
        while self.journal.outbox_counts(CHANNEL)["pending"]:
            await asyncio.sleep(0.02)

    async def _deliver(self, row: dict) -> bool:
        """Send one row; True when it left the queue (sent or given up)."""
        msg_id = row["id"]
        try:
            chat = int(row["target"])
        except ValueError:
            self.journal.outbox_gave_up(msg_id, f"not a chat id: {row['target']!r}")
            return True
        if chat not in self.settings.chat_ids:
            self.journal.outbox_gave_up(msg_id, f"chat {chat} is no longer in telegram.chat_ids")
            return True
        body, mode = row["body"], ParseMode.HTML
        for _ in range(2):
            try:
                await self.bot.send_message(chat, body, parse_mode=mode, disable_notification=bool(row["silent"]),
                                            link_preview_options=NO_PREVIEW)
            except asyncio.CancelledError:
                raise
            except Exception as exc:            # every answer is classified; none stops the sender
                what, wait, why = classify(exc)
                if what == "plain" and mode is not None:
                    body, mode = plain(body), None
                    continue
                if what == "give_up" or what == "plain":
                    log.warning("telegram: gave up a message to chat %s: %s", chat, why)
                    self.journal.outbox_gave_up(msg_id, why)
                    return True
                if wait is None:
                    s = self.settings
                    wait = min(s.retry_max_s, s.retry_min_s * 2 ** min(row["attempts"], 30))
                if self._failing is None:
                    log.warning("telegram: cannot deliver (%s); messages wait in the outbox and go in order", why)
                self._failing = why
                self.journal.outbox_failed(msg_id, time.time() + wait, why)
                return False
            else:
                if self._failing is not None:
                    log.warning("telegram: delivering again after: %s", self._failing)
                    self._failing = None
                self.journal.outbox_sent(msg_id)
                self.delivered += 1
                return True
        return True
