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
int8, ``x`` float32 (the scanner's first three columns, all a trade, quote or depth row holds;
the rows float32 cannot hold exactly are in ``fix_rows`` / ``fix_x`` as float64), ``bd_rows`` /
``bd_x`` (basedata rows, all nine columns), ``others.pkl`` (the ``Event`` of each OTHER row, in
order; PASS rows keep no event), ``meta.json`` (rows, bytes of the files, bad lines by file
index and reason).
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
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

from mia.cache import cache_root
from mia.errors import MiaError
from mia.market.columnar.codes import BASEDATA, NCOLS, OTHER

FORMAT = 1
#: rows per block read back from an entry
ROWS = 1 << 16
DEFAULT_MB = 2048
_NAMES = ("t", "code", "x", "bd_rows", "bd_x", "fix_rows", "fix_x")
_DTYPES = {"t": np.float64, "code": np.int8, "x": np.float32, "bd_rows": np.int64, "bd_x": np.float64,
           "fix_rows": np.int64, "fix_x": np.float64}
_WIDTH = {"x": 3, "bd_x": NCOLS, "fix_x": 3}
#: the modules whose code decides what a day's columns hold
_SOURCES = ("mia.market.columnar.codes", "mia.market.columnar.jsonscan", "mia.market.columnar.blocks",
            "mia.market.columnar.daycache", "mia.market.order", "mia.market.sierra", "mia.market.sctime",
            "mia.market.replay", "mia.market.events")
_source_digest: str | None = None

#: a day's part: (t, code, x, others), as ``blocks`` reads it
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
            with open(path / "others.pkl", "rb") as fh:
                gc_was = gc.isenabled()
                gc.disable()                                    # thousands of small dicts, no cycles
                try:
                    others = pickle.load(fh)
                finally:
                    if gc_was:
                        gc.enable()
            cols = {name: _open(path / name, _DTYPES[name], _WIDTH.get(name)) for name in _NAMES}
            rows = meta["rows"]
            if not len(cols["t"]) == len(cols["code"]) == len(cols["x"]) == rows or \
                    len(others) != int(np.count_nonzero(cols["code"] == OTHER)):
                return None                                     # a damaged entry: read the files
            for idx, vals in (("bd_rows", "bd_x"), ("fix_rows", "fix_x")):
                ix = cols[idx]
                if len(ix) != len(cols[vals]) or (len(ix) and not (0 <= ix[0] and ix[-1] < rows)):
                    return None
            os.utime(path)                                      # recently used
        except (OSError, ValueError, KeyError, EOFError, pickle.UnpicklingError):
            return None
        for i, reason, n in meta["bad"]:
            bad.counts[(str(files[i]), reason)] += n
        return _read(cols, others, rows, meta["bytes"], counter)

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


def _read(cols: dict, others: list, rows: int, nbytes: int, counter: list[int]) -> Iterator[Part]:
    t, code, x32 = cols["t"], cols["code"], cols["x"]
    bd_rows, bd_x, fix_rows, fix_x = (np.asarray(cols[k]) for k in ("bd_rows", "bd_x", "fix_rows", "fix_x"))
    k = 0
    for s in range(0, rows, ROWS):
        e = min(rows, s + ROWS)
        c = np.array(code[s:e])
        x = np.zeros((e - s, NCOLS))
        x[:, :3] = x32[s:e]
        for idx, vals in ((fix_rows, fix_x), (bd_rows, bd_x)):
            a, b = np.searchsorted(idx, (s, e))
            if b > a:
                x[idx[a:b] - s, :vals.shape[1]] = vals[a:b]
        m = int(np.count_nonzero(c == OTHER))
        counter[0] += nbytes * (e - s) // rows
        yield np.array(t[s:e]), c, x, others[k:k + m]
        k += m


class _Writer:
    def __init__(self, folder: Path):
        self.dir = folder
        self.fh = {name: open(folder / name, "wb") for name in _NAMES}
        self.n = 0
        self.others: list = []

    def add(self, t, code, x, others) -> None:
        n = len(t)
        fh = self.fh
        fh["t"].write(np.ascontiguousarray(t, np.float64).tobytes())
        fh["code"].write(np.ascontiguousarray(code, np.int8).tobytes())
        x3 = np.array(x[:, :3])
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
        self.others.extend(others)
        self.n += n

    def commit(self, target: Path, files: list[Path], bad: list, nbytes: int) -> bool:
        with open(self.dir / "others.pkl", "wb") as fh:
            pickle.dump(self.others, fh, protocol=pickle.HIGHEST_PROTOCOL)
        self.close()
        size = sum(p.stat().st_size for p in self.dir.iterdir())
        meta = {"format": FORMAT, "rows": self.n, "bytes": nbytes, "files": [str(p) for p in files],
                "bad": bad, "size": size}
        (self.dir / "meta.json").write_text(json.dumps(meta))
        try:
            os.rename(self.dir, target)
        except OSError:                                         # another process landed it first
            return False
        return True

    def close(self) -> None:
        for fh in self.fh.values():
            fh.close()
