"""A catalogue of broken rule files: each must fail with its own `path:line:col: error:` message.

Every case is (name, file text, line, column, a fragment of the message). Lines and columns are
1-based and were counted by hand from the text; `mia check` must print exactly that place, the
source line and a caret under the column, exit 1, and never show a traceback.
"""
from __future__ import annotations

import pytest

from mia.cli import main
from mia.dsl import RuleError, load_rules

H = "version: 1\ninstrument: ES\n"          # two lines of header: cases below start at line 3

CASES = [
    ("yaml_syntax", "version: 1\n  bad: indent\n", 2, 6, "YAML syntax: mapping values are not allowed here"),
    ("tab_indent", "version: 1\nparams:\n\tx: 1\n", 3, 1, "YAML syntax"),
    ("duplicate_key", H + "params:\n  a: 1\n  a: 2\n", 5, 3, "duplicate key 'a' (first defined at line 4)"),
    ("unknown_top_key", H + "signal:\n  - name: x\n", 3, 1, "unknown key 'signal' in the file (did you mean 'signals'?)"),
    ("missing_version", "instrument: ES\nparams: {a: 1}\n", 1, 1, "missing the required key 'version'"),
    ("wrong_version", "version: 2\n", 1, 10, "version must be 1, got 2"),
    ("bad_instrument", "version: 1\ninstrument: SPX\n", 2, 13, "instrument must be one of ES, NQ, MES, MNQ"),
    ("signal_missing_side", H + "signals:\n  - name: s\n    when: close > vwap\n", 4, 5,
     "signals[0] is missing the required key 'side'"),
    ("signal_bad_side", H + "signals:\n  - name: s\n    when: close > vwap\n    side: buy\n", 6, 11,
     "signals[0].side must be one of long, short"),
    ("unknown_name", H + "signals:\n  - name: s\n    when: close > vwapp\n    side: long\n", 5, 19,
     "unknown name 'vwapp' (did you mean 'vwap'?)"),
    ("unknown_function", H + "features:\n  f: smaa(close, 3)\n", 4, 6, "unknown function 'smaa' (did you mean 'sma'?)"),
    ("wrong_arity", H + "features:\n  f: clamp(close, 1)\n", 4, 6, "clamp() takes 3 arguments, got 2"),
    ("when_not_condition", H + "signals:\n  - name: s\n    when: close + 1\n    side: long\n", 5, 11,
     "'when' must be a condition (true or false), but this is a number in points"),
    ("condition_in_arithmetic", H + "features:\n  f: in_rth + 1\n", 4, 6, "'+' needs numbers, got a boolean"),
    ("ticks_plus_points", H + "features:\n  f: spread + close\n", 4, 13,
     "cannot add ticks and points; convert with to_ticks(x) or to_points(x)"),
    ("usd_vs_ticks", H + "params:\n  cap: 500 USD\nfeatures:\n  f: spread > cap\n", 6, 13,
     "cannot compare ticks and USD"),
    ("ratio_vs_ticks", H + "features:\n  f: delta_ratio > 2 ticks\n", 4, 18,
     "cannot compare no unit (a ratio) and ticks"),
    ("threshold_wrong_unit", H + "params:\n  blind_spot_ticks: 5 points\nhard_rules:\n  - name: b\n"
     "    when: ticks_to(nearest(blind_spots)) <= blind_spot_ticks\n    block: entries\n", 7, 42,
     "cannot compare ticks and points"),
    ("feature_cycle", H + "features:\n  a: b + 1\n  b: a * 2\n", 4, 3, "derived features form a cycle: a -> b -> a"),
    ("duplicate_name", H + "params:\n  x: 1\nfeatures:\n  x: close\n", 6, 3,
     "feature 'x' is already defined as a param at"),
    ("shadows_builtin", H + "params:\n  close: 1\n", 4, 3, "param 'close' has the name of a built-in feature"),
    ("both_block_and_factor", H + "hard_rules:\n  - name: h\n    when: spread > 2 ticks\n    block: entries\n"
     "    size_factor: 0.5\n", 4, 5, "needs exactly one of 'block' (a veto) or 'size_factor'"),
    ("neither_block_nor_factor", H + "hard_rules:\n  - name: h\n    when: spread > 2 ticks\n", 4, 5,
     "needs exactly one of 'block' (a veto) or 'size_factor'"),
    ("size_factor_above_one", H + "hard_rules:\n  - name: h\n    when: spread > 2 ticks\n    size_factor: 1.5\n",
     6, 18, "size_factor must be at most 1, got 1.5"),
    ("unknown_unit", H + "params:\n  p: 5 tiks\n", 4, 8, "unknown unit 'tiks' (did you mean 'ticks'?)"),
    ("single_equals", H + "features:\n  f: close = vwap\n", 4, 12, "unexpected character '=' (use '==' to compare)"),
    ("chained_comparison", H + "features:\n  f: vwap_dn1 < close < vwap_up1\n", 4, 23, "comparisons cannot be chained"),
    ("unexpected_end", H + "features:\n  f: close +\n", 4, 13, "unexpected end of expression"),
    ("fractional_history", H + "features:\n  f: close[1.5]\n", 4, 12, "history index must be a whole number of bars"),
    ("window_not_integer", H + "features:\n  f: sma(close, 2.5)\n", 4, 17, "sma() needs a window of 1 to 10000 bars"),
    ("levels_as_number", H + "features:\n  f: blind_spots + 1\n", 4, 6, "a level set is not a number"),
    ("nearest_of_number", H + "features:\n  f: nearest(close)\n", 4, 14, "nearest() needs a level set"),
    ("daily_loss_in_ticks", "version: 1\nrisk:\n  daily_loss: 40 ticks\n", 3, 15, "risk.daily_loss must be in USD, got ticks"),
    ("stop_in_usd", "version: 1\nexits:\n  stop: 100 USD\n", 3, 9, "exits.stop must be in ticks or points, got USD"),
    ("take_profit_in_usd", "version: 1\nexits:\n  take_profit: 200 USD\n", 3, 16,
     "exits.take_profit must be in R or ticks or points, got USD"),
    ("bad_trading_hours", "version: 1\nrisk:\n  trading_hours: from 9 to 4\n", 3, 18, "trading_hours must look like"),
    ("unknown_zone", "version: 1\nrisk:\n  trading_hours: 09:30-16:00 Mars/Olympus\n", 3, 18, "unknown time zone 'Mars/Olympus'"),
    ("bad_time_of_day", H + "features:\n  f: between(time_of_day, 09:30, 25:00)\n", 4, 34, "'25:00' is not a time of day"),
    ("error_in_folded_expression", H + "features:\n  f: >-\n    close + vwap\n    + spread\n", 6, 5,
     "cannot add points and ticks"),
    ("error_in_reason_template", H + "hard_rules:\n  - name: h\n    when: spread > 2 ticks\n    block: entries\n"
     "    reason: \"spread is {sprd} ticks\"\n", 7, 25, "unknown name 'sprd' (did you mean 'spread'?)"),
    ("flow_mapping_comma", H + "signals:\n  - {name: s, when: crosses_above(close, vwap), side: long}\n", 4, 42,
     "put the expression in quotes"),
]


def _write(tmp_path, name, text):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("name,text,line,col,fragment", CASES, ids=[c[0] for c in CASES])
def test_broken_file(tmp_path, capsys, name, text, line, col, fragment):
    path = _write(tmp_path, name, text)
    with pytest.raises(RuleError) as info:
        load_rules([path])
    places = [(d.pos.line, d.pos.col, d.message) for d in info.value.diagnostics]
    assert any((ln, c) == (line, col) and fragment in msg for ln, c, msg in places), places
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    head = f"{path}:{line}:{col}: error: "
    assert head in err
    assert "Traceback" not in err
    # the source line and a caret under the column follow the message
    lines = err.splitlines()
    i = next(k for k, ln in enumerate(lines) if ln.startswith(head))
    source = text.splitlines()[line - 1]
    assert lines[i + 1] == "    " + source.expandtabs(1)
    assert lines[i + 2] == "    " + " " * (col - 1) + "^"


def test_catalogue_is_large_enough():
    assert len(CASES) >= 35


def test_several_errors_are_all_reported_in_order(tmp_path):
    path = _write(tmp_path, "multi", H + "features:\n  f: closee\n  g: spread + close\nsignals:\n"
                  "  - name: s\n    when: f > 1\n    side: long\n")
    with pytest.raises(RuleError) as info:
        load_rules([path])
    got = [(d.pos.line, d.pos.col) for d in info.value.diagnostics]
    assert got == [(4, 6), (5, 13)]
    assert str(info.value).endswith("2 errors")


def test_duplicate_name_across_files_names_both_places(tmp_path):
    a = _write(tmp_path, "a", H + "params:\n  limit: 1\n")
    _write(tmp_path, "b", "version: 1\nfeatures:\n  limit: close\n")
    with pytest.raises(RuleError) as info:
        load_rules([tmp_path])
    (d,) = info.value.diagnostics
    assert (d.pos.path, d.pos.line, d.pos.col) == (str(tmp_path / "b.yaml"), 3, 3)
    assert f"already defined as a param at {a}:4:3" in d.message


def test_conflicting_instruments_across_files(tmp_path):
    _write(tmp_path, "a", "version: 1\ninstrument: ES\n")
    _write(tmp_path, "b", "version: 1\ninstrument: NQ\n")
    with pytest.raises(RuleError) as info:
        load_rules([tmp_path])
    assert "instrument NQ conflicts with ES set at" in str(info.value)


@pytest.mark.parametrize("content,fragment", [
    (b"", "empty rule file"),
    (b"\x00\x01\x02garbage\xff", "not a text file"),
    (b"version: 1\nparams:\n  x: \xe9t\xe9\n", "not valid UTF-8"),
    (b"# only a comment\n", "empty rule file"),
    (b"version: 1\n---\nversion: 1\n", "one YAML document per rule file"),
])
def test_unreadable_files(tmp_path, capsys, content, fragment):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:" in err and fragment in err and "Traceback" not in err


def test_missing_path_and_empty_folder(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.yaml")]) == 1
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["check", str(tmp_path)]) == 1
    assert "no rule files (*.yaml) in this folder" in capsys.readouterr().err
