"""The seeded ES session simulator: realistic Sierra Chart JSONL day folders for replay and tests.

Modules, in the order the data is made: ``clock`` (session bounds, front contract, SCDateTime
text), ``tape`` (regimes, latent price, trades and quotes), ``book`` (depth), ``bars`` (bars and
bar studies), ``levels`` (VIX, MenthorQ), ``lines`` (JSONL formatting), ``session`` (the whole
run and the files), ``default`` (the bundled default session, cached on first use).
"""
from mia.market.sim.default import default_session_dir
from mia.market.sim.session import SimConfig, SimResult, SimulateError, build_streams, simulate

__all__ = ["SimConfig", "SimResult", "SimulateError", "build_streams", "simulate", "default_session_dir"]
