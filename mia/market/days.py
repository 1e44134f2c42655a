"""Which files hold which trading day: the one scan of Sierra Chart day folders.

A path is a Sierra file (``chart_<N>_<type>_<YYYYMMDD>.jsonl`` or ``mia_unified_<YYYYMMDD>.jsonl``),
a day folder of them, or a folder of day folders (files two levels down are found). Each day
has its per-chart files and its unified file, in the order found; ``DayFiles.replayed`` is what a
replay reads: the per-chart files, then the unified file, of which only the lines of the
(chart, type) streams no per-chart file covers are read (``covered``; a unified file beside
per-chart files usually holds the same lines, but a stream it alone has is never dropped).

The same data is never read twice: paths are resolved, so one file reached twice (``--data
day day``, a symlink to a folder, a file given beside its folder, a hard link) is read once, and
two different files for the same (chart, type, day) (a backup copy of a day folder beside it,
``20251120/`` and ``20251120_old/``) are refused, naming both. A file that looks like data but is
not read (an impossible date, a name in another case, another ``.jsonl``) is reported in
``notes``.

Replay and the columnar reader scan once (``strict``: a missing path, a file that is not
Sierra's, an unreadable folder, two files for one stream or no file at all is a
``DataPathError``); the live tail scans at every poll, skips what it cannot read (it looks again
at the next poll) and keeps the first of two files for one stream (the note says which).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from mia.errors import MiaError
from mia.market.sierra import file_kind, name_problem


class DataPathError(MiaError):
    pass


@dataclass
class DayFiles:
    chart: list[Path] = field(default_factory=list)
    unified: list[Path] = field(default_factory=list)

    @property
    def replayed(self) -> list[Path]:
        return self.chart + self.unified


def covered(files: list[Path]) -> frozenset[tuple[int, str]]:
    """The (chart, type) streams the per-chart files among ``files`` hold: a unified file among
    them is read only for the other streams."""
    out = set()
    for p in files:
        chart, typ, _ = file_kind(p)
        if typ is not None:
            out.add((chart, typ))
    return frozenset(out)


def scan_days(paths: list[str | Path], strict: bool = True, notes: list[str] | None = None) -> dict[str, DayFiles]:
    """YYYYMMDD -> its files, in date order (see the module's docstring for ``strict``);
    ``notes`` (if given) gets a line per file that looks like data and is not read."""
    found: dict[str, DayFiles] = {}
    seen: set[tuple[int, int]] = set()             # (device, inode) of every file taken
    slots: dict[tuple, Path] = {}                  # (day, chart, type) -> the file that holds it

    def note(message: str) -> None:
        if notes is not None and message not in notes:
            notes.append(message)

    def add(p: Path, given: bool) -> bool:
        chart, typ, day = file_kind(p)
        if day is None:
            problem = name_problem(p)
            if problem and not given:
                note(f"{p}: ignored: {problem}")
            return False
        try:
            st = os.stat(p)
        except OSError:
            return True                            # vanished: the readers say so if it matters
        ident = (st.st_dev, st.st_ino)
        if ident in seen:
            return True                            # the same file again: read once
        slot = (day, chart, typ)
        other = slots.get(slot)
        if other is not None:
            what = f"chart {chart} {typ}" if typ is not None else "the unified file"
            message = (f"{p}: error: holds the same data as {other} ({what} of {day}): give one of them "
                       "(a copy of a day folder inside the data folder?)")
            if strict:
                raise DataPathError(message)
            note(message.replace(": error: ", ": ignored: ", 1))
            return True
        seen.add(ident)
        slots[slot] = p
        files = found.setdefault(day, DayFiles())
        (files.unified if typ is None else files.chart).append(p)
        return True

    def scan(folder: Path, depth: int) -> None:
        try:
            entries = sorted(folder.iterdir())
        except OSError as exc:
            if strict:
                raise DataPathError(f"{folder}: error: cannot read the folder ({exc.strerror})") from None
            return
        for p in entries:
            try:
                if p.is_dir():
                    if depth > 0:
                        scan(p, depth - 1)
                elif p.is_file():
                    add(p, False)
            except OSError:
                continue                   # vanished or unreadable between the listing and the look

    for path in map(Path, paths):
        try:
            is_file, is_dir = path.is_file(), path.is_dir()
        except OSError:
            is_file = is_dir = False
        if is_file:
            if not add(path, True) and strict:
                problem = name_problem(path) or ("not a Sierra Chart JSONL file (expected "
                                                 "chart_<N>_<type>_<YYYYMMDD>.jsonl or mia_unified_<YYYYMMDD>.jsonl)")
                raise DataPathError(f"{path}: error: {problem}")
        elif is_dir:
            scan(path, 2)
        elif strict:
            raise DataPathError(f"{path}: error: no such file or folder")
    if strict and not found:
        raise DataPathError(f"{', '.join(map(str, paths))}: error: no Sierra Chart JSONL files here")
    return dict(sorted(found.items()))
