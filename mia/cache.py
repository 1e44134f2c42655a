"""Where mia keeps what it can rebuild: ``$MIA_CACHE_DIR``, else ``~/.cache/mia``.

Under it: ``kernels/`` (compiled rule modules: Python and numba machine code that mia imports),
``sim/`` (the default simulated session) and ``days/`` (day folders read as columns). Deleting any
of them only costs time. mia creates its folders readable and writable by you only (0700) and
never loads code from a folder or file that someone else can write (``unsafe``): a cache is a
place to plant code otherwise.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from mia.errors import MiaError


class CacheError(MiaError):
    """The cache folder cannot be used (MIA_CACHE_DIR names a file, or it cannot be created)."""


def cache_root() -> Path:
    env = os.environ.get("MIA_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "mia"


def _where(root: Path) -> str:
    return f"MIA_CACHE_DIR={root}" if os.environ.get("MIA_CACHE_DIR") else str(root)


def private_dir(name: str) -> Path:
    """``<cache>/<name>``, created if missing (the cache folder too) readable and writable by you
    only; a ``CacheError`` (one line) when it cannot be."""
    root = cache_root()
    path = root / name
    try:
        if not root.is_dir():
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.is_dir():
            path.mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        why = exc.strerror or str(exc)
        if root.exists() and not root.is_dir():
            why = "it is a file, not a folder"
        raise CacheError(f"{_where(root)}: error: cannot use it as mia's cache folder ({why}); "
                         "set MIA_CACHE_DIR to a folder you can write") from None
    return path


def unsafe(path: Path) -> str | None:
    """Why mia must not load what ``path`` (a folder or file) holds, or None: not yours, or
    writable by your group or by others."""
    try:
        st = os.stat(path)
    except OSError:
        return None                                  # missing: nothing to load from it
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return f"{path} belongs to another user (uid {st.st_uid})"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        who = "others" if st.st_mode & stat.S_IWOTH else "your group"
        return f"{path} is writable by {who} (mode {stat.S_IMODE(st.st_mode):o}; chmod go-w it)"
    return None
