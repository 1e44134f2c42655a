"""A supervisor killed with SIGKILL at random points and restarted five times ends where an
uninterrupted run ends: the same trades.csv and decisions.jsonl, and no order id sent twice."""
from __future__ import annotations

import random
import signal
import time

import orjson

from mia.runtime.journal import Journal

from .helpers import run_cli, sim_days, spawn_cli, write_config


def _wait_up(cfg, cwd, proc, timeout=60.0) -> bool:
    """Until the supervisor answers on its socket (True), or the process ended (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        if run_cli("status", "--config", cfg, cwd=cwd, timeout=30).returncode == 0:
            return True
        time.sleep(0.1)
    raise AssertionError("the supervisor did not come up")


def test_sigkill_and_restart_five_times_loses_and_repeats_nothing(tmp_path):
    data = sim_days(tmp_path / "data", days=2, minutes=60)
    ref_dir, run_dir = tmp_path / "ref", tmp_path / "killed"
    ref_dir.mkdir()
    run_dir.mkdir()
    ref_cfg = write_config(ref_dir)
    r = run_cli("run", "--config", ref_cfg, "--data", data, "--speed", "0", "--quiet", cwd=ref_dir)
    assert r.returncode == 0, r.stderr
    cfg = write_config(run_dir)
    rng = random.Random(20251120)
    positions = []
    for _ in range(5):
        # 400x: an hour of data in 9 s, so that the kills land inside the days
        proc = spawn_cli("run", "--config", cfg, "--data", data, "--speed", "400", "--quiet", cwd=run_dir)
        if _wait_up(cfg, run_dir, proc):
            time.sleep(rng.uniform(0.2, 4.0))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=60)
                j = Journal.open(run_dir / "j" / "journal.sqlite")
                try:
                    positions.append(j.saved_state(j.last_run()["id"])[0])
                finally:
                    j.close()
        proc.wait(timeout=60)
    r = run_cli("run", "--config", cfg, "--data", data, "--speed", "0", "--quiet", cwd=run_dir)
    assert r.returncode == 0, r.stderr
    assert len(positions) >= 3 and len(set(positions)) == len(positions) and min(positions) > 0
    for name in ("trades.csv", "decisions.jsonl"):
        assert (run_dir / "out" / name).read_bytes() == (ref_dir / "out" / name).read_bytes(), name
    j = Journal.open(run_dir / "j" / "journal.sqlite")
    try:
        runs = j.db.execute("SELECT id, status FROM runs ORDER BY id").fetchall()
        ids = []
        for run_id, _ in runs:
            for kind, body in j.db.execute("SELECT kind, body FROM records WHERE run = ? AND kind = 'bar'",
                                           (run_id,)):
                intent = orjson.loads(body).get("intent")
                if intent:
                    ids.append((run_id, intent["id"]))
    finally:
        j.close()
    assert runs[0][1] == "finished"
    first = [i for run_id, i in ids if run_id == runs[0][0]]
    assert len(first) == len(set(first)) > 0                 # every order id of the run sent once


def test_sigterm_is_a_clean_stop_and_the_next_start_resumes(tmp_path):
    data = sim_days(tmp_path / "data", days=1, minutes=30)
    cfg = write_config(tmp_path)
    proc = spawn_cli("run", "--config", cfg, "--data", data, "--speed", "60", "--quiet", cwd=tmp_path)
    assert _wait_up(cfg, tmp_path, proc)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "run stopped" in out
    j = Journal.open(tmp_path / "j" / "journal.sqlite")
    try:
        (status,) = j.db.execute("SELECT status FROM runs").fetchone()
        position = j.saved_state(1)[0]
    finally:
        j.close()
    assert status == "stopped" and position > 0
    assert (tmp_path / "out" / "decisions.jsonl").is_file()
    r = run_cli("run", "--config", cfg, "--data", data, "--speed", "0", cwd=tmp_path)
    assert r.returncode == 0 and f"resumed run 1 after {position:,} events" in r.stdout
