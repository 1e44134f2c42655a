"""The rows of a columnar block: one code per row, and the columns ``x`` holds per code.

The bulk kinds, scanned into numbers (``jsonscan``): TRADE (px, vol, buy 1/0), QUOTE (bid, ask),
DEPTH (side 0 BID / 1 ASK, lvl, size), BASEDATA (chart, i, o, h, l, c, v, bidvol, askvol; NaN
for a missing bidvol/askvol). OTHER: a line kept as its ``Event`` (any other type, or a line the
scanner does not vouch for). PASS: like OTHER, of a type the block's consumer said it has no
use for (``blocks(..., wanted_types=...)``): a consumer that steps over such rows only needs
their times.
"""
TRADE, QUOTE, DEPTH, BASEDATA, OTHER, PASS = 0, 1, 2, 3, 4, 5
#: the scanned line types and their codes
KIND = {"trade": TRADE, "quote": QUOTE, "depth": DEPTH, "basedata": BASEDATA}
#: columns of ``x``
NCOLS = 9
