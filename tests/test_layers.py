"""The layer contract of pyproject.toml ([tool.importlinter]) holds: market below features and the
engine, which stand beside each other; the runtime and backtests above them; the CLI on top."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_layers_hold():
    lint = Path(sys.executable).parent / "lint-imports"
    r = subprocess.run([str(lint), str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 kept, 0 broken" in r.stdout
