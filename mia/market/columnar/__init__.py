"""Sierra day folders read as columns: the same events as ``mia.market.replay``, in blocks of arrays.

``codes`` (row codes and columns of a block), ``jsonscan`` (the numba scanner of the bulk line
kinds), ``blocks`` (files -> merged blocks of rows), ``daycache`` (an unchanged day's columns
read back from disk).
"""
