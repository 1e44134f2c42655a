"""Hand-written Sierra Chart JSONL lines for the market tests."""
from __future__ import annotations

import itertools
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from mia.market.sctime import epoch_to_sc

NY = ZoneInfo("America/New_York")
T0 = datetime(2025, 11, 20, 10, 0, tzinfo=NY).timestamp()      # 15:00 UTC


def sc(t: float, zone: str) -> float:
    return round(epoch_to_sc(t, zone), 6)


def line(**d) -> str:
    return json.dumps(d) + "\n"


#: the seq of the next line written (every line its own, as a dumper writes them)
_SEQ = itertools.count(1)


def trade(t, px, vol=1, side="BUY", seq=None):
    seq = next(_SEQ) if seq is None else seq
    return line(t=sc(t, "UTC"), sym="ESZ25_FUT_CME", type="trade", side=side, px=px, vol=vol, seq=seq, tt=2, chart=3)


def bar(t, i, c):
    return line(t=sc(t, "America/New_York"), sym="ESZ25_FUT_CME", type="basedata", i=i, o=c, h=c, l=c, c=c,
                v=10, bidvol=4, askvol=6, chart=3)


def quote_line(t, bid, seq=None):
    seq = next(_SEQ) if seq is None else seq
    return line(t=sc(t, "UTC"), sym="ESZ25_FUT_CME", type="quote", kind="BIDASK", bid=bid, ask=bid + 0.25,
                bq=1, aq=1, seq=seq, chart=3)
