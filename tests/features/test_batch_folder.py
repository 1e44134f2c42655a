"""Batch over a folder (columnar blocks + bulk kernel) against the reference: ``replay`` event by
event, and ``FeatureEngine.update`` over ``replay``, on simulated sessions and on hand-made files
full of the quirks a reader must survive."""
from __future__ import annotations

import datetime as dt
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from profiles import examples

from mia.dsl import catalog
from mia.features import FeatureEngine, compute_features, feature_frame_from_folder
from mia.market.columnar.blocks import blocks
from mia.features.engine import HANDLED_TYPES
from mia.market.columnar import jsonscan
from mia.market.columnar.jsonscan import KIND, OK, SLOW, scan_lines
from mia.market.columnar import codes
from mia.market.columnar.codes import OTHER, PASS
from mia.market.replay import replay
from mia.market.sctime import epoch_to_sc
from mia.market.sierra import BadLines
from replay_oracle import oracle_replay

NY = ZoneInfo("America/New_York")
T0 = datetime(2025, 11, 20, 9, 30, tzinfo=NY).timestamp()
COL = {f.name: i for i, f in enumerate(catalog.FEATURES)}
SYM = "ESZ25_FUT_CME"
#: the fields of a scanned line that its row keeps
SCANNED = {"trade": {"side", "px", "vol"}, "quote": {"bid", "ask"}, "depth": {"side", "lvl", "price", "size"},
           "basedata": {"i", "o", "h", "l", "c", "v", "bidvol", "askvol"}}


def streamed(folder):
    eng = FeatureEngine()
    rows, times = [], []
    for e in replay([folder]):
        if eng.update(e):
            rows.append(eng.row.copy())
            times.append(eng.row_time)
    if eng.flush():                                  # the end of the data closes the last bar
        rows.append(eng.row.copy())
        times.append(eng.row_time)
    return np.array(times), np.array(rows).reshape(len(rows), len(catalog.FEATURES))


def assert_same_events(folder):
    """blocks(folder) yields replay(folder)'s events: same times, order, values and bad-line tally;
    and replay(folder) is the test's own merge of its files (``replay_oracle``)."""
    bad_ref, bad, bad_oracle = BadLines(), BadLines(), BadLines()
    ref = list(replay([folder], bad=bad_ref))
    assert ref == oracle_replay(folder, bad_oracle)  # the merge checked against the plainest one
    assert bad_oracle.counts == bad_ref.counts
    got, codes = [], []
    for blk in blocks([folder], bad=bad, wanted_types=HANDLED_TYPES):
        for i in range(len(blk.t)):
            ev = blk.event(i)
            assert ev.t == blk.t[i]
            got.append(ev)
            codes.append(int(blk.code[i]))
    assert len(got) == len(ref)
    for g, r, code in zip(got, ref, codes):
        if code >= OTHER:                            # a line kept as its event: replay's own
            assert g == r and (code == PASS) == (r.type not in HANDLED_TYPES)
            continue
        # a scanned line: its real time, type, chart, symbol, and the fields the scanner reads
        assert (g.t, g.type, g.chart, g.sym) == (r.t, r.type, r.chart, r.sym)
        assert set(g.f) == SCANNED[g.type] - ({"bidvol", "askvol"} - set(r.f))
        assert all(v == r.f[k] for k, v in g.f.items())
    assert bad.counts == bad_ref.counts
    return ref, bad_ref


def assert_same_features(folder):
    times, rows = streamed(folder)
    frame = feature_frame_from_folder(folder)
    same = compute_features(str(folder))
    assert np.array_equal(same.matrix, frame.matrix, equal_nan=True)
    assert frame.columns == [f.name for f in catalog.FEATURES]
    assert np.array_equal(frame.times, times)
    assert np.array_equal(frame.matrix, rows, equal_nan=True)
    return frame


# ---- simulated sessions ------------------------------------------------------------------------

@settings(max_examples=examples(3))
@given(seed=st.integers(0, 10_000), minutes=st.integers(3, 12))
def test_simulated_session_folder_equals_streaming(tmp_path_factory, seed, minutes):
    from mia.market.sim import SimConfig, simulate

    folder = tmp_path_factory.mktemp("sim")
    simulate(SimConfig(day=dt.date(2025, 11, 20), seed=seed, minutes=minutes), folder)
    assert_same_events(folder)
    frame = assert_same_features(folder)
    assert len(frame.times) == minutes              # the last bar closed by the end of the data
    assert np.all(np.diff(frame.times) == 60.0)


def test_unified_only_day_and_two_days(tmp_path):
    from mia.market.sim import SimConfig, simulate

    simulate(SimConfig(day=dt.date(2025, 11, 20), seed=3, minutes=4, unified=True), tmp_path / "a")
    for p in (tmp_path / "a").glob("chart_*"):
        p.unlink()                                     # only the unified file is left
    simulate(SimConfig(day=dt.date(2025, 11, 21), seed=4, minutes=4), tmp_path / "b")
    assert_same_events(tmp_path)
    frame = assert_same_features(tmp_path)
    assert len(frame.times) == 4 + 4                   # day 1 last bar closes at the roll, day 2 at the end


# ---- hand-made files with every quirk ------------------------------------------------------------

def sc(t, zone="UTC"):
    return round(epoch_to_sc(t, zone), 6)


def line(**f) -> bytes:
    return orjson.dumps(f)


def write(folder, name, lines, tail=b""):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"".join(x + b"\n" for x in lines) + tail)


def quirky_folder(folder):
    day = "20251120"
    trades = [line(t=sc(T0 + 1), sym=SYM, type="trade", side="BUY", px=100.25, vol=2, seq=1, tt=1, chart=3),
              b'{"t": %.6f , "px" : 100.5e0, "vol":3, "side":"SELL"}' % sc(T0 + 2),     # spaces, exponent
              b"",                                                                     # blank
              b"   \t",                                                                # whitespace only
              b"{not json",                                                            # invalid
              b'{"t":%.6f,"px":"100.5","vol":1}' % sc(T0 + 3),                         # string price
              b'{"t":%.6f,"px":-1,"vol":1,"side":"BUY"}' % sc(T0 + 3),                 # negative price
              b'{"t":%.6f,"px":100.123456789012345678,"vol":1,"side":"BUY"}' % sc(T0 + 4),  # many digits
              b'{"t":%.6f,"px":100.75,"vol":1,"vol":5,"side":"SELL"}' % sc(T0 + 5),    # duplicate key
              b'{"t":%.6f,"type":"quote","bid":100.5,"ask":100.75}' % sc(T0 + 6),      # another type
              line(t=sc(T0 + 6), sym="NQZ25_FUT_CME", px=100.5, vol=1, side="BUY", chart=7),   # another symbol
              b'{"t":%.6f,"px":100.5,"vol":1,"side":"BUY","chart":5,"sym":""}' % sc(T0 + 6),  # chart, no symbol
              b'{"t":%.6f,"px":100.5,"vol":1,"side":"BUY","chart":3.0,"sym":7}' % sc(T0 + 6),  # file's chart
              b'{"t":%.6f,"px":101.0,"vol":1,"side":null}' % sc(T0 + 7),               # null side: missing
              b'{"t":%.6f,"px":101.0,"vol":1}' % sc(T0 + 7),                           # no side: missing
              b'{"t":%.6f,"px":101.0,"vol":1,"side":"SELLS"}' % sc(T0 + 7),            # not BUY/SELL
              b'{"t":%.6f,"px":101.25,"vol":1,"side":"BUY"}\r' % sc(T0 + 8),           # CRLF
              b'{"t":%.6f,"px":101.5,"vol":1,"side":"BUY"}' % sc(T0 + 7),              # 1 s back: clamped
              b'{"t":%.6f,"px":101.5,"vol":1,"side":"BUY"}' % sc(T0 - 30),             # far back: bad
              b'{"t":%.6f,"px":01.5,"vol":1}' % sc(T0 + 9),                            # leading zero
              b'{"t":%.6f,"px":1.5,"vol":-0,"side":"BUY"}' % sc(T0 + 9),               # -0 volume: bad size
              b'{"t":%.6f,"px":99.0,"vol":4,"side":"SELL"}' % sc(T0 + 65)]
    trades += [line(t=sc(T0 + 61 + k), px=100.0 + 0.25 * (k % 5), vol=1 + k % 3, side="BUY" if k % 2 else "SELL")
               for k in range(40)]
    write(folder, f"chart_3_trade_{day}.jsonl", trades, tail=b'{"t":%.6f,"px":100.0,"vo' % sc(T0 + 170))
    quotes = [line(t=sc(T0 + k), bid=100.0 + 0.25 * (k % 3), ask=100.25 + 0.25 * (k % 4), bq=1, aq=2)
              for k in range(0, 180, 7)]
    quotes.append(b'{"t":%.6f,"bid":"x","ask":1}' % sc(T0 + 181))
    write(folder, f"chart_3_quote_{day}.jsonl", quotes, tail=line(t=sc(T0 + 185), bid=100.0, ask=100.5))
    ny = "America/New_York"
    depth = [line(t=sc(T0 + 60 * m, ny), side=s, lvl=lv, price=100.0, size=float(10 * m + lv + (s == "ASK")))
             for m in range(4) for s in ("BID", "ASK", "NONE") for lv in (0, 1, 2, 3, 4, 5, 6, 21)]
    depth.append(line(t=sc(T0, ny), side="BID", lvl=2.5, price=100.0, size=77))      # a float level
    write(folder, f"chart_3_depth_{day}.jsonl", depth)
    bars = []
    for m in range(3):
        for k in range(3):
            bars.append(line(t=sc(T0 + 60 * m + 20 * k, ny), type="basedata", i=10 + m, o=100.0, h=100.5 + k,
                             l=99.5, c=100.25 + 0.25 * k, v=10 + k, bidvol=4, askvol=6 + k, chart=3))
    bars.insert(4, b'{"t":%.6f,"i":11,"o":100,"h":100.5,"l":99.5,"c":100.25,"v":9,"bidvol":"x"}' % sc(T0 + 61, ny))
    bars.insert(5, b'{"t":%.6f,"i":11,"o":100,"h":100.5,"l":99.5,"c":100.25,"v":9,"chart":3.0}' % sc(T0 + 62, ny))
    write(folder, f"chart_3_basedata_{day}.jsonl", bars)
    write(folder, f"chart_4_basedata_{day}.jsonl",                                    # no type, another chart
          [b'{"t":%.6f,"i":%d,"o":100,"h":100.5,"l":99.75,"c":100.25,"v":100}' % (sc(T0 + 60 * m, ny), m)
           for m in range(3)])
    levels = [line(t=sc(T0 + 30, ny), level_type="put_support", price=99.5, i=10),
              line(t=sc(T0 + 90, ny), level_type="blind_spot_1", price=100.25, i=11)]
    write(folder, f"chart_10_menthorq_level_{day}.jsonl", levels)
    write(folder, f"chart_8_vix_{day}.jsonl", [line(t=sc(T0, ny), i=1, last=18.5)])


def test_quirky_files_read_like_replay(tmp_path):
    quirky_folder(tmp_path)
    ref, bad = assert_same_events(tmp_path)
    reasons = bad.by_reason()
    # out of order: T0-30, and T0+61, T0+62 after T0+65 (T0+63, T0+64 are clamped)
    assert reasons["invalid_json"] == 2 and reasons["out_of_order"] == 3 and reasons["partial_line"] == 1
    # a string bidvol (a field the feature engine reads) and a numeric sym are bad lines too
    assert reasons["non_numeric_field"] == 3 and reasons["bad_price"] == 1 and reasons["bad_field"] == 1
    assert reasons["missing_field"] == 2 and reasons["bad_size"] == 1
    assert reasons["bad_side"] == 1 + 4 * 8            # SELLS, and every depth line of side NONE
    frame = assert_same_features(tmp_path)
    assert len(frame.times) == 3                     # bars 9, 10, and 11 closed by the end of the data
    m = frame.matrix
    # bar 10 = last basedata line of index 10; the book as of its close: minute 0's depth (the
    # basedata file precedes the depth file at equal times; the level-2.5 line, last in its file,
    # comes after all of them)
    assert (m[0, COL["high"]], m[0, COL["close"]], m[0, COL["delta"]]) == (102.5, 100.75, 4.0)
    assert (m[0, COL["bid_size_top5"]], m[0, COL["ask_size_top5"]]) == (1 + 2 + 3 + 4 + 5, 2 + 3 + 4 + 5 + 6)
    assert (m[1, COL["bid_size_top5"]], m[1, COL["ask_size_top5"]]) == (11 + 12 + 13 + 14 + 15, 12 + 13 + 14 + 15 + 16)


def test_trade_only_folder_across_a_day_roll(tmp_path):
    """No basedata: bars from trades; the 18:00 roll closes the last bar and restarts the session."""
    d0 = datetime(2025, 11, 20, 17, 58, 30, tzinfo=NY).timestamp()
    trades = [line(t=sc(d0 + 7 * k), px=100.0 + 0.25 * (k % 7), vol=1 + k % 4, side="BUY" if k % 3 else "SELL")
              for k in range(60)]
    write(tmp_path, "chart_3_trade_20251120.jsonl", trades)
    frame = assert_same_features(tmp_path)
    roll = datetime(2025, 11, 20, 18, 0, tzinfo=NY).timestamp()
    times = frame.times
    assert roll in times and times[0] == roll - 60
    # hand-computed first bar: trades k = 0..4 (17:58:30 .. 17:58:58)
    px = [100.0 + 0.25 * (k % 7) for k in range(5)]
    vol = [1 + k % 4 for k in range(5)]
    buy = [k % 3 != 0 for k in range(5)]
    r = frame.matrix[0]
    assert r[COL["volume"]] == sum(vol) and r[COL["close"]] == px[-1]
    assert r[COL["delta"]] == sum(v if b else -v for v, b in zip(vol, buy))
    assert r[COL["vwap"]] == pytest.approx(sum(p * v for p, v in zip(px, vol)) / sum(vol))


# ---- the scanner reads numbers exactly like orjson -----------------------------------------------

@settings(max_examples=examples(30))
@given(st.one_of(st.floats(min_value=1e-6, max_value=1e9, allow_nan=False),
                 st.decimals(min_value=0, max_value=100000, places=6).map(str),
                 st.integers(1, 10**17).map(str)))
def test_scanner_numbers_equal_orjson(x):
    text = repr(x) if isinstance(x, float) else x
    raw = b'{"t":45981.395834,"px":%s,"vol":%s}\n' % (text.encode(), text.encode())
    out, status, _, _ = scan_lines(raw, KIND["trade"])
    d = orjson.loads(raw)
    if status[0] == OK:
        assert out[0, 1] == float(d["px"]) and out[0, 2] == float(d["vol"])
    else:
        assert status[0] == SLOW


def test_folder_errors_are_mia_errors_and_dates_filter(tmp_path):
    from mia.errors import MiaError

    with pytest.raises(MiaError, match="no such file or folder"):
        feature_frame_from_folder(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(MiaError, match="no Sierra Chart JSONL files"):
        feature_frame_from_folder(tmp_path)
    trades = [line(t=sc(T0 + 20 * k), px=100.0, vol=1, side="BUY") for k in range(7)]
    write(tmp_path / "d", "chart_3_trade_20251120.jsonl", trades)
    assert len(feature_frame_from_folder(tmp_path / "d").times) == 3       # minutes 0, 1 and (at the end) 2
    with pytest.raises(MiaError, match="between --from and --to"):
        feature_frame_from_folder(tmp_path / "d", date_from=dt.date(2025, 11, 21))


_KEY_NAMES = ["t", "px", "vol", "side", "type", "sym", "chart", "seq", "tt", "p", "pxx", "vo", "side_", "ty", "bidvol",
              "i", "o", "askvol", "bid", "zz", "tpx", "volx", "lvl", "size", "price"]


@settings(max_examples=examples(60))
@given(data=st.data(), extra=st.lists(st.one_of(st.sampled_from(_KEY_NAMES),
                                                st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)),
                                      max_size=6))
def test_scanner_keys_like_the_parser(data, extra):
    """Any mix of known, near-miss and unknown keys: a line the scanner reads as OK is the event
    the market parser makes of it; a duplicate known key is never OK."""
    from mia.market.sierra import BadLine, LineParser

    keys = data.draw(st.permutations(["t", "side", "px", "vol", *extra]))
    values = {"t": "45981.395834", "px": "6100.25", "vol": "3", "side": '"BUY"', "type": '"trade"', "sym": '"ES"'}
    body = ",".join(f'"{k}":{values.get(k, "7")}' for k in keys)
    raw = ("{" + body + "}").encode()
    syms = ["", "ES"]
    out, status, _, _ = scan_lines(raw + b"\n", KIND["trade"], 3, b"ES", 1)
    read = {n.decode() for n in jsonscan._NAMES.values()}          # the keys the scanner reads
    known = [k for k in keys if k in read]
    # a duplicate known key is for the slow path; anything else here is a plain trade line
    assert (status[0] == OK) == (len(set(known)) == len(known))
    if status[0] != OK:
        return
    try:
        ev = LineParser("trade", 3, None).one(raw)
    except BadLine as e:
        raise AssertionError(f"scanner OK, parser: {e}") from None
    assert (out[0, 1], out[0, 2], out[0, 3]) == (float(ev.f["px"]), float(ev.f["vol"]), float(ev.f.get("side") == "BUY"))
    assert (out[0, 1 + codes.CHART], syms[int(out[0, 1 + codes.SYM])]) == (ev.chart, ev.sym)     # 7 or the file's 3; ES or ''


def test_scanner_symbols():
    """The expected symbol or none is read; any other symbol, or a number, is for the parser."""
    lines = [b'{"t":45981.395834,"px":1,"vol":1,"side":"BUY"%s}' % extra
             for extra in (b',"sym":"ESZ25"', b'', b',"sym":""', b',"sym":"ESZ2"', b',"sym":"NQZ25"', b',"sym":5')]
    out, status, _, _ = scan_lines(b"\n".join(lines) + b"\n", KIND["trade"], 3, b"ESZ25", 4)
    assert status.tolist() == [OK, OK, OK, SLOW, SLOW, SLOW]
    assert out[:3, 1 + codes.SYM].tolist() == [4, 0, 0]
