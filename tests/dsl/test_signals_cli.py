"""`mia signals` over a CSV: which rows fire, which hard rules stand against them, the CSV output."""
from __future__ import annotations

import csv

import pytest

from mia.cli import main

RULES = """\
version: 1
instrument: ES
params:
  min_gap: 1 points
signals:
  - name: above_vwap
    when: close - vwap >= min_gap
    side: long
  - name: below_vwap
    when: vwap - close >= min_gap
    side: short
hard_rules:
  - name: blind_spot
    when: ticks_to(nearest(blind_spots)) <= 4 ticks
    block: entries
    reason: "{ticks_to(nearest(blind_spots))} ticks from {nearest(blind_spots)}"
  - name: wide
    when: spread > 2 ticks
    size_factor: 0.5
"""

DATA = """\
time,close,vwap,spread,blind_spot_0,blind_spot_1
09:31,101.00,100.00,1,,
09:32,100.50,100.00,1,,
09:33,98.00,100.00,3,98.75,120
09:34,102.00,100.00,1,101.50,
09:35,abc,100.00,1,,
"""


@pytest.fixture
def files(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    data = tmp_path / "day.csv"
    data.write_text(DATA)
    return rules, data, tmp_path / "out.csv"


def test_rows_and_csv(files, capsys):
    rules, data, out = files
    assert main(["signals", "--rules", str(rules), "--data", str(data), "--csv", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    got = [(r["time"], r["rule"], r["kind"], r["side"]) for r in rows]
    assert got == [
        ("09:31", "above_vwap", "signal", "long"),
        ("09:33", "below_vwap", "signal", "short"),
        ("09:33", "blind_spot", "hard_rule", "short"),   # 98.75 is 3 ticks from 98.00
        ("09:33", "wide", "hard_rule", "short"),
        ("09:34", "above_vwap", "signal", "long"),
        ("09:34", "blind_spot", "hard_rule", "long"),    # 2 ticks
    ]
    assert rows[0]["values"] == "close=101 vwap=100 min_gap=1"
    assert rows[2]["reason"] == "3 ticks from 98.75"
    assert rows[2]["effect"] == "blocks entries"
    assert rows[3]["effect"] == "size x0.5"
    captured = capsys.readouterr()
    assert "4 rows; signals fired: above_vwap 2, below_vwap 1" in captured.out
    assert "day.csv:6: column 'close': 'abc' is not a number" in captured.err


def test_missing_column_is_a_clear_error(files, tmp_path, capsys):
    rules, _, _ = files
    data = tmp_path / "thin.csv"
    data.write_text("time,close\n09:31,100\n")
    assert main(["signals", "--rules", str(rules), "--data", str(data)]) == 1
    err = capsys.readouterr().err
    assert "thin.csv: error: the rules need columns missing from the data" in err
    assert "vwap" in err and "spread" in err and "blind_spots (columns blind_spot_0..blind_spot_9)" in err
    assert "Traceback" not in err


def test_missing_data_file(files, tmp_path, capsys):
    rules, _, _ = files
    assert main(["signals", "--rules", str(rules), "--data", str(tmp_path / "nope.csv")]) == 1
    assert "nope.csv: error: no such file" in capsys.readouterr().err


def test_check_default_rules_pass(capsys):
    assert main(["check"]) == 0
    assert "ok:" in capsys.readouterr().out
