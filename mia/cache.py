"""Where mia keeps what it can rebuild: ``$MIA_CACHE_DIR``, else ``~/.cache/mia``.

Under it: ``kernels/`` (compiled rule modules), ``sim/`` (the default simulated session) and
``days/`` (day folders read as columns). Deleting any of them only costs time.
"""
from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    env = os.environ.get("MIA_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "mia"
