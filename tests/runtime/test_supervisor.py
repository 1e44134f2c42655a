"""`mia run`: golden parity with `mia backtest`, commands through the bus, hot reload (good, bad,
params-only, during a position), observe mode, and the journal."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mia.cli import main
from mia.runtime.commands import Command
from mia.runtime.journal import Journal

from .helpers import ROOT, DrivenSupervisor, feed_until, sim_days, until, write_config

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


@pytest.fixture(scope="module")
def two_days(tmp_path_factory):
    return sim_days(tmp_path_factory.mktemp("data"), days=2, minutes=45)


def test_mia_run_writes_what_mia_backtest_writes_byte_for_byte(two_days, tmp_path):
    rules = str(ROOT / "rules")
    assert main(["backtest", "--rules", rules, "--data", str(two_days), "--out", str(tmp_path / "bt"),
                 "--no-progress"]) == 0
    cfg = write_config(tmp_path, rules=rules)
    assert main(["run", "--config", str(cfg), "--data", str(two_days), "--speed", "0", "--quiet"]) == 0
    for name in ("trades.csv", "decisions.jsonl", "summary.json"):
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "bt" / name).read_bytes(), name
    assert (tmp_path / "out" / "trades.csv").read_text().count("\n") > 2


def test_a_second_run_after_the_data_ended_starts_afresh(two_days, tmp_path):
    cfg = write_config(tmp_path, rules=str(ROOT / "rules"))
    for _ in range(2):
        assert main(["run", "--config", str(cfg), "--data", str(two_days), "--speed", "0", "--quiet"]) == 0
    j = Journal.open(tmp_path / "j" / "journal.sqlite")
    try:
        runs = j.db.execute("SELECT id, status FROM runs ORDER BY id").fetchall()
        assert [s for _, s in runs] == ["finished", "finished"]
        assert j.count("records", runs[0][0]) == j.count("records", runs[1][0]) > 0
    finally:
        j.close()


def rules_dir(tmp_path: Path, text: str = ALWAYS_LONG) -> Path:
    d = tmp_path / "rules"
    d.mkdir(exist_ok=True)
    (d / "r.yaml").write_text(text)
    return d


async def start(sup):
    task = asyncio.create_task(sup.run())
    await until(lambda: sup.state in ("warming", "running", "ended") or task.done())
    return task


def test_commands_go_through_the_bus_and_are_journaled(two_days, tmp_path):
    async def go():
        sup = DrivenSupervisor(write_config(tmp_path), [str(rules_dir(tmp_path))], [two_days / "20251117"])
        task = await start(sup)
        await feed_until(sup, lambda: sup.session.broker.position != 0)
        st = await sup.execute(Command("status", origin="test"))
        assert st.ok and st.data["position"] == 1 and st.data["gate"] == "ACTIVE"
        assert set(st.data) >= {"mode", "rules_version", "rules_error", "gate", "position", "pnl_usd",
                                "last_event", "events", "feed"}
        refused = await sup.execute(Command("flatten", origin="test"))
        assert not refused.ok and refused.data["needs_confirmation"] and sup.session.broker.position == 1
        done = await sup.execute(Command("flatten", origin="telegram:7", confirmed=True))
        assert done.ok and sup.session.broker.position == 0 and sup.session.gate.state == "REDUCE_ONLY"
        again = await sup.execute(Command("flatten", origin="telegram:7", confirmed=True))
        assert again.ok and "already flat" in again.text
        pos = await sup.execute(Command("positions"))
        assert pos.ok and pos.data["position"] == 0
        pnl = await sup.execute(Command("pnl"))
        assert pnl.ok and pnl.data["trades"] == 1
        why = await sup.execute(Command("why"))
        # the last bar's minute: its decision, then the flatten that came after it
        assert why.ok and "in position" in why.text and "flatten long 1" in why.text
        assert "(flatten command)" in why.text and "by telegram:7" in why.text
        bad_why = await sup.execute(Command("why", ("25:99",)))
        assert not bad_why.ok and "not a valid time" in bad_why.text
        await sup.execute(Command("resume", origin="voice", confirmed=True))
        assert sup.session.gate.state == "ACTIVE"
        sup.driven.finish()
        assert await task == 0
        j = Journal.open(tmp_path / "j" / "journal.sqlite")
        try:
            rows = j.db.execute("SELECT origin, name, ok FROM commands ORDER BY id").fetchall()
        finally:
            j.close()
        assert ("telegram:7", "flatten", 1) in rows and ("test", "flatten", 0) in rows
        assert ("voice", "resume", 1) in rows and ("test", "status", 1) in rows
        kinds = [a.kind for a in sup.seen]
        assert "command" in kinds and "fill" in kinds

    asyncio.run(go())


def test_hot_reload_good_bad_and_params_only_and_during_a_position(two_days, tmp_path):
    async def go():
        rules = rules_dir(tmp_path)
        sup = DrivenSupervisor(write_config(tmp_path), [str(rules)], [two_days / "20251117"])
        task = await start(sup)
        await feed_until(sup, lambda: sup.session.broker.position != 0)
        v0 = sup.session.c.ruleset.source_hash
        module0 = sup.session.c.module
        events0 = sup.session.events
        # a params-only edit: a new version, the same compiled module (nothing recompiled)
        (rules / "r.yaml").write_text(ALWAYS_LONG.replace("threshold: 0", "threshold: 1"))
        res = await sup.reload("test edit")
        assert res.ok and res.data["changed"] and sup.session.c.module is module0
        assert sup.session.c.ruleset.source_hash != v0 and sup.session.broker.position == 1
        assert sup.session.events == events0                        # no event dropped or taken twice
        # a bad edit: refused with its place, the old rules keep running
        good = sup.session.c.ruleset.source_hash
        (rules / "r.yaml").write_text(ALWAYS_LONG.replace("close > threshold", "close > thresold"))
        res = await sup.reload("test edit")
        assert not res.ok and sup.session.c.ruleset.source_hash == good
        assert f"{rules / 'r.yaml'}:6:" in res.text and "did you mean 'threshold'" in res.text
        st = (await sup.execute(Command("status"))).data
        assert st["rules_error"].startswith(str(rules / "r.yaml") + ":6:")
        assert any(a.kind == "reload_failed" and "r.yaml:6:" in a.text for a in sup.seen)
        # loosening a limit while in a position is applied, and said
        (rules / "r.yaml").write_text(ALWAYS_LONG.replace("daily_loss: 1000 USD", "daily_loss: 2000 USD"))
        res = await sup.reload("test edit")
        assert res.ok and sup.session.gate.risk.daily_loss_usd == 2000.0
        assert res.data["loosened"] == ["risk.daily_loss 1000 -> 2000"]
        assert any(a.kind == "reload_ok" and "loosened while long 1" in a.text for a in sup.seen)
        assert (await sup.execute(Command("status"))).data["rules_error"] is None
        sup.driven.finish()
        assert await task == 0
        j = Journal.open(tmp_path / "j" / "journal.sqlite")
        try:
            reloads = j.db.execute("SELECT ok, error FROM reloads ORDER BY id").fetchall()
            trace = [d for _, d in j.records(j.last_run()["id"], ("bar",))]
        finally:
            j.close()
        assert [ok for ok, _ in reloads] == [1, 0, 1] and "thresold" in reloads[1][1]
        assert all(d["fired"] or d["action"] == "none" for d in trace)

    asyncio.run(go())


def test_an_edit_saved_to_the_watched_folder_is_reloaded(two_days, tmp_path):
    async def go():
        rules = rules_dir(tmp_path)
        sup = DrivenSupervisor(write_config(tmp_path), [str(rules)], [two_days / "20251117"])
        task = await start(sup)
        v0 = sup.session.c.ruleset.source_hash
        await asyncio.sleep(0.3)                   # the watcher is up
        (rules / "r.yaml").write_text(ALWAYS_LONG.replace("threshold: 0", "threshold: 2"))
        await until(lambda: sup.session.c.ruleset.source_hash != v0)
        assert sup.session.c.params[sup.session.c.program.param_index["threshold"]] == 2.0
        (rules / ".r.yaml.swp").write_text("not yaml {{{")       # an editor's file: ignored
        (rules / "r.yaml").write_text("version: 1\ninstrument: ES\nsignals: [\n")
        await until(lambda: sup.rules_error is not None)
        assert sup.rules_error.startswith(str(rules / "r.yaml"))
        sup.driven.finish()
        assert await task == 0

    asyncio.run(go())


def test_a_reloaded_kernel_is_warmed_on_todays_bars(two_days, tmp_path):
    """An sma over 5 bars swapped in mid-day answers at once, as if it had run all day."""
    async def go():
        rules = rules_dir(tmp_path)
        sup = DrivenSupervisor(write_config(tmp_path), [str(rules)], [two_days / "20251117"])
        task = await start(sup)
        await feed_until(sup, lambda: len(sup.session.today_rows) >= 10)
        (rules / "r.yaml").write_text(ALWAYS_LONG.replace("close > threshold", "'sma(close, 5) > threshold'"))
        assert (await sup.reload("test")).ok
        n = len(sup.session.today_rows)
        sup.driven.release(1, rows=2000)
        await until(lambda: len(sup.session.today_rows) > n)
        sup.driven.finish()
        await task
        j = Journal.open(tmp_path / "j" / "journal.sqlite")
        try:
            bars = [d for _, d in j.records(j.last_run()["id"], ("bar",))]
        finally:
            j.close()
        # a fresh kernel's sma(close, 5) is missing for 4 bars, so it could not fire at once
        first_after = bars[n]
        assert [f["name"] for f in first_after["fired"]] == ["go_long"]

    asyncio.run(go())


def test_observe_mode_decides_and_sends_nothing(two_days, tmp_path):
    cfg = write_config(tmp_path, mode="observe")
    rules = rules_dir(tmp_path)
    assert main(["run", "--config", str(cfg), "--rules", str(rules), "--data", str(two_days / "20251117"),
                 "--speed", "0", "--quiet"]) == 0
    out = tmp_path / "out"
    assert (out / "trades.csv").read_text().count("\n") == 1          # the header only
    text = (out / "decisions.jsonl").read_text()
    assert '"action":"enter long 2"' in text or '"action":"enter long 1"' in text


@pytest.mark.parametrize("mode,flag,message", [
    ("live", False, "mode: live needs --live on the command line"),
    ("paper", True, "--live: error: the config"),
    ("live", True, "Interactive Brokers adapter"),
])
def test_live_orders_need_the_config_and_the_flag(tmp_path, capsys, mode, flag, message):
    cfg = write_config(tmp_path, mode=mode)
    assert main(["run", "--config", str(cfg), *(["--live"] if flag else [])]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and not (tmp_path / "j").exists()


def test_config_errors_are_positioned(tmp_path, capsys):
    bad = tmp_path / "mia.yaml"
    bad.write_text("mode: paper\nfeed:\n  kind: replai\n  zones: {trade: Mars/Base}\nbrokr: {}\n")
    assert main(["run", "--config", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:3:9: error: feed.kind must be one of replay, sierra, sim, ibkr, got 'replai'" in err
    assert f"{bad}:5:1: error: unknown key 'brokr'" in err and "did you mean 'broker'" in err
    bad.write_text("feed:\n  zones: {trade: Mars/Base}\n")
    assert main(["run", "--config", str(bad)]) == 1
    assert f"{bad}:2:18: error: feed.zones: unknown time zone 'Mars/Base'" in capsys.readouterr().err


def test_without_a_supervisor_the_client_says_so_in_one_line(tmp_path, capsys):
    cfg = write_config(tmp_path)
    assert main(["status", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("no supervisor is running") and "mia run" in err and "\n" not in err


def test_two_supervisors_on_one_journal(two_days, tmp_path, capsys):
    async def go():
        rules = rules_dir(tmp_path)
        cfg = write_config(tmp_path)
        first = DrivenSupervisor(cfg, [str(rules)], [two_days / "20251117"])
        task = await start(first)
        second = DrivenSupervisor(cfg, [str(rules)], [two_days / "20251117"])
        with pytest.raises(Exception) as exc:
            await second.run()
        assert "another supervisor" in str(exc.value) and "journal" in str(exc.value)
        first.driven.finish()
        assert await task == 0

    asyncio.run(go())


def test_the_bundled_config_is_the_paper_demo():
    from mia.runtime.config import load_config

    cfg = load_config(ROOT / "config" / "mia.yaml")
    assert cfg.mode == "paper" and cfg.feed.kind == "replay" and cfg.feed.path is None
    assert 90 * 60 / cfg.feed.speed <= 60                # the 90-minute session within a minute


def test_a_config_edit_applies_what_it_can_and_says_what_waits(two_days, tmp_path):
    import yaml

    async def go():
        cfg = write_config(tmp_path)
        sup = DrivenSupervisor(cfg, [str(rules_dir(tmp_path))], [two_days / "20251117"])
        task = await start(sup)
        await asyncio.sleep(0.3)
        data = yaml.safe_load(cfg.read_text())
        data["feed"]["stale_after_s"] = 7
        data["mode"] = "observe"
        cfg.write_text(yaml.safe_dump(data))
        await until(lambda: any(a.text.startswith("CONFIG RELOADED") for a in sup.seen))
        assert sup.cfg.feed.stale_after_s == 7.0 and sup.cfg.mode == "paper"
        (msg,) = [a.text for a in sup.seen if a.text.startswith("CONFIG RELOADED")]
        assert "applied feed.stale_after_s" in msg and "mode changed: takes effect at the next start" in msg
        cfg.write_text("mode: paper\nfeed: {kind: nonsense}\n")
        await until(lambda: any(a.kind == "error" and "CONFIG NOT RELOADED" in a.text for a in sup.seen))
        (err,) = [a.text for a in sup.seen if a.kind == "error"]
        assert f"{cfg}:2:14: error: feed.kind must be one of" in err and sup.cfg.feed.stale_after_s == 7.0
        sup.driven.finish()
        assert await task == 0

    asyncio.run(go())


def test_a_restart_with_rules_edited_meanwhile_warms_the_new_kernel(two_days, tmp_path):
    """Stopped, the rules edited while down (an sma now), restarted: the journal's kernel state
    belongs to the old rules, so the new kernel is warmed on today's bars before trading on."""
    async def go():
        rules = rules_dir(tmp_path)
        cfg = write_config(tmp_path)
        first = DrivenSupervisor(cfg, [str(rules)], [two_days / "20251117"])
        task = await start(first)
        await feed_until(first, lambda: len(first.session.today_rows) >= 10)
        bars_before = first.session.bars
        first.stop()
        assert await task == 0
        (rules / "r.yaml").write_text(ALWAYS_LONG.replace("close > threshold", "'sma(close, 5) > threshold'"))
        second = DrivenSupervisor(cfg, [str(rules)], [two_days / "20251117"])
        task = await start(second)
        assert second.session.bars == bars_before and not second.session.kernel_restored
        await feed_until(second, lambda: second.session.bars > bars_before)
        second.driven.finish()
        assert await task == 0
        j = Journal.open(tmp_path / "j" / "journal.sqlite")
        try:
            bars = [d for _, d in j.records(j.last_run()["id"], ("bar",))]
        finally:
            j.close()
        assert len(bars) > bars_before and [f["name"] for f in bars[bars_before]["fired"]] == ["go_long"]

    asyncio.run(go())
