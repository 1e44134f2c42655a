"""The simulator's front door: ``simulate``, ``SimConfig`` and ``default_session_dir``.

The implementation lives in ``mia.market.sim`` (one module per stage); import from here.
"""
from mia.market.sim import SimConfig, SimResult, SimulateError, build_streams, default_session_dir, simulate

__all__ = ["SimConfig", "SimResult", "SimulateError", "build_streams", "default_session_dir", "simulate"]
