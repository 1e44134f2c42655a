"""Alert delivery through the journal's outbox: Telegram down for a while, flood control (429),
server errors, an unknown chat, long and hostile messages, a restart with messages still queued,
and the token kept out of every log line."""
from __future__ import annotations

import asyncio
from pathlib import Path
import logging
import textwrap
import time

from fakes.botapi import TOKEN, parse_html
from runtime.helpers import feed_until, until

from mia.runtime.alerts import Alert
from mia.runtime.journal import Journal

from .helpers import ME, OTHER, READER, reply, rules_dir, telegram_supervisor

CHATS = (ME, OTHER, READER)


def numbered(sup, n: int, start: int = 0, tag: str = "n"):
    for i in range(start, start + n):
        sup.alerts.publish(Alert("error", sup.session.now, f"{tag}{i}", {"error": f"{tag}{i}"}))


def numbers(fake, chat, tag: str = "n") -> list[int]:
    out = []
    for m in fake.sent_to(chat):
        s = m["shown"]
        if s.startswith("🚨 ERROR: " + tag):
            out.append(int(s.removeprefix("🚨 ERROR: " + tag)))
    return out


def outbox_rows(tmp_path) -> list[tuple]:
    j = Journal.open(tmp_path / "j" / "journal.sqlite")
    try:
        return j.db.execute("SELECT target, body, sent, error, attempts FROM outbox ORDER BY id").fetchall()
    finally:
        j.close()


def test_telegram_down_for_a_while_then_back_loses_nothing_and_keeps_the_order(tmp_path, fake, day):
    async def go():
        async with telegram_supervisor(tmp_path, fake, day) as sup:
            numbered(sup, 5)
            await until(lambda: all(numbers(fake, c) == [0, 1, 2, 3, 4] for c in CHATS))
            fake.down()
            numbered(sup, 20, start=5)
            # trading goes on while Telegram is unreachable: the feed is taken, a position opened
            t0 = time.monotonic()
            await feed_until(sup, lambda: sup.session.broker.position != 0)
            assert time.monotonic() - t0 < 20
            numbered(sup, 5, start=25)
            await until(lambda: fake.count("sendMessage") == 15 and any(
                r[2] is None and r[4] > 1 for r in sup.journal.db.execute(
                    "SELECT target, body, sent, error, attempts FROM outbox").fetchall()))   # retried, waiting
            fake.up()
            await until(lambda: all(numbers(fake, c) == list(range(30)) for c in CHATS), timeout=60)
            # the trading alerts made while it was down came too, after n4 and before n25
            for c in CHATS:
                texts = [m["shown"] for m in fake.sent_to(c)]
                fill = next(i for i, t in enumerate(texts) if t.startswith("✅ FILLED buy 1"))
                assert texts.index("🚨 ERROR: n4") < fill < texts.index("🚨 ERROR: n25")
        assert all(r[2] is not None and r[3] is None for r in outbox_rows(tmp_path))

    asyncio.run(go())


def test_429_is_honoured_and_5xx_retried_in_order(tmp_path, fake, day):
    async def go():
        async with telegram_supervisor(tmp_path, fake, day, chat_ids=[ME]) as sup:
            fake.fail("sendMessage", 429, retry_after=1)
            numbered(sup, 3)
            await until(lambda: numbers(fake, ME) == [0, 1, 2])
            with fake.lock:
                calls = [(t, s) for m, t, s in fake.calls if m == "sendMessage"]
            assert calls[0][1] == 429 and calls[1][1] == 200
            assert calls[1][0] - calls[0][0] >= 1.0              # not before Telegram's retry_after
            fake.fail("sendMessage", 502, "Bad Gateway", times=2)
            fake.fail("sendMessage", 500, times=1)
            numbered(sup, 3, start=3)
            await until(lambda: numbers(fake, ME) == [0, 1, 2, 3, 4, 5])
            assert fake.count("sendMessage", 502) == 2 and fake.count("sendMessage", 500) == 1

    asyncio.run(go())


def test_an_unknown_chat_is_given_up_and_the_others_go_on(tmp_path, fake, day):
    async def go():
        async with telegram_supervisor(tmp_path, fake, day, chat_ids=[ME, 444, OTHER]) as sup:
            numbered(sup, 4)
            await until(lambda: numbers(fake, ME) == [0, 1, 2, 3] and numbers(fake, OTHER) == [0, 1, 2, 3])
        rows = outbox_rows(tmp_path)
        lost = [r for r in rows if r[0] == "444"]
        assert [r[1] for r in lost][:4] == [f"🚨 <b>ERROR</b>: n{i}" for i in range(4)]
        assert all(r[2] is not None and "chat not found" in r[3].lower() for r in lost)
        assert all(r[3] is None for r in rows if r[0] != "444")

    asyncio.run(go())


def test_a_long_message_is_split_and_values_are_escaped(tmp_path, fake, day):
    async def go():
        async with telegram_supervisor(tmp_path, fake, day, chat_ids=[ME]) as sup:
            error = "\n".join(f"r.yaml:{i}:3: error: unknown name 'x<{i}>' & more" for i in range(300))
            sup.alerts.publish(Alert("reload_failed", sup.session.now, "RULES NOT RELOADED",
                                     {"error": error, "first_error": "r.yaml:0:3", "why": "edited <r.yaml>",
                                      "version": "abc"}))
            await until(lambda: fake.sent_to(ME) and fake.sent_to(ME)[-1]["shown"].rstrip().endswith(
                "unknown name 'x<299>' & more"))
            parts = [m["shown"] for m in fake.sent_to(ME)]
            assert len(parts) >= 4 and all(len(m["text"]) <= 4096 for m in fake.sent_to(ME))
            assert parts[0].startswith("❌ RULES NOT RELOADED, abc keeps running (edited <r.yaml>):\n")
            assert "".join(parts).split(":\n", 1)[1] == error

    asyncio.run(go())


VETO_RULES = """\
version: 1
instrument: ES
signals:
  - {name: go_long, when: close > 0, side: long}
hard_rules:
  - name: blind_spot
    when: close > 0
    block: entries
    reason: "{close} is < 1e9 & so blocked"
risk:
  daily_loss: 1000 USD
  trading_hours: 09:30-16:00 America/New_York
exits:
  stop: 40 ticks
  take_profit: 2 R
"""


def test_a_real_veto_reads_with_its_rule_and_place_and_survives_html(tmp_path, fake, day):
    alerts = tmp_path / "alerts.yaml"
    alerts.write_text(textwrap.dedent("""\
        version: 1
        alerts:
          veto: {level: on, template: "ENTRY BLOCKED by {by}: {reason}"}
          signal: off
        """))
    rules = rules_dir(tmp_path, VETO_RULES)

    async def go():
        async with telegram_supervisor(tmp_path, fake, day, rules=rules, alerts_file=alerts, chat_ids=[ME]) as sup:
            await feed_until(sup, lambda: any(a.kind == "veto" for a in sup.seen))
            await until(lambda: any(t.startswith("ENTRY BLOCKED") for t in fake.texts(ME)))
        m = next(m for m in fake.sent_to(ME) if m["shown"].startswith("ENTRY BLOCKED"))
        assert m["text"].startswith("ENTRY BLOCKED by blind_spot (rules/r.yaml:6): ")
        assert m["text"].endswith(" is &lt; 1e9 &amp; so blocked")
        assert m["shown"].endswith(" is < 1e9 & so blocked") and not m["silent"]

    asyncio.run(go())


def test_messages_queued_while_telegram_was_away_go_out_with_the_next_run(tmp_path, fake, day):
    async def go():
        fake.down()
        async with telegram_supervisor(tmp_path, fake, day, connect=False, chat_ids=[ME]) as sup:
            numbered(sup, 3, tag="a")
            await feed_until(sup, lambda: sup.session.broker.position != 0)
        assert sum(r[2] is None for r in outbox_rows(tmp_path)) >= 4          # still queued, persisted
        fake.up()
        async with telegram_supervisor(tmp_path, fake, day, chat_ids=[ME]) as sup:
            await until(lambda: numbers(fake, ME, "a") == [0, 1, 2])
            numbered(sup, 2, tag="b")
            await until(lambda: numbers(fake, ME, "b") == [0, 1])
            texts = fake.texts(ME)
            assert texts.index("🚨 <b>ERROR</b>: a2") < texts.index("🚨 <b>ERROR</b>: b0")

    asyncio.run(go())


def test_the_token_is_never_logged(tmp_path, fake, day, caplog, monkeypatch):
    """Everything at DEBUG (python-telegram-bot, httpx with its request URLs, mia), with a good
    token and then a rejected one (python-telegram-bot puts the token in that error)."""
    secret = TOKEN.split(":")[1]
    caplog.set_level(logging.DEBUG)

    async def go():
        async with telegram_supervisor(tmp_path, fake, day, chat_ids=[ME]) as sup:
            numbered(sup, 2)
            await until(lambda: numbers(fake, ME) == [0, 1])
        fake.token = "123456789:ANOTHERtokenANOTHERtoken"                     # ours is now refused (401)
        async with telegram_supervisor(tmp_path, fake, day, connect=False, chat_ids=[ME]) as sup:
            numbered(sup, 2, start=2)
            await until(lambda: fake.count("getMe", 401) >= 2)

    asyncio.run(go())
    assert any("getMe" in r.getMessage() for r in caplog.records)            # httpx did log its URLs
    assert any("rejected (401)" in r.getMessage() for r in caplog.records)
    for r in caplog.records:
        assert secret not in r.getMessage() and secret not in (r.exc_text or ""), r.name
    assert secret not in caplog.text
    assert all(secret not in (row[3] or "") for row in outbox_rows(tmp_path))


def test_an_alerts_file_edited_while_running_applies_and_a_bad_edit_keeps_the_running_one(tmp_path, fake, day):
    """alerts.yaml is re-read when it is edited: the next alert has the new template; a bad edit is
    said (its place in the file) and the templates that ran go on."""
    alerts = tmp_path / "alerts.yaml"
    shipped = (Path(__file__).resolve().parents[2] / "alerts" / "alerts.yaml").read_text()
    assert '    template: "🕹 {text}"' in shipped
    alerts.write_text(shipped)

    async def go():
        async with telegram_supervisor(tmp_path, fake, day, alerts_file=alerts, chat_ids=[ME, OTHER]) as sup:
            await feed_until(sup, lambda: sup.session.events > 0)
            await reply(fake, ME, "/pause", "✅")
            await until(lambda: any(t.startswith("🕹 PAUSE by telegram:111") for t in fake.texts(OTHER)))
            alerts.write_text(shipped.replace('    template: "🕹 {text}"', '    template: "🎮 {text}"'))
            await until(lambda: any(t.startswith("🎮 ALERTS.YAML RELOADED") for t in fake.texts(OTHER)))
            broken = shipped.replace('    template: "🕹 {text}"', '    template: "🕹 {nope}"')
            line = broken.splitlines().index('    template: "🕹 {nope}"') + 1
            alerts.write_text(broken)
            await until(lambda: any("ALERTS.YAML NOT RELOADED" in t for t in fake.texts(ME)))
            said = next(t for t in fake.texts(ME) if "ALERTS.YAML NOT RELOADED" in t)
            assert f"{alerts}:{line}:" in said and "nope" in said
            sup.alerts.publish(Alert("command", sup.session.now, "PAUSE by voice: paused",
                                     {"origin": "voice", "command": "pause"}))
            await until(lambda: any(t.startswith("🎮 PAUSE by voice") for t in fake.texts(OTHER)))

    asyncio.run(go())
