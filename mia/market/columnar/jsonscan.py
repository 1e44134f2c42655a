"""A numba scanner for the bulk Sierra line kinds (trade, quote, depth, basedata): bytes -> columns.

It reads only lines it can read exactly as ``orjson`` + ``mia.market.sierra.LineParser`` would
(a flat object of plain strings and numbers, the file's own type, every required field there,
valid prices, whole sizes within bounds, numbers with at most 15 significant digits, read as one
exactly rounded division or product, and no number anywhere that a double cannot hold, which
orjson refuses); every other line is marked SLOW and handed to ``LineParser.batch`` unchanged, so
bad lines are judged and tallied by the market layer's own rules.

Columns per kind (after ``t``, the raw SCDateTime): those of ``codes``, and a trade's or quote's
``seq`` (NaN when absent) in its first free column (trade 3, quote 2), for the duplicate rule
(``mia.market.judge``): the reader clears it after judging. A line's chart is its
own integer ``chart`` or its file's (a float chart is for the slow path, as the parser takes the
file's then); its symbol must be the one the caller expects (its SYM is then the caller's id) or
absent / empty (SYM 0): any other symbol, so every symbol the scanner passes is a real one,
goes the slow way.

``scan`` runs on all cores (numba ``parallel``; on Linux its OpenMP threads): a process that
used it must not ``fork`` a child that uses it again (GNU OpenMP aborts such a child); start
such children with ``spawn``.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from mia.market.columnar.codes import BASEDATA, CHART, DEPTH, KIND, NCOLS, QUOTE, SYM, TRADE
from mia.market.events import MAX_BAR_VOLUME, MAX_SIZE
from mia.market.sctime import SC_MAX, SC_MIN

OK, BLANK, SLOW = 0, 1, 2

# key ids (bit positions in the "seen" mask)
(K_T, K_TYPE, K_PX, K_VOL, K_SIDE, K_BID, K_ASK, K_LVL, K_PRICE, K_SIZE,
 K_I, K_O, K_H, K_L, K_C, K_V, K_BIDVOL, K_ASKVOL, K_CHART, K_SYM, K_SEQ, K_OTHER) = range(22)
_NAMES = {K_T: b"t", K_TYPE: b"type", K_PX: b"px", K_VOL: b"vol", K_SIDE: b"side", K_BID: b"bid", K_ASK: b"ask",
          K_LVL: b"lvl", K_PRICE: b"price", K_SIZE: b"size", K_I: b"i", K_O: b"o", K_H: b"h", K_L: b"l",
          K_C: b"c", K_V: b"v", K_BIDVOL: b"bidvol", K_ASKVOL: b"askvol", K_CHART: b"chart", K_SYM: b"sym",
          K_SEQ: b"seq"}
#: per kind: key id -> output column (-1: read and ignored); ``chart`` and ``sym`` are read for
#: every kind (into CHART, and for basedata column 0 too; into SYM)
_COLS = {TRADE: {K_PX: 0, K_VOL: 1, K_SEQ: 3},
         QUOTE: {K_BID: 0, K_ASK: 1, K_SEQ: 2},
         DEPTH: {K_LVL: 1, K_SIZE: 2, K_PRICE: 3},
         BASEDATA: {K_I: 1, K_O: 2, K_H: 3, K_L: 4, K_C: 5, K_V: 6, K_BIDVOL: 7, K_ASKVOL: 8}}
COLMAP = np.full((4, K_OTHER + 1), -1, np.int64)
for _k, _m in _COLS.items():
    for _key, _col in _m.items():
        COLMAP[_k, _key] = _col
#: per kind: the keys a line must have (bit mask) and the price keys that must be > 0
REQUIRED = np.array([(1 << K_SIDE) | (1 << K_PX) | (1 << K_VOL), (1 << K_BID) | (1 << K_ASK),
                     (1 << K_SIDE) | (1 << K_LVL) | (1 << K_PRICE) | (1 << K_SIZE),
                     sum(1 << k for k in (K_I, K_O, K_H, K_L, K_C, K_V))], np.int64)
PRICES = np.array([1 << K_PX, (1 << K_BID) | (1 << K_ASK), 1 << K_PRICE,
                   sum(1 << k for k in (K_O, K_H, K_L, K_C))], np.int64)

_BADCH = np.array([c == 92 or c < 32 or c >= 128 for c in range(256)])
_POW10 = np.array([10.0 ** k for k in range(23)])


@nb.njit(cache=True, inline="always")
def _ws(c):
    return c == 32 or c == 9 or c == 13


def _pack(name: bytes) -> int:
    v = 0
    for c in name:
        v = (v << 8) | c
    return v


#: a key's bytes packed big-endian into an int (keys of up to 6 bytes) -> its id, by a
#: collision-free table indexed by ``packed % _HASH_M``
_PACKED_KEYS = {_pack(n): k for k, n in _NAMES.items()}
_HASH_M = next(m for m in range(len(_PACKED_KEYS), 4096) if len({v % m for v in _PACKED_KEYS}) == len(_PACKED_KEYS))
_HASH_KEYS = np.full(_HASH_M, -1, np.int64)
_HASH_IDS = np.full(_HASH_M, K_OTHER, np.int64)
for _v, _k in _PACKED_KEYS.items():
    _HASH_KEYS[_v % _HASH_M] = _v
    _HASH_IDS[_v % _HASH_M] = _k


@nb.njit(cache=True, inline="always")
def _string_end(b, p, e):
    """(q, packed) for a JSON string whose text starts at ``p``: ``q`` the index of its closing
    quote, -1 when it is unterminated or holds an escape, a control or a non-ASCII byte (the
    slow path's); ``packed`` its bytes big-endian in an int (meaningful up to 6 bytes)."""
    packed = 0
    while p < e:
        c = b[p]
        if c == 34:
            return p, packed
        if _BADCH[c]:
            return -1, packed
        packed = (packed << 8) | c
        p += 1
    return -1, packed


@nb.njit(cache=True, inline="always")
def _symbol_end(b, p, e, symref):
    """The index of the closing quote of a string starting at ``p`` that is empty or ``symref``;
    -1 for any other string (the slow path's), in one pass."""
    n = len(symref)
    q = 0
    while p + q < e:
        c = b[p + q]
        if c == 34:
            return p + q if q == 0 or q == n else -1
        if q >= n or c != symref[q]:
            return -1
        q += 1
    return -1


@nb.njit(cache=True, inline="always")
def _key_id(packed, n, keys, ids):
    """The id of an ``n``-byte key packed by ``_string_end`` (K_OTHER: a key not read here)."""
    if n > 6:
        return K_OTHER
    j = packed % _HASH_M
    if keys[j] == packed:
        return ids[j]
    return K_OTHER


@nb.njit(cache=True, inline="always")
def _number(b, p, e, pow10):
    """Parse a JSON number at ``p``: (end, value, ok, exact, is_float). ``ok``: valid JSON syntax
    and below 1e308 in magnitude (orjson refuses a number that overflows a double); ``exact``:
    the value is the correctly rounded double (at most 15 significant digits and |exponent| <=
    22: one exact integer times or divided by one exact power of ten, a single IEEE rounding)."""
    intdig = 0
    lead = 0                                               # zeros after the point before a digit
    neg = False
    if p < e and b[p] == 45:
        neg = True
        p += 1
    if p >= e or not (48 <= b[p] <= 57):
        return p, 0.0, False, False, False
    mant = 0
    sig = 0
    exp = 0
    is_float = False
    if b[p] == 48:
        p += 1
        if p < e and 48 <= b[p] <= 57:
            return p, 0.0, False, False, False            # a leading zero
    else:
        while p < e and 48 <= b[p] <= 57:
            sig += 1
            intdig += 1
            if sig <= 18:
                mant = mant * 10 + (b[p] - 48)
            p += 1
    if p < e and b[p] == 46:
        is_float = True
        p += 1
        if p >= e or not (48 <= b[p] <= 57):
            return p, 0.0, False, False, False
        while p < e and 48 <= b[p] <= 57:
            d = b[p] - 48
            if sig == 0 and d == 0:
                lead += 1
            if mant != 0 or d != 0:
                sig += 1
            if sig <= 18:
                mant = mant * 10 + d
                exp -= 1
            p += 1
    if p < e and (b[p] == 101 or b[p] == 69):
        is_float = True
        p += 1
        eneg = False
        if p < e and (b[p] == 43 or b[p] == 45):
            eneg = b[p] == 45
            p += 1
        if p >= e or not (48 <= b[p] <= 57):
            return p, 0.0, False, False, False
        ev = 0
        while p < e and 48 <= b[p] <= 57:
            if ev < 10000:
                ev = ev * 10 + (b[p] - 48)
            p += 1
        exp += -ev if eneg else ev
        mag = (intdig - 1 if intdig > 0 else -(lead + 1)) + (-ev if eneg else ev)
        if sig > 0 and mag >= 308:
            return p, 0.0, False, False, True              # overflows a double: orjson refuses it
    elif intdig > 308:
        return p, 0.0, False, False, False
    exact = sig <= 15 and -22 <= exp <= 22
    v = 0.0
    if exact:
        v = mant / pow10[-exp] if exp < 0 else mant * pow10[exp]
        if neg and (is_float or mant != 0):
            v = -v                                         # the integer -0 is 0
    return p, v, True, exact, is_float


@nb.njit(cache=True, inline="always")
def _line(b, s, e, kind, fchart, tname, symref, symid, out, j, tabs):
    """Scan one line b[s:e] into out[j] (t, then the kind's columns); return OK, BLANK or SLOW.
    A line's ``sym`` must be ``symref`` (then SYM is ``symid``) or empty (then 0): any other
    symbol is for the slow path."""
    pow10, keys, ids, colmap, required, prices = tabs
    p = s
    while p < e and _ws(b[p]):
        p += 1
    if p == e:
        return BLANK
    if b[p] != 123:
        return SLOW
    p += 1
    for q in range(NCOLS + 1):
        out[j, q] = 0.0
    out[j, 1 + CHART] = fchart
    if kind == BASEDATA:
        out[j, 1] = fchart
        out[j, 8] = out[j, 9] = np.nan
    elif kind == TRADE:
        out[j, 4] = np.nan                                 # seq, if the line has none
    elif kind == QUOTE:
        out[j, 3] = np.nan
    seen = 0
    positive = 0
    side = -1
    first = True
    while True:
        while p < e and _ws(b[p]):
            p += 1
        if p >= e:
            return SLOW
        if b[p] == 125:
            if not first:
                return SLOW                               # a trailing comma
            p += 1
            break
        if b[p] != 34:
            return SLOW
        q, packed = _string_end(b, p + 1, e)
        if q < 0:
            return SLOW
        key = _key_id(packed, q - p - 1, keys, ids)
        p = q + 1
        while p < e and _ws(b[p]):
            p += 1
        if p >= e or b[p] != 58:
            return SLOW
        p += 1
        while p < e and _ws(b[p]):
            p += 1
        if p >= e:
            return SLOW
        if key != K_OTHER:
            if seen & (1 << key):
                return SLOW                               # a duplicate key
            seen |= 1 << key
        c = b[p]
        if c == 34 and key == K_SYM:                       # the symbol: the expected one or none
            vs = p + 1
            p = _symbol_end(b, vs, e, symref)
            if p < 0:
                return SLOW
            if p > vs:
                out[j, 1 + SYM] = symid
            p += 1
        elif c == 34:                                      # a string
            vs = p + 1
            p, _ = _string_end(b, vs, e)
            if p < 0:
                return SLOW
            vn = p - vs
            p += 1
            if key == K_TYPE:
                if vn != 0:
                    if vn != len(tname):
                        return SLOW
                    for q in range(vn):
                        if b[vs + q] != tname[q]:
                            return SLOW
            elif key == K_SIDE:
                if vn == 3:
                    c0, c1, c2 = b[vs], b[vs + 1], b[vs + 2]
                    if c0 == 66 and c1 == 85 and c2 == 89:
                        side = 10                          # BUY
                    elif c0 == 66 and c1 == 73 and c2 == 68:
                        side = 0                           # BID
                    elif c0 == 65 and c1 == 83 and c2 == 75:
                        side = 1                           # ASK
                elif vn == 4 and b[vs] == 83 and b[vs + 1] == 69 and b[vs + 2] == 76 and b[vs + 3] == 76:
                    side = 11                              # SELL
            elif key != K_OTHER:
                return SLOW                                # a string where a number belongs
        elif c == 45 or (48 <= c <= 57):
            p, v, okn, exact, is_float = _number(b, p, e, pow10)
            if not okn:
                return SLOW
            if key != K_OTHER:
                if key == K_TYPE or key == K_SIDE or key == K_SYM or not exact:
                    return SLOW
                if key == K_T:
                    out[j, 0] = v
                    if v > 0.0:
                        positive |= 1 << key
                elif key == K_CHART:
                    if is_float:
                        return SLOW                        # a float chart number: the file's chart
                    out[j, 1 + CHART] = v
                    if kind == BASEDATA:
                        out[j, 1] = v
                else:
                    col = colmap[kind, key]
                    if col >= 0:
                        out[j, 1 + col] = v
                    if v > 0.0:
                        positive |= 1 << key
        else:
            return SLOW                                    # true/false/null/object/array
        first = False
        while p < e and _ws(b[p]):
            p += 1
        if p >= e:
            return SLOW
        if b[p] == 44:
            p += 1
            while p < e and _ws(b[p]):
                p += 1
            if p < e and b[p] == 125:
                return SLOW                                # a trailing comma
            continue
        if b[p] == 125:
            p += 1
            break
        return SLOW
    while p < e and _ws(b[p]):
        p += 1
    if p != e:
        return SLOW
    need = required[kind]
    if not (SC_MIN < out[j, 0] < SC_MAX) or (seen & need) != need or (positive & prices[kind]) != prices[kind]:
        return SLOW
    if kind == TRADE:
        vol = out[j, 2]
        if not (side == 10 or side == 11) or not (0.0 < vol <= MAX_SIZE) or vol != np.floor(vol):
            return SLOW                                    # the slow path names what is wrong
        out[j, 3] = 1.0 if side == 10 else 0.0
    elif kind == DEPTH:
        size = out[j, 3]
        if not (side == 0 or side == 1) or not (0.0 <= size <= MAX_SIZE) or size != np.floor(size):
            return SLOW
        out[j, 1] = float(side)
    elif kind == BASEDATA:
        for q in range(7, 10):                             # v, bidvol, askvol (NaN: absent)
            v = out[j, q]
            if v == v and (not (0.0 <= v <= MAX_BAR_VOLUME) or v != np.floor(v)):
                return SLOW
    return OK


@nb.njit(cache=True, parallel=True)
def scan(b, kind, fchart, tname, symref, symid, tabs):
    """All complete lines of ``b`` (must end with a newline): (out[n, 1 + NCOLS], status[n], starts[n], ends[n]).
    Lines are found first, then scanned in parallel over the cores (each line on its own)."""
    n = 0
    for c in b:
        if c == 10:
            n += 1
    out = np.empty((n, NCOLS + 1))
    status = np.empty(n, np.int8)
    starts = np.empty(n, np.int64)
    ends = np.empty(n, np.int64)
    s = 0
    j = 0
    for p in range(len(b)):
        if b[p] == 10:
            starts[j] = s
            ends[j] = p
            s = p + 1
            j += 1
    for j in nb.prange(n):
        status[j] = _line(b, starts[j], ends[j], kind, fchart, tname, symref, symid, out, j, tabs)
    return out, status, starts, ends


_TYPE_NAMES = (b"trade", b"quote", b"depth", b"basedata")
_TABS = (_POW10, _HASH_KEYS, _HASH_IDS, COLMAP, REQUIRED, PRICES)


def scan_lines(buf: bytes, kind: int, chart: int = 0, sym: bytes = b"", sym_id: int = 0):
    """Scan ``buf`` (complete lines, ending in a newline) of a file of ``kind`` and ``chart``;
    a line whose symbol is ``sym`` gets ``sym_id`` in its SYM column."""
    b = np.frombuffer(buf, dtype=np.uint8)
    tname = np.frombuffer(_TYPE_NAMES[kind], dtype=np.uint8)
    return scan(b, kind, float(chart), tname, np.frombuffer(sym, dtype=np.uint8), float(sym_id), _TABS)
