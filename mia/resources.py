"""Where mia's shipped files are: the default rules, the demo config, the grammar, the instruments.

In a checkout they are the checkout's own top-level folders (``rules/``, ``config/``,
``grammars/``, ``voice/``, ``alerts/``); in an installed package, the copies the build put in
``mia/_bundled/`` (setup.py). A user's own files come first where it makes sense:
``instruments_path`` prefers a ``config/instruments.yaml`` next to the rules, then the current
folder's, then the shipped one.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from mia import HOME

#: the checkout mia runs from, if it runs from one (None: an installed package)
CHECKOUT = HOME if (HOME / "pyproject.toml").is_file() and (HOME / "grammars").is_dir() else None


def shipped(rel: str) -> Path:
    """The shipped file or folder ``rel`` (e.g. "rules", "config/mia.yaml")."""
    if CHECKOUT is not None:
        return CHECKOUT / rel
    return Path(str(resources.files("mia").joinpath("_bundled", rel)))


def instruments_path(near: str | Path | None = None) -> Path:
    """The instrument table to use: ``config/instruments.yaml`` beside the rules folder ``near``
    (its parent's ``config/``), else the current folder's, else the shipped one."""
    candidates = []
    if near is not None:
        near = Path(near).resolve()
        folder = near if near.is_dir() else near.parent
        candidates.append(folder.parent / "config" / "instruments.yaml")
    candidates.append(Path("config") / "instruments.yaml")
    for c in candidates:
        if c.is_file():
            return c.resolve()
    return shipped("config/instruments.yaml")
