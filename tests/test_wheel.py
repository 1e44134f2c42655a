"""mia as an installed package, not a checkout: the wheel carries the grammar, the instrument
table, the default rules and the demo config, and `mia check` and a backtest work from another
folder; a user's config/instruments.yaml beside their rules overrides the shipped table."""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv holding mia's wheel; mia's dependencies come from the test run's own venv
    (a path line, not its site folder: the checkout's editable install stays out)."""
    tmp = tmp_path_factory.mktemp("wheel")
    dist = tmp / "dist"
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    (wheel,) = dist.glob("mia-*.whl")
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    r = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", str(wheel)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return wheel, env_dir


def mia(env_dir: Path, *args, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    return subprocess.run([str(env_dir / "bin" / "mia"), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env=env)


def test_the_wheel_holds_the_files_a_checkout_keeps_at_the_top(installed):
    wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in ("mia/_bundled/grammars/rules.lark", "mia/_bundled/config/instruments.yaml",
              "mia/_bundled/config/mia.yaml", "mia/_bundled/rules/battle_navale.yaml",
              "mia/dsl/rules.schema.json", "mia/runtime/config.schema.json"):
        assert f in names, f
    assert not any("__pycache__" in n or n.endswith((".nbi", ".nbc")) for n in names)


def test_check_and_backtest_from_another_folder(installed, tmp_path):
    _, env_dir = installed
    where = tmp_path / "elsewhere"
    where.mkdir()
    r = subprocess.run([str(env_dir / "bin" / "python"), "-c", "import mia, sys; print(mia.__file__)"],
                       cwd=where, capture_output=True, text=True)
    assert str(env_dir) in r.stdout, r.stdout + r.stderr           # the wheel's mia, not the checkout
    r = mia(env_dir, "check", cwd=where)
    assert r.returncode == 0, r.stderr
    assert "instrument ES" in r.stdout and "_bundled/rules" in r.stdout
    r = mia(env_dir, "simulate", "--date", "2025-11-20", "--minutes", "30", "--out", where / "day", "--quiet",
            cwd=where)
    assert r.returncode == 0, r.stderr
    r = mia(env_dir, "backtest", "--data", where / "day", "--out", where / "run", "--no-progress", "--json",
            cwd=where)
    assert r.returncode == 0, r.stderr
    assert (where / "run" / "decisions.jsonl").stat().st_size > 0 and '"bars": 30' in r.stdout


def test_a_users_instrument_table_beside_the_rules_wins(installed, tmp_path):
    _, env_dir = installed
    proj = tmp_path / "proj"
    (proj / "rules").mkdir(parents=True)
    (proj / "config").mkdir()
    (proj / "rules" / "r.yaml").write_text("version: 1\ninstrument: CL\nsignals:\n"
                                           "  - {name: s, when: close > 0, side: long}\n")
    r = mia(env_dir, "check", proj / "rules", cwd=tmp_path)
    assert r.returncode == 1 and "instrument CL is not in" in r.stderr and "_bundled" in r.stderr
    (proj / "config" / "instruments.yaml").write_text(
        "CL:\n  tick_size: 0.01\n  tick_value: 10.0\nsessions:\n  trading_day_roll: 18:00 America/New_York\n"
        "  rth: 09:00-14:30 America/New_York\n")
    r = mia(env_dir, "check", proj / "rules", cwd=tmp_path)
    assert r.returncode == 0 and "instrument CL" in r.stdout, r.stderr
