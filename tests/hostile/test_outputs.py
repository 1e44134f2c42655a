"""A run folder is replaced whole or not at all: a full disk at any step of writing it, or a
SIGKILL at any instant of `mia backtest --out DIR`, leaves DIR the previous run, byte for byte,
or the new one, whole; never the new trades.csv beside the old summary.json. And what is written
is well-formed: summary.json strict JSON (no NaN, no Infinity), trades.csv times in ISO and epoch
to the millisecond, decisions.jsonl citing rules the same whatever folder mia ran in.
"""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from mia.cli import main
from mia.runtime import runfolder

MIA = str(Path(sys.executable).parent / "mia")
RULES = Path(__file__).resolve().parents[2] / "rules"
FILES = ("trades.csv", "decisions.jsonl", "summary.json", "equity.png")


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    out = tmp_path_factory.mktemp("day")
    assert main(["simulate", "--date", "2025-11-20", "--out", str(out), "--minutes", "45", "--seed", "5",
                 "--quiet"]) == 0
    return out


def contents(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in FILES if (folder / name).exists()}


@pytest.fixture(scope="module")
def runs(session, tmp_path_factory):
    """The previous run (slippage 3) and the new one (slippage 1): their bytes differ."""
    base = tmp_path_factory.mktemp("runs")
    got = {}
    for name, slip in (("old", "3"), ("new", "1")):
        assert main(["backtest", "--data", str(session), "--out", str(base / name), "--slippage", slip,
                     "--no-progress", "--json"]) == 0
        got[name] = contents(base / name)
    assert got["old"]["trades.csv"] != got["new"]["trades.csv"] and set(got["old"]) == set(FILES)
    return got


def previous_run(tmp_path, runs) -> Path:
    out = tmp_path / "latest"
    out.mkdir()
    for name, data in runs["old"].items():
        (out / name).write_bytes(data)
    return out


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}."))


# ---- a full disk at every step --------------------------------------------------------------------

class FullAfter:
    """A file that takes ``budget`` bytes, then says the disk is full."""

    def __init__(self, fh, budget: int):
        self.fh, self.budget = fh, budget

    def write(self, data):
        self.budget -= len(data)
        if self.budget < 0:
            raise OSError(28, "No space left on device")
        return self.fh.write(data)

    def __getattr__(self, name):
        return getattr(self.fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()


def _full_disk(monkeypatch, step: str) -> str:
    """Make the disk fill up at ``step``; returns the output file the error names."""
    real_open = open
    if step in ("decisions.jsonl", "trades.csv"):
        def fake_open(path, mode="r", *a, **k):
            fh = real_open(path, mode, *a, **k)
            return FullAfter(fh, 2000 if step == "decisions.jsonl" else 50) if Path(path).name == step else fh
        monkeypatch.setattr(runfolder, "open", fake_open, raising=False)
    elif step == "equity.png":
        def plot(path, trades):
            Path(path).write_bytes(b"\x89PNG half")
            raise OSError(28, "No space left on device")
        monkeypatch.setattr(runfolder, "plot_equity", plot)
    elif step == "summary.json":
        real = Path.write_text

        def write_text(self, text, *a, **k):
            if self.name == "summary.json":
                real(self, text[:10])
                raise OSError(28, "No space left on device")
            return real(self, text, *a, **k)
        monkeypatch.setattr(Path, "write_text", write_text)
    else:   # the swap itself fails (a rename refused)
        def refuse(*a, **k):
            raise OSError(28, "No space left on device")
        monkeypatch.setattr(runfolder, "_exchange", refuse)
        return ""
    return step


@pytest.mark.parametrize("step", ["decisions.jsonl", "trades.csv", "equity.png", "summary.json", "swap"])
def test_a_full_disk_leaves_the_previous_run_whole(step, tmp_path, session, runs, capsys, monkeypatch):
    out = previous_run(tmp_path, runs)
    name = _full_disk(monkeypatch, step)
    rc = main(["backtest", "--data", str(session), "--out", str(out), "--slippage", "1", "--no-progress"])
    monkeypatch.undo()
    err = capsys.readouterr().err.strip()
    assert rc == 1 and "\n" not in err and "Traceback" not in err, err
    if name:
        assert err == f"{out / name}: error: cannot write: No space left on device"
    else:
        assert err == f"{out}: error: cannot put the run folder in place: No space left on device"
    assert contents(out) == runs["old"]
    assert leftovers(out) == []


def test_a_run_replaces_the_previous_one_whole(tmp_path, session, runs, capsys):
    out = previous_run(tmp_path, runs)
    assert main(["backtest", "--data", str(session), "--out", str(out), "--slippage", "1", "--no-progress"]) == 0
    assert contents(out) == runs["new"] and leftovers(out) == []
    assert oct(out.stat().st_mode & 0o777) != oct(0o700)     # a folder's usual mode, not mkdtemp's


def test_the_swap_without_an_atomic_exchange(tmp_path, session, runs, monkeypatch, capsys):
    """Where the system cannot swap two folders in one step, the old one goes aside first."""
    out = previous_run(tmp_path, runs)
    monkeypatch.setattr(runfolder, "_exchange", lambda a, b: False)
    assert main(["backtest", "--data", str(session), "--out", str(out), "--slippage", "1", "--no-progress"]) == 0
    assert contents(out) == runs["new"] and leftovers(out) == []


# ---- SIGKILL at any instant ---------------------------------------------------------------------------

#: `mia backtest` with a pause at one step of writing the run folder, said on stderr
PAUSED = """
import sys, time
from mia.runtime import runfolder
step = sys.argv[1]

def pause():
    print("PAUSED", file=sys.stderr, flush=True)
    time.sleep(120)

if step == "decisions":
    real = runfolder.RunWriter.__call__
    seen = [0]
    def call(self, rec):
        real(self, rec)
        seen[0] += 1
        if seen[0] == 20:
            self._fh.flush()
            pause()
    runfolder.RunWriter.__call__ = call
elif step == "equity":
    real_plot = runfolder.plot_equity
    def plot(path, trades):
        real_plot(path, trades)
        pause()
    runfolder.plot_equity = plot
elif step == "swap":
    real_swap = runfolder._swap_into_place
    def swap(tmp, out):
        pause()
        real_swap(tmp, out)
    runfolder._swap_into_place = swap
from mia.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _backtest_args(session, out) -> list[str]:
    return ["backtest", "--data", str(session), "--out", str(out), "--slippage", "1", "--no-progress"]


@pytest.mark.parametrize("step", ["decisions", "equity", "swap"])
def test_sigkill_while_writing_leaves_the_previous_run(step, tmp_path, session, runs):
    out = previous_run(tmp_path, runs)
    proc = subprocess.Popen([sys.executable, "-c", PAUSED, step, *_backtest_args(session, out)],
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        assert line.strip() == "PAUSED", line + proc.stderr.read()
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=60)
    assert contents(out) == runs["old"]


def test_sigkill_at_random_instants_leaves_one_run_whole(tmp_path, session, runs):
    """Killed anywhere from its start to its end, DIR is the old run or the new one."""
    out = previous_run(tmp_path, runs)
    start = time.perf_counter()
    subprocess.run([MIA, *_backtest_args(session, tmp_path / "timing")], check=True, capture_output=True, timeout=300)
    took = time.perf_counter() - start
    seen = set()
    for fraction in (0.3, 0.6, 0.85, 0.95, 1.0, 1.05):
        proc = subprocess.Popen([MIA, *_backtest_args(session, out)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(took * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        now = contents(out)
        assert now in (runs["old"], runs["new"]), fraction
        seen.add("new" if now == runs["new"] else "old")
        if now == runs["new"]:
            for name, data in runs["old"].items():   # the previous run again, for the next kill
                (out / name).write_bytes(data)
    assert seen                                              # (which one depends on the machine's pace)


def _age(folder: Path) -> None:
    """Make ``folder`` look older than the sweep's grace (a killed run's, not one being made)."""
    then = time.time() - 3600
    os.utime(folder, (then, then))


def test_what_a_killed_run_left_is_removed_by_the_next_run_but_not_what_a_running_one_holds(
        tmp_path, session, runs):
    out = previous_run(tmp_path, runs)
    paused = subprocess.Popen([sys.executable, "-c", PAUSED, "decisions", *_backtest_args(session, out)],
                              stderr=subprocess.PIPE, text=True)
    try:
        assert paused.stderr.readline().strip() == "PAUSED"
        [held] = leftovers(out)
        _age(out.parent / held)
        assert main(_backtest_args(session, out)) == 0          # another run meanwhile: the held one stays
        assert leftovers(out) == [held] and contents(out) == runs["new"]
        os.kill(paused.pid, signal.SIGKILL)
        paused.wait(timeout=60)
        assert leftovers(out) == [held]                          # killed: nothing cleans up after it...
        assert main(_backtest_args(session, out)) == 0
        assert leftovers(out) == []                              # ...but the next run does
        assert contents(out) == runs["new"]
    finally:
        paused.kill()
        paused.wait(timeout=60)


def test_an_old_run_set_aside_by_a_killed_run_is_put_back(tmp_path, runs):
    """Killed between setting the old run aside and renaming the new one in (file systems without
    an atomic exchange): ``out`` is missing and the old run is whole in ``.NAME.*.old/run``."""
    out = tmp_path / "latest"
    aside = tmp_path / ".latest.k2j4.old"
    aside.mkdir()
    previous_run(aside, runs).rename(aside / "run")
    half = tmp_path / ".latest.x9q1.tmp"
    half.mkdir()
    (half / "decisions.jsonl").write_text("{}\n")
    for f in (aside, half):
        _age(f)
    young = tmp_path / ".latest.a1b2.tmp"                      # being made by a run that just started
    young.mkdir()
    removed = runfolder.sweep(out)
    assert sorted(p.name for p in removed) == [aside.name, half.name]
    assert contents(out) == runs["old"] and leftovers(out) == [young.name]


# ---- what is written ---------------------------------------------------------------------------------

def test_summary_json_is_strict_json():
    """--slippage 1e308 once put -Infinity in summary.json; whatever comes, it is valid JSON."""
    text = runfolder.summary_json({"net_usd": float("-inf"), "profit_factor": float("nan"),
                                   "by_signal": {"s": {"net_usd": float("inf"), "trades": 1}}, "days": 1})

    def refuse(name):
        raise AssertionError(f"{name} in summary.json")

    data = json.loads(text, parse_constant=refuse)
    assert data == {"net_usd": None, "profit_factor": None, "by_signal": {"s": {"net_usd": None, "trades": 1}},
                    "days": 1}


def test_trades_csv_times_are_iso_and_epoch_to_the_millisecond(tmp_path, runs):
    path = tmp_path / "trades.csv"
    path.write_bytes(runs["new"]["trades.csv"])
    rows = list(csv.DictReader(path.open()))
    assert rows and list(rows[0])[:10] == ["entry_id", "tag", "side", "qty", "entry_time", "entry_t", "entry_price",
                                          "exit_time", "exit_t", "exit_price"]
    for r in rows:
        for key in ("entry", "exit"):
            epoch, iso = r[f"{key}_t"], r[f"{key}_time"]
            assert len(epoch.split(".")[1]) == 3, epoch                  # no float noise
            stamp = datetime.fromisoformat(iso)
            assert iso.endswith(("-05:00", "-04:00")) and len(iso) == len("2025-11-20T09:41:00.211-05:00")
            assert round(stamp.timestamp(), 3) == float(epoch)


def test_where_is_the_same_whatever_folder_mia_runs_in(tmp_path, session, monkeypatch, capsys):
    """decisions.jsonl cites rules as rules/<file>:<line>: from the rules' parent, elsewhere,
    with a relative or an absolute --rules."""
    project = tmp_path / "project"
    (project / "rules").mkdir(parents=True)
    for f in RULES.glob("*.yaml"):
        (project / "rules" / f.name).write_text(f.read_text())
    elsewhere = tmp_path / "elsewhere" / "deep"
    elsewhere.mkdir(parents=True)
    outputs = []
    for cwd, rules in ((project, "rules"), (elsewhere, "../../project/rules"), (elsewhere, str(project / "rules"))):
        monkeypatch.chdir(cwd)
        out = tmp_path / f"out{len(outputs)}"
        assert main(["backtest", "--rules", rules, "--data", str(session), "--out", str(out), "--no-progress"]) == 0
        outputs.append((out / "decisions.jsonl").read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]
    wheres = {f["where"] for line in outputs[0].splitlines() for d in [json.loads(line)] for f in d.get("fired", [])}
    assert wheres and all(w.startswith("rules/battle_navale.yaml:") for w in wheres)
