"""Sierra Chart JSONL lines for each simulated stream, preformatted in bulk (see domain.md).

Each stream is a ``Stream``: the file it goes to, its lines in file order, and for the unified
file the emission time of each line (UTC epoch us) and a priority that orders lines emitted at
the same instant (levels, then bar closes, quotes, depth, trades, then the bar updates the trade
caused). Field order follows the chart dumper: ``t``, ``sym``, ``type``, fields, ``chart``.
Prices are written with 2 decimals (ticks of 0.25 are exact), volumes as integers, ``t`` as
SCDateTime with 6 decimals in the zone ``mia.market.sctime.zone_for`` gives the type.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mia.market.sim.clock import SessionClock, sc_text


@dataclass
class Stream:
    chart: int
    kind: str                 # the type, also the file name part
    lines: list[str]
    emit_us: np.ndarray
    priority: int
    unified_lines: list[str] | None = None   # chart 4: the same lines with a "type" field

    def filename(self, day_text: str) -> str:
        return f"chart_{self.chart}_{self.kind}_{day_text}.jsonl"


def _px(ticks: np.ndarray) -> list[float]:
    return (np.asarray(ticks, dtype=np.int64) * 0.25).tolist()


def _ints(a) -> list[int]:
    return np.asarray(a, dtype=np.int64).tolist()


def _floats(a) -> list[float]:
    return np.asarray(a, dtype=float).tolist()


def format_rows(sym: str, kind: str | None, chart: int, fields: str, t: list[str], cols: list[list]) -> list[str]:
    """Lines of one type: ``fields`` is the %-template of the fields between type and chart."""
    typ = f',"type":"{kind}"' if kind else ""
    fmt = '{"t":%s,"sym":"' + sym.replace("%", "%%") + '"' + typ + "," + fields + f',"chart":{chart}}}'
    return [fmt % row for row in zip(t, *cols)]


def stream(clock: SessionClock, sym: str, chart: int, kind: str, fields: str, t_us: np.ndarray,
           emit_us: np.ndarray, cols: list[list], priority: int, typed: bool = True) -> Stream:
    t = sc_text(clock.sc_units(t_us, kind))
    lines = format_rows(sym, kind if typed else None, chart, fields, t, cols)
    emit_us = np.asarray(emit_us, dtype=np.int64)
    if typed:
        return Stream(chart, kind, lines, emit_us, priority)
    # chart 4 studies are written only when they change, as the dumper does
    keep = [k for k in range(len(lines)) if k == 0 or lines[k] != lines[k - 1]]
    unified = format_rows(sym, kind, chart, fields, t, cols)
    return Stream(chart, kind, [lines[k] for k in keep], emit_us[keep], priority, [unified[k] for k in keep])


def side_words(mask: np.ndarray, yes: str, no: str) -> list[str]:
    return np.where(mask, yes, no).tolist()


__all__ = ["Stream", "stream", "format_rows", "side_words"]
