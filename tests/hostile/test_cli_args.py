"""Hostile command lines: one line and a clear exit status for every mistake, never a traceback,
never a silently wrong answer.

Stdout on a full disk or a closed pipe; `--csv` at a folder or in a folder that does not exist;
`--out ""` (it wrote into the current folder); costs out of bounds; `mia why` with a UTC offset
(accepted and ignored); `mia signals --data` CSVs with a byte order mark (every row skipped),
a column named twice (the last taken) or several CSVs ("not a Sierra Chart JSONL file"); rules
for one instrument over another's data (NQ tick values on ES prices, without a word).
"""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

import mia.backtest.driver
import mia.backtest.signals
from mia.cli import main
from mia.errors import MiaError

MIA = str(Path(sys.executable).parent / "mia")
RULES = Path(__file__).resolve().parents[2] / "rules"


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """20 simulated minutes of ES (symbol ESZ25_FUT_CME)."""
    out = tmp_path_factory.mktemp("day")
    assert main(["simulate", "--date", "2025-11-20", "--out", str(out), "--minutes", "20", "--seed", "4",
                 "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def run_folder(session, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "r"
    assert main(["backtest", "--data", str(session), "--out", str(out), "--no-progress", "--json"]) == 0
    return out


@pytest.fixture
def no_backtest(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("the backtest ran")

    monkeypatch.setattr(mia.backtest.driver, "backtest_days", boom)


@pytest.fixture
def no_signals(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("the signals ran")

    monkeypatch.setattr(mia.backtest.signals, "signals", boom)


# ---- stdout -------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [["schema"], ["features"], ["features", "--json"], ["check", str(RULES)],
                                  ["why", "09:45", "--run", "RUN"]])
def test_stdout_on_a_full_disk_is_one_line(args, run_folder):
    args = [str(run_folder) if a == "RUN" else a for a in args]
    with open("/dev/full", "w") as full:
        proc = subprocess.run([MIA, *args], stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr == "error: cannot write to standard output: No space left on device\n"


@pytest.mark.parametrize("args", [["schema"], ["features", "--json"]])
def test_stdout_to_a_closed_pipe_is_no_error(args):
    proc = subprocess.Popen([MIA, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()                                      # the reader is gone before mia writes
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0 and err == ""


# ---- files named on the command line ----------------------------------------------------------------

@pytest.mark.parametrize("target,message", [
    ("DIR", "{p}: error: is a folder; --csv needs a file name (e.g. {p}/firings.csv)"),
    ("DIR/missing/out.csv", "{p}: error: cannot write the CSV there: DIR/missing does not exist"),
    ("", "--csv '': error: needs a file name, e.g. --csv firings.csv"),
])
def test_csv_that_cannot_be_written_is_said_before_anything_runs(target, message, tmp_path, capsys, no_signals):
    target = target.replace("DIR", str(tmp_path))
    assert main(["signals", "--csv", target, "--quiet"]) == 1
    assert one_error_line(capsys) == message.format(p=target).replace("DIR", str(tmp_path))


def test_csv_write_failing_late_is_one_line_and_keeps_the_old_file(tmp_path, capsys, monkeypatch):
    """A full disk while the CSV is written: one line, and an earlier file of that name whole."""
    from mia.backtest import signals as sig

    out = tmp_path / "firings.csv"
    out.write_text("earlier\n")
    rep = sig.SignalsReport("x", True, ["09:31"], 1, [], [])

    class Full:
        def __init__(self, *a, **k):
            pass

        def writerow(self, row):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(sig.csv, "writer", Full)
    with pytest.raises(MiaError) as exc:
        sig.write_csv(str(out), rep)
    assert str(exc.value) == f"{out}: error: cannot write: No space left on device"
    assert out.read_text() == "earlier\n" and sorted(p.name for p in tmp_path.iterdir()) == ["firings.csv"]


@pytest.mark.parametrize("out", ["", ".", ".."])
def test_out_is_never_the_current_folder(out, tmp_path, capsys, monkeypatch, no_backtest):
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    assert main(["backtest", "--out", out, "--no-progress"]) == 1
    err = one_error_line(capsys)
    assert "error:" in err and ("needs a folder name" in err or "is the current folder" in err)
    assert list(here.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["here"]


def test_run_out_empty_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--out", "", "--quiet"]) == 1
    assert one_error_line(capsys) == "--out '': error: needs a folder name, e.g. --out runs/latest"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("flag,value", [("--slippage", "1e308"), ("--slippage", "inf"), ("--slippage", "nan"),
                                        ("--slippage", "-1"), ("--commission", "1e308"), ("--commission", "-inf")])
def test_costs_out_of_bounds(flag, value, tmp_path, capsys, no_backtest):
    assert main(["backtest", f"{flag}={value}", "--out", str(tmp_path / "o"), "--no-progress"]) == 1
    assert "error: must be a number from 0 to 1000" in one_error_line(capsys)


# ---- mia why: a time with its offset ----------------------------------------------------------------

def _why(run_folder, when, capsys) -> tuple[int, str]:
    rc = main(["why", when, "--run", str(run_folder)])
    out = capsys.readouterr()
    return rc, out.out if rc == 0 else out.err


@pytest.mark.parametrize("when", ["2025-11-20T14:45Z", "2025-11-20T14:45:30+00:00", "2025-11-20T15:45+01:00",
                                  "2025-11-20T09:45-05:00", "2025-11-20T08:45-0600"])
def test_why_honours_a_utc_offset(when, run_folder, capsys):
    rc, text = _why(run_folder, "2025-11-20 09:45", capsys)
    assert rc == 0 and text.startswith("2025-11-20T09:45:00-05:00")
    assert _why(run_folder, when, capsys) == (rc, text)


def test_why_with_an_offset_names_the_instant_it_means(run_folder, capsys):
    """10:41+01:00 is 04:41 in New York: no bar there (it used to answer for 10:41 New York)."""
    rc, err = _why(run_folder, "2025-11-20T09:45+01:00", capsys)
    assert rc == 1 and "no bar closed at 2025-11-20T09:45+01:00" in err and "Traceback" not in err
    rc, err = _why(run_folder, "2025-11-20T09:45+25:00", capsys)
    assert rc == 1 and err.strip() == "2025-11-20T09:45+25:00: error: not a valid UTC offset (+25:00)"


# ---- mia signals --data CSV ----------------------------------------------------------------------------

SIG_RULES = """\
version: 1
signals:
  - {name: up, when: close - vwap >= 1 points, side: long}
"""
CSV = "time,close,vwap\n09:31,101,100\n09:32,100,100\n09:33,102.5,100\n"


def _signals(tmp_path, capsys, *data: str) -> tuple[int, list, str]:
    (tmp_path / "r.yaml").write_text(SIG_RULES)
    out = tmp_path / "out.csv"
    rc = main(["signals", "--rules", str(tmp_path / "r.yaml"), "--data", *data, "--csv", str(out), "--quiet"])
    captured = capsys.readouterr()
    rows = [(r["time"], r["rule"]) for r in csv.DictReader(out.open())] if rc == 0 else []
    return rc, rows, captured.out + captured.err


def test_a_csv_with_a_byte_order_mark_reads_like_one_without(tmp_path, capsys):
    plain, bom = tmp_path / "plain.csv", tmp_path / "excel.csv"
    plain.write_text(CSV)
    bom.write_bytes(b"\xef\xbb\xbf" + CSV.replace("\n", "\r\n").encode())      # Excel's "CSV UTF-8"
    want = _signals(tmp_path, capsys, str(plain))
    assert want[:2] == (0, [("09:31", "up"), ("09:33", "up")])
    assert _signals(tmp_path, capsys, str(bom))[:2] == want[:2]


def test_a_column_named_twice_is_an_error(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("time,close,vwap,close\n09:31,101,100,90\n")
    rc, _, text = _signals(tmp_path, capsys, str(data))
    assert rc == 1 and text.strip() == f"{data}:1: error: column 'close' is named twice (columns 2 and 4)"


def test_several_csvs_are_one_series(tmp_path, capsys):
    a, b, both = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "both.csv"
    lines = CSV.splitlines()
    a.write_text("\n".join(lines[:3]) + "\n")
    b.write_text("time,vwap,close\n" + "09:33,100,102.5\n")                     # columns in another order
    both.write_text(CSV)
    rc, rows, _ = _signals(tmp_path, capsys, str(a), str(b))
    assert rc == 0 and rows == _signals(tmp_path, capsys, str(both))[1]
    b.write_text("time,close\n09:33,102.5\n")
    rc, _, text = _signals(tmp_path, capsys, str(a), str(b))
    assert rc == 1 and text.strip() == f"{b}: error: not the columns of {a}: lacks vwap"


def test_csvs_and_day_folders_are_not_mixed(tmp_path, capsys, session):
    data = tmp_path / "d.csv"
    data.write_text(CSV)
    rc, _, text = _signals(tmp_path, capsys, str(data), str(session))
    assert rc == 1 and "cannot be mixed" in text and "Sierra Chart JSONL" not in text


# ---- rules for one instrument over another's data ----------------------------------------------------------

def _rules_for(tmp_path, instrument: str, table: str | None = None) -> Path:
    rules = tmp_path / "strategy" / "rules"
    rules.mkdir(parents=True)
    for f in RULES.glob("*.yaml"):
        (rules / f.name).write_text(f.read_text().replace("instrument: ES", f"instrument: {instrument}"))
    if table is not None:
        (tmp_path / "strategy" / "config").mkdir()
        (tmp_path / "strategy" / "config" / "instruments.yaml").write_text(table)
    return rules


def test_nq_rules_over_es_data_are_refused(tmp_path, capsys, session):
    rules = _rules_for(tmp_path, "NQ")
    out = tmp_path / "o"
    assert main(["backtest", "--rules", str(rules), "--data", str(session), "--out", str(out), "--no-progress"]) == 1
    err = one_error_line(capsys)
    assert err.startswith("--data: error: the data trades ESZ25_FUT_CME (from 2025-11-20T09:30")
    assert "but the rules are for NQ, whose contracts are NQ{month}{yy}_FUT_CME" in err
    assert not out.exists()                                   # nothing written, not even the folder


def test_an_instrument_without_a_sierra_symbol_is_not_judged(tmp_path, capsys, session):
    """A user's table beside the rules: MYES has no sierra_symbol (and is not in the shipped one:
    the backtest takes its tick size from the rules' table)."""
    table = ("MYES:\n  tick_size: 0.25\n  tick_value: 12.5\nsessions:\n  trading_day_roll: 18:00 America/New_York\n"
             "  rth: 09:30-16:00 America/New_York\n")
    rules = _rules_for(tmp_path, "MYES", table)
    out = tmp_path / "o"
    assert main(["backtest", "--rules", str(rules), "--data", str(session), "--out", str(out), "--no-progress",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["bars"] == 20


def test_es_rules_over_es_data_run(tmp_path, capsys, session, run_folder):
    assert json.loads((run_folder / "summary.json").read_text())["bars"] == 20


def test_mia_run_refuses_nq_rules_over_es_data_and_signals_takes_a_users_contract(tmp_path, capsys, session):
    """The supervisor judges the data's symbol as the backtest does (status 1, one line); a contract
    only in the user's table (beside the rules) works in `mia signals` too."""
    rules = _rules_for(tmp_path, "NQ")
    cfg = tmp_path / "mia.yaml"
    cfg.write_text(f"mode: paper\njournal: {tmp_path}/j/journal.sqlite\ncontrol: {{socket: {tmp_path}/j/s}}\n"
                   f"out: {tmp_path}/run\n")
    assert main(["run", "--config", str(cfg), "--rules", str(rules), "--data", str(session), "--speed", "0",
                 "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "the data trades ESZ25_FUT_CME" in err and "rules are for NQ" in err and "Traceback" not in err
    table = ("MYES:\n  tick_size: 0.25\n  tick_value: 12.5\nsessions:\n  trading_day_roll: 18:00 America/New_York\n"
             "  rth: 09:30-16:00 America/New_York\n")
    mine = _rules_for(tmp_path / "mine", "MYES", table)
    assert main(["signals", "--rules", str(mine), "--data", str(session), "--quiet"]) == 0
    assert "20 rows" in capsys.readouterr().out


def test_mia_signals_refuses_nq_rules_over_es_data(tmp_path, capsys, session):
    """`mia signals` judges the data's symbol as the backtest and `mia run` do: NQ rules over ES
    data would print firings at NQ's tick size that look right."""
    rules = _rules_for(tmp_path, "NQ")
    out = tmp_path / "sig.csv"
    assert main(["signals", "--rules", str(rules), "--data", str(session), "--csv", str(out), "--quiet"]) == 1
    err = one_error_line(capsys)
    assert err.startswith("--data: error: the data trades ESZ25_FUT_CME") and "rules are for NQ" in err
    assert not out.exists()
