"""Engine decisions on hand-made bars: priority, conflicts, vetoes with their place, sizing, the gate."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from mia.dsl import compile_rules, load_rules
from mia.engine.decide import Engine

NY = ZoneInfo("America/New_York")
T = datetime(2025, 11, 20, 10, 31, tzinfo=NY).timestamp()

RULES = """\
version: 1
instrument: ES
signals:
  - name: strong_long
    when: delta_ratio > 0.5
    side: long
    priority: 20
  - name: weak_long
    when: delta_ratio > 0.2
    side: long
    priority: 10
  - name: strong_short
    when: pa_vote < 0
    side: short
    priority: 20
hard_rules:
  - name: blind_spot
    when: ticks_to(nearest(blind_spots)) <= 5 ticks
    block: entries
    reason: "{ticks_to(nearest(blind_spots))} ticks from blind spot {nearest(blind_spots)}"
  - name: wide_spread
    when: spread > 2 ticks
    size_factor: 0.5
risk:
  max_position: 3
exits:
  stop: 8 ticks
  take_profit: 2 R
sizing:
  base: 2
  scale:
    - name: high_vix
      when: vix >= 22
      factor: 0.5
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    path = tmp_path_factory.mktemp("r") / "strategy.yaml"
    path.write_text(RULES)
    return compile_rules(load_rules([path]))


def decide(compiled, position=0, t=T, **features):
    row = {"close": 5000.0, "delta_ratio": 0.0, "pa_vote": 0.0, "spread": 1.0, "vix": 15.0, **features}
    x = np.array([row.get(n, np.nan) for n in compiled.inputs])
    out = np.empty(len(compiled.outputs))
    compiled.stream(x, compiled.new_state(), out)
    return Engine(compiled).decide(t, x, out, position)


def test_no_signal_is_still_a_decision(compiled):
    d = decide(compiled)
    assert d.action == "none" and d.fired == [] and d.gate == "ACTIVE"
    assert d.time.startswith("2025-11-20T10:31")


def test_highest_priority_wins_and_brackets_follow_exits(compiled):
    d = decide(compiled, delta_ratio=0.6)
    assert [f["name"] for f in d.fired] == ["strong_long", "weak_long"]
    assert d.chosen == "strong_long"
    assert d.action == "enter long 2"
    assert d.intent.side == 1 and d.intent.qty == 2
    assert d.intent.stop_ticks == 8 and d.intent.target_ticks == 16
    assert d.fired[0]["where"].endswith("strategy.yaml:4")
    assert d.fired[0]["values"] == {"delta_ratio": "0.6"}


def test_long_and_short_at_the_same_priority_do_not_trade(compiled):
    d = decide(compiled, delta_ratio=0.6, pa_vote=-1.0)
    assert d.action == "conflict" and d.intent is None
    assert "strong_long" in d.detail and "strong_short" in d.detail


def test_veto_names_rule_place_reason_and_values(compiled):
    d = decide(compiled, delta_ratio=0.3, blind_spot_4=5001.0)
    assert d.action == "blocked" and d.intent is None
    (v,) = d.vetoes
    assert v["rule"] == "blind_spot"
    assert v["where"].endswith("strategy.yaml:17")
    assert v["reason"] == "4 ticks from blind spot 5001"
    assert v["values"]["ticks_to(nearest(blind_spots))"] == "4"


def test_soft_rules_and_sizing_rules_scale_size(compiled):
    d = decide(compiled, delta_ratio=0.3, spread=3.0)
    assert d.action == "enter long 1"                      # 2 x 0.5
    d = decide(compiled, delta_ratio=0.3, spread=3.0, vix=25.0)
    assert d.action == "enter long 1"                      # 2 x 0.25 rounds down, but a soft rule never vetoes
    assert [s["rule"] for s in d.scales] == ["wide_spread", "high_vix"]


def test_position_and_gate_limits(compiled):
    d = decide(compiled, position=1, delta_ratio=0.6)
    assert d.action == "in position" and d.intent is None
    early = datetime(2025, 11, 20, 8, 59, tzinfo=NY).timestamp()
    d = decide(compiled, t=early, delta_ratio=0.6)
    assert d.action == "blocked" and d.limit == "risk.trading_hours"


def test_a_working_entry_is_traced_and_nothing_is_sent(compiled):
    from mia.broker.orders import WorkingOrder

    row = {"close": 5000.0, "delta_ratio": 0.6, "pa_vote": 0.0, "spread": 1.0, "vix": 15.0}
    x = np.array([row.get(n, np.nan) for n in compiled.inputs])
    out = np.empty(len(compiled.outputs))
    compiled.stream(x, compiled.new_state(), out)
    eng = Engine(compiled)
    d = eng.decide(T, x, out, 0, working=[WorkingOrder("20251120-0001", "entry", -1, 2, "market", None)])
    assert d.action == "entry working" and d.intent is None and d.chosen == "strong_long"
    assert d.detail == "waiting for 20251120-0001 (sell 2 market)"
    assert eng.decide(T, x, out, 0).action == "enter long 2"          # nothing working: it trades


def test_sizing_rule_scales_show_the_values_they_saw(compiled):
    d = decide(compiled, delta_ratio=0.3, spread=3.0, vix=25.0)
    by_rule = {s["rule"]: s for s in d.scales}
    assert by_rule["high_vix"]["values"] == {"vix": "25"}
    assert by_rule["high_vix"]["where"].endswith("strategy.yaml:32")
    assert by_rule["wide_spread"]["values"] == {"spread": "3"}
