"""Helpers for the Telegram tests: a paper supervisor the test drives, with the Telegram front end
pointed at the loopback fake Bot API (tests/fakes/botapi.py)."""
from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from fakes.botapi import TOKEN, FakeBotApi  # noqa: F401  (re-exported for the tests)
from runtime.helpers import DrivenSupervisor, until, write_config

from mia.alerts import telegram_front_end

ME, OTHER, READER, STRANGER = 111, 222, 333, 999

ALWAYS_LONG = """\
version: 1
instrument: ES
params:
  threshold: 0
signals:
  - {name: go_long, when: close > threshold, side: long}
risk:
  daily_loss: 1000 USD
  trading_hours: 09:30-16:00 America/New_York
exits:
  stop: 40 ticks
  take_profit: 2 R
"""


def rules_dir(tmp: Path, text: str = ALWAYS_LONG) -> Path:
    d = tmp / "rules"
    d.mkdir(exist_ok=True)
    (d / "r.yaml").write_text(text)
    return d


def tg_section(fake: FakeBotApi, **over) -> dict:
    """A telegram: section for ``fake``, with short waits (the tests wait for conditions, not times)."""
    sec = {"token_env": "MIA_TEST_TG_TOKEN", "base_url": fake.base_url, "chat_ids": [ME, OTHER, READER],
           "roles": {str(READER): "read"}, "poll_timeout_s": 1, "retry_min_s": 0.05, "retry_max_s": 0.4,
           "drain_s": 3}
    sec.update(over)
    sec["roles"] = {k: v for k, v in sec.get("roles", {}).items() if int(k) in sec["chat_ids"]}
    return sec


@contextlib.asynccontextmanager
async def telegram_supervisor(tmp: Path, fake: FakeBotApi, day: Path, rules: Path | None = None,
                              alerts_file: Path | None = None, connect: bool = True, **tg):
    """A running paper supervisor (its feed driven by the test) with the Telegram front end; on exit
    the data is finished and the run awaited."""
    over = {"telegram": tg_section(fake, **tg)}
    if alerts_file is not None:
        over["alerts"] = {"file": str(alerts_file)}
    rules = rules or rules_dir(tmp)
    cfg = write_config(tmp, rules=str(rules), **over)
    sup = DrivenSupervisor(cfg, [str(rules)], [day])
    fe = telegram_front_end(sup.cfg)
    assert fe is not None
    sup.front_ends.append(fe)
    sup.tg = fe
    task = asyncio.create_task(sup.run())
    await until(lambda: sup.state in ("running", "ended") or task.done())
    if connect:
        await until(lambda: fe.connected.is_set())
    try:
        yield sup
    finally:
        if not task.done():
            sup.driven.finish()
        await asyncio.wait_for(task, 60)


async def reply(fake: FakeBotApi, chat: int, text: str, starts: str = "") -> str:
    """Send ``text`` from ``chat``; the text shown of the first message the bot sends back to that
    chat that starts with ``starts`` (alerts may come in between)."""
    before = len(fake.sent_to(chat))

    def found():
        return next((m["shown"] for m in fake.sent_to(chat)[before:] if m["shown"].startswith(starts)), None)

    fake.command(chat, text)
    await until(lambda: found() is not None)
    return found()
