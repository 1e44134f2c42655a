"""mia's market event: one small record for every kind of Sierra Chart line (and, later, IB data).

``Event(t, type, chart, sym, f)``: ``t`` is UTC epoch seconds (converted from SCDateTime in the
source's zone), ``type`` the line kind, ``chart`` the Sierra chart number, ``sym`` the symbol and
``f`` the line's other fields as parsed (numbers as float/int, strings kept), named as Sierra
writes them:

| type | fields in ``f`` |
|---|---|
| basedata | i, o, h, l, c, v, bidvol, askvol |
| trade | side (BUY/SELL), px, vol, seq, tt |
| quote | kind, bid, ask, bq, aq, seq |
| depth | side (BID/ASK), lvl, price, size |
| vwap | i, src, v, up1, dn1, up2, dn2, up3, dn3 |
| vva | i, vah, val, vpoc, pvah, pval, ppoc, id_curr, id_prev |
| pvwap | i, prev_start, prev_end, pvwap, up1, dn1, up2, dn2 |
| nbcv | i, ask_volume, bid_volume, delta, trades, cumulative_delta, total_volume, delta_ratio |
| cumulative_delta | i, close, study, sg |
| atr | i, atr, study, sg |
| vix | i, vix (chart 3) or last (chart 8) |
| correlation | i, cc |
| trade_summary | buy_trades, sell_trades, buy_vol, sell_vol |
| menthorq_level | level_type, price, subgraph, study_id, i |
"""
from __future__ import annotations

from typing import NamedTuple


class Event(NamedTuple):
    """One market event. ``f`` is the parsed line itself: besides the fields above it still holds
    ``t`` (the raw SCDateTime, in the source's zone), ``sym`` and ``chart`` as written."""

    t: float
    type: str
    chart: int
    sym: str
    f: dict


#: fields each type must carry (numbers unless listed in TEXT_FIELDS); others are kept as given
REQUIRED: dict[str, tuple[str, ...]] = {
    "basedata": ("i", "o", "h", "l", "c", "v"),
    "trade": ("side", "px", "vol"),
    "quote": ("bid", "ask"),
    "depth": ("side", "lvl", "price", "size"),
    "vwap": ("v",),
    "vva": ("vah", "val", "vpoc"),
    "pvwap": ("pvwap",),
    "nbcv": ("delta",),
    "cumulative_delta": ("close",),
    "atr": ("atr",),
    "vix": (),
    "correlation": ("cc",),
    "trade_summary": ("buy_vol", "sell_vol"),
    "menthorq_level": ("level_type", "price"),
}
TEXT_FIELDS = frozenset({"side", "kind", "level_type", "src", "sym", "type", "study"})
#: text fields that must be one of a few words
CHOICES: dict[str, dict[str, tuple[str, ...]]] = {
    "trade": {"side": ("BUY", "SELL")},
    "depth": {"side": ("BID", "ASK")},
}
#: sizes: a trade's volume must be > 0, a depth level's size >= 0 (0: the level is empty); both
#: whole and at most MAX_SIZE
SIZE_FIELDS: dict[str, tuple[str, float]] = {"trade": ("vol", 0.0), "depth": ("size", -1.0)}
#: fields a consumer reads when a line has them: a number (a string for TEXT_FIELDS) when
#: present, else the line is bad (``non_numeric_field`` / ``bad_field``); ``sym`` is text on every type
OPTIONAL: dict[str, tuple[str, ...]] = {
    "basedata": ("bidvol", "askvol"),
    "trade": ("seq",),
    "quote": ("seq",),
    "vwap": ("i", "up1", "dn1", "up2", "dn2", "up3", "dn3"),
    "vva": ("i", "pvah", "pval", "ppoc"),
    "atr": ("i",),
    "vix": ("i",),
    "menthorq_level": ("i",),
}
#: the biggest size a line may carry (trade volume, depth size; bar volumes: MAX_BAR_VOLUME);
#: sizes are whole numbers of contracts
MAX_SIZE = 1e6
MAX_BAR_VOLUME = 1e12
#: bar volumes: whole, 0 or more, at most MAX_BAR_VOLUME (``bad_size``)
VOLUME_FIELDS: dict[str, tuple[str, ...]] = {"basedata": ("v", "bidvol", "askvol")}
#: fields that are prices: must be finite and > 0
PRICE_FIELDS: dict[str, tuple[str, ...]] = {
    "basedata": ("o", "h", "l", "c"),
    "trade": ("px",),
    "quote": ("bid", "ask"),
    "depth": ("price",),
    "menthorq_level": ("price",),
}
#: the streams whose lines carry a bar index ``i`` the feature engine reads (bars, and the studies
#: it attributes to bars by index): the index rule of ``mia.market.judge`` applies to them
INDEXED = frozenset({"basedata", "vwap", "vva", "atr"})
#: trade and quote lines carry ``seq``: one already seen in the stream that day is a duplicate
SEQUENCED = frozenset({"trade", "quote"})
#: the price fields of the streams the price band of ``mia.market.judge`` applies to
BANDED: dict[str, tuple[str, ...]] = {"trade": ("px",), "quote": ("bid", "ask"), "basedata": ("o", "h", "l", "c")}


def event(t: float, type: str, chart: int = 3, sym: str = "", **f) -> Event:
    """An Event from keyword fields (tests, simulators, adapters): ``event(t, "trade", px=5000.25, vol=1)``."""
    return Event(float(t), type, chart, sym, f)


def utc_iso(t: float) -> str:
    """UTC epoch seconds -> ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (for messages and reports)."""
    from datetime import datetime, timezone

    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
