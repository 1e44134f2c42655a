"""Every line is a JSON object with the fields domain.md gives its type, in the right files."""
from __future__ import annotations

import re

from simdata import DAY, SYM

FIELDS = {
    "basedata": {"i", "o", "h", "l", "c", "v", "bidvol", "askvol"},
    "trade": {"side", "px", "vol", "seq", "tt"},
    "quote": {"kind", "bid", "ask", "bq", "aq", "seq"},
    "depth": {"side", "lvl", "price", "size"},
    "vwap": {"i", "src", "v", "up1", "dn1", "up2", "dn2", "up3", "dn3"},
    "vva": {"i", "vah", "val", "vpoc", "pvah", "pval", "ppoc", "id_curr", "id_prev"},
    "nbcv": {"i", "ask_volume", "bid_volume", "delta", "trades", "cumulative_delta", "total_volume",
             "delta_ratio"},
    "cumulative_delta": {"i", "close", "study", "sg"},
    "atr": {"i", "atr", "study", "sg"},
    "vix": {"i", "last"},
    "menthorq_level": {"level_type", "price", "subgraph", "study_id", "i"},
    "pvwap": {"i", "prev_start", "prev_end", "pvwap", "up1", "dn1", "up2", "dn2"},
}
EXPECTED_FILES = {(3, k) for k in ("basedata", "trade", "quote", "depth", "vwap", "vva", "nbcv",
                                   "cumulative_delta", "atr")} | {(8, "vix"), (10, "menthorq_level")}
NAME = re.compile(r"chart_(\d+)_([a-z_]+)_(\d{8})\.jsonl")


def test_files_are_the_expected_charts_and_types(session):
    found = set()
    for name in session.files:
        if name.startswith("mia_unified_"):
            assert name == f"mia_unified_{DAY:%Y%m%d}.jsonl"
            continue
        m = NAME.fullmatch(name)
        assert m, name
        assert m.group(3) == f"{DAY:%Y%m%d}"
        found.add((int(m.group(1)), m.group(2)))
    assert EXPECTED_FILES <= found
    assert {k for c, k in found if c == 4} >= {"basedata"}


def test_every_line_has_its_type_fields(session):
    for name, lines in session.files.items():
        if name.startswith("mia_unified_"):
            continue
        m = NAME.fullmatch(name)
        chart, kind = int(m.group(1)), m.group(2)
        assert lines, name
        for line in lines:
            assert isinstance(line["t"], float)
            assert line["chart"] == chart
            if chart == 4:
                assert "type" not in line, name          # the kind is only in the file name
            else:
                assert line["type"] == kind
            assert FIELDS[kind] <= line.keys(), (name, line)
            assert line["sym"] == ("VIX_CGI" if chart == 8 else SYM)


def test_values_have_the_right_kinds(session):
    for tr in session.of(3, "trade"):
        assert tr["side"] in ("BUY", "SELL") and tr["tt"] == (2 if tr["side"] == "BUY" else 1)
        assert isinstance(tr["vol"], int) and tr["vol"] >= 1
    for q in session.of(3, "quote"):
        assert q["kind"] == "BIDASK" and q["bq"] >= 1 and q["aq"] >= 1
    for d in session.of(3, "depth"):
        assert d["side"] in ("BID", "ASK") and 1 <= d["lvl"] <= 10 and d["size"] >= 1


def test_t_is_written_with_six_decimals(session):
    for name, data in session.raw.items():
        for line in data.splitlines()[:50]:
            assert re.match(rb'\{"t":\d{5}\.\d{6},', line), (name, line)


def test_unified_holds_every_line_in_time_order(session):
    unified = session.files[f"mia_unified_{DAY:%Y%m%d}.jsonl"]
    per_file = sum(len(v) for k, v in session.files.items() if not k.startswith("mia_unified_"))
    assert len(unified) == per_file
    assert all("type" in line for line in unified)   # chart 4 lines say their kind here
    # trades and quotes keep their order and sequence numbers in the merged stream
    seqs = [x["seq"] for x in unified if x["type"] in ("trade", "quote")]
    assert seqs == sorted(seqs)
    # emission order: a bar update never precedes the trade it reports
    last_trade = None
    for x in unified:
        if x["type"] == "trade" and x["chart"] == 3:
            last_trade = x
        elif x["type"] == "basedata" and x["chart"] == 3:
            assert last_trade is not None and x["c"] == last_trade["px"]
