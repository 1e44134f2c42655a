"""A unified file beside per-chart files: read only for the streams the per-chart files lack.

``mia_unified_<YYYYMMDD>.jsonl`` holds every stream of the day; when per-chart files of that
day sit beside it, they hold the same lines for their (chart, type) streams, so the unified
file is read only for the others (never dropped whole: a stream it alone has is kept). Its lines
of a covered stream are skipped unread: ``uncovered`` finds each line's ``"type"`` and
``"chart"`` (numba, over a chunk of bytes) and keeps the lines whose stream is not covered or
cannot be told without parsing; ``drop_covered`` removes, after parsing, the events of a
covered stream among those. Every reader applies both, so they agree line for line; a bad line
of a covered stream is not counted twice (its per-chart file's copy is).
"""
from __future__ import annotations

import numba as nb
import numpy as np

from mia.market.events import REQUIRED, Event

#: the type words a line may name, by code
TYPES = tuple(sorted(REQUIRED))
_CODE = {t: k for k, t in enumerate(TYPES)}
_TYPE_KEY = np.frombuffer(b'"type"', np.uint8)
_CHART_KEY = np.frombuffer(b'"chart"', np.uint8)
_WORDS = [np.frombuffer(t.encode(), np.uint8) for t in TYPES]
_MAXW = max(len(w) for w in _WORDS)
_WORD_TABLE = np.zeros((len(TYPES), _MAXW + 1), np.uint8)
_WORD_LEN = np.array([len(w) for w in _WORDS], np.int64)
for _k, _w in enumerate(_WORDS):
    _WORD_TABLE[_k, :len(_w)] = _w


@nb.njit(cache=True, inline="always")
def _find(b, s, e, key):
    n = len(key)
    for p in range(s, e - n + 1):
        ok = True
        for q in range(n):
            if b[p + q] != key[q]:
                ok = False
                break
        if ok:
            return p + n
    return -1


@nb.njit(cache=True, inline="always")
def _colon(b, p, e):
    """The index after ``ws : ws`` at ``p`` (-1: none)."""
    while p < e and (b[p] == 32 or b[p] == 9):
        p += 1
    if p >= e or b[p] != 58:
        return -1
    p += 1
    while p < e and (b[p] == 32 or b[p] == 9):
        p += 1
    return p


@nb.njit(cache=True)
def _keys(b, tkey, ckey, words, lens, covered):
    """Per line of ``b`` (complete lines): its start, end and whether its (chart, type) is in
    ``covered`` (a bool matrix [chart, type code], charts beyond its size are not covered)."""
    n = 0
    for c in b:
        if c == 10:
            n += 1
    starts = np.empty(n, np.int64)
    ends = np.empty(n, np.int64)
    skip = np.zeros(n, np.bool_)
    s = 0
    j = 0
    for p in range(len(b)):
        if b[p] == 10:
            starts[j] = s
            ends[j] = p
            s = p + 1
            j += 1
    for j in range(n):
        s, e = starts[j], ends[j]
        p = _find(b, s, e, tkey)
        if p < 0:
            continue
        p = _colon(b, p, e)
        if p < 0 or p >= e or b[p] != 34:
            continue
        p += 1
        q = p
        while q < e and b[q] != 34:
            q += 1
        if q >= e:
            continue
        code = -1
        for k in range(len(lens)):
            if lens[k] == q - p:
                same = True
                for r in range(q - p):
                    if b[p + r] != words[k, r]:
                        same = False
                        break
                if same:
                    code = k
                    break
        if code < 0:
            continue
        p = _find(b, s, e, ckey)
        if p < 0:
            continue
        p = _colon(b, p, e)
        if p < 0:
            continue
        chart = 0
        digits = 0
        while p < e and 48 <= b[p] <= 57 and digits < 9:
            chart = chart * 10 + (b[p] - 48)
            digits += 1
            p += 1
        if digits == 0 or (p < e and (b[p] == 46 or b[p] == 101 or b[p] == 69 or 48 <= b[p] <= 57)):
            continue                                   # not a plain integer: the parser decides
        if chart < covered.shape[0] and covered[chart, code]:
            skip[j] = True
    return starts, ends, skip


def cover_table(covered: frozenset) -> np.ndarray:
    """``covered`` (chart, type) pairs as the bool matrix ``uncovered`` takes."""
    charts = [c for c, _ in covered if isinstance(c, int) and 0 <= c < 1 << 16]
    table = np.zeros((max(charts, default=-1) + 1, len(TYPES)), np.bool_)
    for c, t in covered:
        if c in charts and t in _CODE:
            table[c, _CODE[t]] = True
    return table


def uncovered(buf: bytes, table: np.ndarray) -> list[bytes]:
    """The complete lines of ``buf`` (it ends with a newline, or the last piece is ignored) that
    are not plainly of a covered stream, without their newline."""
    if not table.any():
        return buf.split(b"\n")[:-1]
    b = np.frombuffer(buf, np.uint8)
    starts, ends, skip = _keys(b, _TYPE_KEY, _CHART_KEY, _WORD_TABLE, _WORD_LEN, table)
    keep = np.flatnonzero(~skip)
    return [buf[s:e] for s, e in zip(starts[keep].tolist(), ends[keep].tolist())]


def drop_covered(events: list[Event], covered: frozenset) -> list[Event]:
    """``events`` without those of a covered stream."""
    if not covered:
        return events
    return [e for e in events if (e.chart, e.type) not in covered]
