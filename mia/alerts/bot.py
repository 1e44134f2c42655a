"""The Telegram front end of the supervisor: alerts out, commands in, from configured chats only.

``TelegramFrontEnd`` is one of ``Supervisor.front_ends``. ``start`` subscribes the outbox to the
alert bus and starts one task, so that a Telegram that cannot be reached never delays the
session: that task connects (getMe, retried with a backoff; alerts wait in the outbox
meanwhile), then runs the outbox's sender and a long-polling loop (getUpdates with an offset,
its own backoff) that hands each update to python-telegram-bot's ``Application``.

Commands go through ``supervisor.execute`` with ``origin="telegram:<chat id>"``:

- a chat not in ``telegram.chat_ids`` is never answered: what it sent is journaled (the
  ``commands`` table: who, what) and, with ``alert_unauthorized``, alerted (once per chat per
  ``UNAUTHORIZED_ALERT_S``);
- a ``read`` chat may ask (status, positions, pnl, why, rules, help), a ``control`` chat (the
  default) may also act (pause, resume, flatten, reload);
- ``/flatten`` and ``/resume`` send a question with an inline button; only a press within
  ``confirm_timeout_s`` sends the command, with ``confirmed``. Each button carries a one-shot
  token: a second press, a press after the timeout or after mia restarted does nothing (the
  message says so and loses its buttons).

The token is protected (``mia.alerts.scrub``) from the moment the front end exists.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from mia.alerts import html, replies
from mia.alerts.outbox import NO_PREVIEW, Outbox, classify, plain, retry_after_s
from mia.alerts.scrub import forget, protect, scrub
from mia.alerts.settings import TelegramSettings
from mia.alerts.templates import Templates, load_templates
from mia.runtime.alerts import Alert
from mia.runtime.commands import NEEDS_CONFIRM, Command, Result

log = logging.getLogger(__name__)

#: an unknown chat is alerted about at most once in this many seconds (every message is journaled)
UNAUTHORIZED_ALERT_S = 600.0
_QUESTION = {"flatten": ("Flatten?", "Cancel the working entries and close the position at market; then no new "
                                     "entries until /resume.", "✅ Flatten now"),
             "resume": ("Resume?", "Allow new entries again (a risk limit's halt stays until the next day).",
                        "✅ Resume now")}


@dataclass
class _Pending:
    command: str
    chat: int
    deadline: float                 # time.monotonic()
    message_id: int | None = None
    timer: asyncio.TimerHandle | None = None


def build_application(settings: TelegramSettings) -> Application:
    """python-telegram-bot's Application for ``settings``: no Updater (mia polls itself),
    updates handled concurrently, a small connection pool for replies and the outbox."""
    return (Application.builder().token(settings.token).base_url(settings.api_url).updater(None)
            .concurrent_updates(True).connection_pool_size(8).pool_timeout(10.0)
            .connect_timeout(5.0).read_timeout(10.0).write_timeout(10.0).build())


class TelegramFrontEnd:
    def __init__(self, settings: TelegramSettings, templates: Templates):
        self.settings = settings
        self.templates = templates
        protect(settings.token)
        self.app = build_application(settings)
        self.bot = self.app.bot
        self.sup = None
        self.outbox: Outbox | None = None
        self.connected = asyncio.Event()
        self.pending: dict[str, _Pending] = {}
        self._task: asyncio.Task | None = None
        self._closing: asyncio.Future | None = None
        self._unauth_alerted: dict[int, float] = {}
        self._poll_failing: str | None = None
        self._offset: int | None = None
        app = self.app
        app.add_handler(CommandHandler([*replies.NAMES, "start"], self._on_command))
        app.add_handler(CallbackQueryHandler(self._on_button))
        app.add_handler(MessageHandler(filters.ALL, self._on_other))
        app.add_error_handler(self._on_error)

    # -- life ---------------------------------------------------------------------------------------
    async def start(self, supervisor) -> None:
        self.sup = supervisor
        self._closing = asyncio.get_running_loop().create_future()
        self.outbox = Outbox(supervisor.journal, self.templates, self.settings, self.bot)
        supervisor.alerts.subscribe(self.outbox.on_alert)
        if self.settings.templates_path:
            supervisor.watch_file(self.settings.templates_path, self._reload_templates)
        self._task = asyncio.create_task(self._run(), name="telegram")

    def _reload_templates(self) -> str:
        """alerts.yaml was edited: its levels and templates from the next alert on (a bad edit
        raises a positioned error, and the running ones stay)."""
        templates = load_templates(self.settings.templates_path)
        self.templates = templates
        if self.outbox is not None:
            self.outbox.templates = templates
        return "Telegram alert levels and templates"

    async def stop(self) -> None:
        if self._closing is not None and not self._closing.done():
            self._closing.set_result(None)
        for p in self.pending.values():
            if p.timer is not None:
                p.timer.cancel()
        self.pending.clear()
        if self.sup is not None and self.outbox is not None:
            with contextlib.suppress(ValueError):
                self.sup.alerts.subscribers.remove(self.outbox.on_alert)
        if self.connected.is_set() and self.outbox is not None and self.settings.drain_s > 0:
            await self.outbox.drain(self.settings.drain_s)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        if self.outbox is not None:
            with contextlib.suppress(Exception):
                left = self.outbox.journal.outbox_counts("telegram")["pending"]
                if left:
                    log.warning("telegram: %d message(s) still wait in the journal's outbox; the next `mia run` "
                                "sends them", left)
        if self._offset is not None:           # tell Telegram the updates taken are done (not sent again)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.bot.get_updates(offset=self._offset, timeout=0), 3)
        with contextlib.suppress(Exception):
            if self.app.running:
                await asyncio.wait_for(self.app.stop(), 10)
        with contextlib.suppress(Exception):
            if self.app._initialized:
                await asyncio.wait_for(self.app.shutdown(), 10)
            else:                               # never connected: only the HTTP clients to close
                await asyncio.wait_for(self.bot.shutdown(), 10)
        forget(self.settings.token)

    async def _run(self) -> None:
        s = self.settings
        delay = s.retry_min_s
        said = False
        while True:
            try:
                await self.app.initialize()
                break
            except InvalidToken:
                if not said:
                    log.error("telegram: the bot token was rejected (401); check telegram.token_env / token. "
                              "Alerts wait in the journal's outbox")
                said = True
                await asyncio.sleep(s.retry_max_s)
            except TelegramError as exc:
                if not said:
                    log.warning("telegram: cannot reach %s (%s); retrying, alerts wait in the outbox", s.base_url,
                                scrub(str(exc)))
                said = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, s.retry_max_s)
        if said:
            log.warning("telegram: connected to %s", s.base_url)
        await self.app.start()
        with contextlib.suppress(Exception):
            await self.bot.set_my_commands([(name, what[:256]) for name, _, what, _ in replies.COMMANDS])
        self.connected.set()
        sender = asyncio.create_task(self.outbox.run(), name="telegram-outbox")
        poller = asyncio.create_task(self._poll(), name="telegram-poll")
        try:
            await asyncio.gather(sender, poller)
        finally:
            sender.cancel()
            poller.cancel()

    async def _poll(self) -> None:
        """Long polling: getUpdates from the last offset; every update to the Application."""
        s = self.settings
        offset = None
        delay = s.retry_min_s
        while True:
            try:
                updates = await self.bot.get_updates(offset=offset, timeout=s.poll_timeout_s,
                                                     allowed_updates=["message", "callback_query"])
            except asyncio.CancelledError:
                raise
            except TimedOut:
                continue
            except Exception as exc:
                if isinstance(exc, RetryAfter):
                    wait = retry_after_s(exc)
                elif isinstance(exc, (InvalidToken, Conflict)):
                    wait = s.retry_max_s
                else:
                    wait, delay = delay, min(delay * 2, s.retry_max_s)
                why = classify(exc)[2]
                if self._poll_failing is None:
                    log.warning("telegram: cannot get commands (%s); retrying", why)
                self._poll_failing = why
                await asyncio.sleep(wait)
                continue
            delay = s.retry_min_s
            if self._poll_failing is not None:
                log.warning("telegram: getting commands again")
                self._poll_failing = None
            for update in updates:
                offset = self._offset = update.update_id + 1
                await self.app.update_queue.put(update)

    # -- sending ------------------------------------------------------------------------------------
    async def send(self, chat: int, markup: str, buttons: InlineKeyboardMarkup | None = None, tries: int = 4):
        """A reply: cut to Telegram's length, each part retried a few times (429 honoured); the
        last part's Message (None if it could not be sent)."""
        parts = html.split(markup)
        msg = None
        for k, part in enumerate(parts):
            msg = await self._call(lambda text=part, mode=ParseMode.HTML: self.bot.send_message(
                chat, text, parse_mode=mode, link_preview_options=NO_PREVIEW,
                reply_markup=buttons if k == len(parts) - 1 else None), part, tries)
        return msg

    async def edit(self, chat: int, message_id: int | None, markup: str) -> None:
        if message_id is None:
            return
        await self._call(lambda text=markup[:html.LIMIT], mode=ParseMode.HTML: self.bot.edit_message_text(
            text, chat_id=chat, message_id=message_id, parse_mode=mode, link_preview_options=NO_PREVIEW),
            markup[:html.LIMIT], 2)

    async def _call(self, fn, markup: str, tries: int):
        delay = self.settings.retry_min_s
        for _ in range(tries):
            try:
                return await fn()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                what, wait, why = classify(exc)
                if what == "plain":
                    return await self._call(lambda: fn(text=plain(markup), mode=None), plain(markup), 1)
                if what == "give_up":
                    log.warning("telegram: a reply was refused: %s", why)
                    return None
                if wait is None:
                    wait, delay = delay, min(delay * 2, self.settings.retry_max_s)
                log.info("telegram: reply failed (%s), again in %.1f s", why, wait)
                await asyncio.sleep(wait)
        log.warning("telegram: a reply could not be sent")
        return None

    # -- the command bus ---------------------------------------------------------------------------
    async def _execute(self, cmd: Command) -> Result:
        """``supervisor.execute``, given up when the front end stops (the consumer may be gone)."""
        task = asyncio.ensure_future(self.sup.execute(cmd))
        done, _ = await asyncio.wait({task, self._closing}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            return task.result()
        task.cancel()
        return Result(cmd.name, False, {}, "mia is stopping")

    # -- handlers -----------------------------------------------------------------------------------
    async def _on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = update.effective_message
        chat = update.effective_chat.id
        words = (msg.text or "").split()
        name = words[0][1:].split("@")[0].lower() if words else ""
        role = self.settings.role(chat)
        if role is None:
            await self._unauthorized(update, name, words[1:])
            return
        if name in ("help", "start"):
            await self.send(chat, replies.help_text(role))
            return
        if name in replies.CONTROL and role != "control":
            self._audit(chat, update, name, words[1:], "refused: this chat is read-only (telegram.roles)")
            await self.send(chat, f"🔒 /{name} needs a control chat; this one is read-only.")
            return
        if name in NEEDS_CONFIRM:
            await self._ask(chat, name)
            return
        args = (" ".join(context.args),) if context.args else ()
        result = await self._execute(Command(name, args, origin=f"telegram:{chat}"))
        await self.send(chat, replies.render(result))

    async def _ask(self, chat: int, name: str) -> None:
        token = secrets.token_urlsafe(12)
        timeout = self.settings.confirm_timeout_s
        title, what, yes = _QUESTION[name]
        now = ""
        if name == "flatten":
            pos = await self._execute(Command("positions", origin=f"telegram:{chat}"))
            if pos.ok:
                now = f"\nNow: {html.escape(pos.text)}"
        elif name == "resume":
            st = await self._execute(Command("status", origin=f"telegram:{chat}"))
            if st.ok:
                now = f"\nNow: gate {html.escape(str(st.data.get('gate')))}" + (
                    f" ({html.escape(str(st.data.get('gate_reason')))})" if st.data.get("gate_reason") else "")
        pending = self.pending[token] = _Pending(name, chat, time.monotonic() + timeout)
        buttons = InlineKeyboardMarkup([[InlineKeyboardButton(yes, callback_data=f"y:{token}"),
                                         InlineKeyboardButton("✖ Cancel", callback_data=f"n:{token}")]])
        sent = await self.send(chat, f"⚠️ <b>{title}</b> {html.escape(what)}{now}\n<i>The button works for "
                                     f"{timeout:g} s, once.</i>", buttons)
        if sent is None:
            self.pending.pop(token, None)
            return
        pending.message_id = sent.message_id
        if token in self.pending:
            pending.timer = asyncio.get_running_loop().call_later(
                max(pending.deadline - time.monotonic(), 0), lambda: asyncio.ensure_future(self._expire(token)))

    async def _expire(self, token: str) -> None:
        p = self.pending.pop(token, None)
        if p is not None:
            await self.edit(p.chat, p.message_id, f"⌛ /{p.command} was not confirmed within "
                                                  f"{self.settings.confirm_timeout_s:g} s: nothing done.")

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        q = update.callback_query
        chat = q.message.chat.id if q.message is not None else (update.effective_chat.id
                                                                 if update.effective_chat else 0)
        role = self.settings.role(chat)
        if role is None:
            await self._unauthorized(update, "button", [q.data or ""])
            return
        answer, _, token = (q.data or "").partition(":")
        p = self.pending.get(token)
        if p is None or p.chat != chat:
            await self._answer(q, "This button has expired or was already used: nothing done.")
            if q.message is not None and p is None:      # e.g. a question asked before mia restarted
                with contextlib.suppress(Exception):
                    await self.bot.edit_message_reply_markup(chat, q.message.message_id, reply_markup=None)
            return
        if role != "control":
            self._audit(chat, update, p.command, [], "refused: this chat is read-only (telegram.roles)")
            await self._answer(q, "This chat is read-only: nothing done.")
            return
        del self.pending[token]                 # one shot: taken before anything awaits
        if p.timer is not None:
            p.timer.cancel()
        if time.monotonic() > p.deadline:
            await self._answer(q, "Too late: nothing done.")
            await self.edit(chat, p.message_id, f"⌛ /{p.command} was not confirmed within "
                                                f"{self.settings.confirm_timeout_s:g} s: nothing done.")
            return
        if answer != "y":
            await self._answer(q, "Cancelled.")
            await self.edit(chat, p.message_id, f"✖ /{p.command} cancelled: nothing done.")
            return
        await self._answer(q, f"{p.command} ...")
        result = await self._execute(Command(p.command, (), origin=f"telegram:{chat}", confirmed=True))
        who = _who(update)
        await self.edit(chat, p.message_id, replies.render(result) + f"\n<i>confirmed by {html.escape(who)}</i>")

    async def _answer(self, q, text: str) -> None:
        with contextlib.suppress(Exception):
            await q.answer(text)

    async def _on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        msg = update.effective_message
        text = (msg.text or msg.caption or "") if msg is not None else ""
        if self.settings.role(chat.id) is None:
            await self._unauthorized(update, "message", [text])
            return
        first = text.split()[0] if text.split() else ""
        if "@" in first and first.startswith("/") and first.split("@", 1)[1].lower() != (self.bot.username or
                                                                                        "").lower():
            return                              # a command for another bot of a group
        if msg is not None and first:
            await self.send(chat.id, f"Unknown command {html.escape(first[:64])}: /help lists them.")

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        err = context.error
        log.warning("telegram: handling an update failed: %s: %s", type(err).__name__, scrub(str(err)))

    # -- strangers ----------------------------------------------------------------------------------
    def _audit(self, chat: int, update: Update, name: str, args: list, result: str) -> None:
        j = self.sup.journal
        j.command(self.sup.session.now if self.sup.session else None, f"telegram:{chat}", name or "message",
                  [str(a)[:200] for a in args] + [f"from {_who(update)}"], False, result)
        j.commit()                              # the consumer never leaves its buffer half-full across an await

    async def _unauthorized(self, update: Update, name: str, args: list) -> None:
        chat = update.effective_chat.id if update.effective_chat else 0
        who = _who(update)
        self._audit(chat, update, name, args, f"ignored: chat {chat} is not in telegram.chat_ids")
        log.warning("telegram: ignored %s from chat %s (%s): not in telegram.chat_ids", name or "a message", chat,
                    who)
        if not self.settings.alert_unauthorized:
            return
        now = time.monotonic()
        last = self._unauth_alerted.get(chat)
        if last is not None and now - last < UNAUTHORIZED_ALERT_S:
            return
        self._unauth_alerted[chat] = now
        said = (f"/{name} " if name not in ("message", "button") else "") + " ".join(map(str, args))
        said = said.strip()[:200]
        t = self.sup.session.now if self.sup.session and self.sup.session.now else time.time()
        alert = Alert("unauthorized", t, f"UNAUTHORIZED: chat {chat} ({who}) sent {said!r}: ignored",
                      {"chat": str(chat), "user": who, "message": said})
        self.sup.journal.alert(alert.t, alert.kind, alert.to_json())
        self.sup.journal.commit()
        self.sup.alerts.publish(alert)


def _who(update: Update) -> str:
    u = update.effective_user
    if u is None:
        return "unknown user"
    name = f"@{u.username}" if u.username else (u.full_name or "")
    return f"{name} (user {u.id})".strip()
