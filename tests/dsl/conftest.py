"""The rule-language tests import the reference oracle (tests/oracles/) and the benchmark's numpy
baseline (bench/baselines/), which live outside the installed package."""
from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]
for folder in (_ROOT / "tests", _ROOT / "bench"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
