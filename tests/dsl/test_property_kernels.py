"""The kernels against the reference oracle over the whole language: batch kernel == streaming
kernel == ``tests/oracles/reference.py``, output by output, row by row.

Two properties:
- random well-typed rule sets (a typed generator: every draw passes the checker) over random data,
  one compile per example;
- one fixed rule set that writes every construct of the language at least once, compiled once,
  over many random data sets (cheap: no compile per example).
The generator reaches every construct (``test_the_generator_reaches_the_whole_language`` checks it
on a few hundred draws): to_ticks, to_points, ticks_to, unary + and -, time literals and
time-of-day arithmetic (time +/- minutes, time - time), bool == / != bool, min/max of 2 to 4
arguments, clamp, between, ``if`` returning a number, a time or a condition, windows of literal
length up to 55 or from a param, history up to 40 bars, crosses, each level-set function on each
set, features reading features, hard rules with a size factor and reasons, sizing scale rules.
The data has NaN (missing), +-inf, zeros, ties, and rows long enough to fill every window.
"""
from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mia.dsl import catalog, compile_rules, load_rules
from mia.dsl.program import build_program
from oracles.reference import ReferenceEvaluator
from profiles import examples

LEVEL_MEMBERS = {m for s in catalog.LEVEL_SETS for m in s.members}
LEAVES = {
    "points": ["close", "open", "vwap", "high", "low", "put_support", "call_resistance", "blind_spot_3",
               "gamma_wall_0dte", "nearest(blind_spots)", "nearest(gamma_levels)", "above(gamma_levels)",
               "above(blind_spots)", "below(gamma_levels)", "below(blind_spots)", "LIT points", "p_points"],
    "ticks": ["spread", "LIT ticks", "p_ticks"],
    "1": ["delta_ratio", "pa_vote", "flow_vote", "vix", "dealers_bias", "LIT %"],
    None: ["LIT", "p_bare", "p_win"],
    "min": ["minutes_since_open", "levels_age_min", "LIT min", "p_min"],
    "time": ["time_of_day", "TIME", "p_time"],
}
CONDITIONS = ["in_rth", "golden_rule_intact", "true", "false"]
LITERALS = ["0", "0.25", "1", "2.5", "3", "0.1", "10", ".5", "1e3"]
TIMES = ["00:00", "09:30", "9:45", "10:30", "12:00", "15:59", "16:00", "23:59"]
WINDOWS = ["1", "2", "3", "5", "8", "13", "21", "34", "55", "p_win"]
NUMBER_UNITS = ["points", "ticks", "1", None, "min"]
COMPARABLE = ["points", "ticks", "1", None, "min", "time"]


class Chooser:
    """Where the generator's choices come from: hypothesis's ``draw`` (shrinkable) or a seeded
    ``random.Random`` (for the coverage check, which runs no kernel)."""

    def __init__(self, draw=None, rng: random.Random | None = None):
        self.draw, self.rng = draw, rng
        #: the constructs written so far (for the coverage check)
        self.used: set[str] = set()

    def pick(self, seq):
        seq = list(seq)
        return self.draw(st.sampled_from(seq)) if self.draw else self.rng.choice(seq)

    def int(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi)) if self.draw else self.rng.randint(lo, hi)


class Gen:
    """Typed expressions: ``num(unit, depth)``, ``time(depth)``, ``cond(depth)``. ``features``:
    unit (or "bool") -> names of derived features defined before, which an expression may read."""

    def __init__(self, ch: Chooser, features: dict | None = None):
        self.ch = ch
        self.features = features or {}

    def _leaf(self, unit) -> str:
        pick = self.ch.pick(LEAVES[unit] + self.features.get(unit, []))
        self.ch.used.add(f"leaf {pick.split('(')[0]}" if "(" in pick else
                         "feature" if pick in sum(self.features.values(), []) else f"leaf {pick}")
        if "(" in pick:
            self.ch.used.add(pick)                     # a level-set function on its set
        if pick == "TIME":
            return self.ch.pick(TIMES)
        return pick.replace("LIT", self.ch.pick(LITERALS))

    def num(self, unit, depth: int) -> str:
        if unit == "time":
            return self.time(depth)
        if depth <= 0 or self.ch.int(0, 3) == 0:
            return self._leaf(unit)
        d = depth - 1
        forms = ["add", "sub", "mulbare", "divbare", "neg", "pos", "abs", "minmax", "clamp", "window", "ema",
                 "hist", "if", "paren"]
        forms += {"ticks": ["to_ticks", "ticks_to"], "points": ["to_points"], "1": ["ratio"],
                  "min": ["timediff"]}.get(unit, [])
        form = self.ch.pick(forms)
        self.ch.used.add(f"{form} {unit}")
        a = lambda: self.num(unit, d)  # noqa: E731
        if form == "add":
            return f"{a()} + {a()}"
        if form == "sub":
            return f"{a()} - {a()}"
        if form == "mulbare":
            return self.ch.pick([f"({a()}) * {self.num(None, d)}", f"{self.num(None, d)} * ({a()})"])
        if form == "divbare":
            return f"({a()}) / ({self.num(None, d)})"
        if form == "neg":
            return f"-({a()})"
        if form == "pos":
            return f"+{a()}" if self.ch.int(0, 1) else f"+({a()})"
        if form == "abs":
            return f"abs({a()})"
        if form == "minmax":
            k = self.ch.int(2, 4)
            self.ch.used.add(f"minmax of {k}")
            return f"{self.ch.pick(['min', 'max'])}({', '.join(a() for _ in range(k))})"
        if form == "clamp":
            return f"clamp({a()}, {a()}, {a()})"
        if form == "window":
            fn, n = self.ch.pick(['sma', 'highest', 'lowest']), self.ch.pick(WINDOWS)
            self.ch.used.update({fn, f"window {n}"})
            return f"{fn}({a()}, {n})"
        if form == "ema":
            n = self.ch.pick(WINDOWS)
            self.ch.used.add(f"window {n}")
            return f"ema({a()}, {n})"
        if form == "hist":
            n = self.ch.pick([0, 1, 2, 3, 7, 15, 40])
            self.ch.used.add(f"history {n}")
            return f"({a()})[{n}]"
        if form == "if":
            return f"if({self.cond(d)}, {a()}, {a()})"
        if form == "paren":
            return f"({a()})"
        if form == "to_ticks":
            return f"to_ticks({self.num('points', d)})"
        if form == "ticks_to":
            return f"ticks_to({self.num('points', d)})"
        if form == "to_points":
            return f"to_points({self.num('ticks', d)})"
        if form == "ratio":
            u = self.ch.pick(["points", "ticks", "min"])
            return f"({self.num(u, d)}) / ({self.num(u, d)})"
        if form == "timediff":
            return f"({self.time(d)}) - ({self.time(d)})"
        raise AssertionError(form)

    def time(self, depth: int) -> str:
        if depth <= 0 or self.ch.int(0, 2) == 0:
            return self._leaf("time")
        d = depth - 1
        form = self.ch.pick(["plus", "plus_left", "minus", "if", "hist", "minmax"])
        self.ch.used.add(f"{form} time")
        if form == "plus":
            return f"{self.time(d)} + {self.num('min', d)}"
        if form == "plus_left":
            return f"{self.num('min', d)} + {self.time(d)}"
        if form == "minus":
            return f"{self.time(d)} - ({self.num('min', d)})"
        if form == "if":
            return f"if({self.cond(d)}, {self.time(d)}, {self.time(d)})"
        if form == "hist":
            return f"({self.time(d)})[{self.ch.pick([1, 2, 5])}]"
        return f"{self.ch.pick(['min', 'max'])}({self.time(d)}, {self.time(d)}, {self.time(d)})"

    def cond(self, depth: int) -> str:
        if depth <= 0 or self.ch.int(0, 3) == 0:
            pick = self.ch.pick(CONDITIONS + self.features.get("bool", []))
            self.ch.used.add("feature" if pick in self.features.get("bool", []) else f"leaf {pick}")
            return pick
        d = depth - 1
        form = self.ch.pick(["cmp", "cmp", "and", "or", "not", "between", "crosses", "hist", "eq", "ne",
                             "if", "paren"])
        unit = self.ch.pick(COMPARABLE)
        self.ch.used.add(f"{form} bool" if form not in ("cmp", "between", "crosses") else f"{form} {unit}")
        if form == "cmp":
            op = self.ch.pick(["<", "<=", ">", ">=", "==", "!="])
            self.ch.used.add(f"compare {op}")
            return f"{self.num(unit, d)} {op} {self.num(unit, d)}"
        if form == "and":
            return f"{self.cond(d)} and {self.cond(d)}"
        if form == "or":
            return f"{self.cond(d)} or {self.cond(d)}"
        if form == "not":
            return f"not ({self.cond(d)})"
        if form == "between":
            return f"between({self.num(unit, d)}, {self.num(unit, d)}, {self.num(unit, d)})"
        if form == "crosses":
            fn = self.ch.pick(['crosses_above', 'crosses_below'])
            self.ch.used.add(fn)
            return f"{fn}({self.num(unit, d)}, {self.num(unit, d)})"
        if form == "hist":
            return f"({self.cond(d)})[{self.ch.pick([1, 2, 3, 9])}]"
        if form == "eq":
            return f"({self.cond(d)}) == ({self.cond(d)})"
        if form == "ne":
            return f"({self.cond(d)}) != ({self.cond(d)})"
        if form == "if":
            return f"if({self.cond(d)}, {self.cond(d)}, {self.cond(d)})"
        return f"({self.cond(d)})"


def rule_set_text(ch: Chooser) -> str:
    """A rule set: params, features reading the features before them, signals, hard rules (a veto
    of both sides or one, and a size factor, with a reason or a reason list), labels of a derived
    feature's ranges and sizing scale rules."""
    features: dict = {}
    lines = ["version: 1", "instrument: ES", "params:", "  p_bare: 1.5", "  p_ticks: 3 ticks",
             "  p_points: 2 points", "  p_min: 15 min", "  p_time: '10:30'", f"  p_win: {ch.int(1, 30)}",
             "features:"]
    for k in range(ch.int(2, 4)):
        kind = ch.pick(["points", "ticks", "1", "min", "time", "bool"])
        gen = Gen(ch, features)
        text = gen.cond(2) if kind == "bool" else gen.num(kind, 2)
        name = f"f{k}_{'b' if kind == 'bool' else kind if kind != '1' else 'r'}"
        lines.append(f"  {name}: {text!r}")
        features.setdefault(kind, []).append(name)
    gen = Gen(ch, features)
    lines.append("signals:")
    for k in range(ch.int(1, 3)):
        lines += [f"  - name: s{k}", f"    when: {gen.cond(3)!r}", f"    side: {ch.pick(['long', 'short'])}"]
    side = ch.pick(["", "long", "short"])
    if side:
        ch.used.add(f"hard side {side}")
    reasons = ch.pick(["one", "list"])
    ch.used.add(f"reason {reasons}")
    block_reason = f"{{{gen.num('ticks', 2)}}} ticks, {{{gen.num('time', 1)}}}"
    block_reason = (f"'{block_reason}'" if reasons == "one"
                    else f"['{block_reason}', 'near {{{gen.num('points', 1)}}}', 'nothing to show']")
    lines += ["hard_rules:",
              "  - name: h_block", f"    when: {gen.cond(2)!r}", "    block: entries",
              *([f"    side: {side}"] if side else []),
              f"    reason: {block_reason}",
              "  - name: h_half", f"    when: {gen.cond(2)!r}", f"    size_factor: {ch.pick(['0', '0.5', '1'])}",
              f"    reason: 'near {{{gen.num('points', 1)}}}'"]
    named = [n for kind, names in features.items() if kind != "bool" for n in names]
    if named and ch.pick([True, False]):
        ch.used.add("labels")
        lines += ["labels:", f"  {ch.pick(named)}:"]
        lines += [f"    l{k}: {gen.cond(2)!r}" for k in range(ch.int(1, 3))]
    lines += ["sizing:", "  base: 2", "  scale:"]
    for k in range(ch.int(1, 2)):
        lines += [f"    - name: sc{k}", f"      when: {gen.cond(2)!r}", f"      factor: {ch.pick(['0.5', '1.5', '0'])}"]
    return "\n".join(lines) + "\n"


@st.composite
def rule_sets(draw) -> str:
    return rule_set_text(Chooser(draw=draw))


def make_data(rng: np.random.Generator, inputs: list[str], n: int, p_nan: float, p_inf: float) -> np.ndarray:
    """Columns by what they hold: prices on the tick grid with ties, levels near the price (often
    missing), small integers, votes, clock minutes around the open and the close; missing values
    and +-inf sprinkled in."""
    X = np.empty((n, len(inputs)))
    base = 100.0 + np.cumsum(rng.integers(-2, 3, size=n)) * 0.25
    for j, name in enumerate(inputs):
        f = catalog.BY_NAME[name]
        if f.kind == "bool":
            col = rng.integers(0, 2, size=n).astype(float)
        elif f.unit == "points":
            col = base + rng.integers(-8, 9, size=n) * 0.25
            if name in LEVEL_MEMBERS:
                col[rng.random(n) < 0.3] = np.nan
        elif f.unit == "ticks":
            col = rng.integers(0, 4, size=n).astype(float)
        elif f.unit == "time":
            col = rng.choice([0.0, 569.0, 570.0, 571.0, 615.0, 630.0, 959.0, 960.0, 1439.0], size=n)
        elif f.unit == "min":
            col = rng.choice([-15.0, 0.0, 1.0, 15.0, 30.0, 390.0], size=n)
        elif name == "vix":
            col = rng.choice([12.0, 15.0, 22.0, 35.0, 40.0], size=n)
        else:
            col = rng.choice([-1.0, 0.0, 1.0, 0.5, -0.25], size=n)
        col[rng.random(n) < p_nan] = np.nan
        if f.kind != "bool":
            hit = rng.random(n) < p_inf
            col[hit] = rng.choice([np.inf, -np.inf], size=int(hit.sum()))
        X[:, j] = col
    return X


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def assert_agree(rs, compiled, X: np.ndarray, where: str) -> None:
    """Batch == streaming == reference for every output on every row of ``X``."""
    OUT = compiled.batch(X)
    state = compiled.new_state()
    out = np.empty(len(compiled.outputs))
    ref = ReferenceEvaluator(build_program(rs))
    for i in range(X.shape[0]):
        compiled.stream(X[i].copy(), state, out)
        assert np.array_equal(out, OUT[i], equal_nan=True), (where, i)
        expected = ref.step({name: X[i, j] for j, name in enumerate(compiled.inputs)})
        for k, (o, v) in enumerate(zip(compiled.outputs, expected)):
            want = (1.0 if v else 0.0) if o.is_bool else float(v)
            assert _same(OUT[i, k], want), (where, i, o.name, OUT[i, k], want)


# ---- random rule sets ------------------------------------------------------------------------------

@settings(max_examples=examples(30))
@given(text=rule_sets(), seed=st.integers(0, 2**32 - 1), p_inf=st.sampled_from([0.0, 0.03]))
def test_random_rule_sets_agree_with_the_reference(tmp_path_factory, text, seed, p_inf):
    path = tmp_path_factory.mktemp("rules") / "r.yaml"
    path.write_text(text)
    rs = load_rules([path])
    compiled = compile_rules(rs)
    rng = np.random.default_rng(seed)
    for n in (1, 130):
        assert_agree(rs, compiled, make_data(rng, compiled.inputs, n, 0.12, p_inf), text)


# ---- the whole language in one rule set, over many data sets ----------------------------------------

EVERY_CONSTRUCT = """\
version: 1
instrument: ES
params:
  p_bare: 1.5
  p_ticks: 3 ticks
  p_points: 2 points
  p_min: 15 min
  p_time: '10:30'
  p_win: 13
features:
  f_mid: (high + low) / 2
  f_dist: to_ticks(close - f_mid)
  f_pts: to_points(spread + +p_ticks) - -0.25 points
  f_late: time_of_day - 09:30 >= p_min and time_of_day + 30 min < 16:00
  f_open_for: time_of_day - 9:30
  f_deadline: max(p_time, 09:45 + p_min, time_of_day - 5 min)
  f_same: in_rth == golden_rule_intact
  f_differ: (in_rth != golden_rule_intact) != f_late
  f_pick: if(f_late, in_rth, not golden_rule_intact)
  f_time_pick: if(in_rth, time_of_day, p_time)
  f_min3: min(close, open, vwap)
  f_max4: max(high, low, f_mid, close[1])
  f_clamp: clamp(close, low, high) - clamp(close, high, low)
  f_sma_p: sma(close, p_win)
  f_ema_p: ema(f_mid, p_win)
  f_hi55: highest(high, 55)
  f_lo34: lowest(low[3], 34)
  f_sma1: sma(close, 1) - close
  f_hist40: close[40] - close[0]
  f_cond_hist: f_late[7] or f_same[1]
  f_ratio: (close - low) / (high - low)
  f_pct: delta_ratio * 150% + abs(-dealers_bias)
  f_levels: nearest(gamma_levels) + above(blind_spots) - below(gamma_levels)
  f_levels2: ticks_to(nearest(blind_spots)) + ticks_to(above(gamma_levels)) - ticks_to(below(blind_spots))
  f_level_member: put_support - blind_spot_0
  f_crossed: crosses_above(f_sma_p, f_ema_p) or crosses_below(close, f_mid)
  f_within: between(close, below(gamma_levels), above(gamma_levels))
  f_minutes: minutes_since_open / p_min + levels_age_min / 60 min
  f_div0: (close - close) / (high - high) + p_ticks / (spread - spread) * p_bare
  f_vix: if(vix >= 22, vix / 10, -vix)
  f_chain: f_clamp + f_max4 - f_min3
signals:
  - {name: s_long, when: "crosses_above(close, f_sma_p) and not f_crossed[2]", side: long}
  - {name: s_short, when: "f_dist < -p_ticks or f_within == f_late", side: short, priority: 2}
hard_rules:
  - name: h_block
    when: f_differ and f_open_for > 0 min or ticks_to(nearest(blind_spots)) < p_ticks
    block: entries
    reason: "{f_dist} ticks from {nearest(blind_spots)} at {time_of_day}"
  - name: h_half
    when: f_pick != (f_levels > f_mid)
    size_factor: 0.5
    reason: "{f_levels2} ticks"
sizing:
  base: 2
  scale:
    - {name: sc_late, when: "time_of_day >= f_deadline", factor: 0.5}
    - {name: sc_vix, when: "f_vix < 0 or f_hist40 != f_hist40", factor: 0}
"""


@pytest.fixture(scope="module")
def every_construct(tmp_path_factory):
    path = tmp_path_factory.mktemp("every") / "every.yaml"
    path.write_text(EVERY_CONSTRUCT)
    rs = load_rules([path])
    return rs, compile_rules(rs)


@settings(max_examples=examples(80))
@given(seed=st.integers(0, 2**32 - 1), n=st.sampled_from([1, 2, 41, 140]),
       p_nan=st.sampled_from([0.0, 0.1, 0.5]), p_inf=st.sampled_from([0.0, 0.02, 0.2]))
@example(seed=0, n=140, p_nan=0.0, p_inf=0.0)
@example(seed=1, n=140, p_nan=0.5, p_inf=0.2)       # found the oracle taking an infinitely far level as nearest
def test_every_construct_agrees_with_the_reference(every_construct, seed, n, p_nan, p_inf):
    rs, compiled = every_construct
    X = make_data(np.random.default_rng(seed), compiled.inputs, n, p_nan, p_inf)
    assert_agree(rs, compiled, X, f"seed {seed}")


def test_the_fixed_rule_set_has_every_kind_of_output(every_construct):
    rs, _ = every_construct
    assert {o.kind for o in build_program(rs).outputs} >= {"feature", "signal", "hard_rule", "scale", "probe",
                                                           "reason"}


# ---- the generator reaches the whole language ------------------------------------------------------

def _every(prefix: str, items) -> set[str]:
    return {f"{prefix}{x}" for x in items}


#: every construct the generator must write (the names it records as it writes them)
CONSTRUCTS = (
    _every("leaf ", [x.split("(")[0] for u in LEAVES.values() for x in u] + CONDITIONS)
    | {f"{fn}({s.name})" for fn in ("nearest", "above", "below") for s in catalog.LEVEL_SETS}
    | _every("", ["to_ticks ticks", "ticks_to ticks", "to_points points", "ratio 1", "timediff min", "feature"])
    | {f"{form} {u}" for form in ("add", "sub", "mulbare", "divbare", "neg", "pos", "abs", "minmax", "clamp",
                                   "window", "ema", "hist", "if", "paren") for u in NUMBER_UNITS}
    | _every("", [f"{f} time" for f in ("plus", "plus_left", "minus", "if", "hist", "minmax")])
    | {f"{form} {u}" for form in ("cmp", "between", "crosses") for u in COMPARABLE}
    | _every("", [f"{f} bool" for f in ("and", "or", "not", "hist", "eq", "ne", "if", "paren")])
    | _every("compare ", ["<", "<=", ">", ">=", "==", "!="])
    | _every("minmax of ", [2, 3, 4]) | _every("window ", WINDOWS) | _every("history ", [0, 1, 2, 3, 7, 15, 40])
    | {"sma", "highest", "lowest", "crosses_above", "crosses_below"}
    | {"hard side long", "hard side short", "reason one", "reason list", "labels"}
)


def test_the_generator_reaches_the_whole_language():
    """Over a few hundred draws (no kernel compiled) every construct is written at least once:
    the random property above can reach each of them."""
    used: set[str] = set()
    for k in range(300):
        ch = Chooser(rng=random.Random(k))
        rule_set_text(ch)
        used |= ch.used
    assert not CONSTRUCTS - used, sorted(CONSTRUCTS - used)


@pytest.mark.parametrize("k", range(0, 300, 15))
def test_generated_rule_sets_pass_the_checker(tmp_path, k):
    path = tmp_path / "r.yaml"
    path.write_text(rule_set_text(Chooser(rng=random.Random(k))))
    load_rules([path])
