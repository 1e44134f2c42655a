"""Replay Sierra Chart day folders as one time-ordered stream of events, lazily.

A path is a day folder (it holds ``chart_<N>_<type>_<YYYYMMDD>.jsonl`` and/or
``mia_unified_<YYYYMMDD>.jsonl``) or a folder of day folders. Days are replayed in date order;
within a day the per-chart files are merged with a k-way merge (``heapq.merge`` over one
generator per file: nothing is loaded whole). When a day has per-chart files, its unified file
is ignored (it holds the same lines); a day with only a unified file replays that file.

Quirks handled: ``depth`` lines carry the bar's start time, so a depth event is stamped with
the latest time already emitted (it can never move the clock back); a line more than
``TOLERANCE_S`` earlier than the previous one of its file is bad (``out_of_order``), a smaller
step back is clamped; a last line without its newline (a file being written) is ``partial_line``.
"""
from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from mia.errors import MiaError
from mia.market.events import Event
from mia.market.sierra import BadLine, BadLines, file_kind, parse_line

TOLERANCE_S = 2.0


class DataPathError(MiaError):
    pass


def day_files(paths: list[str | Path]) -> dict[str, list[Path]]:
    """YYYYMMDD -> the files to replay for that day."""
    found: dict[str, dict[str, list[Path]]] = {}

    def scan(folder: Path, depth: int) -> None:
        for p in sorted(folder.iterdir()):
            if p.is_dir() and depth > 0:
                scan(p, depth - 1)
            elif p.is_file():
                chart, typ, day = file_kind(p)
                if day is not None:
                    found.setdefault(day, {"chart": [], "unified": []})["unified" if typ is None else "chart"].append(p)

    for path in paths:
        path = Path(path)
        if path.is_file():
            chart, typ, day = file_kind(path)
            if day is None:
                raise DataPathError(f"{path}: error: not a Sierra Chart JSONL file "
                                    "(expected chart_<N>_<type>_<YYYYMMDD>.jsonl or mia_unified_<YYYYMMDD>.jsonl)")
            found.setdefault(day, {"chart": [], "unified": []})["unified" if typ is None else "chart"].append(path)
        elif path.is_dir():
            scan(path, 2)
        else:
            raise DataPathError(f"{path}: error: no such file or folder")
    if not found:
        raise DataPathError(f"{', '.join(map(str, paths))}: error: no Sierra Chart JSONL files here")
    return {day: (kinds["chart"] or kinds["unified"]) for day, kinds in sorted(found.items())}


def read_file(path: Path, zones: dict | None, bad: BadLines) -> Iterator[Event]:
    """The usable events of one file, in file order, bad lines counted."""
    chart, typ, _ = file_kind(path)
    name = str(path)
    last = None
    try:
        fh = open(path, "rb")
    except OSError:
        bad.add(name, "unreadable_file")
        return
    with fh:
        for raw in fh:
            if not raw.endswith(b"\n"):
                if raw.strip():
                    try:
                        ev = parse_line(raw, typ, chart, zones)
                    except BadLine:
                        bad.add(name, "partial_line")
                        continue
                else:
                    continue
            else:
                if not raw.strip():
                    continue
                try:
                    ev = parse_line(raw, typ, chart, zones)
                except BadLine as exc:
                    bad.add(name, exc.reason)
                    continue
            if last is not None and ev.t < last and ev.type != "depth":
                if ev.t < last - TOLERANCE_S:
                    bad.add(name, "out_of_order")
                    continue
                ev = ev._replace(t=last)
            if ev.type != "depth":
                last = ev.t
            yield ev


def _day(day: str) -> date:
    return datetime.strptime(day, "%Y%m%d").date()


def replay(paths: list[str | Path], date_from: date | None = None, date_to: date | None = None,
           zones: dict | None = None, bad: BadLines | None = None, progress: bool = False) -> Iterator[Event]:
    """Every event of the days in ``paths`` (optionally from/to a date), in time order."""
    bad = bad if bad is not None else BadLines()
    days = {d: fs for d, fs in day_files(paths).items()
            if (date_from is None or _day(d) >= date_from) and (date_to is None or _day(d) <= date_to)}
    if not days:
        raise DataPathError("error: no day of the data falls between --from and --to")
    stream = _merged(days, zones, bad)
    if progress:
        stream = _with_progress(stream, days)
    return stream


def _merged(days: dict[str, list[Path]], zones, bad: BadLines) -> Iterator[Event]:
    clock = float("-inf")
    for files in days.values():
        for ev in heapq.merge(*(read_file(p, zones, bad) for p in files), key=lambda e: e.t):
            if ev.t < clock:
                ev = ev._replace(t=clock)
            else:
                clock = ev.t
            yield ev


def _with_progress(stream: Iterator[Event], days: dict[str, list[Path]]) -> Iterator[Event]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    total = len(days)
    with Progress(TextColumn("replay {task.fields[day]}"), BarColumn(), TextColumn("{task.completed:,.0f} events"),
                  TimeRemainingColumn(), transient=True) as bar:
        task = bar.add_task("replay", total=None, day=f"{total} day{'s' * (total != 1)}")
        n = 0
        for ev in stream:
            n += 1
            if n % 20000 == 0:
                bar.update(task, completed=n)
            yield ev


def inspect(paths: list[str | Path]) -> dict:
    """What the data holds: events per type, bad lines per reason, first and last time (UTC ISO)."""
    bad = BadLines()
    types: Counter = Counter()
    first = last = None
    for ev in replay(paths, bad=bad):
        types[ev.type] += 1
        if first is None:
            first = ev.t
        last = ev.t
    iso = (lambda t: None if t is None else datetime.utcfromtimestamp(t).isoformat(timespec="seconds") + "Z")
    return {"types": dict(sorted(types.items())), "bad": bad.by_reason(), "first": iso(first), "last": iso(last),
            "bad_by_file": bad.by_file()}
