"""Which files hold which trading day: the one scan of Sierra Chart day folders.

A path is a Sierra file (``chart_<N>_<type>_<YYYYMMDD>.jsonl`` or ``mia_unified_<YYYYMMDD>.jsonl``),
a day folder of them, or a folder of day folders (files two levels down are found). Each day
has its per-chart files and its unified files, in name order; ``DayFiles.replayed`` is what a
replay reads: the per-chart files, or the unified file of a day that has none (it holds the
same lines). Replay and the columnar reader scan once (``strict``: a missing path, a file that
is not Sierra's, an unreadable folder or no file at all is a ``DataPathError``); the live tail
scans at every poll and skips what it cannot read (it looks again at the next poll).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mia.errors import MiaError
from mia.market.sierra import file_kind


class DataPathError(MiaError):
    pass


@dataclass
class DayFiles:
    chart: list[Path] = field(default_factory=list)
    unified: list[Path] = field(default_factory=list)

    @property
    def replayed(self) -> list[Path]:
        return self.chart or self.unified


def scan_days(paths: list[str | Path], strict: bool = True) -> dict[str, DayFiles]:
    """YYYYMMDD -> its files, in date order (see the module's docstring for ``strict``)."""
    found: dict[str, DayFiles] = {}

    def add(p: Path) -> bool:
        chart, typ, day = file_kind(p)
        if day is None:
            return False
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
                    add(p)
            except OSError:
                continue                   # vanished or unreadable between the listing and the look

    for path in map(Path, paths):
        try:
            is_file, is_dir = path.is_file(), path.is_dir()
        except OSError:
            is_file = is_dir = False
        if is_file:
            if not add(path) and strict:
                raise DataPathError(f"{path}: error: not a Sierra Chart JSONL file "
                                    "(expected chart_<N>_<type>_<YYYYMMDD>.jsonl or mia_unified_<YYYYMMDD>.jsonl)")
        elif is_dir:
            scan(path, 2)
        elif strict:
            raise DataPathError(f"{path}: error: no such file or folder")
    if strict and not found:
        raise DataPathError(f"{', '.join(map(str, paths))}: error: no Sierra Chart JSONL files here")
    return dict(sorted(found.items()))
