"""Telegram commands end to end: real python-telegram-bot polling the loopback fake Bot API, a paper
supervisor whose feed the test drives, every command through the supervisor's command bus."""
from __future__ import annotations

import asyncio

from runtime.helpers import feed_until, until

from mia.runtime.journal import Journal

from .helpers import ME, OTHER, READER, STRANGER, reply, telegram_supervisor


def commands_journaled(tmp_path) -> list[tuple]:
    j = Journal.open(tmp_path / "j" / "journal.sqlite")
    try:
        return j.db.execute("SELECT origin, name, args, ok, result FROM commands ORDER BY id").fetchall()
    finally:
        j.close()


def test_every_read_command_end_to_end(tmp_path, fake, day):
    async def go():
        async with telegram_supervisor(tmp_path, fake, day) as sup:
            await feed_until(sup, lambda: sup.session.broker.position != 0)
            st = await reply(fake, ME, "/status", "PAPER")
            assert "PAPER · running" in st and "Position: long 1 @" in st and "Gate: ACTIVE" in st
            assert f"Rules: {sup.session.c.ruleset.source_hash[:12]}" in st
            pos = await reply(fake, ME, "/positions", "Position:")
            assert pos.startswith("Position: long 1 @") and "stop: sell 1 stop" in pos and "target: sell 1" in pos
            pnl = await reply(fake, READER, "/pnl", "P&L")        # a read chat may ask
            assert pnl.startswith("P&L 2025-11-17: ") and "Closed trades: 0" in pnl
            why = await reply(fake, ME, "/why", "🔎")
            assert why.startswith("🔎 why ") and "in position" in why
            last = why.split()[3]                                         # the minute asked about: HH:MM
            why_at = await reply(fake, ME, f"/why {last}", "🔎")
            assert why_at.startswith(f"🔎 why {last}")
            bad = await reply(fake, ME, "/why 25:99", "❌")
            assert bad.startswith("❌ /why: 25:99: error: not a valid time")
            rules = await reply(fake, ME, "/rules", "Rules")
            assert "Signals: go_long" in rules and "Files: " in rules
            helps = await reply(fake, READER, "/help", "mia commands")
            assert "/status" in helps and "/flatten" not in helps and "read-only" in helps
            helpc = await reply(fake, ME, "/help@mia_test_bot", "mia commands")
            assert "/flatten" in helpc and "/reload" in helpc
            unknown = await reply(fake, ME, "/moon", "Unknown")
            assert unknown.startswith("Unknown command /moon")
        rows = commands_journaled(tmp_path)
        assert ("telegram:111", "status", "[]", 1) == rows[0][:4]
        assert ("telegram:333", "pnl", "[]", 1) in [r[:4] for r in rows]
        assert ("telegram:111", "why", '["25:99"]', 0) in [r[:4] for r in rows]

    asyncio.run(go())


def test_pause_reload_and_read_only_chats(tmp_path, fake, day):
    async def go():
        async with telegram_supervisor(tmp_path, fake, day) as sup:
            await feed_until(sup, lambda: sup.session.events > 0)
            denied = await reply(fake, READER, "/pause", "🔒")
            assert denied.startswith("🔒 /pause needs a control chat") and sup.session.gate.state == "ACTIVE"
            paused = await reply(fake, ME, "/pause", "✅")
            assert paused.startswith("✅ pause: paused: no new entries") and sup.session.gate.state == "REDUCE_ONLY"
            # the other chats hear of it (a command alert); the chat that asked is not told twice
            await until(lambda: any("PAUSE by telegram:111" in t for t in fake.texts(OTHER)))
            assert not any("PAUSE by" in t for t in fake.texts(ME))
            rel = await reply(fake, ME, "/reload", "🔁")
            assert rel.startswith("🔁 rules ") and "unchanged" in rel
        rows = commands_journaled(tmp_path)
        assert ("telegram:333", "pause", 0) in [(r[0], r[1], r[3]) for r in rows]
        assert "read-only" in next(r[4] for r in rows if r[0] == "telegram:333" and r[1] == "pause")

    asyncio.run(go())


def _question(fake, chat, before):
    msgs = fake.sent_to(chat)[before:]
    return next(m for m in msgs if fake.buttons(m))


def test_flatten_asks_then_a_press_flattens_once(tmp_path, fake, day):
    async def go():
        async with telegram_supervisor(tmp_path, fake, day) as sup:
            await feed_until(sup, lambda: sup.session.broker.position != 0)
            before = len(fake.sent_to(ME))
            fake.command(ME, "/flatten")
            await until(lambda: any(fake.buttons(m) for m in fake.sent_to(ME)[before:]))
            q = _question(fake, ME, before)
            assert "Flatten?" in q["shown"] and "Now: long 1 at" in q["shown"]
            assert sup.session.broker.position == 1                      # asking did nothing yet
            yes = fake.buttons(q)[0][1]
            assert yes.startswith("y:") and fake.buttons(q)[1][1].startswith("n:")
            # a double press: two updates for the same button, handled concurrently
            fake.press(ME, q["message_id"], yes)
            fake.press(ME, q["message_id"], yes)
            await until(lambda: len(fake.answers) >= 2 and any(e["message_id"] == q["message_id"] and e["text"]
                                                                 for e in fake.edits))
            assert sup.session.broker.position == 0 and sup.session.gate.state == "REDUCE_ONLY"
            done = next(e for e in fake.edits if e["message_id"] == q["message_id"] and e["text"])
            assert done["shown"].startswith("✅ flatten: flattened +1 at market") and done["reply_markup"] is None
            assert "confirmed by @trader" in done["shown"]
            assert any("already used" in (a["text"] or "") for a in fake.answers)
            # /resume asks too; "Cancel" does nothing
            before = len(fake.sent_to(ME))
            fake.command(ME, "/resume")
            await until(lambda: any(fake.buttons(m) for m in fake.sent_to(ME)[before:]))
            q2 = _question(fake, ME, before)
            assert "Resume?" in q2["shown"] and "REDUCE_ONLY" in q2["shown"]
            fake.press(ME, q2["message_id"], fake.buttons(q2)[1][1])
            await until(lambda: any(e["message_id"] == q2["message_id"] and e["text"] for e in fake.edits))
            assert sup.session.gate.state == "REDUCE_ONLY"
            assert "cancelled: nothing done" in [e for e in fake.edits if e["message_id"] == q2["message_id"]][-1][
                "shown"]
            # asked again and confirmed: resumed
            before = len(fake.sent_to(ME))
            fake.command(ME, "/resume")
            await until(lambda: any(fake.buttons(m) for m in fake.sent_to(ME)[before:]))
            q3 = _question(fake, ME, before)
            fake.press(ME, q3["message_id"], fake.buttons(q3)[0][1])
            await until(lambda: any(e["message_id"] == q3["message_id"] and e["text"] for e in fake.edits))
            assert sup.session.gate.state == "ACTIVE"
            assert [e for e in fake.edits if e["message_id"] == q3["message_id"]][-1]["shown"].startswith(
                "✅ resume: resumed (gate ACTIVE)")
            # a command addressed to another bot of a group is not ours to answer
            n = len(fake.sent_to(ME))
            fake.command(ME, "/status@some_other_bot")
            await until(lambda: fake.pending_updates() == 0)
            await asyncio.sleep(0.3)
            assert not [m for m in fake.sent_to(ME)[n:] if "Unknown" in m["shown"] or "PAPER" in m["shown"]]
        rows = commands_journaled(tmp_path)
        flattens = [r for r in rows if r[1] == "flatten"]
        assert len(flattens) == 1 and flattens[0][:4] == ("telegram:111", "flatten", "[]", 1)
        assert [r[:4] for r in rows if r[1] == "resume"] == [("telegram:111", "resume", "[]", 1)]

    asyncio.run(go())


def test_an_expired_button_does_nothing(tmp_path, fake, day):
    async def go():
        async with telegram_supervisor(tmp_path, fake, day, confirm_timeout_s=0.3) as sup:
            await feed_until(sup, lambda: sup.session.broker.position != 0)
            before = len(fake.sent_to(ME))
            fake.command(ME, "/flatten")
            await until(lambda: any(fake.buttons(m) for m in fake.sent_to(ME)[before:]))
            q = _question(fake, ME, before)
            # the question says it expired (and loses its buttons) once the timeout passed
            await until(lambda: any(e["message_id"] == q["message_id"] and e["text"] for e in fake.edits))
            expired = [e for e in fake.edits if e["message_id"] == q["message_id"]][-1]
            assert expired["shown"].startswith("⌛ /flatten was not confirmed within 0.3 s: nothing done")
            fake.press(ME, q["message_id"], fake.buttons(q)[0][1])
            await until(lambda: fake.answers)
            assert "expired or was already used" in fake.answers[-1]["text"]
            await asyncio.sleep(0.2)
            assert sup.session.broker.position == 1 and sup.session.gate.state == "ACTIVE"
            # a button from another chat's question, pressed here: nothing either
            before = len(fake.sent_to(OTHER))
            fake.command(OTHER, "/flatten")
            await until(lambda: any(fake.buttons(m) for m in fake.sent_to(OTHER)[before:]))
            q2 = _question(fake, OTHER, before)
            n = len(fake.answers)
            fake.press(ME, q2["message_id"], fake.buttons(q2)[0][1])
            await until(lambda: len(fake.answers) > n)
            assert sup.session.broker.position == 1
        assert not [r for r in commands_journaled(tmp_path) if r[1] == "flatten"]

    asyncio.run(go())


def test_a_stranger_is_ignored_audited_and_alerted(tmp_path, fake, day):
    fake.chats.add(STRANGER)

    async def go():
        async with telegram_supervisor(tmp_path, fake, day) as sup:
            await feed_until(sup, lambda: sup.session.broker.position != 0)
            fake.command(STRANGER, "/flatten", username="eve")
            fake.command(STRANGER, "/status", username="eve")
            fake.command(STRANGER, "hello <b>", username="eve")
            await until(lambda: any("ignored a message from chat 999" in t for t in fake.texts(ME)))
            await until(lambda: fake.pending_updates() == 0)
            await asyncio.sleep(0.3)
            assert fake.sent_to(STRANGER) == []                          # never answered
            assert sup.session.broker.position == 1
            alert = next(m for m in fake.sent_to(ME) if "ignored a message" in m["text"])
            assert "@eve" in alert["shown"] and "/flatten" in alert["shown"]
            # one alert per stranger for a while, however many messages
            assert sum("ignored a message" in t for t in fake.texts(ME)) == 1
        rows = [r for r in commands_journaled(tmp_path) if r[0] == "telegram:999"]
        assert [r[1] for r in rows] == ["flatten", "status", "message"]
        assert all(r[3] == 0 and "not in telegram.chat_ids" in r[4] for r in rows)
        assert "@eve" in rows[0][2] and "hello <b>" in rows[2][2]

    asyncio.run(go())
