"""highest/lowest keep the window's extreme between rows and scan only when it may have left:
their values are those of a scan of the ring in its order (the first extreme found, which
decides between 0.0 and -0.0), NaN while the window holds a NaN or is not full yet."""
from __future__ import annotations

import math

import numpy as np
import pytest

from mia.dsl import compile_rules, load_rules

RULES = """\
version: 1
instrument: ES
features:
  h3: highest(close, 3)
  l4: lowest(close, 4)
  h1: highest(close[1], 1)
  l7: lowest(close[2], 7)
signals:
  - {name: up, when: "close > highest(close[1], 5)", side: long}
"""


def ring_scan(values: list[float], n: int, shift: int, better) -> list[float]:
    """The windows' values as a scan of an n-slot ring in slot order (the kernel's definition)."""
    ring, pos, out = [math.nan] * n, 0, []
    hist = [math.nan] * shift
    for v in values:
        if shift:
            hist.append(v)
            v = hist.pop(0)
        ring[pos] = v
        pos = (pos + 1) % n
        if any(x != x for x in ring):
            out.append(math.nan)
            continue
        t = ring[0]
        for x in ring[1:]:
            t = x if better(x, t) else t
        out.append(t)
    return out


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    folder = tmp_path_factory.mktemp("windows")
    (folder / "r.yaml").write_text(RULES)
    return compile_rules(load_rules([folder]))


@pytest.mark.parametrize("seed", range(6))
def test_windows_are_ring_scans_to_the_bit(compiled, seed):
    rng = np.random.default_rng(seed)
    pool = [0.0, -0.0, 1.0, -1.0, 0.25, math.nan, 2.0, -2.0, 1e-12]
    close = rng.choice(pool, size=3000) if seed % 2 else rng.normal(size=3000).round(1)
    if seed % 2 == 0:
        close[rng.random(3000) < 0.05] = math.nan
    X = np.full((len(close), len(compiled.inputs)), np.nan)
    X[:, compiled.inputs.index("close")] = close
    out = compiled.batch(X)
    col = compiled.program.output_index
    gt, lt = (lambda a, b: a > b), (lambda a, b: a < b)
    for name, n, shift, better in (("h3", 3, 0, gt), ("l4", 4, 0, lt), ("h1", 1, 1, gt), ("l7", 7, 2, lt)):
        want = np.array(ring_scan(close.tolist(), n, shift, better))
        got = out[:, col[name]]
        same = (got.view(np.uint64) == want.view(np.uint64)) | (np.isnan(got) & np.isnan(want))
        assert same.all(), (name, int(np.flatnonzero(~same)[0]))
    if seed % 2:                              # the data did put -0.0 and 0.0 in one window
        h3 = out[:, col["h3"]]
        assert (np.signbit(h3) & (h3 == 0)).any() and (~np.signbit(h3) & (h3 == 0)).any()
