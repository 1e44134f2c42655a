"""Replay Sierra Chart day folders as one time-ordered stream of events, lazily.

A path is a day folder (it holds ``chart_<N>_<type>_<YYYYMMDD>.jsonl`` and/or
``mia_unified_<YYYYMMDD>.jsonl``), a folder of day folders or a file (``days.scan_days``: the same
file is read once, two files for one stream are refused, files that look like data and are not
read are reported). Days are replayed in date order; within a day the files are merged
(``order.merged_rounds``: a k-way merge over each file read a chunk at a time, nothing is loaded
whole). A day's unified file is read for the streams its per-chart files do not hold
(``mia.market.unified``; usually none: it holds the same lines).

Quirks handled: ``depth`` lines carry the bar's start time, so a depth event is stamped with
the latest time already emitted (it can never move the clock back). In per-chart files a depth
line's key in the merge is its bar start, so a bar's depth comes out at that bar's start: the
files hold no better time. A line more than ``TOLERANCE_S`` earlier than the previous line of
the same (chart, type) in its file is bad (``out_of_order``), a smaller step back is clamped; a
line far ahead of its file waits for the next one to confirm it; duplicates, bar indexes and the
price band are judged too (``mia.market.judge``). A line outside its file's trading day is
``wrong_day`` (``sierra.day_window``).
Per stream, not per file: in a unified file bar-stamped lines (basedata, studies) trail the
trades written before them, and are then stamped with the latest time emitted, like depth.
A last line without its newline (a file being written) is used if whole, else ``partial_line``
(its bytes are counted: a file whose lines end in CR only is one such line).
Files are read in ``CHUNK``-byte blocks and parsed in batches (``LineParser.batch``).
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path

from mia.market.days import DataPathError, covered, scan_days
from mia.market.events import Event
from mia.market.order import EventRun, StreamOrder, merged_events
from mia.market.sierra import BadLine, BadLines, LineParser, file_kind
from mia.market.unified import cover_table, drop_covered, uncovered

log = logging.getLogger(__name__)

#: bytes per read: big chunks split in one call beat line-by-line iteration
CHUNK = 1 << 22


def read_file(path: Path, zones: dict | None, bad: BadLines, counter: list[int] | None = None,
              skip: frozenset = frozenset(), band: float | None = None) -> Iterator[Event]:
    """The usable events of one file, in file order, bad lines counted; read in big chunks.

    The rules between lines are ``StreamOrder``'s: per (chart, type) stream, so a unified file,
    where bar-stamped lines (basedata, studies) legitimately trail the trades before them, is
    judged stream by stream. ``skip``: the streams a unified file is not read for (``days.covered``).
    ``counter[0]`` (if given) grows by the bytes read, for a progress bar; ``band``: the price band
    (default ``judge.price_band()``).
    """
    for events in read_chunks(path, zones, bad, counter, skip, band):
        yield from events


def read_chunks(path: Path, zones: dict | None, bad: BadLines, counter: list[int] | None = None,
                skip: frozenset = frozenset(), band: float | None = None) -> Iterator[list[Event]]:
    """``read_file``'s events, a list per chunk read."""
    chart, typ, day = file_kind(path)
    name = str(path)
    parser = LineParser(typ, chart, zones, day)
    count = bad.counts
    skip = skip if typ is None else frozenset()
    table = cover_table(skip) if skip else None

    def on_bad(reason: str) -> None:
        count[(name, reason)] += 1

    order = StreamOrder((chart, typ) if typ is not None else None, band)
    try:
        fh = open(path, "rb")
    except OSError:
        on_bad("unreadable_file")
        return
    rest = b""
    with fh:
        while True:
            try:
                chunk = fh.read(CHUNK)
            except OSError:
                on_bad("unreadable_file")
                return
            if not chunk:
                break
            if counter is not None:
                counter[0] += len(chunk)
            if table is None:
                lines = (rest + chunk if rest else chunk).split(b"\n")
                rest = lines.pop()
                yield order.judge(parser.batch(lines, on_bad), on_bad)
            else:
                data = rest + chunk if rest else chunk
                cut = data.rfind(b"\n") + 1
                rest = data[cut:]
                yield order.judge(drop_covered(parser.batch(uncovered(data[:cut], table), on_bad), skip), on_bad)
    if rest.strip():                      # a last line without its newline: a file being written
        try:
            yield order.judge(drop_covered([parser.one(rest)], skip), on_bad)
        except BadLine:
            bad.add(name, "partial_line", len(rest))
    yield order.flush()


def _day(day: str) -> date:
    return datetime.strptime(day, "%Y%m%d").date()


def select_days(paths: list[str | Path], date_from: date | None, date_to: date | None,
                notes: list[str] | None = None) -> dict[str, list[Path]]:
    """The files of each day in ``paths`` between ``date_from`` and ``date_to`` (inclusive, either
    open). The files that look like data and are not read go to ``notes``, else are logged."""
    found: list[str] = []
    days = {d: fs.replayed for d, fs in scan_days(paths, notes=found).items()
            if (date_from is None or _day(d) >= date_from) and (date_to is None or _day(d) <= date_to)}
    if notes is not None:
        notes.extend(found)
    else:
        for message in found:
            log.warning("warning: %s", message)
    if not days:
        raise DataPathError("error: no day of the data falls between --from and --to")
    return days


def replay(paths: list[str | Path], date_from: date | None = None, date_to: date | None = None,
           zones: dict | None = None, bad: BadLines | None = None, progress: bool = False,
           notes: list[str] | None = None) -> Iterator[Event]:
    """Every event of the days in ``paths`` (optionally from/to a date), in time order."""
    bad = bad if bad is not None else BadLines()
    days = select_days(paths, date_from, date_to, notes)
    counter = [0]
    stream = _merged(days, zones, bad, counter if progress else None)
    if progress:
        stream = with_progress(stream, days, counter)
    return stream


def day_runs(files: list[Path], zones, bad: BadLines, counter: list[int] | None = None) -> list[EventRun]:
    """A day's files as runs for the merge (a unified file read for the streams the others lack)."""
    skip = covered(files)
    return [EventRun(read_chunks(p, zones, bad, counter, skip)) for p in files]


def warn_empty(day: str, files: list[Path]) -> None:
    """Say that a day's files gave no event (empty files, or every line bad): never a silent zero."""
    size = sum(p.stat().st_size for p in files if p.exists())
    log.warning("warning: %s: no events in its %d file(s) (%s bytes): %s", day, len(files), f"{size:,}",
                "they are empty" if size == 0 else "every line is bad or not read")


def _merged(days: dict[str, list[Path]], zones, bad: BadLines, counter: list[int] | None) -> Iterator[Event]:
    clock = float("-inf")
    for day, files in days.items():
        n = 0
        for events, clock in merged_events(day_runs(files, zones, bad, counter), clock):
            n += len(events)
            yield from events
        if n == 0:
            warn_empty(day, files)


def with_progress(stream: Iterator, days: dict[str, list[Path]], counter: list[int], every: int = 0x10000) -> Iterator:
    """Pass ``stream`` through with a rich progress bar of bytes read (``counter[0]``, of the
    files of ``days``), redrawn every ``every`` items (on stderr, transient)."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    total = sum(p.stat().st_size for files in days.values() for p in files if p.exists())
    with Progress(TextColumn("replay"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  transient=True) as bar:
        task = bar.add_task("replay", total=total)
        n = 0
        for ev in stream:
            n += 1
            if n % every == 0:
                bar.update(task, completed=counter[0])
            yield ev
        bar.update(task, completed=counter[0])


def inspect(paths: list[str | Path], zones: dict | None = None) -> dict:
    """What the data holds: events per type, bad lines per reason, first and last time (UTC ISO),
    bad lines per file, the bytes of partial lines per file, and ``notes``: files not read, days
    whose files hold no event."""
    bad = BadLines()
    notes: list[str] = []
    types: Counter = Counter()
    first = last = None
    days = select_days(paths, None, None, notes)
    clock = float("-inf")
    for day, files in days.items():
        n = 0
        for events, clock in merged_events(day_runs(files, zones, bad), clock):
            n += len(events)
            for ev in events:
                types[ev.type] += 1
            if events:
                if first is None:
                    first = events[0].t
                last = events[-1].t
        if n == 0:
            size = sum(p.stat().st_size for p in files if p.exists())
            notes.append(f"{day}: no events in its {len(files)} file(s) ({size:,} bytes): "
                         + ("they are empty" if size == 0 else "every line is bad or not read"))

    def iso(t: float | None) -> str | None:
        return None if t is None else datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    partial = {path: n for (path, reason), n in sorted(bad.bytes.items()) if reason == "partial_line"}
    return {"types": dict(sorted(types.items())), "bad": bad.by_reason(), "first": iso(first), "last": iso(last),
            "bad_by_file": bad.by_file(), "partial_bytes": partial, "notes": notes}
