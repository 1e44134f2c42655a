"""A trace a trader can read: side-specific hard rules, reasons that say a value is missing,
the terms of a derived sum, labels of ranges, and how the size came about; in the decision
record, `mia why` and `mia signals`."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from mia.dsl import compile_rules, load_rules
from mia.dsl.errors import RuleError
from mia.dsl.firings import firings
from mia.engine.decide import Engine
from mia.engine.explain import explain

NY = ZoneInfo("America/New_York")
T = datetime(2025, 11, 20, 10, 31, tzinfo=NY).timestamp()

RULES = """\
version: 1
instrument: ES
params:
  w1: 0.20
  w2: 0.25
  lvl: 10 ticks
features:
  score: w1*pa_vote + w2*flow_vote + 0.15*profile_vote - 0.5*abs(delta_ratio) + 0.05
labels:
  score:
    Vikings winning: score >= 0.7
    Défenseurs winning: score <= -0.7
    balanced: abs(score) <= 0.3
  vix:
    calm: vix < 15
signals:
  - {name: up, when: score > 0.25, side: long}
  - {name: down, when: score < -0.25, side: short}
hard_rules:
  - name: under_resistance
    when: call_resistance >= close and ticks_to(call_resistance) <= lvl
    side: long
    block: entries
    reason: "{ticks_to(call_resistance)} ticks under call resistance {call_resistance}"
  - name: short_half
    when: spread > 1 ticks
    side: short
    size_factor: 0.5
    reason: "spread {spread}"
  - name: stale
    when: not (levels_age_min <= 15 min)
    block: entries
    reason:
      - "levels are {levels_age_min} minutes old"
      - "levels are missing"
  - name: plain
    when: not (atr < 100 points)
    size_factor: 0.8
    reason: "ATR {atr} points"
risk:
  max_position: 2
sizing:
  base: 2
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    path = tmp_path_factory.mktemp("r") / "strategy.yaml"
    path.write_text(RULES)
    return compile_rules(load_rules([path]))


def run(compiled, position=0, **features):
    row = {"close": 5000.0, "pa_vote": 0.0, "flow_vote": 0.0, "profile_vote": 0.0, "delta_ratio": 0.0,
           "spread": 1.0, "vix": 14.0, "levels_age_min": 3.0, "atr": 2.0, **features}
    x = np.array([row.get(n, np.nan) for n in compiled.inputs])
    out = np.empty(len(compiled.outputs))
    compiled.stream(x, compiled.new_state(), out)
    return Engine(compiled).decide(T, x, out, position), x, out


def test_a_side_specific_veto_stands_only_against_its_side(compiled):
    # 8 ticks under call resistance: a long is blocked ...
    d, _, _ = run(compiled, pa_vote=1.0, flow_vote=1.0, call_resistance=5002.0)
    assert d.action == "blocked" and [v["rule"] for v in d.vetoes] == ["under_resistance"]
    assert d.vetoes[0]["effect"] == "blocks long entries"
    assert d.vetoes[0]["reason"] == "8 ticks under call resistance 5002"
    where = d.vetoes[0]["where"]
    assert where.endswith("/strategy.yaml:20")
    assert (f"vetoed by under_resistance at {where}: blocks long entries: 8 ticks under call resistance 5002"
            in explain(d.to_json()))
    # ... a short at the same place is not
    d, _, _ = run(compiled, pa_vote=-1.0, flow_vote=-1.0, call_resistance=5002.0)
    assert d.action == "enter short 2" and d.vetoes == []


def test_a_side_specific_soft_rule_scales_only_its_side(compiled):
    d, _, _ = run(compiled, pa_vote=-1.0, flow_vote=-1.0, spread=2.0)
    assert d.action == "enter short 1" and [s["rule"] for s in d.scales] == ["short_half"]
    assert d.scales[0]["effect"] == "size x0.5 (short entries)"
    assert d.sizing == "base 2 x0.5 (short_half) = 1 -> 1 contract"
    d, _, _ = run(compiled, pa_vote=1.0, flow_vote=1.0, spread=2.0)
    assert d.action == "enter long 2" and d.scales == [] and d.sizing == "base 2 -> 2 contracts"


def test_how_the_size_came_about(compiled):
    d, _, _ = run(compiled, pa_vote=-1.0, flow_vote=-1.0, spread=2.0, atr=150.0)
    assert d.sizing == "base 2 x0.5 (short_half) x0.8 (plain) = 0.8 -> 1 contract (at least 1 contract)"
    d, _, _ = run(compiled, position=0, pa_vote=1.0, flow_vote=1.0, atr=150.0)
    assert d.sizing == "base 2 x0.8 (plain) = 1.6 -> 1 contract (rounded down)"
    assert "  size: base 2 x0.8 (plain) = 1.6 -> 1 contract (rounded down)" in explain(d.to_json())


def test_a_reason_says_a_missing_value_in_words(compiled):
    d, _, _ = run(compiled, pa_vote=1.0, flow_vote=1.0, levels_age_min=40.0)
    assert d.vetoes[0]["reason"] == "levels are 40 minutes old"
    d, _, _ = run(compiled, pa_vote=1.0, flow_vote=1.0, levels_age_min=np.nan)
    assert d.vetoes[0]["reason"] == "levels are missing"
    # one template only: the missing value is named, not printed as "missing" mid-sentence
    d, _, _ = run(compiled, pa_vote=1.0, flow_vote=1.0, atr=np.nan)
    assert d.scales[0]["reason"] == "ATR (atr missing) points"


def test_the_terms_of_a_derived_sum_a_fired_rule_read(compiled):
    d, x, out = run(compiled, pa_vote=1.0, flow_vote=1.0, profile_vote=0.0, delta_ratio=0.2)
    # 0.20 + 0.25 + 0 - 0.5*0.2 + 0.05 = 0.40
    assert d.terms == {"score": "score=0.4 = 0.20·pa_vote(+1) + 0.25·flow_vote(+1) + 0.15·profile_vote(0) "
                                "- 0.50·abs(delta_ratio)(+0.2) + 0.05"}
    text = explain(d.to_json())
    assert "  score=0.4 = 0.20·pa_vote(+1) + 0.25·flow_vote(+1)" in text
    # a bar where nothing fired carries no breakdown (the trace stays small)
    d, _, _ = run(compiled)
    assert d.fired == [] and d.terms == {}


def test_labels_of_ranges_are_on_every_bar(compiled):
    d, _, _ = run(compiled, pa_vote=1.0, flow_vote=1.0, profile_vote=1.0)       # 0.65
    assert d.labels == {"vix": "calm"}                                          # 0.65: no score label
    d, _, _ = run(compiled, pa_vote=1.0, flow_vote=1.0, profile_vote=1.0, delta_ratio=-0.5, vix=20.0)
    assert d.labels == {}
    d, _, _ = run(compiled, pa_vote=-1.0, flow_vote=-1.0, profile_vote=-1.0, delta_ratio=1.4)   # -1.25
    assert d.labels == {"score": "Défenseurs winning", "vix": "calm"}
    # exactly 0.3 (0.25 + 0.05 in float64 is 0.30000000000000004) is balanced: the tie tolerance
    d, _, _ = run(compiled, flow_vote=1.0)
    assert d.labels["score"] == "balanced"
    assert "  labels: score: balanced, vix: calm" in explain(d.to_json())


def test_mia_signals_rows_follow_the_sides(compiled):
    X = np.array([[{"close": 5000.0, "pa_vote": p, "flow_vote": p, "profile_vote": 0.0, "delta_ratio": 0.0,
                    "spread": 1.0, "vix": 14.0, "levels_age_min": 3.0, "atr": 2.0,
                    "call_resistance": 5002.0}.get(n, np.nan) for n in compiled.inputs] for p in (1.0, -1.0)])
    rows = firings(compiled, X, compiled.batch(X))
    assert [(f.row, f.rule, f.side) for f in rows] == [(0, "up", "long"), (0, "under_resistance", "long"),
                                                      (1, "down", "short")]
    assert rows[1].effect == "blocks long entries"


@pytest.mark.parametrize("body, message", [
    ("hard_rules:\n  - {name: h, when: close > 0, block: all, side: long}\n",
     "hard rule 'h' blocks all: it cannot stand against one side only"),
    ("hard_rules:\n  - {name: h, when: close > 0, block: entries, side: both}\n",
     "hard_rules[0].side must be one of long, short, got 'both'"),
    ("hard_rules:\n  - {name: h, when: close > 0, block: entries, reason: [ok, 3]}\n",
     "hard_rules[0].reason must be a string or a list of strings"),
    ("hard_rules:\n  - {name: h, when: close > 0, block: entries, reason: ['{clse}']}\n", "unknown name 'clse'"),
    ("labels:\n  scor: {high: close > 0}\n", "labels name an unknown feature 'scor'"),
    ("labels:\n  in_rth: {open: in_rth}\n", "labels name ranges of a number; in_rth is a boolean"),
    ("labels:\n  close: {high: close + 1}\n", "'the label's condition' must be a condition"),
    ("labels:\n  close: {}\n", "labels.close"),
])
def test_language_errors_are_said_at_their_place(tmp_path, body, message):
    (tmp_path / "r.yaml").write_text("version: 1\ninstrument: ES\n" + body)
    with pytest.raises(RuleError) as exc:
        load_rules([tmp_path])
    assert message in str(exc.value)


def test_labels_given_twice_are_an_error(tmp_path):
    (tmp_path / "a.yaml").write_text("version: 1\nlabels:\n  close: {high: close > 6000}\n")
    (tmp_path / "b.yaml").write_text("version: 1\nlabels:\n  close: {low: close < 5000}\n")
    with pytest.raises(RuleError) as exc:
        load_rules([tmp_path])
    assert "labels of close are already given at" in str(exc.value)
