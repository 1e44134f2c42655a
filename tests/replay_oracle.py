"""A test oracle for the merge of a day's files, independent of mia's merge: each file read on its
own (``read_file``: parsing and the order rule), then merged by the plainest k-way merge there is
(scan every file's head, take the earliest, ties to the first file) and stamped with a running max."""
from __future__ import annotations

from pathlib import Path

from mia.market.replay import read_file
from mia.market.sierra import BadLines, file_kind


def plain_merge(runs: list[list]) -> list:
    """Every item of ``runs`` (each in its own order): repeatedly the head with the smallest ``t``,
    the first run's on a tie."""
    heads = [0] * len(runs)
    out = []
    while True:
        best = None
        for k, run in enumerate(runs):
            if heads[k] < len(run) and (best is None or run[heads[k]].t < runs[best][heads[best]].t):
                best = k
        if best is None:
            return out
        out.append(runs[best][heads[best]])
        heads[best] += 1


def day_folders(root: Path) -> list[tuple[list[Path], frozenset]]:
    """The files of each day under ``root`` (a day folder or a folder of them), in date order:
    its per-chart files, then its unified file, and the (chart, type) streams of the per-chart
    files (the unified file is read for the others only)."""
    days: dict[str, tuple[list, list]] = {}
    for p in sorted(root.rglob("*.jsonl")):
        chart, typ, day = file_kind(p)
        if day is not None:
            days.setdefault(day, ([], []))[typ is None].append(p)
    return [(charts + unified, frozenset(file_kind(p)[:2] for p in charts))
            for _, (charts, unified) in sorted(days.items())]


def oracle_replay(root: Path, bad: BadLines | None = None, zones: dict | None = None) -> list:
    bad = bad if bad is not None else BadLines()
    out, clock = [], float("-inf")
    for files, skip in day_folders(Path(root)):
        for ev in plain_merge([list(read_file(p, zones, bad, skip=skip)) for p in files]):
            if ev.t < clock:
                ev = ev._replace(t=clock)
            clock = ev.t
            out.append(ev)
    return out
