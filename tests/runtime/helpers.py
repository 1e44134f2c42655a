"""Helpers for the supervisor tests: simulated day folders, config files, a feed the test drives,
and a supervisor run in the test's own event loop."""
from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from mia.market.columnar.blocks import blocks
from mia.market.sierra import BadLines
from mia.market.sim import SimConfig, simulate
from mia.runtime.config import load_config
from mia.features.engine import HANDLED_TYPES
from mia.runtime.supervisor import Supervisor

ROOT = Path(__file__).resolve().parents[2]
MIA = [sys.executable, "-m", "mia"]


def sim_days(folder: Path, days: int = 1, minutes: int = 60, seed: int = 5) -> Path:
    for k in range(days):
        day = dt.date(2025, 11, 17) + dt.timedelta(days=k)
        simulate(SimConfig(day=day, seed=seed + k, minutes=minutes), folder / f"{day:%Y%m%d}")
    return folder


def write_config(tmp: Path, **over) -> Path:
    cfg = {"mode": "paper", "feed": {"kind": "replay", "speed": 0},
           "journal": str(tmp / "j" / "journal.sqlite"), "control": {"socket": str(tmp / "j" / "mia.sock")},
           "out": str(tmp / "out")}
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key] = {**cfg[key], **value}
        else:
            cfg[key] = value
    path = tmp / "mia.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


class DrivenFeed:
    """The rows of a day folder, handed out when the test says so (``release(n)``)."""
    live = False

    def __init__(self, paths):
        self.bad = BadLines()
        self.rows = list(blocks([str(p) for p in paths], bad=self.bad, wanted_types=HANDLED_TYPES))
        self.position = 0
        self.allowed = asyncio.Queue()
        self.identity = "driven:" + "|".join(map(str, paths))

    def skip(self, rows: int) -> None:
        """A resumed run: the first ``rows`` rows are handed out as warm-up, at once."""
        out, pending = [], []
        for b in self.rows:
            take = min(len(b.t), max(0, rows))
            if take:
                out.append(b.rows(0, take))
            if take < len(b.t):
                pending.append(b.rows(take, len(b.t)))
            rows -= take
        self.warm, self.rows = out, pending

    def release(self, n_blocks: int = 1, rows: int | None = None) -> None:
        self.allowed.put_nowait((n_blocks, rows))

    def finish(self) -> None:
        self.allowed.put_nowait(None)

    async def items(self):
        for b in getattr(self, "warm", []):
            self.position += len(b.t)
            yield ("warm", b)
        pending = [b for b in self.rows]
        while True:
            ask = await self.allowed.get()
            if ask is None:
                break
            n, rows = ask
            for _ in range(n):
                if not pending:
                    break
                b = pending[0]
                if rows is not None and rows < len(b.t):
                    part, pending[0] = b.rows(0, rows), b.rows(rows, len(b.t))
                else:
                    part = pending.pop(0)
                self.position += len(part.t)
                yield ("block", part, self.position)
        while pending:
            b = pending.pop(0)
            self.position += len(b.t)
            yield ("block", b, self.position)
        yield ("end",)


class DrivenSupervisor(Supervisor):
    """A supervisor whose feed the test drives."""

    def __init__(self, cfg_path: Path, rules: list[str], data: list[Path]):
        super().__init__(load_config(cfg_path), rules, quiet=True)
        self.driven = DrivenFeed(data)
        self.seen: list = []
        self.alerts.subscribe(self.seen.append)

    def _feed(self, skip):
        if skip:
            self.driven.skip(skip)
        return self.driven


async def feed_until(sup: "DrivenSupervisor", cond, limit: int = 200) -> None:
    """Release the driven feed block by block until ``cond()`` holds once the consumer took them."""
    for _ in range(limit):
        if cond():
            return
        before = sup.driven.position
        sup.driven.release(1)
        await until(lambda: sup.driven.position > before and sup.queue.empty() or sup.state == "ended")
        await asyncio.sleep(0.01)
    raise AssertionError("the data ran out before the condition held")


async def until(cond, timeout: float = 20.0, step: float = 0.02):
    """Wait until ``cond()`` is true (a test's patience, not a timing claim)."""
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(step)


def run_cli(*args, cwd: Path, timeout: float = 180, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*MIA, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def spawn_cli(*args, cwd: Path, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([*MIA, *map(str, args)], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
