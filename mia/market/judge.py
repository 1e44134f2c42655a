"""The rules between the lines of one stream: order, duplicates, bar indexes, the price band.

A stream is the lines of one (chart, type) in one file (a per-chart file is one stream, a unified
file holds many). Every reader judges a stream's lines with the one kernel here (``_judge``): replay,
the live tail and the columnar reader's parsed files through ``StreamOrder`` (over ``Event``s), the
columnar reader's scanned files through ``Stream.run`` (over its columns). Rules, in this order:

- **duplicate** (trade, quote): a line whose ``seq`` was already seen in its stream that day (a
  restarted dumper writes earlier lines again) is skipped; it touches nothing else.
- **order** (every type but depth): a line more than ``TOLERANCE_S`` before the stream's latest
  kept time is ``out_of_order``; a smaller step back is clamped to that time.
- A line that looks wrong waits for the stream's next line to confirm or contradict it:
  - **time jump** (per-chart files): more than ``JUMP_S`` after the latest kept time; the next
    line more than ``TOLERANCE_S`` before it says it was a glitch (``out_of_order``), else it was
    a quiet market.
  - **bar index** (basedata, vwap, vva, atr: ``events.INDEXED``): the index stays or steps by one
    (a new bar), or steps ahead no more than the bars the time allows (the stream's bar period,
    learnt from its own lines). A step further ahead is confirmed by a next line at or above it,
    else it was a glitch (``bad_index``: one glitched ``i`` costs one line, not the rest of the
    day). An index that goes back while the time does not (a chart reload that renumbered the
    bars) is confirmed by a next line that goes on from it below the old index: the stream is
    then renumbered so that its indexes go on from where they were (``i`` as emitted = ``i`` in
    the file + an offset), so the feature engine sees the bars go on, not late rewrites. An
    index back at an older bar time is a late rewrite of that bar and passes as it is.
  - **price band** (trade px, quote bid/ask, basedata o/h/l/c: ``events.BANDED``): prices more
    than ``price_band()`` (a fraction; ``MIA_PRICE_BAND``, default 5 %) away from the stream's
    last kept price. The next line within the band of the waiting line confirms it (a real gap),
    else it was ``price_outlier``.
  A stream's first line is taken as it is (there is nothing to hold it against).
  The waiting line is emitted in its place once confirmed; at the end of a file it is kept.
  Live, a line waiting for a time jump alone is let through once the clock reaches it
  (``mia.market.tail``).

State is kept from call to call (chunks, polls): ``Stream`` per stream.
"""
from __future__ import annotations

import math
import os

import numba as nb
import numpy as np

from mia.errors import MiaError
from mia.market.events import BANDED, INDEXED, SEQUENCED, Event

TOLERANCE_S = 2.0
#: a line this far ahead of its per-chart file's latest time waits for the next line to confirm it
JUMP_S = 300.0
#: bar times this close are the same bar (SCDateTime with 6 decimals is exact to about 86 ms)
SAME_BAR_S = 0.5
#: the default price band: a price this far (a fraction) from its stream's last one waits for confirmation
DEFAULT_BAND = 0.05

# rules (bits)
R_DEDUP, R_ORDER, R_JUMP, R_INDEX, R_BAND = 1, 2, 4, 8, 16
# verdicts
KEEP, HELD, OUT_OF_ORDER, DUPLICATE, BAD_INDEX, PRICE_OUTLIER = 0, 1, 2, 3, 4, 5
REASONS = (None, None, "out_of_order", "duplicate", "bad_index", "price_outlier")
# why a line waits (bits)
W_TIME, W_INDEX, W_PRICE = 1, 2, 4
# index classes
K_NONE, K_FIRST, K_SAME, K_NEXT, K_LATE, K_AHEAD, K_BACK = range(7)
# state slots
(PREV, HELD_, H_T, H_RAW, H_I, H_REF, H_WHY, H_ROW, H_KIND, H_VERDICT, H_IOUT,
 CUR_I, CUR_T, OFF, PERIOD, REF, NA, NS, SEQ_HI, TOL, JUMP, BAND) = range(22)
NSLOTS = 22
#: the sorted side list of late new seqs, merged into the main list when full
SIDE = 1024


def price_band() -> float:
    """The price band (a fraction of the last price) from ``MIA_PRICE_BAND`` (``5%`` or ``0.05``;
    ``0`` turns the rule off), default ``DEFAULT_BAND``."""
    text = os.environ.get("MIA_PRICE_BAND", "").strip()
    if not text:
        return DEFAULT_BAND
    try:
        value = float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value < 1.0 or value != value:
        raise MiaError(f"MIA_PRICE_BAND={text!r}: error: expected a percentage such as 5% (0 turns the price "
                       "band off)")
    return value


def rules_for(typ: str | None, per_chart: bool, band: float) -> int:
    """The rules of a stream of type ``typ`` (a per-chart file's, or one stream of a unified file)."""
    if typ == "depth" or typ is None:
        return 0
    rules = R_ORDER
    if per_chart:
        rules |= R_JUMP
    if typ in SEQUENCED:
        rules |= R_DEDUP
    if typ in INDEXED:
        rules |= R_INDEX
    if typ in BANDED and band > 0:
        rules |= R_BAND
    return rules


# ---- the kernel --------------------------------------------------------------------------------

@nb.njit(cache=True, inline="always")
def _first_ge(a, n, x):
    lo, hi = 0, n
    while lo < hi:
        m = (lo + hi) >> 1
        if a[m] < x:
            lo = m + 1
        else:
            hi = m
    return lo


@nb.njit(cache=True)
def _seen(x, st, seen, side):
    """True when ``x`` is already in the stream's seqs; else adds it. The seqs are ``seen[:NA]``
    (sorted; a seq above all others is appended) and ``side[:NS]`` (sorted, the rare late ones,
    merged into ``seen`` when full)."""
    na = int(st[NA])
    if x > st[SEQ_HI]:
        seen[na] = x
        st[NA] = na + 1
        st[SEQ_HI] = x
        return False
    p = _first_ge(seen, na, x)
    if p < na and seen[p] == x:
        return True
    ns = int(st[NS])
    q = _first_ge(side, ns, x)
    if q < ns and side[q] == x:
        return True
    for k in range(ns, q, -1):
        side[k] = side[k - 1]
    side[q] = x
    ns += 1
    if ns == len(side):                       # merge the side list into the main one, from the back
        i, k, w = na - 1, ns - 1, na + ns - 1
        while k >= 0:
            if i >= 0 and seen[i] > side[k]:
                seen[w] = seen[i]
                i -= 1
            else:
                seen[w] = side[k]
                k -= 1
            w -= 1
        st[NA] = na + ns
        ns = 0
    st[NS] = ns
    return False


@nb.njit(cache=True, inline="always")
def _index_class(st, raw, i):
    ci = st[CUR_I]
    if ci != ci:
        return K_FIRST
    if i == ci:
        return K_SAME
    if i > ci:
        k = i - ci
        dt = raw - st[CUR_T]
        if k == 1.0 or (dt > SAME_BAR_S and k <= dt / st[PERIOD] + 1.0):
            return K_NEXT
        return K_AHEAD
    if raw < st[CUR_T] - SAME_BAR_S:
        return K_LATE
    return K_BACK


@nb.njit(cache=True)
def _apply(st, t, raw, i, kind, ref):
    """A kept line's effect on the state; returns its index as emitted."""
    if t > st[PREV]:
        st[PREV] = t
    if kind == K_FIRST:
        st[CUR_I] = i
        st[CUR_T] = raw
    elif kind == K_NEXT or kind == K_AHEAD or kind == K_BACK:
        ci = st[CUR_I]
        if kind != K_NEXT and abs(raw - st[CUR_T]) <= SAME_BAR_S:
            st[OFF] = ci + st[OFF] - i                 # the forming bar renumbered
        elif kind == K_BACK:
            st[OFF] = ci + st[OFF] + 1.0 - i           # renumbered from the next bar on
        else:
            dt = raw - st[CUR_T]
            if dt > SAME_BAR_S:
                st[PERIOD] = min(st[PERIOD], dt / (i - ci))
        st[CUR_I] = i
        st[CUR_T] = raw
    if ref == ref:
        st[REF] = ref
    return i + st[OFF]


@nb.njit(cache=True)
def _judge(t, seq, idx, lo, hi, st, seen, side, rules, verdict, idx_out):
    """Judge rows ``t`` (times, clamped in place), ``seq`` / ``idx`` / ``lo``, ``hi`` (NaN: the line
    has none) of one stream in file order: ``verdict[j]`` KEEP, HELD (waits: only the last row can
    still wait at the end) or a reason; ``idx_out[j]`` the index as emitted. A row waiting from the
    previous call is resolved in ``st[H_VERDICT]`` / ``st[H_IOUT]`` (-1: not yet)."""
    tol, jump, band = st[TOL], st[JUMP], st[BAND]
    st[H_VERDICT] = -1.0
    for j in range(len(t)):
        tj = t[j]
        raw = tj
        if rules & R_DEDUP and seq[j] == seq[j]:
            if _seen(seq[j], st, seen, side):
                verdict[j] = DUPLICATE
                idx_out[j] = idx[j]
                continue
        if st[HELD_] != 0.0:                       # the next line confirms or contradicts the one waiting
            why = int(st[H_WHY])
            bad = KEEP
            if why & W_TIME and raw < st[H_T] - tol:
                bad = OUT_OF_ORDER
            if bad == KEEP and why & W_INDEX and idx[j] == idx[j]:
                hi_ = st[H_I]
                if st[H_KIND] == K_AHEAD:
                    if not idx[j] >= hi_:
                        bad = BAD_INDEX
                elif not (hi_ <= idx[j] < st[CUR_I]):
                    bad = BAD_INDEX
            if bad == KEEP and why & W_PRICE and lo[j] == lo[j]:
                ref = st[H_REF]
                if not (lo[j] >= ref * (1.0 - band) and hi[j] <= ref * (1.0 + band)):
                    bad = PRICE_OUTLIER
            out = st[H_I]
            if bad == KEEP:
                out = _apply(st, st[H_T], st[H_RAW], st[H_I], int(st[H_KIND]), st[H_REF])
            row = int(st[H_ROW])
            if row >= 0:
                verdict[row] = bad
                idx_out[row] = out
            else:
                st[H_VERDICT] = bad
                st[H_IOUT] = out
            st[HELD_] = 0.0
        prev = st[PREV]
        why = 0
        if rules & R_ORDER:
            if tj < prev:
                if tj < prev - tol:
                    verdict[j] = OUT_OF_ORDER
                    idx_out[j] = idx[j]
                    continue
                tj = prev
                t[j] = tj
            elif rules & R_JUMP and tj > prev + jump and prev > -1e300:
                why |= W_TIME
        kind = K_NONE
        if rules & R_INDEX and idx[j] == idx[j]:
            kind = _index_class(st, raw, idx[j])
            if kind == K_AHEAD or kind == K_BACK:
                why |= W_INDEX
        ref = np.nan
        if rules & R_BAND and lo[j] == lo[j]:
            ref = (lo[j] + hi[j]) * 0.5 if lo[j] != hi[j] else lo[j]
            last = st[REF]
            if lo[j] < last * (1.0 - band) or hi[j] > last * (1.0 + band):    # never for a first price
                why |= W_PRICE
        if why:
            st[HELD_] = 1.0
            st[H_T], st[H_RAW], st[H_I], st[H_REF] = tj, raw, idx[j], ref
            st[H_WHY], st[H_ROW], st[H_KIND] = why, j, kind
            verdict[j] = HELD
            idx_out[j] = idx[j]
            continue
        verdict[j] = KEEP
        idx_out[j] = _apply(st, tj, raw, idx[j], kind, ref)
    if st[HELD_] != 0.0:
        st[H_ROW] = -1.0                            # carried to the next call


@nb.njit(cache=True)
def _release(st):
    """The line waiting is kept (its file ended); returns its index as emitted."""
    st[HELD_] = 0.0
    return _apply(st, st[H_T], st[H_RAW], st[H_I], int(st[H_KIND]), st[H_REF])


class Stream:
    """The state of one stream's rules, from call to call (chunks, polls).

    ``run(t, seq, idx, lo, hi)`` judges a batch of rows (arrays of the same length, in file order;
    ``t`` is clamped in place) and returns (verdict, idx_out, carried): ``carried`` is the verdict
    and emitted index of the row that was waiting from the previous batch, or None when none
    was or it still waits. ``waiting`` says whether a row waits now (its owner keeps it);
    ``release()`` keeps it (end of the file, or the clock reached it)."""

    __slots__ = ("rules", "st", "seen", "side")

    def __init__(self, rules: int, band: float = DEFAULT_BAND):
        self.rules = rules
        st = np.zeros(NSLOTS)
        st[PREV], st[CUR_I], st[CUR_T], st[PERIOD], st[REF] = -1e300, np.nan, np.nan, np.inf, np.nan
        st[SEQ_HI], st[TOL], st[JUMP], st[BAND] = -np.inf, TOLERANCE_S, JUMP_S, band
        self.st = st
        self.seen = np.empty(0)
        self.side = np.empty(SIDE if rules & R_DEDUP else 1)

    @property
    def waiting(self) -> bool:
        return self.st[HELD_] != 0.0

    @property
    def waiting_for_time_only(self) -> bool:
        """The row waiting waits only for a time jump's confirmation (live: the clock may release it)."""
        return self.st[HELD_] != 0.0 and int(self.st[H_WHY]) == W_TIME

    @property
    def waiting_time(self) -> float:
        return float(self.st[H_T])

    def run(self, t: np.ndarray, seq: np.ndarray, idx: np.ndarray, lo: np.ndarray, hi: np.ndarray):
        n = len(t)
        if self.rules & R_DEDUP:
            need = int(self.st[NA]) + n + len(self.side)
            if len(self.seen) < need:
                grown = np.empty(max(need, 2 * len(self.seen), 1024))
                grown[:int(self.st[NA])] = self.seen[:int(self.st[NA])]
                self.seen = grown
        verdict = np.empty(n, np.int8)
        idx_out = np.empty(n)
        _judge(t, seq, idx, lo, hi, self.st, self.seen, self.side, self.rules, verdict, idx_out)
        v = self.st[H_VERDICT]
        carried = None if v < 0 else (int(v), float(self.st[H_IOUT]))
        return verdict, idx_out, carried

    def release(self) -> float:
        return float(_release(self.st))

    def with_seqs_only(self) -> "Stream":
        """A new state of this stream's rules that knows only the seqs seen so far (a file read
        again from its start: its lines are judged afresh, but a seq seen stays seen)."""
        s = Stream(self.rules, float(self.st[BAND]))
        s.seen, s.side = self.seen.copy(), self.side.copy()
        s.st[NA], s.st[NS], s.st[SEQ_HI] = self.st[NA], self.st[NS], self.st[SEQ_HI]
        return s


# ---- over events -------------------------------------------------------------------------------

_NAN = math.nan


def _ignore(reason: str) -> None:
    pass


def _num(v) -> float:
    return float(v) if v is not None else _NAN


def _columns(events: list[Event], rules: int, typ: str):
    """The rule columns of ``events`` (one stream's, of type ``typ``; a line of another type in
    a per-chart file has none of them: only the order rule sees it)."""
    n = len(events)
    t = np.fromiter((e.t for e in events), np.float64, n)
    nan = np.full(n, np.nan)
    seq = np.fromiter((_num(e.f.get("seq")) if e.type == typ else _NAN for e in events), np.float64, n) \
        if rules & R_DEDUP else nan
    idx = np.fromiter((_num(e.f.get("i")) if e.type == typ else _NAN for e in events), np.float64, n) \
        if rules & R_INDEX else nan
    if rules & R_BAND:
        keys = BANDED[typ]
        if len(keys) == 1:
            k = keys[0]
            lo = np.fromiter((e.f[k] if e.type == typ else _NAN for e in events), np.float64, n)
            hi = lo
        else:
            vals = np.array([[e.f[k] for k in keys] if e.type == typ else [_NAN] * len(keys) for e in events],
                            np.float64).reshape(n, len(keys))
            lo, hi = vals.min(axis=1), vals.max(axis=1)
    else:
        lo = hi = nan
    return t, seq, idx, lo, hi


def as_judged(ev: Event, t: float, i: float) -> Event:
    """``ev`` at time ``t`` with bar index ``i`` (renumbered), as judged."""
    if i == i:
        raw = ev.f.get("i")
        if raw is not None and raw != i:
            ev.f["i"] = int(i) if float(i).is_integer() else i
    return ev if ev.t == t else ev._replace(t=t)


class StreamOrder:
    """The rules for the lines of one file, as ``Event``s, state kept from call to call.

    ``stream``: (chart, type) of a per-chart file (one stream, time jumps held), None for a unified
    file (a stream per (chart, type), no time-jump rule: its streams interleave in time order).
    ``judge(events, bad)`` returns the events to emit now, in file order (a line waiting for the
    next line of its stream holds back the lines after it, so the order stays the file's);
    ``flush()`` the ones still held (the file ended). ``held`` is the line waiting in a per-chart
    file (None: none), ``release_if(t)`` lets it through when it waits only for a time jump and
    ``t`` reached it (live).
    """

    def __init__(self, stream: tuple | None, band: float | None = None, before: "StreamOrder | None" = None):
        """``before``: the rules' state of the same file read before (now read again from its
        start): the seqs it saw stay seen, nothing else is kept."""
        self.stream = stream
        self.band = price_band() if band is None else band
        #: (chart, type) -> its rules' state
        self.streams: dict[tuple, Stream] = {}
        if before is not None:
            self.streams = {k: s.with_seqs_only() for k, s in before.streams.items() if s.rules & R_DEDUP}
        self._pending: list[list] = []            # unified: [event, verdict or None] in file order
        self._bad = _ignore
        self._held_row: dict[tuple, list] = {}    # stream -> its pending row still waiting
        self.held: Event | None = None            # per-chart: the event waiting

    def _stream(self, key: tuple) -> Stream:
        s = self.streams.get(key)
        if s is None:
            s = self.streams[key] = Stream(rules_for(key[1], self.stream is not None, self.band), self.band)
        return s

    def judge(self, events: list[Event], bad) -> list[Event]:
        if self.stream is None:
            return self._unified(events, bad)
        s = self._stream(self.stream)
        if s.rules == 0 or not events and self.held is None:
            return events
        if not events:
            return []
        t, seq, idx, lo, hi = _columns(events, s.rules, self.stream[1])
        verdict, idx_out, carried = s.run(t, seq, idx, lo, hi)
        out: list[Event] = []
        if carried is not None:
            held, self.held = self.held, None
            if carried[0] == KEEP:
                out.append(as_judged(held, held.t, carried[1]))
            else:
                bad(REASONS[carried[0]])
        for ev, v, tt, ii in zip(events, verdict.tolist(), t.tolist(), idx_out.tolist()):
            if v == KEEP:
                out.append(as_judged(ev, tt, ii))
            elif v == HELD:
                self.held = ev._replace(t=tt) if ev.t != tt else ev
            else:
                bad(REASONS[v])
        return out

    def flush(self) -> list[Event]:
        """The lines still waiting (the file ended): kept."""
        if self.stream is not None:
            held, self.held = self.held, None
            if held is None:
                return []
            i = self._stream(self.stream).release()
            return [as_judged(held, held.t, i)]
        for key, row in self._held_row.items():
            row[1] = KEEP
            row[2] = self.streams[key].release()
        self._held_row.clear()
        return self._drain(self._bad)

    def release_if(self, now: float) -> list[Event]:
        """Live: the line waiting for a time jump alone, once ``now`` reached its time."""
        if self.held is None or self.stream is None:
            return []
        s = self._stream(self.stream)
        if s.waiting_for_time_only and s.waiting_time <= now:
            return self.flush()
        return []

    # ---- a unified file: a stream per (chart, type) ------------------------------------------------
    def _unified(self, events: list[Event], bad) -> list[Event]:
        self._bad = bad                           # the lines still pending at the end are counted with it
        pending = self._pending
        groups: dict[tuple, list[int]] = {}
        base = len(pending)
        for k, ev in enumerate(events):
            pending.append([ev, KEEP, _NAN])
            if ev.type != "depth":
                groups.setdefault((ev.chart, ev.type), []).append(k)
        for key, rows in groups.items():
            s = self._stream(key)
            evs = [events[k] for k in rows]
            t, seq, idx, lo, hi = _columns(evs, s.rules, key[1])
            verdict, idx_out, carried = s.run(t, seq, idx, lo, hi)
            if carried is not None:
                row = self._held_row.pop(key)
                row[1], row[2] = carried
            for k, v, tt, ii in zip(rows, verdict.tolist(), t.tolist(), idx_out.tolist()):
                row = pending[base + k]
                ev = row[0]
                if ev.t != tt:
                    row[0] = ev._replace(t=tt)
                if v == HELD:
                    row[1] = None
                    self._held_row[key] = row
                else:
                    row[1], row[2] = v, ii
        return self._drain(bad)

    def _drain(self, bad) -> list[Event]:
        pending = self._pending
        out: list[Event] = []
        n = 0
        for row in pending:
            v = row[1]
            if v is None:
                break
            n += 1
            if v == KEEP:
                ev = row[0]
                out.append(as_judged(ev, ev.t, row[2]))
            else:
                bad(REASONS[v])
        del pending[:n]
        return out
