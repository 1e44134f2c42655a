"""A fake Telegram Bot API server on 127.0.0.1, for real python-telegram-bot to talk to.

It runs aiohttp in a thread of its own (so a test's event loop, or a `mia` command that runs
its own, can use it alike) and implements what mia uses: getMe, getUpdates (long polling with
an offset), sendMessage, editMessageText, editMessageReplyMarkup, answerCallbackQuery,
setMyCommands, deleteWebhook; with Telegram's answers for a wrong token (401), an unknown chat
(400 chat not found), markup it cannot parse (400), a message over 4096 characters (400),
flood control (429 with retry_after), server errors (5xx, injected with ``fail``) and a server
that is not there at all (``down``: the port refuses connections until ``up``).

The test side is thread-safe: ``command(chat, "/status")`` and ``press(chat, message_id,
data)`` queue updates; ``sent``, ``edits``, ``answers`` and ``calls`` record what the bot did.
Its HTML check is written independently of mia's (a stack of Telegram's tags, entities).
"""
from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import threading
import time

from aiohttp import web

TOKEN = "123456789:TESTtokenTESTtokenTESTtoken_abc-xyz"
BOT = {"id": 123456789, "is_bot": True, "first_name": "mia test bot", "username": "mia_test_bot"}
_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code", "pre",
         "blockquote", "tg-emoji"}
_TAG = re.compile(r"<(/?)([a-zA-Z-]+)(\s[^<>]*)?>")
_BARE_AMP = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")


def parse_html(text: str) -> str:
    """The text Telegram shows for ``text`` in HTML mode; ValueError like Telegram's 400."""
    m = _BARE_AMP.search(text)
    if m:
        raise ValueError(f"can't parse entities: character '&' at byte offset {m.start()}")
    out, stack, i = [], [], 0
    while i < len(text):
        if text[i] == "<":
            m = _TAG.match(text, i)
            if not m or m.group(2).lower() not in _TAGS:
                raise ValueError(f"can't parse entities: unsupported start tag at byte offset {i}")
            name = m.group(2).lower()
            if m.group(1):
                if not stack or stack[-1] != name:
                    raise ValueError(f"can't parse entities: unmatched end tag at byte offset {i}")
                stack.pop()
            else:
                stack.append(name)
            i = m.end()
            continue
        out.append(text[i])
        i += 1
    if stack:
        raise ValueError(f"can't parse entities: can't find end tag corresponding to start tag {stack[-1]}")
    return html.unescape("".join(out))


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class FakeBotApi:
    def __init__(self, token: str = TOKEN, chats: tuple[int, ...] = (), max_len: int = 4096):
        self.token = token
        self.chats = set(chats)            # chats that exist (others: 400 chat not found)
        self.max_len = max_len
        self.port = 0
        self.lock = threading.Condition()
        self.sent: list[dict] = []
        self.edits: list[dict] = []
        self.answers: list[dict] = []
        self.calls: list[tuple[str, float, int]] = []   # (method, time.monotonic(), status)
        self.served: dict[int, float] = {}              # update_id -> perf_counter when handed out
        self._updates: list[dict] = []
        self._ids = itertools.count(1)
        self._msg_ids = itertools.count(1000)
        self._faults: list[dict] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._new_update: asyncio.Condition | None = None

    # -- life ---------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FakeBotApi":
        ready = threading.Event()

        def main():
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._new_update = asyncio.Condition()
            self._loop.run_until_complete(self._listen())
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._close())
            rest = [t for t in asyncio.all_tasks(self._loop) if not t.done()]
            for t in rest:
                t.cancel()
            self._loop.run_until_complete(asyncio.gather(*rest, return_exceptions=True))
            self._loop.close()

        self._thread = threading.Thread(target=main, name="fake-bot-api", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake Bot API did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _run(self, coro, timeout: float = 10):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def down(self) -> None:
        """Stop listening and drop every connection: requests now fail with connection refused."""
        self._run(self._close())

    def up(self) -> None:
        """Listen again on the same port."""
        self._run(self._listen())

    async def _listen(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        if not self.port:
            self.port = self._runner.addresses[0][1]

    async def _close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- the test's side ----------------------------------------------------------------------------
    def fail(self, method: str, status: int, description: str = "", times: int = 1,
             retry_after: float | None = None) -> None:
        """The next ``times`` calls of ``method`` ("*": any) answer ``status``."""
        with self.lock:
            self._faults.append({"method": method, "status": status, "description": description, "times": times,
                                 "retry_after": retry_after})

    def _push(self, update: dict) -> int:
        uid = next(self._ids)
        update["update_id"] = uid
        with self.lock:
            self._updates.append(update)
        asyncio.run_coroutine_threadsafe(self._notify(), self._loop)
        return uid

    async def _notify(self) -> None:
        async with self._new_update:
            self._new_update.notify_all()

    @staticmethod
    def _user(user: int, username: str | None) -> dict:
        u = {"id": user, "is_bot": False, "first_name": "Trader"}
        if username:
            u["username"] = username
        return u

    def command(self, chat: int, text: str, user: int | None = None, username: str | None = "trader") -> int:
        """A message ``text`` from ``chat`` (a command: starts with /); its update id."""
        first = text.split()[0] if text.split() else ""
        msg = {"message_id": next(self._msg_ids), "date": int(time.time()),
               "chat": {"id": chat, "type": "private" if chat > 0 else "group"},
               "from": self._user(user or abs(chat), username), "text": text}
        if first.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(first)}]
        return self._push({"message": msg})

    def press(self, chat: int, message_id: int, data: str, user: int | None = None) -> int:
        """A press on an inline button of the bot's message ``message_id`` in ``chat``."""
        with self.lock:
            text = next((m["text"] for m in reversed(self.sent) if m["message_id"] == message_id), "")
        msg = {"message_id": message_id, "date": int(time.time()), "chat": {"id": chat, "type": "private"},
               "from": BOT, "text": text}
        return self._push({"callback_query": {"id": str(next(self._ids) * 7), "from": self._user(user or abs(chat),
                                                                                                  "trader"),
                                              "chat_instance": f"ci{chat}", "data": data, "message": msg}})

    def sent_to(self, chat: int) -> list[dict]:
        with self.lock:
            return [m for m in self.sent if m["chat_id"] == chat]

    def texts(self, chat: int) -> list[str]:
        return [m["text"] for m in self.sent_to(chat)]

    def buttons(self, message: dict) -> list[tuple[str, str]]:
        markup = message.get("reply_markup") or {}
        return [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row]

    def pending_updates(self) -> int:
        with self.lock:
            return len(self._updates)

    def count(self, method: str, status: int | None = None) -> int:
        with self.lock:
            return sum(1 for m, _, s in self.calls if m == method and (status is None or s == status))

    # -- the server ---------------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict:
        if request.content_type == "application/json":
            return await request.json()
        form = await request.post()
        out = {}
        for k, v in form.items():
            v = str(v)
            try:
                out[k] = json.loads(v) if k in ("chat_id", "message_id", "offset", "timeout", "limit",
                                                "reply_markup", "disable_notification", "allowed_updates",
                                                "commands", "link_preview_options", "show_alert",
                                                "drop_pending_updates") else v
            except json.JSONDecodeError:
                out[k] = v
        return out

    def _answer(self, method: str, status: int, result=None, description: str = "", **extra) -> web.Response:
        with self.lock:
            self.calls.append((method, time.monotonic(), status))
        if status == 200:
            body = {"ok": True, "result": result}
        else:
            body = {"ok": False, "error_code": status, "description": description, **extra}
        return web.json_response(body, status=status)

    def _fault(self, method: str):
        with self.lock:
            for f in self._faults:
                if f["times"] > 0 and f["method"] in (method, "*"):
                    f["times"] -= 1
                    return dict(f)
        return None

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._answer(method, 401, description="Unauthorized")
        p = await self._params(request)
        f = self._fault(method)
        if f is not None:
            if f["status"] == 429:
                ra = f["retry_after"] or 1
                return self._answer(method, 429, description=f"Too Many Requests: retry after {ra}",
                                    parameters={"retry_after": ra})
            return self._answer(method, f["status"], description=f["description"] or "Internal Server Error")
        handler = getattr(self, "_m_" + method, None)
        if handler is None:
            return self._answer(method, 404, description="Not Found")
        return await handler(method, p)

    async def _m_getMe(self, method, p):
        return self._answer(method, 200, BOT)

    async def _m_deleteWebhook(self, method, p):
        return self._answer(method, 200, True)

    async def _m_setMyCommands(self, method, p):
        return self._answer(method, 200, True)

    async def _m_getUpdates(self, method, p):
        offset = int(p.get("offset") or 0)
        timeout = float(p.get("timeout") or 0)
        limit = int(p.get("limit") or 100)
        deadline = time.monotonic() + timeout

        def ready():
            with self.lock:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                return list(self._updates[:limit])

        async with self._new_update:
            while True:
                got = ready()
                left = deadline - time.monotonic()
                if got or left <= 0:
                    break
                try:
                    await asyncio.wait_for(self._new_update.wait(), left)
                except asyncio.TimeoutError:
                    pass
        now = time.perf_counter()
        with self.lock:
            for u in got:
                self.served.setdefault(u["update_id"], now)
        return self._answer(method, 200, got)

    def _chat_ok(self, chat) -> bool:
        return chat in self.chats

    async def _m_sendMessage(self, method, p):
        chat = p.get("chat_id")
        text = p.get("text", "")
        if not self._chat_ok(chat):
            return self._answer(method, 400, description="Bad Request: chat not found")
        shown = text
        if p.get("parse_mode") == "HTML":
            try:
                shown = parse_html(text)
            except ValueError as exc:
                return self._answer(method, 400, description=f"Bad Request: {exc}")
        if not shown.strip():
            return self._answer(method, 400, description="Bad Request: message text is empty")
        if _utf16(shown) > self.max_len:
            return self._answer(method, 400, description="Bad Request: message is too long")
        mid = next(self._msg_ids)
        rec = {"chat_id": chat, "text": text, "shown": shown, "parse_mode": p.get("parse_mode"),
               "silent": bool(p.get("disable_notification")), "reply_markup": p.get("reply_markup"),
               "message_id": mid, "received": time.perf_counter()}
        with self.lock:
            self.sent.append(rec)
            self.lock.notify_all()
        return self._answer(method, 200, {"message_id": mid, "date": int(time.time()), "from": BOT,
                                          "chat": {"id": chat, "type": "private" if chat > 0 else "group"},
                                          "text": shown})

    async def _m_editMessageText(self, method, p):
        chat, mid, text = p.get("chat_id"), p.get("message_id"), p.get("text", "")
        with self.lock:
            known = any(m["message_id"] == mid and m["chat_id"] == chat for m in self.sent)
        if not known:
            return self._answer(method, 400, description="Bad Request: message to edit not found")
        shown = text
        if p.get("parse_mode") == "HTML":
            try:
                shown = parse_html(text)
            except ValueError as exc:
                return self._answer(method, 400, description=f"Bad Request: {exc}")
        with self.lock:
            self.edits.append({"chat_id": chat, "message_id": mid, "text": text, "shown": shown,
                               "reply_markup": p.get("reply_markup")})
            self.lock.notify_all()
        return self._answer(method, 200, {"message_id": mid, "date": int(time.time()), "from": BOT,
                                          "chat": {"id": chat, "type": "private"}, "text": shown})

    async def _m_editMessageReplyMarkup(self, method, p):
        with self.lock:
            self.edits.append({"chat_id": p.get("chat_id"), "message_id": p.get("message_id"), "text": None,
                               "shown": None, "reply_markup": p.get("reply_markup")})
        return self._answer(method, 200, True)

    async def _m_answerCallbackQuery(self, method, p):
        with self.lock:
            self.answers.append({"id": p.get("callback_query_id"), "text": p.get("text")})
            self.lock.notify_all()
        return self._answer(method, 200, True)
