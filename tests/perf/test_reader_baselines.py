"""The plain readers bench_market compares mia's reader with read a day as mia does: the same
rows, times, order, columns, symbols and types (so the benchmark's ratios compare equal work);
and mia reads it the same on one thread and on several, whatever the chunk size."""
from __future__ import annotations

import datetime as dt

import pytest
from baselines.reader import mia_day, orjson_day, polars_day, same

from mia.features.engine import HANDLED_TYPES
from mia.market.columnar import blocks as blocks_mod
from mia.market.columnar.blocks import blocks
from mia.market.sim import SimConfig, simulate


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reader") / "20251120"
    simulate(SimConfig(day=dt.date(2025, 11, 20), seed=3, minutes=12), folder)
    return folder


def read(folder, threads=None):
    old = blocks_mod.THREADS
    blocks_mod.THREADS = threads
    try:
        return mia_day(list(blocks([folder], wanted_types=HANDLED_TYPES)))
    finally:
        blocks_mod.THREADS = old


def test_the_orjson_loop_reads_what_mia_reads(day):
    mine = read(day)
    assert len(mine.t) > 10_000 and set(mine.code.tolist()) == {0, 1, 2, 3, 4}
    assert same(mine, orjson_day(day)) is None


def test_polars_reads_what_mia_reads(day):
    pytest.importorskip("polars")
    assert same(read(day), polars_day(day)) is None


def test_same_detects_a_difference(day):
    mine = read(day)
    other = orjson_day(day)
    row = int((other.code == 0).argmax())                # the first trade
    other.x[row, 0] += 0.25
    assert "scanned row" in same(mine, other)
    assert "rows" in same(mine, mine._replace(t=mine.t[:-1]))


@pytest.mark.parametrize("threads,chunk", [(1, 1 << 22), (2, 1 << 22), (2, 4096), (1, 777)])
def test_one_thread_or_several_any_chunk_the_same_columns(day, monkeypatch, threads, chunk):
    monkeypatch.setattr(blocks_mod, "CHUNK", chunk)
    assert same(orjson_day(day), read(day, threads)) is None
