"""Simulate one ES session and write it as a Sierra Chart day folder (plus an optional unified file).

``simulate(SimConfig(...))`` is the whole job: tape -> book -> bars and studies -> VIX and
MenthorQ -> lines -> files. Same config, same bytes: every random draw comes from
``numpy.random.Generator(PCG64)`` streams spawned from the seed, one per component, and
nothing depends on the clock or on dict order.

The output folder must be empty or hold only files the simulator wrote there before (listed in
its ``.mia-simulated``): a folder of real recordings is never written over (``force`` does).
"""
from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mia.errors import MiaError
from mia.market.sim import bars as B
from mia.market.sim.book import simulate_depth
from mia.market.sim.clock import RTH_MINUTES, SessionClock, front_contract
from mia.market.sim.levels import menthorq_levels, vix_path, vix_start
from mia.market.sim.lines import Stream, _floats, _ints, _px, side_words, stream
from mia.market.sim.tape import simulate_tape

#: bump when the model changes, so cached default sessions are regenerated
SIM_VERSION = 1
#: bar index of 09:30 on the 1-minute charts: 5 full Globex days loaded, then 18:00 -> 09:30
FIRST_INDEX_1M = 5 * 1380 + 930
#: bar index of 09:30 on the 30-minute chart
FIRST_INDEX_30M = 5 * 46 + 31
VIX_SYMBOL = "VIX_CGI"
VVA_STUDY_CURRENT, VVA_STUDY_PREVIOUS = 9, 8
CD_STUDY, CD_SG = 6, 4
ATR_STUDY, ATR_SG = 7, 1
MAX_SCALE = 50.0


class SimulateError(MiaError):
    """A bad simulator request (date, minutes, scale, output folder)."""


@dataclass(frozen=True)
class SimConfig:
    day: dt.date
    seed: int = 1
    minutes: int = RTH_MINUTES
    scale: float = 1.0
    unified: bool = False
    root: str = "ES"

    def check(self) -> None:
        if not 1 <= self.minutes <= RTH_MINUTES:
            raise SimulateError(f"--minutes must be between 1 and {RTH_MINUTES} (RTH 09:30-16:00), got {self.minutes}")
        if not 0 < self.scale <= MAX_SCALE:
            raise SimulateError(f"--scale must be above 0 and at most {MAX_SCALE:g}, got {self.scale:g}")
        if self.seed < 0:
            raise SimulateError(f"--seed must be 0 or more, got {self.seed}")


@dataclass
class SimResult:
    folder: Path
    symbol: str
    files: dict[str, int] = field(default_factory=dict)   # file name -> lines
    seconds: float = 0.0

    @property
    def events(self) -> int:
        return sum(n for name, n in self.files.items() if not name.startswith("mia_unified_"))


def parse_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise SimulateError(f"--date must be YYYY-MM-DD, got '{text}'") from None


def build_streams(cfg: SimConfig) -> tuple[str, list[Stream]]:
    """Every stream of the session, in memory."""
    cfg.check()
    clock = SessionClock.for_day(cfg.day, cfg.minutes)
    sym = front_contract(cfg.day, cfg.root)
    ss = np.random.SeedSequence([cfg.seed, 20251120])
    (s_start, s_reg, s_path, s_int, s_trade, s_quote, s_book, s_vix, s_mq, s_prev) = ss.spawn(10)
    start = np.random.Generator(np.random.PCG64(s_start))
    open_ticks = int(start.integers(4800 * 4, 6900 * 4))
    vix0 = vix_start(start)
    tape = simulate_tape([s_reg, s_path, s_int, s_trade, s_quote], clock, open_ticks, vix0, cfg.scale)
    if len(tape.t_us) == 0:
        raise SimulateError("the session has no trades: raise --scale or --minutes")
    depth = simulate_depth(s_book, tape, clock, cfg.scale)
    bars = B.build_bars(tape, clock)
    out: list[Stream] = []

    def S(*a, **k) -> None:  # one ES stream: chart, kind, fields, t, emission times, columns, priority
        out.append(stream(clock, sym, *a, **k))

    # --- chart 3: tape, quotes, depth
    S(3, "quote", '"kind":"BIDASK","bid":%.2f,"ask":%.2f,"bq":%d,"aq":%d,"seq":%d', tape.q_us, tape.q_us,
      [_px(tape.bid), _px(tape.ask), _ints(tape.bq), _ints(tape.aq), _ints(tape.q_seq)], 3)
    S(3, "trade", '"side":"%s","px":%.2f,"vol":%d,"seq":%d,"tt":%d', tape.t_us, tape.t_us,
      [side_words(tape.buy, "BUY", "SELL"), _px(tape.px), _ints(tape.vol), _ints(tape.t_seq),
       _ints(np.where(tape.buy, 2, 1))], 5)
    depth_bar = clock.minute_start_us(clock.minute_of(depth.us))
    S(3, "depth", '"side":"%s","lvl":%d,"price":%.2f,"size":%d', depth_bar, depth.us,
      [side_words(depth.is_bid, "BID", "ASK"), _ints(depth.lvl), _px(depth.price), _ints(depth.size)], 4)

    # --- chart 3: the forming 1-minute bar and its fast studies
    up = B.updates_every(tape, bars, clock, B.BAR_UPDATE_US)
    minute = bars.minute[up.bar]
    i_col = _ints(FIRST_INDEX_1M + minute)
    S(3, "basedata", '"i":%d,"o":%.2f,"h":%.2f,"l":%.2f,"c":%.2f,"v":%d,"bidvol":%d,"askvol":%d',
      clock.minute_start_us(minute), tape.t_us[up.at],
      [i_col, _px(up.o), _px(up.h), _px(up.l), _px(up.c), _ints(up.v), _ints(up.bidvol), _ints(up.askvol)], 6)
    st = B.updates_every(tape, bars, clock, B.STUDY_UPDATE_US)
    minute = bars.minute[st.bar]
    t_bar, emit, i_col = clock.minute_start_us(minute), tape.t_us[st.at], _ints(FIRST_INDEX_1M + minute)
    vw, sd = B.vwap_bands(tape, st.at)
    vw, sd = vw * 0.25, sd * 0.25
    S(3, "vwap", '"src":"study","i":%d,"v":%.4f,"up1":%.4f,"dn1":%.4f,"up2":%.4f,"dn2":%.4f,"up3":%.4f,"dn3":%.4f',
      t_bar, emit, [i_col, _floats(vw)] + [_floats(vw + s * k * sd) for k in (1, 2, 3) for s in (1, -1)], 7)
    delta = st.askvol - st.bidvol
    ratio = np.round(np.where(st.v > 0, delta / np.maximum(st.v, 1), 0.0), 4)
    S(3, "nbcv", '"i":%d,"ask_volume":%d,"bid_volume":%d,"delta":%d,"trades":%d,"cumulative_delta":%d,'
      '"total_volume":%d,"delta_ratio":%.4f', t_bar, emit,
      [i_col, _ints(st.askvol), _ints(st.bidvol), _ints(delta), _ints(st.trades), _ints(st.cum_delta),
       _ints(st.v), _floats(ratio)], 8)
    S(3, "cumulative_delta", '"i":%d,"close":%d,"study":%d,"sg":%d', t_bar, emit,
      [i_col, _ints(st.cum_delta), [CD_STUDY] * len(i_col), [CD_SG] * len(i_col)], 9)

    # --- chart 3: once per bar, at its close (the next minute's start)
    prev = np.random.Generator(np.random.PCG64(s_prev))
    t_bar = clock.minute_start_us(bars.minute)
    close_us = t_bar + 60_000_000
    i_col = _ints(FIRST_INDEX_1M + bars.minute)
    n = len(bars.minute)
    vah, val, poc = B.value_areas(tape, bars)
    prev_close = open_ticks + int(prev.integers(-60, 61))
    ppoc = prev_close + int(prev.integers(-24, 25))
    pvah, pval = ppoc + int(prev.integers(24, 61)), ppoc - int(prev.integers(24, 61))
    S(3, "vva", '"i":%d,"vah":%.2f,"val":%.2f,"vpoc":%.2f,"pvah":%.2f,"pval":%.2f,"ppoc":%.2f,'
      '"id_curr":%d,"id_prev":%d', t_bar, close_us,
      [i_col, _px(vah), _px(val), _px(poc), _px([pvah] * n), _px([pval] * n), _px([ppoc] * n),
       [VVA_STUDY_CURRENT] * n, [VVA_STUDY_PREVIOUS] * n], 2)
    atr0 = float(np.clip(1.8 * vix0 / 16.0 * prev.uniform(0.8, 1.2), 0.75, 12.0))
    hb, lb, cb = bars.h[bars.last] * 0.25, bars.l[bars.last] * 0.25, tape.px[bars.last] * 0.25
    atr = B.wilder_atr(hb, lb, cb, atr0, prev_close * 0.25)
    S(3, "atr", '"i":%d,"atr":%.4f,"study":%d,"sg":%d', t_bar, close_us,
      [i_col, _floats(np.round(atr, 4)), [ATR_STUDY] * n, [ATR_SG] * n], 2)

    # --- chart 4: 30-minute bars and studies, no "type" field in the files
    th = B.thirty_minute(tape, bars, atr0 * np.sqrt(30.0))
    t30 = clock.minute_start_us(th.k * 30)
    i30 = _ints(FIRST_INDEX_30M + th.k)
    S(4, "basedata", '"i":%d,"o":%.2f,"h":%.2f,"l":%.2f,"c":%.2f,"v":%d,"bidvol":%d,"askvol":%d', t30, close_us,
      [i30, _px(th.o), _px(th.h), _px(th.l), _px(th.c), _ints(th.v), _ints(th.bidvol), _ints(th.askvol)], 2,
      typed=False)
    S(4, "atr", '"i":%d,"atr":%.4f,"study":%d,"sg":%d', t30, close_us,
      [i30, _floats(np.round(th.atr, 4)), [ATR_STUDY] * n, [ATR_SG] * n], 2, typed=False)
    first30 = np.flatnonzero(np.r_[True, th.k[1:] != th.k[:-1]])
    pvwap = prev_close * 0.25 + prev.uniform(-3, 3)
    psd = prev.uniform(4, 12)
    m = len(first30)
    prev_start = FIRST_INDEX_30M - 46
    S(4, "pvwap", '"i":%d,"prev_start":%d,"prev_end":%d,"pvwap":%.4f,"up1":%.4f,"dn1":%.4f,"up2":%.4f,"dn2":%.4f',
      t30[first30], close_us[first30],
      [[i30[j] for j in first30], [prev_start] * m, [prev_start + 12] * m, [pvwap] * m,
       [pvwap + 0.5 * psd] * m, [pvwap - 0.5 * psd] * m, [pvwap + psd] * m, [pvwap - psd] * m], 2, typed=False)

    # --- chart 8: VIX every 15 s; chart 10: MenthorQ every 15 minutes
    v_us, v_val = vix_path(np.random.Generator(np.random.PCG64(s_vix)), tape, clock, vix0)
    v_min = clock.minute_of(v_us)
    out.append(stream(clock, VIX_SYMBOL, 8, "vix", '"i":%d,"last":%.2f', clock.minute_start_us(v_min), v_us,
                      [_ints(FIRST_INDEX_1M + v_min), _floats(v_val)], 1))
    lv = menthorq_levels(np.random.Generator(np.random.PCG64(s_mq)), tape, clock, vix0)
    S(10, "menthorq_level", '"level_type":"%s","price":%.2f,"subgraph":%d,"study_id":%d,"i":%d', lv.us, lv.us,
      [lv.level_type, _floats(lv.price), _ints(lv.subgraph), _ints(lv.study_id),
       _ints(FIRST_INDEX_1M + lv.minute)], 0)
    return sym, out


def unified_order(streams: list[Stream]) -> tuple[list[str], np.ndarray]:
    """All lines (chart 4 with their type) and the emission order (ties: priority, then file order)."""
    emit = np.concatenate([s.emit_us for s in streams])
    prio = np.concatenate([np.full(len(s.lines), s.priority, np.int16) for s in streams])
    pos = np.concatenate([np.arange(len(s.lines)) for s in streams])
    which = np.concatenate([np.full(len(s.lines), k, np.int16) for k, s in enumerate(streams)])
    every = [line for s in streams for line in (s.unified_lines or s.lines)]
    return every, np.lexsort((pos, which, prio, emit))


_CHUNK = 100_000


def _write(path: Path, lines: list[str], order: np.ndarray | None = None) -> None:
    """Write lines (in ``order`` when given) in chunks, so no whole-file string is built."""
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for a in range(0, len(lines), _CHUNK):
            if order is None:
                part = lines[a:a + _CHUNK]
            else:
                part = [lines[k] for k in order[a:a + _CHUNK].tolist()]
            f.write("\n".join(part))
            f.write("\n")


#: the file in an output folder that lists what the simulator wrote there
MARKER = ".mia-simulated"


def _ours(folder: Path) -> set[str]:
    try:
        return set((folder / MARKER).read_text().split())
    except OSError:
        return set()


def check_folder(folder: Path) -> None:
    """Refuse an output folder that holds files the simulator did not write (real recordings)."""
    try:
        names = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise SimulateError(f"{folder}: cannot read the output folder: {exc.strerror or exc}") from None
    others = [n for n in names if n not in _ours(folder)]
    if others:
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        raise SimulateError(f"{folder}: error: the folder holds files mia simulate did not write ({shown}); "
                            "give an empty or new folder, or --force to write into it anyway")


def simulate(cfg: SimConfig, folder: str | os.PathLike, force: bool = False) -> SimResult:
    """Write the session's files into ``folder`` (created if missing); return what was written.
    A folder holding other files is refused (``check_folder``) unless ``force``."""
    began = time.perf_counter()
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise SimulateError(f"{folder}: error: not a folder")
    if not force:
        check_folder(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SimulateError(f"{folder}: cannot create the output folder: {exc.strerror or exc}") from None
    sym, streams = build_streams(cfg)
    day_text = cfg.day.strftime("%Y%m%d")
    result = SimResult(folder, sym)
    try:
        for s in streams:
            _write(folder / s.filename(day_text), s.lines)
            result.files[s.filename(day_text)] = len(s.lines)
        if cfg.unified:
            name = f"mia_unified_{day_text}.jsonl"
            lines, order = unified_order(streams)
            _write(folder / name, lines, order)
            result.files[name] = len(lines)
        written = sorted(_ours(folder) | set(result.files))
        (folder / MARKER).write_text("\n".join(written) + "\n")
    except OSError as exc:
        raise SimulateError(f"{folder}: cannot write the session: {exc.strerror or exc}") from None
    result.seconds = time.perf_counter() - began
    return result


__all__ = ["SimConfig", "SimResult", "SimulateError", "simulate", "build_streams", "parse_day"]
