"""The default session (`mia run` with no data): 90 minutes of 2025-11-20, seed 1.

It is not shipped: it is generated on first use into the cache folder (``$MIA_CACHE_DIR`` or
``~/.cache/mia``) under ``sim/`` with the simulator version in its name, so a model change
regenerates it. Generation writes a temporary folder beside it and renames it into place, so a
reader never sees a half-written session and two processes racing both end up with one folder.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

from mia.cache import cache_root
from mia.market.sim.session import SIM_VERSION, SimConfig, SimulateError, simulate

DEFAULT_CONFIG = SimConfig(day=dt.date(2025, 11, 20), seed=1, minutes=90, unified=True)


def default_session_dir(cfg: SimConfig = DEFAULT_CONFIG) -> Path:
    """Folder holding the default simulated session's day files (generated on first use)."""
    name = f"ES_{cfg.day:%Y%m%d}_seed{cfg.seed}_m{cfg.minutes}_x{cfg.scale:g}_v{SIM_VERSION}"
    target = cache_root() / "sim" / name
    if target.is_dir():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=target.parent))
    except OSError as exc:
        raise SimulateError(f"{target.parent}: cannot create the simulator cache: {exc.strerror or exc} "
                            "(set MIA_CACHE_DIR to a writable folder)") from None
    try:
        simulate(cfg, tmp)
        os.rename(tmp, target)
    except OSError:
        if not target.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
