"""`mia status` carries the rules' labels of the last bar (feature -> the name of its range), and
the front ends show them: the status line, Telegram's /status, the voice's spoken status."""
from __future__ import annotations

import asyncio

import pytest

from mia.alerts.replies import render
from mia.runtime.commands import Command, Result
from mia.runtime.supervisor import _status_line
from mia.voice.replies import render_reply

from .helpers import DrivenSupervisor, feed_until, sim_days, until, write_config

RULES = """\
version: 1
instrument: ES
features:
  up_bar: pa_vote
labels:
  up_bar:
    Vikings winning: up_bar > 0
    Défenseurs winning: up_bar < 0
    balanced: up_bar == 0
  close:
    above 1000: close > 1000
signals:
  - {name: never, when: close < 0, side: long}
"""


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    return sim_days(tmp_path_factory.mktemp("data"), days=1, minutes=20) / "20251117"


def test_status_has_the_last_bars_labels(day, tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yaml").write_text(RULES)

    async def go():
        sup = DrivenSupervisor(write_config(tmp_path), [str(rules)], [day])
        task = asyncio.create_task(sup.run())
        await until(lambda: sup.state in ("warming", "running", "ended") or task.done())
        st = await sup.execute(Command("status", origin="test"))
        assert st.ok and st.data["labels"] == {}                     # no bar closed yet
        await feed_until(sup, lambda: sup.session.bars >= 3)
        st = await sup.execute(Command("status", origin="test"))
        labels = st.data["labels"]
        # the labels of the last decision, as the trace has them
        last = [r for r in sup.journal.records(kinds=("bar",))][-1][1]
        assert labels == last["labels"] and labels["close"] == "above 1000"
        assert labels["up_bar"] in ("Vikings winning", "Défenseurs winning", "balanced")
        assert f"| up_bar: {labels['up_bar']}" in st.text and "| close: above 1000" in st.text
        sup.driven.finish()
        assert await task == 0

    asyncio.run(go())


def _status_result(labels):
    data = {"mode": "paper", "state": "running", "run": 1, "rules_version": "abc", "rules_error": None,
            "gate": "ACTIVE", "gate_reason": "", "position": 0, "avg_price": None, "last_price": 6000.25,
            "pnl_usd": 0.0, "realized_usd": 0.0, "unrealized_usd": 0.0, "trades_today": 0, "day": "2025-11-20",
            "last_event": "2025-11-20T10:00:00-05:00", "events": 10, "events_per_s": 0, "feed": "ok",
            "feed_kind": "replay", "working": [], "labels": labels}
    return Result("status", True, data, _status_line(data))


def test_telegram_and_voice_show_the_labels():
    r = _status_result({"bn_score": "Vikings winning", "gamma_phase": "expiry week"})
    html = render(r)
    assert "Market: bn_score <b>Vikings winning</b> · gamma_phase <b>expiry week</b>" in html
    spoken = render_reply("status", r)
    assert spoken.endswith("Trading active. Bn score Vikings winning, gamma phase expiry week.")
    # no labels: nothing said about them; a label holding markup is escaped
    assert "Market" not in render(_status_result({}))
    assert "&lt;b&gt;" in render(_status_result({"x": "<b>"}))
