"""A numba scanner for the bulk Sierra line kinds (trade, quote, depth, basedata): bytes -> columns.

It reads only lines it can read exactly as ``orjson`` + ``mia.market.sierra.LineParser`` would
(a flat object of plain strings and numbers, the file's own type, every required field there,
valid prices, whole sizes within bounds, numbers with at most 15 significant digits, read as one
exactly rounded division or product, and no number anywhere that a double cannot hold, which
orjson refuses); every other line is marked SLOW and handed to ``LineParser.batch`` unchanged, so
bad lines are judged and tallied by the market layer's own rules.

Columns per kind (``x``; ``t`` apart): those of ``codes``, and a trade's or quote's ``seq``
(NaN when absent) in its first free column (trade 3, quote 2), for the duplicate rule
(``mia.market.judge``): the reader clears it after judging. A line's chart is its own integer
``chart`` or its file's (a float chart is for the slow path, as the parser takes the file's
then); its symbol must be the one the caller expects (its SYM is then the caller's id) or absent
/ empty (SYM 0): any other symbol, so every symbol the scanner passes is a real one, goes the
slow way. ``t`` is the UTC epoch (the parser's conversion, its per-hour offsets), a line outside
its file's day noted WRONG_DAY.

One pass over the bytes, line after line: no separate search for the newlines. Most lines of a
file share one layout (same keys in the same order, same symbol and type): each line is first
compared with the file's template (learnt from a line the general read took) and only its
values parsed; a line that differs is read by the general read. ``scan`` releases the GIL and
runs on the caller's thread: the reader (``blocks``) scans a file's next chunk on a worker
thread while it merges the current one.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from mia.market.columnar.codes import BASEDATA, CHART, DEPTH, KIND, NCOLS, QUOTE, SYM, TRADE
from mia.market.events import MAX_BAR_VOLUME, MAX_SIZE
from mia.market.sctime import SC_MAX, SC_MIN

OK, BLANK, SLOW, WRONG_DAY = 0, 1, 2, 3

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


@nb.njit(cache=True, inline="always")
def _digit(c):
    return 48 <= c <= 57


def _pack(name: bytes) -> int:
    v = 0
    for c in name:
        v = (v << 8) | c
    return v


#: a key's bytes packed big-endian into an int (keys of up to 6 bytes) -> its id, by a
#: collision-free table of 2 ** _HASH_BITS slots indexed by ``(packed * _HASH_MUL) >> (64 - _HASH_BITS)``
#: (a multiply and a shift: no division on the hot path)
_PACKED_KEYS = {_pack(n): k for k, n in _NAMES.items()}


def _hash_params():
    rng = np.random.default_rng(7)
    for bits in range(5, 12):
        for _ in range(2000):
            mul = int(rng.integers(1, 2 ** 62)) * 2 + 1
            slots = {((v * mul) % 2 ** 64) >> (64 - bits) for v in _PACKED_KEYS}
            if len(slots) == len(_PACKED_KEYS):
                return bits, mul
    raise AssertionError("no collision-free key hash")


_HASH_BITS, _HASH_MUL_INT = _hash_params()
_HASH_MUL = np.uint64(_HASH_MUL_INT)
_HASH_SHIFT = np.uint64(64 - _HASH_BITS)
_HASH_KEYS = np.full(1 << _HASH_BITS, -1, np.int64)
_HASH_IDS = np.full(1 << _HASH_BITS, K_OTHER, np.int64)
for _v, _k in _PACKED_KEYS.items():
    _slot = ((_v * _HASH_MUL_INT) % 2 ** 64) >> (64 - _HASH_BITS)
    _HASH_KEYS[_slot] = _v
    _HASH_IDS[_slot] = _k


@nb.njit(cache=True, inline="always")
def _key_id(packed, n):
    """The id of an ``n``-byte key packed big-endian (K_OTHER: a key not read here)."""
    if n > 6:
        return K_OTHER
    j = (np.uint64(packed) * _HASH_MUL) >> _HASH_SHIFT
    if _HASH_KEYS[j] == packed:
        return _HASH_IDS[j]
    return K_OTHER


#: the template did not fit a line (the general read then reads it)
FAIL = -1


@nb.njit(cache=True, nogil=True, error_model="numpy")
def scan(b, p, kind, fchart, tname, symref, symid, tpl_lit, tpl_off, tpl_key, tpl_sym, keep_sc,
         offs, first, hour0, lo, hi, t, x, ev_kind, ev_row, ev_start, ev_end):
    """Scan the lines of ``b`` from ``p`` (``b`` ends with a newline), one pass, in order: an OK
    line's row goes to t[j], x[j] (j from 0); every other line is noted in ``ev_*`` (its status
    BLANK, SLOW or WRONG_DAY, the number of rows before it, where it starts and ends). Stops at
    the end of ``b`` or when ``t`` or ``ev_*`` is full; returns (p, rows, notes, misses): ``p``
    where to go on, ``misses`` the lines the template did not fit.

    A line is read first as the file's template (``tpl_*``: the layout of a line read as OK
    before: its literal bytes, the key of each value between them, its symbol's id): the
    layout's bytes compared, the values parsed and checked as below. A line that differs in
    one byte or fails one check is read again by the general read (any key order, spaces,
    unknown keys), which decides. No loop steps over a newline: a byte that is not one the
    read expects ends the fast read of a line (SLOW: the parser's).

    ``t``: the line's SCDateTime itself (``keep_sc``), else its UTC epoch: SCDateTime -> local
    seconds, minus the UTC offset of its local hour, as ``LineParser`` computes it (an hour's
    offset taken from its first line: ``first``, per file; ``offs`` the zone's offsets of the
    hours ``hour0`` .. ``hour0 + len(offs) - 1``, empty for UTC). A line whose hour has none
    (far outside its day) is SLOW; an epoch outside [lo, hi] is WRONG_DAY.

    One function on purpose: a numba helper that takes an array pays atomic reference counts
    on every call, several times the cost of parsing a number."""
    E = len(b)
    j = 0
    k = 0
    misses = 0
    R = len(t)
    K = len(ev_kind)
    nh = len(offs)
    nf = len(tpl_key)
    ntn = len(tname)
    nsym = len(symref)
    need = REQUIRED[kind]
    pmask = PRICES[kind]
    while p < E and j < R and k < K:
        s = p
        mode = 0 if nf > 0 else 1                  # 0: the template, 1: the general read
        status = OK
        tv = 0.0
        while True:
            bad = FAIL if mode == 0 else SLOW
            status = OK
            for q in range(NCOLS):
                x[j, q] = 0.0
            x[j, CHART] = fchart
            if kind == BASEDATA:
                x[j, 0] = fchart
                x[j, 7] = np.nan
                x[j, 8] = np.nan
            elif kind == TRADE:
                x[j, 3] = np.nan                   # seq, if the line has none
            elif kind == QUOTE:
                x[j, 2] = np.nan
            tv = 0.0
            seen = 0
            positive = 0
            side = -1
            f = 0
            p = s
            if mode == 0:
                x[j, SYM] = tpl_sym
            else:
                while p < E and _ws(b[p]):
                    p += 1
                if p == E or b[p] == 10:
                    status = BLANK
                    break
                if b[p] != 123:
                    status = SLOW
                    break
                p += 1
                while p < E and _ws(b[p]):
                    p += 1
                if p < E and b[p] == 125:
                    status = SLOW                  # {}: not a line of this kind
                    break
            while True:                            # the fields
                key = K_OTHER
                if mode == 0:                      # the layout's bytes up to a value
                    a = tpl_off[f]
                    n = tpl_off[f + 1] - a
                    if p + n > E:
                        status = FAIL
                        break
                    for q in range(n):
                        if b[p + q] != tpl_lit[a + q]:
                            status = FAIL
                            break
                    if status != OK:
                        break
                    p += n
                    if f == nf:
                        break                      # the closing brace was the last of it
                    key = tpl_key[f]
                    f += 1
                else:                              # a key and a colon
                    if p >= E or b[p] != 34:
                        status = SLOW
                        break
                    p += 1
                    ks = p
                    packed = 0
                    while p < E:
                        c = b[p]
                        if c == 34 or _BADCH[c]:
                            break
                        packed = (packed << 8) | c
                        p += 1
                    if p >= E or b[p] != 34:
                        status = SLOW              # an escape, a control or non-ASCII byte
                        break
                    key = _key_id(packed, p - ks)
                    p += 1
                    while p < E and _ws(b[p]):
                        p += 1
                    if p >= E or b[p] != 58:
                        status = SLOW
                        break
                    p += 1
                    while p < E and _ws(b[p]):
                        p += 1
                    if p >= E:
                        status = SLOW
                        break
                    if key != K_OTHER:
                        if seen & (1 << key):
                            status = SLOW          # a duplicate key
                            break
                        seen |= 1 << key
                c = b[p]
                if c == 34:                        # a string
                    p += 1
                    vs = p
                    while p < E:
                        c = b[p]
                        if c == 34 or _BADCH[c]:
                            break
                        p += 1
                    if p >= E or b[p] != 34:
                        status = bad
                        break
                    vn = p - vs
                    p += 1
                    if key == K_SYM:               # the expected symbol, or none
                        if vn != 0:
                            if vn != nsym:
                                status = bad
                                break
                            for q in range(vn):
                                if b[vs + q] != symref[q]:
                                    status = bad
                                    break
                            if status != OK:
                                break
                            x[j, SYM] = symid
                    elif key == K_TYPE:            # the file's own type, or none
                        if vn != 0:
                            if vn != ntn:
                                status = bad
                                break
                            for q in range(vn):
                                if b[vs + q] != tname[q]:
                                    status = bad
                                    break
                            if status != OK:
                                break
                    elif key == K_SIDE:
                        if vn == 3:
                            c0, c1, c2 = b[vs], b[vs + 1], b[vs + 2]
                            if c0 == 66 and c1 == 85 and c2 == 89:
                                side = 10          # BUY
                            elif c0 == 66 and c1 == 73 and c2 == 68:
                                side = 0           # BID
                            elif c0 == 65 and c1 == 83 and c2 == 75:
                                side = 1           # ASK
                        elif vn == 4 and b[vs] == 83 and b[vs + 1] == 69 and b[vs + 2] == 76 and b[vs + 3] == 76:
                            side = 11              # SELL
                    elif key != K_OTHER:
                        status = bad               # a string where a number belongs
                        break
                elif c == 45 or _digit(c):         # a number, read as orjson does
                    neg = False
                    if c == 45:
                        neg = True
                        p += 1
                    if p >= E or not _digit(b[p]):
                        status = bad
                        break
                    intdig = 0
                    lead = 0                       # zeros after the point before a digit
                    mant = 0
                    sig = 0
                    exp = 0
                    is_float = False
                    if b[p] == 48:
                        p += 1
                        if p < E and _digit(b[p]):
                            status = bad           # a leading zero
                            break
                    else:
                        while p < E and _digit(b[p]):
                            sig += 1
                            intdig += 1
                            if sig <= 18:
                                mant = mant * 10 + (b[p] - 48)
                            p += 1
                    if p < E and b[p] == 46:
                        is_float = True
                        p += 1
                        if p >= E or not _digit(b[p]):
                            status = bad
                            break
                        while p < E and _digit(b[p]):
                            d = b[p] - 48
                            if sig == 0 and d == 0:
                                lead += 1
                            if mant != 0 or d != 0:
                                sig += 1
                            if sig <= 18:
                                mant = mant * 10 + d
                                exp -= 1
                            p += 1
                    if p < E and (b[p] == 101 or b[p] == 69):
                        is_float = True
                        p += 1
                        eneg = False
                        if p < E and (b[p] == 43 or b[p] == 45):
                            eneg = b[p] == 45
                            p += 1
                        if p >= E or not _digit(b[p]):
                            status = bad
                            break
                        ev = 0
                        while p < E and _digit(b[p]):
                            if ev < 10000:
                                ev = ev * 10 + (b[p] - 48)
                            p += 1
                        if eneg:
                            ev = -ev
                        exp += ev
                        mag = (intdig - 1 if intdig > 0 else -(lead + 1)) + ev
                        if sig > 0 and mag >= 308:
                            status = bad           # overflows a double: orjson refuses it
                            break
                    elif intdig > 308:
                        status = bad
                        break
                    if key != K_OTHER:
                        if key == K_TYPE or key == K_SIDE or key == K_SYM or sig > 15 or exp < -22 or exp > 22:
                            status = bad           # not a number here, or not one exact division
                            break
                        v = mant / _POW10[-exp] if exp < 0 else mant * _POW10[exp]
                        if neg and (is_float or mant != 0):
                            v = -v                 # the integer -0 is 0
                        if key == K_T:
                            tv = v
                        elif key == K_CHART:
                            if is_float:
                                status = bad       # a float chart number: the file's chart
                                break
                            x[j, CHART] = v
                            if kind == BASEDATA:
                                x[j, 0] = v
                        else:
                            col = COLMAP[kind, key]
                            if col >= 0:
                                x[j, col] = v
                            if v > 0.0:
                                positive |= 1 << key
                else:
                    status = bad                   # true/false/null/object/array
                    break
                if mode == 1:                      # a comma and the next key, or the end
                    while p < E and _ws(b[p]):
                        p += 1
                    if p >= E:
                        status = SLOW
                        break
                    if b[p] == 44:
                        p += 1
                        while p < E and _ws(b[p]):
                            p += 1
                        if p < E and b[p] == 125:
                            status = SLOW          # a trailing comma
                            break
                        continue
                    if b[p] == 125:
                        p += 1
                        break
                    status = SLOW
                    break
            if status == OK:
                if mode == 1:
                    while p < E and _ws(b[p]):
                        p += 1
                if p < E and b[p] != 10:
                    status = bad
                elif mode == 1 and (seen & need) != need:
                    status = SLOW
                elif not (SC_MIN < tv < SC_MAX) or (positive & pmask) != pmask:
                    status = bad
                elif kind == TRADE:
                    vol = x[j, 1]
                    if not (side == 10 or side == 11) or not (0.0 < vol <= MAX_SIZE) or vol != np.floor(vol):
                        status = bad               # the slow path names what is wrong
                    else:
                        x[j, 2] = 1.0 if side == 10 else 0.0
                elif kind == DEPTH:
                    size = x[j, 2]
                    if not (side == 0 or side == 1) or not (0.0 <= size <= MAX_SIZE) or size != np.floor(size):
                        status = bad
                    else:
                        x[j, 0] = float(side)
                elif kind == BASEDATA:
                    for q in range(6, 9):          # v, bidvol, askvol (NaN: absent)
                        v = x[j, q]
                        if v == v and (not (0.0 <= v <= MAX_BAR_VOLUME) or v != np.floor(v)):
                            status = bad
            if status == FAIL:
                misses += 1
                mode = 1
                continue
            break
        # ---- the line is read: a row, or a note
        if status == OK:
            if keep_sc:
                t[j] = tv
                j += 1
                p += 1
                continue
            local = (tv - 25569.0) * 86400.0
            if nh > 0:
                h = int(local // 3600.0) - hour0
                if h < 0 or h >= nh:
                    status = SLOW
                else:
                    off = first[h]
                    if off != off:
                        off = local - (local - offs[h])
                        first[h] = off
                    local = local - off
            if status == OK:
                if lo <= local <= hi:
                    t[j] = local
                    j += 1
                    p += 1
                    continue
                status = WRONG_DAY
        if status != BLANK:
            p = s
        while p < E and b[p] != 10:
            p += 1
        ev_kind[k] = status
        ev_row[k] = j
        ev_start[k] = s
        ev_end[k] = p
        k += 1
        p += 1
    return p, j, k, misses


def template(line: bytes, kind: int, sym: bytes, sym_id: int):
    """The layout of ``line`` (a line the general read took as OK, without its newline) for the
    template read of ``scan``: (literal bytes, their offsets, the key of each value, the symbol's
    id); None for a line with spaces between its tokens, or a symbol other than ``sym``."""
    names = {n: k for k, n in _NAMES.items()}
    if not line.startswith(b'{"') or not line.endswith(b"}"):
        return None
    lits, keys = [], []
    lit = bytearray(b"{")
    p, symval = 1, 0.0
    while True:
        if line[p:p + 1] != b'"':
            return None
        q = line.index(b'"', p + 1)
        key = names.get(line[p + 1:q], K_OTHER)
        if line[q + 1:q + 2] != b":":
            return None
        lit += line[p:q + 2]
        p = q + 2
        if line[p:p + 1] == b'"':
            q = line.index(b'"', p + 1)
            if key == K_SIDE:                      # a value read each time
                lits.append(bytes(lit))
                keys.append(key)
                lit = bytearray()
            else:                                  # the type, the symbol, other strings: bytes to compare
                value = line[p + 1:q]
                if key == K_SYM and value:
                    if value != sym:
                        return None
                    symval = float(sym_id)
                lit += line[p:q + 1]
            p = q + 1
        else:
            q = p
            while q < len(line) and line[q] not in b",}":
                q += 1
            if q == p or any(c in b" \t\r" for c in line[p:q]):
                return None
            lits.append(bytes(lit))
            keys.append(key)
            lit = bytearray()
            p = q
        c = line[p:p + 1]
        if c == b",":
            lit += c
            p += 1
        elif c == b"}" and p == len(line) - 1:
            lit += c
            break
        else:
            return None
    lits.append(bytes(lit))
    off = np.cumsum([0] + [len(x) for x in lits]).astype(np.int64)
    return np.frombuffer(b"".join(lits), np.uint8).copy(), off, np.array(keys, np.int64), float(symval)


_NO_TEMPLATE = (np.empty(0, np.uint8), np.zeros(1, np.int64), np.empty(0, np.int64), 0.0)
_TYPE_NAMES = (b"trade", b"quote", b"depth", b"basedata")
_NO_OFFS = np.empty(0)


class Scanner:
    """The scanner of one file: its kind, chart, expected symbol, the UTC offsets of its day's
    hours and its template. ``run(buf)``: (t, x, notes) of the complete lines of ``buf``,
    ``notes`` the (status, rows before it, start, end) of each line that is not an OK row. One
    call at a time per file (the per-hour offsets and the template are the file's); the kernel
    releases the GIL, so files can be scanned on other threads."""

    def __init__(self, kind: int, chart: int = 0, sym: bytes = b"", sym_id: int = 0, zone: str = "UTC",
                 lo: float = -np.inf, hi: float = np.inf, keep_sc: bool = False):
        self.kind, self.chart = kind, float(chart)
        self.tname = np.frombuffer(_TYPE_NAMES[kind], dtype=np.uint8)
        self.set_symbol(sym, sym_id)
        self.lo, self.hi, self.keep_sc = float(lo), float(hi), keep_sc
        self.offs, self.first, self.hour0 = _NO_OFFS, _NO_OFFS, 0
        if zone != "UTC" and not keep_sc:
            if not (np.isfinite(lo) and np.isfinite(hi)):
                raise ValueError("a zone other than UTC needs the file's day window")
            from mia.market.sctime import hour_offsets

            h0, h1 = int((lo - 86400.0) // 3600.0), int((hi + 86400.0) // 3600.0)
            self.hour0 = h0
            self.offs = np.array(hour_offsets(zone, h0, h1))
            self.first = np.full(len(self.offs), np.nan)

    def set_symbol(self, sym: bytes, sym_id: int) -> None:
        self.symref = np.frombuffer(sym, dtype=np.uint8)
        self.sym, self.sym_id = sym, float(sym_id)
        self.tpl, self.tries = _NO_TEMPLATE, 0
        self.line_bytes = 48.0                     # the file's shortest mean line so far: rows per byte

    def _kernel(self, b, p, tpl, keep_sc, offs, first, t, x, ev):
        return scan(b, p, self.kind, self.chart, self.tname, self.symref, self.sym_id, *tpl, keep_sc,
                    offs, first, self.hour0, self.lo, self.hi, t, x, ev[0], ev[1], ev[2], ev[3])

    def _learn(self, b) -> None:
        """The template of the first line of ``b``, if the general read takes it as OK."""
        self.tries += 1
        end = int(np.argmax(b == 10))
        line = b[:end + 1]
        ev = np.empty((4, 1), np.int64)
        _, j, _, _ = self._kernel(line, 0, _NO_TEMPLATE, True, _NO_OFFS, _NO_OFFS, np.empty(1),
                                  np.empty((1, NCOLS)), ev)
        if j == 1:
            tpl = template(line[:-1].tobytes(), self.kind, self.sym, int(self.sym_id))
            if tpl is not None:
                self.tpl = tpl

    def run(self, buf):
        b = np.frombuffer(buf, dtype=np.uint8)
        if not len(b):
            return np.empty(0), np.empty((0, NCOLS)), np.empty((4, 0), np.int64)
        if not len(self.tpl[2]) and self.tries < 8:
            self._learn(b)
        cap = int(len(b) / self.line_bytes * 1.1) + 64       # more rows than that: another call
        ts, xs, notes = [], [], []
        p = misses = lines = rows = 0
        while p < len(b):
            t = np.empty(cap)
            x = np.empty((cap, NCOLS))
            ev = np.empty((4, 64 + cap // 8), np.int64)
            p, j, k, m = self._kernel(b, p, self.tpl, self.keep_sc, self.offs, self.first, t, x, ev)
            misses += m
            lines += j + k
            ev[1, :k] += rows
            rows += j
            ts.append(t[:j])
            xs.append(x[:j])
            notes.append(ev[:, :k])
            cap = max(cap, 1024)
        if misses * 2 > lines:                     # the lines changed their layout: learn it again
            self.tpl, self.tries = _NO_TEMPLATE, 0
        if lines:
            self.line_bytes = max(8.0, min(self.line_bytes if self.line_bytes != 48.0 else np.inf, len(b) / lines))
        if len(ts) == 1:
            return ts[0], xs[0], notes[0]
        return np.concatenate(ts), np.concatenate(xs), np.concatenate(notes, axis=1)

    def hour_offsets(self) -> list[tuple[int, float]]:
        """(local hour, offset) of the hours whose offset this file took so far."""
        return [(self.hour0 + int(h), float(self.first[h])) for h in np.flatnonzero(self.first == self.first)]

    def take_offset(self, hour: int, off: float) -> None:
        """An hour's offset the parser took first (from a line it read before any of this hour here)."""
        h = hour - self.hour0
        if 0 <= h < len(self.first) and self.first[h] != self.first[h]:
            self.first[h] = off


def scan_lines(buf: bytes, kind: int, chart: int = 0, sym: bytes = b"", sym_id: int = 0):
    """Every line of ``buf`` (complete lines, ending in a newline) of a file of ``kind`` and
    ``chart``, one row each: (out[n, 1 + NCOLS] (the raw SCDateTime, then the columns),
    status[n], starts[n], ends[n]); a line whose symbol is ``sym`` gets ``sym_id`` in its SYM
    column. For tests and tools: the reader uses ``Scanner``."""
    t, x, notes = Scanner(kind, chart, sym, sym_id, keep_sc=True).run(buf)
    n = len(t) + notes.shape[1]
    out = np.zeros((n, NCOLS + 1))
    status = np.full(n, OK, np.int8)
    at = notes[1] + np.arange(notes.shape[1])      # each note's line number
    ok = np.ones(n, bool)
    ok[at] = False
    out[ok, 0], out[ok, 1:] = t, x
    status[at] = notes[0]
    starts, ends = np.empty(n, np.int64), np.empty(n, np.int64)
    s = 0
    for j in range(n):
        e = buf.index(b"\n", s)
        starts[j], ends[j] = s, e
        s = e + 1
    return out, status, starts, ends
