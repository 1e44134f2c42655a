"""A cache of day folders read as columns: reading an unchanged day again skips its JSONL.

A backtest or ``mia signals`` run again over the same days (after a rule edit, say) reads each
day's merged, validated columns (what ``blocks`` makes of its files) from here instead of
scanning the files: the same rows, times, events and bad-line counts.

Key of a day: its files (absolute path, size, mtime and ctime in ns, inode: a same-size edit
that keeps the mtime, ``touch -r`` or ``cp -p``, still changes the ctime or the inode), the time
zones, the price band and the source of the modules that turn lines into columns (``_SOURCES``);
any change is a miss, and the day is read from its files (and its entry written anew). An entry
is written only when every file of the day ends in a newline and none changed while it was read:
a file being written ends in a partial line, and a live day changes by the second. An entry is
written into a temporary folder and renamed, so a reader sees a whole entry or none; the least
recently used entries are removed beyond ``MIA_DAY_CACHE_MB`` megabytes (default 2048; ``0`` turns
the cache off), temporary folders of unfinished writes counted.

Nothing in an entry can run code: numbers are raw arrays, events are JSON. ``meta.json`` holds a
SHA-256 of every other file of the entry, checked before anything is used: a damaged or edited
entry is not used (the day is read from its files, with one warning, and the entry written
again), never a traceback and never another result. The cache folder is created readable and
writable by you only; one that others can write is not read (said once).

An entry (``<cache>/days/<key>/``): ``t`` float64 (times, clamped within the day), ``code``
int8, ``x`` float32 (the first four columns, all a trade, quote or depth row holds besides its
chart and symbol; the rows float32 cannot hold exactly are in ``fix_rows`` / ``fix_x`` as
float64), ``cs_rows`` / ``cs`` (the chart and symbol columns as runs: the first row of each run
and its two values; they change seldom), ``bd_rows`` / ``bd_x`` (basedata rows, all their
columns), ``others.json`` / ``passed.json`` (the ``Event`` of each OTHER / PASS row, in order, as
``[t, type, chart, sym, fields]``; the latter parsed only when one is asked for), ``meta.json``
(rows, bytes of the files, the symbols, the PASS events, bad lines by file index and reason, the
checksums).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import orjson

from mia.cache import CacheError, cache_root, private_dir, unsafe
from mia.errors import MiaError
from mia.market.columnar.codes import BASEDATA, CHART, NCOLS, OTHER, PASS, SYM
from mia.market.events import Event
from mia.market.judge import price_band

log = logging.getLogger(__name__)

FORMAT = 3
#: rows per block read back from an entry
ROWS = 1 << 16
DEFAULT_MB = 2048
_NAMES = ("t", "code", "x", "bd_rows", "bd_x", "fix_rows", "fix_x", "cs_rows", "cs")
_EVENTS = ("others.json", "passed.json")
_DTYPES = {"t": np.float64, "code": np.int8, "x": np.float32, "bd_rows": np.int64, "bd_x": np.float64,
           "fix_rows": np.int64, "fix_x": np.float64, "cs_rows": np.int64, "cs": np.float64}
#: ``x`` keeps a row's first XW columns; CHART and SYM are kept as runs
XW = 4
_WIDTH = {"x": XW, "bd_x": NCOLS, "fix_x": XW, "cs": 2}
assert (CHART, SYM) == (XW + 5, XW + 6) and NCOLS == SYM + 1
#: the modules whose code decides what a day's columns hold
_SOURCES = ("mia.market.columnar.codes", "mia.market.columnar.jsonscan", "mia.market.columnar.blocks",
            "mia.market.columnar.daycache", "mia.market.order", "mia.market.sierra", "mia.market.sctime",
            "mia.market.replay", "mia.market.events", "mia.market.judge", "mia.market.unified", "mia.market.days",
            "mia.market.layout002")
_source_digest: str | None = None

#: a day's part: (t, code, x, others, syms, passed), as ``blocks`` reads it
Part = tuple


class DayKey(NamedTuple):
    """A day's entry name, and the (path, size, mtime_ns, ctime_ns, inode) of its files it was made from."""
    name: str
    stats: list


class Damaged(Exception):
    """An entry that must not be used (why)."""


def _sources() -> str:
    global _source_digest
    if _source_digest is None:
        import importlib

        h = hashlib.sha256()
        for name in _SOURCES:
            h.update(Path(importlib.import_module(name).__file__).read_bytes())
        _source_digest = h.hexdigest()
    return _source_digest


def _stats(files: list[Path]) -> list[tuple] | None:
    out = []
    for p in files:
        try:
            st = os.stat(p)
        except OSError:
            return None
        out.append((str(Path(p).resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
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


def _folder_size(path: str) -> int:
    total = 0
    try:
        with os.scandir(path) as it:
            for e in it:
                try:
                    total += e.stat(follow_symlinks=False).st_size
                except OSError:
                    continue
    except OSError:
        pass
    return total


class DayCache:
    """Entries under ``root`` (default ``<cache>/days``), at most ``limit_mb`` megabytes."""

    def __init__(self, root: Path | None = None, limit_mb: float = DEFAULT_MB):
        self._default = root is None
        self.root = Path(root) if root is not None else cache_root() / "days"
        self.limit = limit_mb * 1e6
        self._refused: str | None = None            # why the folder is not used (said once)
        self._checked = False

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

    def _usable(self) -> bool:
        """The folder exists (created 0700) and only you can write it; else say why, once."""
        if not self._checked:
            self._checked = True
            try:
                if self._default:
                    private_dir("days")
                else:
                    self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
                self._refused = unsafe(self.root)
            except CacheError as exc:
                self._refused = str(exc)
            except OSError as exc:
                self._refused = f"{self.root}: cannot create it ({exc.strerror or exc})"
            if self._refused:
                log.warning("warning: the day cache is not used: %s", self._refused)
        return self._refused is None

    # ---- keys ------------------------------------------------------------------------------------
    def key(self, files: list[Path], zones: dict | None, *extra) -> DayKey | None:
        """The day's key (``extra``: more of what the columns depend on, JSON-able), or None when
        the day must not be cached (a file missing or ending mid-line, or the cache unusable)."""
        stats = _stats(files)
        if stats is None or not all(_ends_in_newline(Path(p), size) for p, size, *_ in stats):
            return None
        if not self._usable():
            return None
        text = json.dumps([FORMAT, _sources(), sorted((zones or {}).items()), price_band(), stats, extra])
        return DayKey(hashlib.sha256(text.encode()).hexdigest()[:32], stats)

    # ---- reading ---------------------------------------------------------------------------------
    def parts(self, key: DayKey, files: list[Path], bad, counter: list[int]) -> Iterator[Part] | None:
        """The day's parts from its entry, its bad lines added to ``bad`` (None: no entry, or one
        that must not be used: then it is removed, with a warning, and the day read from its files)."""
        path = self.root / key.name
        try:
            meta_bytes = (path / "meta.json").read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            return self._damaged(path, f"unreadable ({exc.strerror or exc})")
        try:
            entry = _load_entry(path, meta_bytes, len(files))
        except Damaged as exc:
            return self._damaged(path, str(exc))
        try:
            os.utime(path)                                      # recently used
        except OSError:
            pass
        cols, others, passed, meta = entry
        for i, reason, n in meta["bad"]:
            bad.counts[(str(files[i]), reason)] += n
        return _read(cols, others, passed, meta["syms"], meta["rows"], meta["bytes"], counter)

    def _damaged(self, path: Path, why: str) -> None:
        log.warning("warning: %s: a damaged day-cache entry (%s): reading the day from its files and "
                    "writing the entry again", path, why)
        _remove(path)
        return None

    # ---- writing ---------------------------------------------------------------------------------
    def writing(self, key: DayKey, files: list[Path], parts: Iterator[Part], bad) -> Iterator[Part]:
        """Pass ``parts`` (the day read from its files) through, writing its entry as they go; the
        entry lands only when the day was read to its end and its files are still as ``key`` saw them."""
        before = Counter(bad.counts)
        stats = key.stats
        try:
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
                landed = w.commit(self.root / key.name, files, diff, sum(st[1] for st in stats))
        except (OSError, ValueError, TypeError):
            pass
        finally:
            w.close()
            if not landed:
                shutil.rmtree(w.dir, ignore_errors=True)
        if landed:
            self.prune()

    def prune(self) -> None:
        """Remove the least recently used entries beyond the size limit, and stale temporaries; the
        temporaries of writes under way count toward the limit."""
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
                    else:
                        total += _folder_size(d.path)
                    continue
                size = json.loads(Path(d.path, "meta.json").read_text())["size"]
                if not isinstance(size, int):
                    raise ValueError(size)
            except (OSError, ValueError, KeyError, TypeError):
                try:
                    total += _folder_size(d.path)               # a damaged entry still takes room
                except OSError:
                    pass
                continue
            entries.append((st.st_mtime, d.path, size))
            total += size
        for _, path, size in sorted(entries):
            if total <= self.limit:
                break
            shutil.rmtree(path, ignore_errors=True)
            total -= size


def _remove(path: Path) -> None:
    """Take an entry away (renamed aside first: a reader never sees half of it)."""
    aside = path.with_name(f".gone.{path.name}.{os.getpid()}.{time.monotonic_ns()}")
    try:
        os.rename(path, aside)
    except OSError:
        return
    shutil.rmtree(aside, ignore_errors=True)


def _checked(path: Path, name: str, sums: dict) -> bytes:
    """The bytes of an entry's file, if its SHA-256 is the one ``meta.json`` holds."""
    want = sums.get(name)
    if not isinstance(want, str):
        raise Damaged(f"no checksum for {name}")
    try:
        data = (path / name).read_bytes()
    except OSError as exc:
        raise Damaged(f"{name}: {exc.strerror or exc}") from None
    if hashlib.sha256(data).hexdigest() != want:
        raise Damaged(f"{name} does not match its checksum")
    return data


def _events(data: bytes, what: str) -> list[Event]:
    try:
        items = orjson.loads(data)
        out = [Event(float(t), ty, ch, sym, f) for t, ty, ch, sym, f in items]
    except (orjson.JSONDecodeError, TypeError, ValueError) as exc:
        raise Damaged(f"{what}: {exc}") from None
    if not all(type(e.type) is str and type(e.chart) is int and type(e.sym) is str and type(e.f) is dict
               for e in out):
        raise Damaged(f"{what}: not events")
    return out


def _load_entry(path: Path, meta_bytes: bytes, nfiles: int):
    """An entry's columns, OTHER events, PASS events (parsed when asked for) and meta, every file
    checked against its checksum; ``Damaged`` says why it must not be used."""
    try:
        meta = json.loads(meta_bytes)
        sums = meta["sha256"]
        rows, syms, npassed = meta["rows"], meta["syms"], meta["passed"]
        ok = (meta.get("format") == FORMAT and isinstance(sums, dict) and len(meta["files"]) == nfiles
              and isinstance(rows, int) and rows >= 0 and isinstance(npassed, int) and isinstance(meta["bytes"], int)
              and isinstance(syms, list) and syms[:1] == [""] and all(isinstance(x, str) for x in syms)
              and all(isinstance(b, list) and len(b) == 3 and isinstance(b[0], int) and 0 <= b[0] < nfiles
                      and isinstance(b[1], str) and isinstance(b[2], int) for b in meta["bad"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise Damaged(f"meta.json: {exc}") from None
    if not ok:
        raise Damaged("meta.json is not this version's")
    cols = {}
    for name in _NAMES:
        data = _checked(path, name, sums)
        dtype, width = np.dtype(_DTYPES[name]), _WIDTH.get(name)
        item = dtype.itemsize * (width or 1)
        if len(data) % item:
            raise Damaged(f"{name} is truncated")
        arr = np.frombuffer(data, dtype)
        cols[name] = arr.reshape(-1, width) if width else arr
    others = _events(_checked(path, "others.json", sums), "others.json")
    passed_bytes = _checked(path, "passed.json", sums)
    code = cols["code"]
    if not (len(cols["t"]) == len(code) == len(cols["x"]) == rows):
        raise Damaged("columns of different lengths")
    if len(others) != int(np.count_nonzero(code == OTHER)) or npassed != int(np.count_nonzero(code == PASS)):
        raise Damaged("events do not match the rows")
    for idx, vals in (("bd_rows", "bd_x"), ("fix_rows", "fix_x"), ("cs_rows", "cs")):
        ix = cols[idx]
        if len(ix) != len(cols[vals]) or (len(ix) and not (0 <= ix.min() and ix.max() < rows)):
            raise Damaged(f"{idx} out of range")
    if rows and (len(cols["cs_rows"]) == 0 or cols["cs_rows"][0] != 0):
        raise Damaged("cs_rows does not start at row 0")
    return cols, others, _Passed(path, passed_bytes, npassed), meta


class _Passed:
    """The PASS rows' events of an entry (its checked bytes), parsed on first use (a consumer that
    steps over PASS rows asks for one only when a trading day begins on one)."""

    def __init__(self, path: Path, data: bytes, n: int):
        self.path, self.data, self.n = path, data, n
        self._events: list | None = None

    def events(self) -> list:
        if self._events is None:
            try:
                events = _events(self.data, "passed.json")
            except Damaged:
                events = None
            if events is None or len(events) != self.n:
                raise MiaError(f"{self.path}: error: a damaged day-cache entry (delete the folder; "
                               "it is made again from the day's files)")
            self._events, self.data = events, b""
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
        self.sums = {name: hashlib.sha256() for name in _NAMES}
        self.n = 0
        self.others: list = []
        self.passed: list = []
        self.syms: list = [""]
        self.cs = None                                          # the (chart, sym) run going on

    def add(self, t, code, x, others, syms, passed) -> None:
        n = len(t)
        fh = _Hashed(self.fh, self.sums)
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
            fh = _Hashed(self.fh, self.sums)
            fh["cs_rows"].write(np.asarray(rows, np.int64).tobytes())
            fh["cs"].write(np.ascontiguousarray(vals, np.float64).tobytes())
            self.cs = np.array(vals[-1], np.float64)

    def commit(self, target: Path, files: list[Path], bad: list, nbytes: int) -> bool:
        sums = {name: h.hexdigest() for name, h in self.sums.items()}
        for name, events in (("others.json", self.others), ("passed.json", self.passed)):
            data = orjson.dumps([[e.t, e.type, e.chart, e.sym, e.f] for e in events])
            (self.dir / name).write_bytes(data)
            sums[name] = hashlib.sha256(data).hexdigest()
        self.close()
        size = sum(p.stat().st_size for p in self.dir.iterdir())
        meta = {"format": FORMAT, "rows": self.n, "bytes": nbytes, "files": [str(p) for p in files],
                "syms": list(self.syms), "passed": len(self.passed), "bad": bad, "size": size, "sha256": sums}
        (self.dir / "meta.json").write_text(json.dumps(meta))
        try:
            os.rename(self.dir, target)
        except OSError:                                         # an entry is there: a damaged one, or
            _remove(target)                                     # another process's: ours replaces it
            try:
                os.rename(self.dir, target)
            except OSError:
                return False
        return True

    def close(self) -> None:
        for fh in self.fh.values():
            fh.close()


class _Hashed:
    """The writer's files, each write also fed to its checksum."""

    def __init__(self, fh: dict, sums: dict):
        self.fh, self.sums = fh, sums

    def __getitem__(self, name: str) -> "_Hashed._File":
        return _Hashed._File(self.fh[name], self.sums[name])

    class _File:
        def __init__(self, fh, h):
            self.fh, self.h = fh, h

        def write(self, data: bytes) -> None:
            self.h.update(data)
            self.fh.write(data)
