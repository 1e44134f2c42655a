"""Hostile data folders (issue 10): the same data given twice (the same path twice, a symlink, a
hard link, a file beside its folder, a backup copy of a day folder), impossible dates in file
names, names in another case, empty day folders, and `mia simulate --out` over real recordings.
The same data is read once or refused in one line naming both copies; nothing is dropped
silently; nothing raises a traceback."""
from __future__ import annotations

import os
import shutil

import pytest

from hostile_data import DAY, T0, copy_day, every_path, sim_day, trade, write
from mia.cli import main
from mia.market.days import DataPathError, scan_days
from mia.market.replay import inspect, replay
from mia.market.tail import Tail


@pytest.fixture(scope="module")
def day5(tmp_path_factory):
    return sim_day(tmp_path_factory.mktemp("clean5"), minutes=5)


def events(paths):
    return [(e.t, e.type, e.chart) for e in replay(paths)]


# ---- the same data twice -----------------------------------------------------------------------------

def test_the_same_path_a_symlink_a_hard_link_or_a_file_beside_its_folder_is_read_once(day5, tmp_path):
    once = events([day5])
    assert events([day5, day5]) == once                                    # --data base base
    link = tmp_path / "link"
    link.symlink_to(day5, target_is_directory=True)
    assert events([day5, link]) == once                                     # a symlink to the folder
    trades = day5 / f"chart_3_trade_{DAY}.jsonl"
    assert events([day5, trades]) == once                                   # a file beside its folder
    hard = tmp_path / "hard"
    hard.mkdir()
    os.link(trades, hard / trades.name)
    assert events([day5, hard]) == once                                     # a hard link
    every_path([day5, day5], tmp_path, chunks=(1 << 20,))


@pytest.mark.parametrize("copy", ["20251120_old", "backup/20251120", "20251120 (copy)"])
def test_a_copy_of_a_day_folder_inside_the_data_is_refused_naming_both(day5, tmp_path, copy, capsys):
    root = tmp_path / "data"
    copy_day(day5, root / DAY)
    copy_day(day5, root / copy)
    with pytest.raises(DataPathError) as info:
        list(replay([root]))
    message = str(info.value)
    assert "\n" not in message and "holds the same data as" in message
    assert str(root / DAY) in message and str(root / copy) in message
    assert main(["backtest", "--data", str(root), "--out", str(tmp_path / "run"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds the same data as" in err and "Traceback" not in err


def test_two_folders_given_with_the_same_day_are_refused(day5, tmp_path):
    other = copy_day(day5, tmp_path / "other" / DAY)
    with pytest.raises(DataPathError, match="holds the same data as"):
        scan_days([day5, other])


def test_the_live_tail_reads_one_of_two_copies_and_says_so_once(day5, tmp_path):
    root = tmp_path / "live"
    copy_day(day5, root / DAY)
    copy_day(day5, root / "20251120_old")
    tail = Tail(root)
    got = tail.poll()
    assert [(e.t, e.type) for e in got] == [(t, typ) for t, typ, _ in events([day5])]
    assert tail.poll() == []
    assert len([w for w in tail.warnings if "holds the same data as" in w]) == len(list(day5.glob("chart_*")))


# ---- names -------------------------------------------------------------------------------------------

def test_an_impossible_date_in_a_file_name_is_reported_not_a_traceback(day5, tmp_path, capsys, caplog):
    """Issue 10: a file named 20250230 crashed --from / --to."""
    root = tmp_path / "data"
    copy_day(day5, root / DAY)
    bad = write(root / "20250230", "chart_3_trade_20250230.jsonl", trade(T0, 5000.0))
    write(root / "20251320", "chart_3_trade_20251320.jsonl", trade(T0, 5000.0))
    notes = []
    assert list(scan_days([root], notes=notes)) == [DAY]
    assert any(str(bad) in n and "20250230 does not exist" in n for n in notes)
    assert main(["backtest", "--data", str(root), "--from", "2025-11-01", "--to", "2025-12-01", "--out",
                 str(tmp_path / "run"), "--no-progress", "--no-cache"]) == 0
    assert any("20250230 does not exist" in r.getMessage() for r in caplog.records)
    assert main(["data", "inspect", str(bad)]) == 1
    assert "error: its date 20250230 does not exist" in capsys.readouterr().err


def test_files_named_in_another_case_are_reported(day5, tmp_path, capsys):
    root = copy_day(day5, tmp_path / DAY)
    upper = root / f"Chart_3_Trade_{DAY}.JSONL"
    (root / f"chart_3_trade_{DAY}.jsonl").rename(upper)
    other = write(root, "notes.jsonl", "{}\n")
    info = inspect([root])
    assert "trade" not in info["types"]
    assert any(str(upper) in n and "not in lower case" in n for n in info["notes"])
    assert any(str(other) in n for n in info["notes"])
    assert main(["data", "inspect", str(root)]) == 0
    err = capsys.readouterr().err
    assert f"warning: {upper}: ignored: the name is not in lower case" in err


def test_empty_day_folders_are_not_a_silent_table_of_zeros(tmp_path, capsys, caplog):
    root = tmp_path / "data"
    for day in ("20251119", "20251120"):
        write(root / day, f"chart_3_trade_{day}.jsonl", "")
    write(root / "20251121", "chart_3_trade_20251121.jsonl", "garbage\n")
    info = inspect([root])
    assert info["types"] == {}
    assert sum("no events" in n for n in info["notes"]) == 3
    assert main(["data", "inspect", str(root)]) == 0
    captured = capsys.readouterr()
    assert "no events in the data" in captured.out
    assert captured.err.count("warning: ") == 3 and "they are empty" in captured.err
    caplog.clear()
    assert main(["backtest", "--data", str(root), "--out", str(tmp_path / "run"), "--no-progress",
                 "--no-cache"]) == 0
    assert sum("no events in its" in r.getMessage() for r in caplog.records) == 3
    # outside pytest's log capture the warnings are on stderr
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-c", "import sys; from mia.cli import main; sys.exit(main())",
                           "data", "inspect", str(root / "20251121"), "--json"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and proc.stderr.count("warning: ") == 1 and "every line is bad" in proc.stderr


# ---- mia simulate over real data -----------------------------------------------------------------------

def test_simulate_refuses_a_folder_of_other_data_unless_forced(tmp_path, capsys):
    """Issue 10: `mia simulate --out` wrote over real recordings of that date."""
    real = write(tmp_path / "rec", f"chart_3_trade_{DAY}.jsonl", trade(T0, 5000.0))
    before = real.read_bytes()
    args = ["simulate", "--date", "2025-11-20", "--minutes", "2", "--quiet", "--out", str(tmp_path / "rec")]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds files mia simulate did not write" in err and real.name in err
    assert real.read_bytes() == before
    assert main(args + ["--force"]) == 0 and real.read_bytes() != before
    fresh = ["simulate", "--date", "2025-11-20", "--minutes", "2", "--quiet", "--out", str(tmp_path / "new")]
    assert main(fresh) == 0
    assert main(fresh) == 0                                  # its own files: written again
    assert main(fresh[:-1] + [str(real)]) == 1               # a file, not a folder
    assert "not a folder" in capsys.readouterr().err
    shutil.rmtree(tmp_path / "new")
