"""The performance tests import the benchmarks' baselines (bench/baselines/), which live outside
the installed package."""
from __future__ import annotations

import sys
from pathlib import Path

_BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(_BENCH) not in sys.path:
    sys.path.insert(0, str(_BENCH))
