"""The rows of a columnar block: one code per row, and the columns ``x`` holds per code.

The bulk kinds, scanned into numbers (``jsonscan``): TRADE (px, vol, buy 1/0), QUOTE (bid, ask),
DEPTH (side 0 BID / 1 ASK, lvl, size, price), BASEDATA (chart, i, o, h, l, c, v, bidvol, askvol;
NaN for a missing bidvol/askvol); every scanned row also holds its chart (``CHART``: the line's
own, else its file's) and its symbol (``SYM``: an index into the block's ``syms``, 0 for a line
without one). OTHER: a line kept as its ``Event`` (any other type, or a line the scanner does
not vouch for). PASS: the same, of a type the block's consumer said it has no use for
(``blocks(..., wanted_types=...)``): such a consumer steps over it (it only rolls the clock).
"""
TRADE, QUOTE, DEPTH, BASEDATA, OTHER, PASS = 0, 1, 2, 3, 4, 5
#: the scanned line types and their codes
KIND = {"trade": TRADE, "quote": QUOTE, "depth": DEPTH, "basedata": BASEDATA}
#: columns of every scanned row: its chart, its symbol's index in the block's ``syms``
CHART, SYM = 9, 10
#: columns of ``x``
NCOLS = 11
