"""Replay Sierra Chart day folders as one time-ordered stream of events, lazily.

A path is a day folder (it holds ``chart_<N>_<type>_<YYYYMMDD>.jsonl`` and/or
``mia_unified_<YYYYMMDD>.jsonl``), a folder of day folders or a file (``days.scan_days``). Days
are replayed in date order; within a day the per-chart files are merged (``order.merged_rounds``:
a k-way merge over each file read a chunk at a time, nothing is loaded whole). When a day has
per-chart files, its unified file is ignored (it holds the same lines); a day with only a
unified file replays that file.

Quirks handled: ``depth`` lines carry the bar's start time, so a depth event is stamped with
the latest time already emitted (it can never move the clock back). In per-chart files a depth
line's key in the merge is its bar start, so a bar's depth comes out at that bar's start: the
files hold no better time. A line more than ``TOLERANCE_S`` earlier than the previous line of
the same (chart, type) in its file is bad (``out_of_order``), a smaller step back is clamped; a
line far ahead of its file waits for the next one to confirm it (``order.StreamOrder``).
Per stream, not per file: in a unified file bar-stamped lines (basedata, studies) trail the
trades written before them, and are then stamped with the latest time emitted, like depth.
A last line without its newline (a file being written) is used if whole, else ``partial_line``.
Files are read in ``CHUNK``-byte blocks and parsed in batches (``LineParser.batch``).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path

from mia.market.days import DataPathError, scan_days
from mia.market.events import Event
from mia.market.order import EventRun, StreamOrder, merged_events
from mia.market.sierra import BadLine, BadLines, LineParser, file_kind

#: bytes per read: big chunks split in one call beat line-by-line iteration
CHUNK = 1 << 22


def read_file(path: Path, zones: dict | None, bad: BadLines, counter: list[int] | None = None) -> Iterator[Event]:
    """The usable events of one file, in file order, bad lines counted; read in big chunks.

    The order check is ``StreamOrder``'s: per (chart, type) stream, so a unified file, where
    bar-stamped lines (basedata, studies) legitimately trail the trades before them, is judged
    stream by stream. ``counter[0]`` (if given) grows by the bytes read, for a progress bar.
    """
    for events in read_chunks(path, zones, bad, counter):
        yield from events


def read_chunks(path: Path, zones: dict | None, bad: BadLines,
                counter: list[int] | None = None) -> Iterator[list[Event]]:
    """``read_file``'s events, a list per chunk read."""
    chart, typ, _ = file_kind(path)
    name = str(path)
    parser = LineParser(typ, chart, zones)
    count = bad.counts

    def on_bad(reason: str) -> None:
        count[(name, reason)] += 1

    order = StreamOrder((chart, typ) if typ is not None else None)
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
            lines = (rest + chunk if rest else chunk).split(b"\n")
            rest = lines.pop()
            yield order.judge(parser.batch(lines, on_bad), on_bad)
    if rest.strip():                      # a last line without its newline: a file being written
        try:
            yield order.judge([parser.one(rest)], on_bad)
        except BadLine:
            on_bad("partial_line")
    yield order.flush()


def _day(day: str) -> date:
    return datetime.strptime(day, "%Y%m%d").date()


def select_days(paths: list[str | Path], date_from: date | None, date_to: date | None) -> dict[str, list[Path]]:
    """The files of each day in ``paths`` between ``date_from`` and ``date_to`` (inclusive, either open)."""
    days = {d: fs.replayed for d, fs in scan_days(paths).items()
            if (date_from is None or _day(d) >= date_from) and (date_to is None or _day(d) <= date_to)}
    if not days:
        raise DataPathError("error: no day of the data falls between --from and --to")
    return days


def replay(paths: list[str | Path], date_from: date | None = None, date_to: date | None = None,
           zones: dict | None = None, bad: BadLines | None = None, progress: bool = False) -> Iterator[Event]:
    """Every event of the days in ``paths`` (optionally from/to a date), in time order."""
    bad = bad if bad is not None else BadLines()
    days = select_days(paths, date_from, date_to)
    counter = [0]
    stream = _merged(days, zones, bad, counter if progress else None)
    if progress:
        stream = with_progress(stream, days, counter)
    return stream


def _merged(days: dict[str, list[Path]], zones, bad: BadLines, counter: list[int] | None) -> Iterator[Event]:
    clock = float("-inf")
    for files in days.values():
        runs = [EventRun(read_chunks(p, zones, bad, counter)) for p in files]
        for events, clock in merged_events(runs, clock):
            yield from events


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
    """What the data holds: events per type, bad lines per reason, first and last time (UTC ISO)."""
    bad = BadLines()
    types: Counter = Counter()
    first = last = None
    for ev in replay(paths, zones=zones, bad=bad):
        types[ev.type] += 1
        if first is None:
            first = ev.t
        last = ev.t
    def iso(t: float | None) -> str | None:
        return None if t is None else datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    return {"types": dict(sorted(types.items())), "bad": bad.by_reason(), "first": iso(first), "last": iso(last),
            "bad_by_file": bad.by_file()}
