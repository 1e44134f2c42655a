"""A cache of day folders read as columns: reading an unchanged day again skips its JSONL.

A backtest or ``mia signals`` run again over the same days (after a rule edit, say) reads each
day's merged, validated columns (what ``blocks`` makes of its files) from here instead of
scanning the files: the same rows, times, events and bad-line counts.

Key of a day: its files (absolute path, size, mtime in ns), the time zones, and the source of
the modules that turn lines into columns (``_SOURCES``); any change is a miss, and the day is
read from its files (and its entry written anew). An entry is written only when every file of
the day ends in a newline and none changed while it was read: a file being written ends in a
partial line, and a live day changes by the second. An entry is written into a temporary folder
and renamed, so a reader sees a whole entry or none; the least recently used entries are
removed beyond ``MIA_DAY_CACHE_MB`` megabytes (default 2048; ``0`` turns the cache off).

An entry (``<cache>/days/<key>/``): ``t`` float64 (times, clamped within the day), ``code``
int8, ``x`` float32 (the first four columns, all a trade, quote or depth row holds besides its
chart and symbol; the rows float32 cannot hold exactly are in ``fix_rows`` / ``fix_x`` as
float64), ``cs_rows`` / ``cs`` (the chart and symbol columns as runs: the first row of each run
and its two values; they change seldom), ``bd_rows`` / ``bd_x`` (basedata rows, all their
columns), ``others.pkl`` / ``passed.pkl`` (the ``Event`` of each OTHER / PASS row, in order;
the latter read only when one is asked for), ``meta.json`` (rows, bytes of the files, the
symbols, the PASS events and their file's size, bad lines by file index and reason).
"""
from __future__ import annotations

import gc
import hashlib
import json
import os
import pickle
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from mia.cache import cache_root
from mia.errors import MiaError
from mia.market.columnar.codes import BASEDATA, CHART, NCOLS, OTHER, PASS, SYM

FORMAT = 2
#: rows per block read back from an entry
ROWS = 1 << 16
DEFAULT_MB = 2048
_NAMES = ("t", "code", "x", "bd_rows", "bd_x", "fix_rows", "fix_x", "cs_rows", "cs")
_DTYPES = {"t": np.float64, "code": np.int8, "x": np.float32, "bd_rows": np.int64, "bd_x": np.float64,
           "fix_rows": np.int64, "fix_x": np.float64, "cs_rows": np.int64, "cs": np.float64}
#: ``x`` keeps a row's first XW columns; CHART and SYM are kept as runs
XW = 4
_WIDTH = {"x": XW, "bd_x": NCOLS, "fix_x": XW, "cs": 2}
assert (CHART, SYM) == (XW + 5, XW + 6) and NCOLS == SYM + 1
#: the modules whose code decides what a day's columns hold
_SOURCES = ("mia.market.columnar.codes", "mia.market.columnar.jsonscan", "mia.market.columnar.blocks",
            "mia.market.columnar.daycache", "mia.market.order", "mia.market.sierra", "mia.market.sctime",
            "mia.market.replay", "mia.market.events", "mia.market.judge", "mia.market.unified", "mia.market.days")
_source_digest: str | None = None

#: a day's part: (t, code, x, others, syms, passed), as ``blocks`` reads it
Part = tuple


class DayKey(NamedTuple):
    """A day's entry name, and the (path, size, mtime_ns) of its files it was made from."""
    name: str
    stats: list


def _sources() -> str:
    global _source_digest
    if _source_digest is None:
        import importlib

        h = hashlib.sha256()
        for name in _SOURCES:
            h.update(Path(importlib.import_module(name).__file__).read_bytes())
        _source_digest = h.hexdigest()
    return _source_digest


def _stats(files: list[Path]) -> list[tuple[str, int, int]] | None:
    out = []
    for p in files:
        try:
            st = os.stat(p)
        except OSError:
            return None
        out.append((str(Path(p).resolve()), st.st_size, st.st_mtime_ns))
    return out


def _ends_in_newline(path: Path, size: int) -> bool:
    if size == 0:
        return True
    try:
        with open(path, "rb") as fh:
            fh.seek(size - 1)
            return fh.read(1) == b"\n"
    except OSError:
        return False


class DayCache:
    """Entries under ``root`` (default ``<cache>/days``), at most ``limit_mb`` megabytes."""

    def __init__(self, root: Path | None = None, limit_mb: float = DEFAULT_MB):
        self.root = Path(root) if root is not None else cache_root() / "days"
        self.limit = limit_mb * 1e6

    @classmethod
    def from_env(cls) -> DayCache | None:
        """The cache as ``MIA_DAY_CACHE_MB`` sets it (None: turned off)."""
        text = os.environ.get("MIA_DAY_CACHE_MB", "").strip()
        if not text:
            return cls()
        try:
            mb = float(text)
        except ValueError:
            raise MiaError(f"MIA_DAY_CACHE_MB={text!r}: error: expected a number of megabytes (0 turns the cache off)") \
                from None
        if not mb > 0:
            return None
        return cls(limit_mb=mb)

    # ---- keys ------------------------------------------------------------------------------------
    def key(self, files: list[Path], zones: dict | None, *extra) -> DayKey | None:
        """The day's key (``extra``: more of what the columns depend on, JSON-able), or None when
        the day must not be cached (a file missing or ending mid-line)."""
        stats = _stats(files)
        if stats is None or not all(_ends_in_newline(Path(p), size) for p, size, _ in stats):
            return None
        text = json.dumps([FORMAT, _sources(), sorted((zones or {}).items()), stats, extra])
        return DayKey(hashlib.sha256(text.encode()).hexdigest()[:32], stats)

    # ---- reading ---------------------------------------------------------------------------------
    def parts(self, key: DayKey, files: list[Path], bad, counter: list[int]) -> Iterator[Part] | None:
        """The day's parts from its entry, its bad lines added to ``bad`` (None: no entry)."""
        path = self.root / key.name
        try:
            meta = json.loads((path / "meta.json").read_text())
            if meta.get("format") != FORMAT or len(meta["files"]) != len(files):
                return None
            others = _load(path / "others.pkl")
            cols = {name: _open(path / name, _DTYPES[name], _WIDTH.get(name)) for name in _NAMES}
            rows = meta["rows"]
            syms = meta["syms"]
            if not len(cols["t"]) == len(cols["code"]) == len(cols["x"]) == rows or \
                    len(others) != int(np.count_nonzero(cols["code"] == OTHER)) or \
                    meta["passed"] != int(np.count_nonzero(cols["code"] == PASS)) or \
                    (path / "passed.pkl").stat().st_size != meta["passed_bytes"] or \
                    not (isinstance(syms, list) and syms[:1] == [""] and all(isinstance(s, str) for s in syms)):
                return None                                     # a damaged entry: read the files
            for idx, vals in (("bd_rows", "bd_x"), ("fix_rows", "fix_x"), ("cs_rows", "cs")):
                ix = cols[idx]
                if len(ix) != len(cols[vals]) or (len(ix) and not (0 <= ix[0] and ix[-1] < rows)):
                    return None
            if rows and (len(cols["cs_rows"]) == 0 or cols["cs_rows"][0] != 0):
                return None
            os.utime(path)                                      # recently used
        except (OSError, ValueError, KeyError, EOFError, pickle.UnpicklingError):
            return None
        for i, reason, n in meta["bad"]:
            bad.counts[(str(files[i]), reason)] += n
        passed = _Passed(path / "passed.pkl", meta["passed"])
        return _read(cols, others, passed, syms, rows, meta["bytes"], counter)

    # ---- writing ---------------------------------------------------------------------------------
    def writing(self, key: DayKey, files: list[Path], parts: Iterator[Part], bad) -> Iterator[Part]:
        """Pass ``parts`` (the day read from its files) through, writing its entry as they go; the
        entry lands only when the day was read to its end and its files are still as ``key`` saw them."""
        before = Counter(bad.counts)
        stats = key.stats
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            w = _Writer(Path(tempfile.mkdtemp(prefix=f".{key.name}.", dir=self.root)))
        except OSError:
            yield from parts                                    # an unwritable cache only costs time
            return
        landed = False
        try:
            for part in parts:
                w.add(*part)
                yield part
            if _stats(files) == stats:
                names = {str(p): i for i, p in enumerate(files)}
                diff = [(names[f], r, n) for (f, r), n in sorted((Counter(bad.counts) - before).items()) if f in names]
                landed = w.commit(self.root / key.name, files, diff, sum(s for _, s, _ in stats))
        except OSError:
            pass
        finally:
            w.close()
            if not landed:
                shutil.rmtree(w.dir, ignore_errors=True)
        if landed:
            self.prune()

    def prune(self) -> None:
        """Remove the least recently used entries beyond the size limit, and stale temporaries."""
        entries, total, now = [], 0, time.time()
        try:
            listing = list(os.scandir(self.root))
        except OSError:
            return
        for d in listing:
            try:
                st = d.stat()
                if d.name.startswith("."):
                    if now - st.st_mtime > 3600:
                        shutil.rmtree(d.path, ignore_errors=True)
                    continue
                size = json.loads(Path(d.path, "meta.json").read_text())["size"]
            except (OSError, ValueError, KeyError):
                continue
            entries.append((st.st_mtime, d.path, size))
            total += size
        for _, path, size in sorted(entries):
            if total <= self.limit:
                break
            shutil.rmtree(path, ignore_errors=True)
            total -= size


def _open(path: Path, dtype, width: int | None) -> np.ndarray:
    size = path.stat().st_size
    item = np.dtype(dtype).itemsize * (width or 1)
    if size % item:
        raise ValueError(f"{path}: truncated")
    n = size // item
    shape = (n, width) if width else (n,)
    if n == 0:
        return np.empty(shape, dtype)
    return np.memmap(path, dtype=dtype, mode="r", shape=shape)


def _load(path: Path) -> list:
    with open(path, "rb") as fh:
        gc_was = gc.isenabled()
        gc.disable()                                            # thousands of small dicts, no cycles
        try:
            return pickle.load(fh)
        finally:
            if gc_was:
                gc.enable()


class _Passed:
    """The PASS rows' events of an entry, read on first use (a consumer that steps over PASS rows
    asks for one only when a trading day begins on one)."""

    def __init__(self, path: Path, n: int):
        self.path, self.n = path, n
        self._events: list | None = None

    def events(self) -> list:
        if self._events is None:
            try:
                events = _load(self.path)
            except (OSError, EOFError, pickle.UnpicklingError) as exc:
                events = exc
            if not isinstance(events, list) or len(events) != self.n:
                raise MiaError(f"{self.path.parent}: error: a damaged day-cache entry (delete the folder; "
                               "it is made again from the day's files)")
            self._events = events
        return self._events


class _PassedSlice(Sequence):
    """The PASS events of one part: rows ``start`` on of its entry's."""

    def __init__(self, passed: _Passed, start: int, stop: int):
        self.passed, self.start, self.stop = passed, start, stop

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[j] for j in range(*k.indices(len(self)))]
        if not -len(self) <= k < len(self):
            raise IndexError(k)
        return self.passed.events()[self.start + k % len(self)]


def _read(cols: dict, others: list, passed: _Passed, syms: list, rows: int, nbytes: int,
          counter: list[int]) -> Iterator[Part]:
    t, code, xs = cols["t"], cols["code"], cols["x"]
    bd_rows, bd_x, fix_rows, fix_x, cs_rows, cs = (np.asarray(cols[k]) for k in
                                                   ("bd_rows", "bd_x", "fix_rows", "fix_x", "cs_rows", "cs"))
    k = kp = 0
    for s in range(0, rows, ROWS):
        e = min(rows, s + ROWS)
        c = np.array(code[s:e])
        x = np.zeros((e - s, NCOLS))
        x[:, :XW] = xs[s:e]
        a, b = np.searchsorted(fix_rows, (s, e))
        if b > a:
            x[fix_rows[a:b] - s, :XW] = fix_x[a:b]
        a = int(np.searchsorted(cs_rows, s, side="right")) - 1        # the run row s is in, and on
        b = int(np.searchsorted(cs_rows, e))
        lengths = np.diff(np.append(np.maximum(cs_rows[a:b], s), e))
        x[:, CHART] = np.repeat(cs[a:b, 0], lengths)
        x[:, SYM] = np.repeat(cs[a:b, 1], lengths)
        a, b = np.searchsorted(bd_rows, (s, e))
        if b > a:
            x[bd_rows[a:b] - s] = bd_x[a:b]
        m, mp = int(np.count_nonzero(c == OTHER)), int(np.count_nonzero(c == PASS))
        counter[0] += nbytes * (e - s) // rows
        yield np.array(t[s:e]), c, x, others[k:k + m], syms, _PassedSlice(passed, kp, kp + mp)
        k, kp = k + m, kp + mp


class _Writer:
    def __init__(self, folder: Path):
        self.dir = folder
        self.fh = {name: open(folder / name, "wb") for name in _NAMES}
        self.n = 0
        self.others: list = []
        self.passed: list = []
        self.syms: list = [""]
        self.cs = None                                          # the (chart, sym) run going on

    def add(self, t, code, x, others, syms, passed) -> None:
        n = len(t)
        fh = self.fh
        self.syms = syms                                        # the day's table (it only grows)
        fh["t"].write(np.ascontiguousarray(t, np.float64).tobytes())
        fh["code"].write(np.ascontiguousarray(code, np.int8).tobytes())
        x3 = np.array(x[:, :XW])
        x3[code >= OTHER] = 0.0                                 # OTHER / PASS rows' columns are unused
        x32 = x3.astype(np.float32)
        inexact = (x32.astype(np.float64) != x3) & ~np.isnan(x3)
        bd = np.flatnonzero(code == BASEDATA)
        inexact[bd] = False                                     # kept whole below
        fix = np.flatnonzero(inexact.any(axis=1))
        fh["x"].write(x32.tobytes())
        fh["fix_rows"].write((fix + self.n).astype(np.int64).tobytes())
        fh["fix_x"].write(np.ascontiguousarray(x3[fix]).tobytes())
        fh["bd_rows"].write((bd + self.n).astype(np.int64).tobytes())
        fh["bd_x"].write(np.ascontiguousarray(x[bd], np.float64).tobytes())
        self._runs(code, x[:, CHART:SYM + 1])
        self.others.extend(others)
        self.passed.extend(passed)
        self.n += n

    def _runs(self, code, cs) -> None:
        """The (chart, sym) runs of a part; an OTHER / PASS row (whose columns are unused) goes on
        with the run it is in, so it never starts one. The day's first run starts at row 0."""
        data = np.flatnonzero(code < OTHER)
        vals = cs[data]
        if self.cs is None:
            self._start(np.array([self.n]), vals[:1] if len(data) else np.zeros((1, 2)))
        if len(data):
            prev = np.concatenate([self.cs[None], vals[:-1]])
            new = np.flatnonzero((vals != prev).any(axis=1))
            self._start(data[new] + self.n, vals[new])

    def _start(self, rows, vals) -> None:
        if len(rows):
            self.fh["cs_rows"].write(np.asarray(rows, np.int64).tobytes())
            self.fh["cs"].write(np.ascontiguousarray(vals, np.float64).tobytes())
            self.cs = np.array(vals[-1], np.float64)

    def commit(self, target: Path, files: list[Path], bad: list, nbytes: int) -> bool:
        for name, events in (("others.pkl", self.others), ("passed.pkl", self.passed)):
            with open(self.dir / name, "wb") as fh:
                pickle.dump(events, fh, protocol=pickle.HIGHEST_PROTOCOL)
        self.close()
        size = sum(p.stat().st_size for p in self.dir.iterdir())
        meta = {"format": FORMAT, "rows": self.n, "bytes": nbytes, "files": [str(p) for p in files],
                "syms": list(self.syms), "passed": len(self.passed),
                "passed_bytes": (self.dir / "passed.pkl").stat().st_size, "bad": bad, "size": size}
        (self.dir / "meta.json").write_text(json.dumps(meta))
        try:
            os.rename(self.dir, target)
        except OSError:                                         # another process landed it first
            return False
        return True

    def close(self) -> None:
        for fh in self.fh.values():
            fh.close()
