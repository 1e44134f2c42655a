"""Columnar replay: a Sierra day folder as blocks of events in replay order, for batch consumers.

The same events, times and order as ``mia.market.replay.replay`` (which stays the reference),
read in chunks into arrays instead of one Python object per line, so memory stays flat and a
million-line session replays in seconds:

- trade / quote / depth / basedata files are scanned by numba (``jsonscan``), a chunk at a time;
  with more than one thread (``read_threads``) a file's next chunk is read and scanned on a
  worker thread while this one merges (a chunk not started yet when it is needed is scanned
  here: no waiting on a busy or descheduled worker); every other line, and every line the
  scanner does not vouch for, goes through ``LineParser.batch`` and is kept as an ``Event``
  (bad lines are tallied there, by the market layer's rules);
- times: SCDateTime -> UTC epoch with the parser's per-hour zone offsets, a line outside its
  file's trading day ``wrong_day``; per file the rules between lines (``mia.market.judge``: order,
  duplicates, bar indexes, the price band; ``StreamOrder`` for parsed files, the same kernel over
  the columns of a scanned file); a unified file is read for the streams the per-chart files lack
  (``mia.market.unified``);
- files of a day are merged by (time, file position) and stamped by replay's own merge
  (``order.merged_rounds``, ``order.stamp``: never earlier than the latest time emitted).

A ``Block`` holds ``t``, ``code`` (``codes.TRADE/QUOTE/DEPTH/BASEDATA/OTHER/PASS``), ``x``
(the scanned columns), ``others`` and ``passed`` (the ``Event`` of each OTHER and of each PASS
row, in row order) and ``syms`` (the symbols of the SYM column). A line of a type the consumer
has no use for (``wanted_types``; the feature engine's: nbcv, cumulative_delta, ...) is a PASS
row: validated and counted like any line, then stepped over; its event is read only if asked
for. ``Block.event(i)`` is row ``i`` as an ``Event`` with the line's real values (a scanned
row's: those the scanner read), at the row's time. ``cache`` (a ``daycache.DayCache``) reads an
unchanged day's columns back instead of its files.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numba as nb
import numpy as np
import orjson

from mia.market.columnar.codes import BASEDATA, CHART, DEPTH, KIND, NCOLS, OTHER, PASS, QUOTE, SYM, TRADE
from mia.market.columnar.daycache import DayCache
from mia.market.columnar.jsonscan import SLOW, WRONG_DAY, Scanner
from mia.market.days import covered
from mia.market.events import BANDED, Event
from mia.market.judge import (KEEP, R_BAND, R_DEDUP, R_INDEX, REASONS, Stream, StreamOrder, as_judged, price_band,
                              rules_for)
from mia.market.order import merged_rounds, stamp
from mia.market.replay import select_days, warn_empty, with_progress
from mia.market.sctime import zone_for
from mia.market.sierra import BadLine, BadLines, LineParser, file_kind
from mia.market.unified import cover_table, drop_covered, uncovered

#: bytes read per refill: scanned files (a row of 100 bytes a line) and parsed ones (an Event and dict a line)
CHUNK = 1 << 21
PARSED_CHUNK = 1 << 17


#: the reader's threads, when set (None: ``NUMBA_NUM_THREADS``)
THREADS: int | None = None


def read_threads() -> int:
    """Threads the reader scans on: ``THREADS``, else ``NUMBA_NUM_THREADS`` (numba's own setting;
    default: the cores). With more than one, each scanned file's next chunk is read and scanned
    on a worker thread while the caller merges the current one."""
    if THREADS is not None:
        return max(1, int(THREADS))
    import numba

    return max(1, int(numba.config.NUMBA_NUM_THREADS))


_POOL: list = [None, 0, 0]


def _pool():
    """The worker threads (None with one thread: everything runs in the caller's); made anew
    in a forked child (the parent's threads are not there)."""
    n = read_threads() - 1
    if n < 1:
        return None
    if _POOL[0] is None or _POOL[1] != n or _POOL[2] != os.getpid():
        from concurrent.futures import ThreadPoolExecutor

        _POOL[:] = ThreadPoolExecutor(n, thread_name_prefix="mia-scan"), n, os.getpid()
    return _POOL[0]


@dataclass
class Block:
    t: np.ndarray           # float64[n], UTC epoch seconds, as the replay emits them
    code: np.ndarray        # int8[n]
    x: np.ndarray           # float64[n, NCOLS]: the scanner's columns
    others: list            # the Event of each OTHER row, in row order (``event`` gives it at the row's time)
    syms: list              # the symbols the SYM column indexes
    passed: Sequence = ()   # the Event of each PASS row, in row order (a day cache reads them when asked)
    _rank: np.ndarray | None = field(default=None, repr=False, compare=False)

    def rows(self, i: int, j: int) -> "Block":
        """Rows ``i..j-1`` as a block of their own, with the OTHER and PASS events among them
        (the PASS ones still read only when asked for)."""
        n = len(self.t)
        if i <= 0 and j >= n:
            return self
        code = self.code
        o0, p0 = int(np.count_nonzero(code[:i] == OTHER)), int(np.count_nonzero(code[:i] == PASS))
        o1 = o0 + int(np.count_nonzero(code[i:j] == OTHER))
        p1 = p0 + int(np.count_nonzero(code[i:j] == PASS))
        return Block(self.t[i:j], code[i:j], self.x[i:j], self.others[o0:o1], self.syms,
                     _Window(self.passed, p0, p1))

    def event(self, i: int) -> Event:
        """Row ``i`` as the ``Event`` replay gives: an OTHER or PASS row's own; a scanned row's
        time, type, chart, symbol and the fields the scanner read (trade side, px, vol; quote bid,
        ask; depth side, lvl, price, size; basedata i, o, h, l, c, v, and bidvol, askvol when the
        line has them), never the line's other fields (seq, tt, kind, bq, aq, its raw t)."""
        c, t = self.code.item(i), self.t.item(i)
        if c >= OTHER:
            if self._rank is None:              # each OTHER / PASS row's index in its list
                code = self.code
                self._rank = np.where(code == PASS, np.cumsum(code == PASS), np.cumsum(code == OTHER)) - 1
            ev = (self.others if c == OTHER else self.passed)[self._rank.item(i)]
            return ev if ev.t == t else ev._replace(t=t)
        x = self.x[i]
        chart, sym = int(x[CHART]), self.syms[int(x[SYM])]
        if c == TRADE:
            return Event(t, "trade", chart, sym, {"side": "BUY" if x[2] else "SELL", "px": float(x[0]),
                                                  "vol": float(x[1])})
        if c == QUOTE:
            return Event(t, "quote", chart, sym, {"bid": float(x[0]), "ask": float(x[1])})
        if c == DEPTH:
            return Event(t, "depth", chart, sym, {"side": "ASK" if x[0] else "BID", "lvl": float(x[1]),
                                                  "price": float(x[3]), "size": float(x[2])})
        index = float(x[1])
        f = {"i": int(index) if index.is_integer() else index, "o": float(x[2]), "h": float(x[3]),
             "l": float(x[4]), "c": float(x[5]), "v": float(x[6])}
        for key, val in (("bidvol", float(x[7])), ("askvol", float(x[8]))):
            if val == val:
                f[key] = val
        return Event(t, "basedata", chart, sym, f)


class _Window(Sequence):
    """Items ``start..stop-1`` of a sequence, read from it only when asked for."""

    def __init__(self, seq: Sequence, start: int, stop: int):
        self.seq, self.start, self.stop = seq, start, stop

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[j] for j in range(*k.indices(len(self)))]
        if not -len(self) <= k < len(self):
            raise IndexError(k)
        return self.seq[self.start + k % len(self)]


_EMPTY_T = np.empty(0)
_EMPTY_C = np.empty(0, np.int8)
_EMPTY_X = np.empty((0, NCOLS))


@nb.njit(cache=True, nogil=True)
def _after_last_newline(b) -> int:
    """The index just after the last newline of ``b`` (0: none)."""
    for p in range(len(b) - 1, -1, -1):
        if b[p] == 10:
            return p + 1
    return 0


class _Source:
    """One file read chunk by chunk into column buffers (unconsumed rows only)."""

    def __init__(self, path: Path, zones, bad: BadLines, counter: list[int], syms: list[str],
                 skip: frozenset = frozenset(), band: float | None = None):
        self.path, self.name = path, str(path)
        self.bad = bad
        self.syms = syms                       # the day's symbols (SYM column -> symbol)
        self.sym: bytes | None = None          # the symbol the scanner expects, once seen
        self.sym_id = 0
        self.counter = counter                 # counter[0]: bytes read, for a progress bar
        self.chart, self.typ, day = file_kind(path)
        self.parser = LineParser(self.typ, self.chart, zones, day)
        self.kind = KIND.get(self.typ) if self.typ is not None else None
        self.zone = zone_for(self.typ, zones) if self.typ is not None else None
        self.counts = bad.counts
        band = price_band() if band is None else band
        self.rules = rules_for(self.typ, True, band)
        self.stream = Stream(self.rules, band)  # scanned file: its rules' state
        self.carry = None                      # scanned file: the row waiting for the next line
        self.order = StreamOrder((self.chart, self.typ) if self.typ is not None else None, band)   # parsed files
        self.skip = skip if self.typ is None else frozenset()   # unified: the streams read elsewhere
        self.table = cover_table(self.skip) if self.skip else None
        self.rest = b""
        self.done = False
        self.t, self.code, self.x, self.ev = _EMPTY_T, _EMPTY_C, _EMPTY_X, {}
        self.next_id = 0
        self.scanner = (Scanner(self.kind, self.chart or 0, zone=self.zone, lo=self.parser.lo, hi=self.parser.hi)
                        if self.kind is not None else None)
        self.ahead = None                      # the next chunk, being read and scanned on a worker
        try:
            self.fh = open(path, "rb")
        except OSError:
            self._bad("unreadable_file")
            self.fh, self.done = None, True

    def _bad(self, reason: str) -> None:
        self.counts[(self.name, reason)] += 1

    # ---- reading ---------------------------------------------------------------------------------
    def fill(self) -> None:
        """Read until the buffer holds a row or the file is done."""
        while not self.done and len(self.t) == 0:
            got = self._take()
            if got is None:
                self._bad("unreadable_file")
                self._finish(tail=False)
                return
            n, buf, scanned = got
            if n == 0:
                self._finish(tail=True)
                return
            self.counter[0] += n
            if len(buf):
                if self.kind is None:
                    self._add_parsed(buf)
                else:
                    if scanned is None:
                        if self.sym is None:
                            self._learn_symbol(buf[:1 << 16].tobytes())
                        scanned = self.scanner.run(buf)
                    self._add(buf, scanned)
            self._read_ahead()

    def _read(self):
        """The next chunk's complete lines: (bytes read, lines, their scan or None); None when
        the file cannot be read. Runs on a worker thread when one is there (one at a time per
        file). A scanned file's lines are a uint8 array (read into it: no copy of the chunk)."""
        if self.kind is None:
            try:
                chunk = self.fh.read(PARSED_CHUNK)
            except (OSError, ValueError):
                return None
            if not chunk:
                return 0, b"", None
            data = self.rest + chunk if self.rest else chunk
            cut = data.rfind(b"\n") + 1
            self.rest = data[cut:]
            return len(chunk), data[:cut], None
        rest = self.rest
        data = np.empty(len(rest) + CHUNK, np.uint8)
        data[:len(rest)] = np.frombuffer(rest, np.uint8)
        try:
            n = self.fh.readinto(memoryview(data)[len(rest):])
        except (OSError, ValueError):
            return None
        if not n:
            return 0, b"", None
        data = data[:len(rest) + n]
        cut = _after_last_newline(data)
        self.rest = data[cut:].tobytes()
        lines = data[:cut]
        scanned = self.scanner.run(lines) if cut and self.sym is not None else None
        return n, lines, scanned

    def _take(self):
        ahead, self.ahead = self.ahead, None
        if ahead is None or ahead.cancel():    # not started yet: do it here rather than wait
            return self._read()
        return ahead.result()

    def _read_ahead(self) -> None:
        if self.kind is not None and not self.done:
            pool = _pool()
            if pool is not None:
                self.ahead = pool.submit(self._read)

    def _finish(self, tail: bool) -> None:
        self.done = True
        if self.ahead is not None:
            self.ahead.cancel() or self.ahead.result()
            self.ahead = None
        if self.fh is not None:
            self.fh.close()
        rest, self.rest = self.rest, b""
        events = []
        if tail and rest.strip():
            try:                               # a last line without its newline: a file being written
                events = drop_covered([self.parser.one(rest)], self.skip)
            except BadLine:
                self.bad.add(self.name, "partial_line", len(rest))
        if self.kind is None:
            events = self.order.judge(events, self._bad) + self.order.flush()
            self._append_events(events)
        else:
            n = len(events)
            self._order_rows(np.array([e.t for e in events], dtype=np.float64), np.full(n, OTHER, np.int8),
                             np.zeros((n, NCOLS)), events, final=True)

    def _add_parsed(self, buf: bytes) -> None:
        """A parsed file's lines: the market layer's own rules."""
        lines = buf.split(b"\n")[:-1] if self.table is None else uncovered(buf, self.table)
        events = drop_covered(self.parser.batch(lines, self._bad), self.skip)
        self._append_events(self.order.judge(events, self._bad))

    def _add(self, buf: np.ndarray, scanned) -> None:
        """A scanned chunk's rows; the lines the scanner left (``notes``) counted (wrong_day) or
        read by the parser (in file order, kept as OTHER rows where they stand)."""
        t, x, notes = scanned
        code = np.full(len(t), self.kind, np.int8)
        events = []
        if notes.shape[1]:
            status, at, starts, ends = notes
            wrong = int(np.count_nonzero(status == WRONG_DAY))
            if wrong:
                self.counts[(self.name, "wrong_day")] += wrong
            slow = np.flatnonzero(status == SLOW)
            if len(slow):
                offsets = self.parser._offsets          # the hours' offsets: one for the file
                for hour, off in self.scanner.hour_offsets():
                    offsets.setdefault((self.zone, hour), off)
                pos = []
                for q in slow.tolist():
                    got = self.parser.batch([buf[starts[q]:ends[q]].tobytes()], self._bad)
                    if got:
                        events.append(got[0])
                        pos.append(int(at[q]))
                for (zone, hour), off in offsets.items():
                    if zone == self.zone:
                        self.scanner.take_offset(hour, off)
                if events:
                    t = np.insert(t, pos, [e.t for e in events])
                    x = np.insert(x, pos, 0.0, axis=0)
                    code = np.insert(code, pos, OTHER)
        self._order_rows(t, code, x, events, final=False)

    def _learn_symbol(self, buf: bytes) -> None:
        """The symbol of the file's first lines, for the scanner to expect (a line with another
        symbol is read by the parser, so this choice only matters for speed)."""
        for raw in buf.split(b"\n", 8)[:8]:
            try:
                sym = orjson.loads(raw).get("sym")
            except (orjson.JSONDecodeError, AttributeError):
                continue
            if isinstance(sym, str) and sym and sym.isascii() and sym.isprintable() and not {'"', "\\"} & set(sym):
                if sym not in self.syms:
                    self.syms.append(sym)
                self.sym, self.sym_id = sym.encode(), self.syms.index(sym)
                self.scanner.set_symbol(self.sym, self.sym_id)
                return

    def _order_rows(self, t, code, x, events, final: bool) -> None:
        """A scanned file's rows through the rules between lines (``judge.Stream``); the row still
        waiting for the next line is carried to the next call, and kept when the file ends
        (``final``)."""
        if self.rules:
            seq, idx, lo, hi = self._rule_columns(code, x, events)
            verdict, idx_out, carried = self.stream.run(t, seq, idx, lo, hi)
            if self.kind == BASEDATA:
                x[:, 1] = np.where(code == OTHER, x[:, 1], idx_out)
            if len(events):
                events = self._renumbered(code, events, idx_out)
            if self.kind == TRADE:
                x[:, 3] = 0.0                              # the seq column was for the rules only
            elif self.kind == QUOTE:
                x[:, 2] = 0.0
            keep = verdict == KEEP
            held = np.flatnonzero(verdict == 1)
            if not keep.all():
                bad = verdict[(verdict > 1)]
                for v, n in zip(*np.unique(bad, return_counts=True)):
                    self.counts[(self.name, REASONS[int(v)])] += int(n)
                ev_keep = keep[code == OTHER]
                new_carry = None
                if len(held):
                    h = int(held[0])
                    new_carry = (t[h:h + 1].copy(), code[h:h + 1].copy(), x[h:h + 1].copy(),
                                 events[int(np.count_nonzero(code[:h] == OTHER))] if code[h] == OTHER else None)
                events = [e for e, k in zip(events, ev_keep.tolist()) if k]
                t, code, x = t[keep], code[keep], x[keep]
            else:
                new_carry = None
            if carried is not None:
                ct, cc, cx, cev = self.carry
                self.carry = None
                if carried[0] == KEEP:
                    if self.kind == BASEDATA and cc[0] != OTHER:
                        cx[:, 1] = carried[1]
                    if cev is not None:
                        cev = self._renumbered(cc, [cev], np.array([carried[1]]))[0]
                    t, code, x = np.concatenate([ct, t]), np.concatenate([cc, code]), np.concatenate([cx, x])
                    if cev is not None:
                        events = [cev, *events]
                else:
                    self.counts[(self.name, REASONS[carried[0]])] += 1
            if new_carry is not None:
                self.carry = new_carry
            if final and self.carry is not None:
                ct, cc, cx, cev = self.carry
                self.carry = None
                i = self.stream.release()
                if self.kind == BASEDATA and cc[0] != OTHER:
                    cx[:, 1] = i
                if cev is not None:
                    cev = self._renumbered(cc, [cev], np.array([i]))[0]
                t, code, x = np.concatenate([t, ct]), np.concatenate([code, cc]), np.concatenate([x, cx])
                if cev is not None:
                    events = [*events, cev]
        self._append(t, code, x, _restamp(t, code, events))

    def _rule_columns(self, code, x, events):
        """seq, bar index and price range (NaN: none) of each row, for the rules between lines: a
        scanned row's from its columns, an OTHER row's from its event (of the file's type only)."""
        n = len(code)
        nan = np.full(n, np.nan)
        kind, rules, typ = self.kind, self.rules, self.typ
        seq = idx = lo = hi = nan
        if rules & R_DEDUP:
            seq = x[:, 3].copy() if kind == TRADE else x[:, 2].copy()
        if rules & R_INDEX:
            idx = x[:, 1].copy()
        if rules & R_BAND:
            if kind == TRADE:
                lo = hi = x[:, 0].copy()
            elif kind == QUOTE:
                lo, hi = np.minimum(x[:, 0], x[:, 1]), np.maximum(x[:, 0], x[:, 1])
            else:
                lo, hi = x[:, 2:6].min(axis=1), x[:, 2:6].max(axis=1)
        if len(events):
            rows = np.flatnonzero(code == OTHER)
            if rules & R_DEDUP:
                seq[rows] = [float(e.f.get("seq", np.nan)) if e.type == typ else np.nan for e in events]
            if rules & R_INDEX:
                idx[rows] = [float(e.f.get("i", np.nan)) if e.type == typ else np.nan for e in events]
            if rules & R_BAND:
                keys = BANDED[typ]
                vals = np.array([[e.f[k] for k in keys] if e.type == typ else [np.nan] * len(keys) for e in events],
                                np.float64).reshape(len(events), len(keys))
                lo, hi = lo.copy(), hi.copy()
                lo[rows], hi[rows] = vals.min(axis=1), vals.max(axis=1)
        return seq, idx, lo, hi

    def _renumbered(self, code, events: list, idx_out) -> list:
        """The OTHER rows' events with their bar index as the rules emit it (renumbered)."""
        if not self.rules & R_INDEX:
            return events
        out = idx_out[code == OTHER].tolist()
        return [as_judged(e, e.t, i) if e.type == self.typ else e for e, i in zip(events, out)]

    def _append_events(self, events: list) -> None:
        n = len(events)
        self._append(np.array([e.t for e in events], dtype=np.float64), np.full(n, OTHER, np.int8),
                     np.zeros((n, NCOLS)), events)

    def _append(self, t, code, x, events) -> None:
        ids = np.flatnonzero(code == OTHER)
        if len(ids):
            x = x.copy()
            x[ids, 0] = np.arange(self.next_id, self.next_id + len(ids))
            for k, e in enumerate(events):
                self.ev[self.next_id + k] = e
            self.next_id += len(ids)
        if len(self.t):
            self.t, self.code, self.x = (np.concatenate([self.t, t]), np.concatenate([self.code, code]),
                                         np.concatenate([self.x, x]))
        else:
            self.t, self.code, self.x = t, code, x

    def consume(self, n: int) -> None:
        self.t, self.code, self.x = self.t[n:], self.code[n:], self.x[n:]


def blocks(paths: list[str | Path], date_from: date | None = None, date_to: date | None = None,
           zones: dict | None = None, bad: BadLines | None = None, progress: bool = False,
           cache: DayCache | None = None, wanted_types: Iterable[str] | None = None) -> Iterator[Block]:
    """The events of ``replay(paths, ...)`` as a sequence of blocks (same times, same order);
    ``progress``: a progress bar of bytes read on stderr; ``cache``: read unchanged days from
    (and write them to) a ``DayCache``; ``wanted_types``: the event types the consumer handles
    (the lines of any other type are PASS rows; None: every type is wanted)."""
    bad = bad if bad is not None else BadLines()
    days = select_days(paths, date_from, date_to)
    counter = [0]
    wanted = frozenset(wanted_types) if wanted_types is not None else None
    stream = _blocks(days, zones, bad, counter, cache, wanted)
    return with_progress(stream, days, counter, every=1) if progress else stream


def _blocks(days: dict[str, list[Path]], zones, bad: BadLines, counter: list[int],
            cache: DayCache | None, wanted: frozenset | None) -> Iterator[Block]:
    clock = -np.inf
    for day, files in days.items():
        rows = 0
        key = cache.key(files, zones, None if wanted is None else sorted(wanted)) if cache is not None else None
        parts = cache.parts(key, files, bad, counter) if key else None
        if parts is None:
            parts = _day_parts(files, zones, bad, counter)
            if wanted is not None:
                parts = (_passive(part, wanted) for part in parts)
            if key:
                parts = cache.writing(key, files, parts, bad)
        for t, code, x, others, syms, passed in parts:
            if t[0] < clock:                   # a day that starts before the last one ended (``event``
                t = np.maximum(t, clock)       # gives the OTHER / PASS rows' events at these times)
            clock = float(t[-1])
            rows += len(t)
            yield Block(t, code, x, others, syms, passed)
        if rows == 0:
            warn_empty(day, files)


def _restamp(t, code, events: list) -> list:
    """``events`` (those of the OTHER rows, in order) carrying the times ``t`` gives their rows."""
    if not events:
        return events
    evt = t[code == OTHER].tolist()
    return [e if e.t == tt else e._replace(t=tt) for e, tt in zip(events, evt)]


def _passive(part: tuple, wanted: frozenset) -> tuple:
    """OTHER rows of types not ``wanted`` become PASS rows (their events go to ``passed``)."""
    t, code, x, others, syms, _ = part
    kept, passed = [], []
    for j, ev in zip(np.flatnonzero(code == OTHER).tolist(), others):
        if ev.type in wanted:
            kept.append(ev)
        else:
            code[j] = PASS
            passed.append(ev)
    return t, code, x, kept, syms, passed


def _day_parts(files: list[Path], zones, bad: BadLines, counter: list[int]) -> Iterator[tuple]:
    """One day's files merged: (t, code, x, others, syms, passed) per round, times stamped within the day."""
    clock = -np.inf
    syms = [""]
    skip = covered(files)
    band = price_band()
    sources = [_Source(p, zones, bad, counter, syms, skip, band) for p in files]
    for rnd in merged_rounds(sources):
        code, x = _gather(sources, rnd)
        tm, clock = stamp(rnd.t, clock)
        others = []
        for j in np.flatnonzero(code == OTHER).tolist():
            ev = sources[rnd.src[j]].ev.pop(int(x[j, 0]))
            tj = float(tm[j])
            others.append(ev if ev.t == tj else ev._replace(t=tj))
        yield tm, code, x, others, syms, []


def _gather(sources: list[_Source], rnd) -> tuple[np.ndarray, np.ndarray]:
    """The code and x of a round's rows, in merge order, copied once from the sources' buffers
    (a source's rows in a round are the first of its buffer, in order)."""
    m = len(rnd.t)
    counts = np.bincount(rnd.src, minlength=len(sources))
    used = np.flatnonzero(counts)
    if len(used) == 1:
        src = sources[int(used[0])]
        return src.code[:m].copy(), src.x[:m].copy()
    code = np.empty(m, np.int8)
    x = np.empty((m, NCOLS))
    for i in used.tolist():
        where = np.flatnonzero(rnd.src == i)
        src = sources[i]
        code[where] = src.code[:len(where)]
        x[where] = src.x[:len(where)]
    return code, x
