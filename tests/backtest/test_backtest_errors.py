"""`mia backtest` and `mia why` on mistakes and odd data: one clear line and exit 1, never a traceback;
a session whose trade prints stop runs to the end."""
from __future__ import annotations

import json

import pytest

import mia.backtest.driver
from mia.cli import main


@pytest.fixture(scope="module")
def gap_session(tmp_path_factory):
    """30 simulated minutes whose trade file stops after its first 5000 prints."""
    out = tmp_path_factory.mktemp("gap")
    assert main(["simulate", "--date", "2025-11-20", "--out", str(out), "--minutes", "30", "--seed", "3",
                 "--quiet"]) == 0
    (trades,) = out.glob("chart_3_trade_*.jsonl")
    lines = trades.read_text().splitlines(keepends=True)
    trades.write_text("".join(lines[:5000]))
    return out


def test_a_session_whose_trades_stop_runs_to_the_end(gap_session, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MIA_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "r"
    assert main(["backtest", "--data", str(gap_session), "--out", str(out), "--no-progress", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    records = [json.loads(x) for x in (out / "decisions.jsonl").read_text().splitlines()]
    bars = [r for r in records if "kind" not in r]
    assert len(bars) == summary["bars"] == 30
    working = [r for r in bars if r["action"] == "entry working"]
    cancels = [r for r in records if r.get("kind") == "order" and r["action"] == "cancelled"]
    assert working and cancels
    assert {r["why"] for r in cancels} <= {"not filled by the close of the next bar", "end of data"}
    assert summary["entries_cancelled_by_reason"].get("not filled by the close of the next bar", 0) >= 1
    # `mia why` at such a minute tells the working entry and its cancel
    hhmm = cancels[0]["time"][11:16]
    assert main(["why", hhmm, "--run", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"entry {cancels[0]['order']}" in text and "cancelled: not filled by the close of the next bar" in text


@pytest.fixture
def no_run(monkeypatch):
    """Fail the test if the backtest would start: argument mistakes are said before it runs."""
    def boom(*a, **k):
        raise AssertionError("the backtest ran")

    monkeypatch.setattr(mia.backtest.driver, "backtest_days", boom)


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


def test_out_that_cannot_be_a_folder(tmp_path, capsys, no_run):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["backtest", "--out", str(f), "--no-progress"]) == 1
    assert one_error_line(capsys) == f"{f}: error: exists and is not a folder (--out needs a folder)"
    assert main(["backtest", "--out", str(f / "x"), "--no-progress"]) == 1
    assert one_error_line(capsys).startswith(f"{f / 'x'}: error: cannot create the output folder: ")


def test_out_under_proc(capsys, no_run, tmp_path):
    import os

    if not os.path.isdir("/proc/self"):
        pytest.skip("no /proc here")
    assert main(["backtest", "--out", "/proc/x", "--no-progress"]) == 1
    assert one_error_line(capsys).startswith("/proc/x: error: cannot create the output folder: ")


@pytest.mark.parametrize("flag,value,shown,unit", [
    ("--slippage", "-3", "-3", "ticks"), ("--commission", "-0.5", "-0.5", "USD per contract"),
    ("--slippage", "1e308", "1e+308", "ticks"), ("--slippage", "1001", "1001", "ticks"),
    ("--slippage", "nan", "nan", "ticks"), ("--commission", "inf", "inf", "USD per contract")])
def test_costs_out_of_bounds_are_refused_before_the_run(flag, value, shown, unit, tmp_path, capsys, no_run):
    """--slippage 1e308 gave negative prices and -Infinity in summary.json: the costs are bounded
    as in config/mia.yaml's broker (0 to 1000)."""
    assert main(["backtest", flag, value, "--out", str(tmp_path / "o"), "--no-progress"]) == 1
    assert one_error_line(capsys) == f"{flag} {shown}: error: must be a number from 0 to 1000 {unit}"
    assert not (tmp_path / "o").exists()


def test_an_os_error_writing_an_output_is_one_line(tmp_path, monkeypatch):
    from mia.runtime import runfolder as report
    from mia.errors import MiaError

    def denied(path, trades):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(report, "plot_equity", denied)
    with pytest.raises(MiaError) as exc:
        report.write_outputs(tmp_path / "o", [], [], report.summarize([], [], 0))
    assert str(exc.value) == f"{tmp_path / 'o' / 'equity.png'}: error: cannot write: Permission denied"
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "trades.csv").mkdir()
    with pytest.raises(MiaError, match=r"trades.csv: error: is a folder"):
        report.prepare_out(tmp_path / "p")


def write_run(tmp_path, lines: list[str]):
    run = tmp_path / "run"
    run.mkdir()
    (run / "decisions.jsonl").write_text("".join(line + "\n" for line in lines))
    return run


GOOD = json.dumps({"t": 1.0, "time": "2025-11-20T09:45:00-05:00", "action": "none", "fired": [],
                   "chosen": None, "vetoes": [], "scales": [], "gate": "ACTIVE", "limit": "", "detail": "",
                   "size": 0, "intent": None})


@pytest.mark.parametrize("bad,message", [
    ("{not json", "not a JSON record"),
    ("[1, 2]", "a record must be a JSON object, got list"),
    ('{"action": "none"}', 'the record has no "time"'),
])
def test_why_on_a_broken_decisions_file_names_the_line(bad, message, tmp_path, capsys):
    run = write_run(tmp_path, [GOOD, bad])
    assert main(["why", "09:45", "--run", str(run)]) == 1
    err = one_error_line(capsys)
    assert err.startswith(f"{run / 'decisions.jsonl'}:2: error: {message}")


def test_why_on_a_record_missing_its_fields_names_the_line(tmp_path, capsys):
    run = write_run(tmp_path, [GOOD, '{"time": "2025-11-20T09:45:00-05:00"}'])
    assert main(["why", "09:45", "--run", str(run)]) == 1
    assert one_error_line(capsys).startswith(f"{run / 'decisions.jsonl'}:2: error: not a bar record")


@pytest.mark.parametrize("when", ["25:99", "24:00", "10:60", "2025-13-01 10:00", "tomorrow", "2025-11-20"])
def test_why_says_a_time_is_not_valid(when, tmp_path, capsys):
    run = write_run(tmp_path, [GOOD])
    assert main(["why", when, "--run", str(run)]) == 1
    err = one_error_line(capsys)
    assert err.startswith(f"{when}: error: not a valid"), err
    assert "no bar closed" not in err


def test_why_still_finds_a_good_time_in_each_form(tmp_path, capsys):
    run = write_run(tmp_path, [GOOD])
    for when in ("09:45", "9:45", "2025-11-20 09:45", "2025-11-20T09:45:00-05:00"):
        assert main(["why", when, "--run", str(run)]) == 0
        assert capsys.readouterr().out.startswith("2025-11-20T09:45:00-05:00: none")
    assert main(["why", "09:46", "--run", str(run)]) == 1
    assert "no bar closed at 09:46" in capsys.readouterr().err
