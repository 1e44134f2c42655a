"""Batch features: a whole stream or Sierra day folder -> ``FeatureFrame`` (one row per closed bar).

``compute_features(events)`` runs ``FeatureEngine.update`` over any event iterable.
``compute_features(folder)`` / ``feature_frame_from_folder(path)`` read the folder as columnar
blocks (``mia.market.columnar``; the types the engine has no handler for as PASS rows) and let
the bulk kernel (``kernel.advance``) take the trade, quote and depth rows between the events
the engine's Python handlers take (``Block.event``: each the event replay gives, with its real
values): the same engine, the same numbers as streaming the replay, several times faster.
Memory: the chunk buffers plus the rows.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

import numpy as np

from mia.dsl import catalog
from mia.features.config import FeatureConfig
from mia.features.engine import HANDLED_TYPES, FeatureEngine, FeatureFrame
from mia.market.columnar.blocks import Block, blocks
from mia.market.columnar.daycache import DayCache
from mia.market.sierra import BadLines

COLUMNS = [f.name for f in catalog.FEATURES]


def run_block(eng: FeatureEngine, block: Block, on_row) -> int:
    """Feed one block to ``eng``; ``on_row(eng)`` at every closed bar. Returns the events taken."""

    def handle(ev) -> None:
        if eng.update(ev):
            on_row(eng)

    eng.run_block(block, handle)
    return len(block.t)


def _frame(times: list, rows: list) -> FeatureFrame:
    matrix = np.array(rows).reshape(len(rows), len(COLUMNS))
    return FeatureFrame(np.array(times, dtype=np.float64), list(COLUMNS), matrix)


def _is_paths(source) -> bool:
    if isinstance(source, (str, Path)):
        return True
    return isinstance(source, (list, tuple)) and bool(source) and all(isinstance(p, (str, Path)) for p in source)


def compute_features(source, instrument: str = "ES", config: FeatureConfig | None = None, *,
                     bad: BadLines | None = None, date_from: date | None = None, date_to: date | None = None,
                     zones: dict | None = None, cache: DayCache | None = None,
                     tick_size: float | None = None, inspect=None) -> FeatureFrame:
    """Every row the streaming engine emits over ``source``, the bar still forming at the end
    included (``FeatureEngine.flush``): an iterable of events, or a day folder / JSONL file /
    list of them (then ``bad``, ``date_from``, ``date_to``, ``zones`` as for ``replay``, and
    ``cache`` a ``DayCache`` to read unchanged days from); ``tick_size``: the rules' (default:
    the instrument table's); ``inspect``: called with each block of a folder before the engine
    sees it (it may raise to stop, e.g. a symbol check)."""
    eng = FeatureEngine(instrument, config, tick_size=tick_size)
    times: list[float] = []
    rows: list[np.ndarray] = []

    def on_row(e: FeatureEngine) -> None:
        times.append(e.row_time)
        rows.append(e.row.copy())

    if _is_paths(source):
        paths = [source] if isinstance(source, (str, Path)) else list(source)
        for block in blocks(paths, date_from, date_to, zones, bad, cache=cache, wanted_types=HANDLED_TYPES):
            if inspect is not None:
                inspect(block)
            run_block(eng, block, on_row)
    else:
        for ev in source:
            if eng.update(ev):
                on_row(eng)
    if eng.flush():
        on_row(eng)
    return _frame(times, rows)


def feature_frame_from_folder(path: str | Path | Iterable[str | Path], instrument: str = "ES",
                              config: FeatureConfig | None = None, bad: BadLines | None = None,
                              date_from: date | None = None, date_to: date | None = None) -> FeatureFrame:
    """The feature frame of a Sierra Chart day folder (or a folder of day folders)."""
    paths = [path] if isinstance(path, (str, Path)) else list(path)
    return compute_features(paths, instrument, config, bad=bad, date_from=date_from, date_to=date_to)
