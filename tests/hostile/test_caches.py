"""Hostile caches (issue 10): code planted in the day cache or the kernel cache never runs; a
damaged or edited day-cache entry changes no result (one warning, the day read from its files,
the entry written again); a same-size edit that keeps the mtime is seen; unfinished writes count
toward the size limit; a kernel cache others can write, or a read-only one, is not used; a
MIA_CACHE_DIR that cannot be used is one line."""
from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hostile_data import DAY, copy_day, lines_of, sim_day
from mia.market.columnar.blocks import blocks
from mia.market.columnar.daycache import DayCache
from mia.market.sierra import BadLines


@pytest.fixture(scope="module")
def day5(tmp_path_factory):
    return sim_day(tmp_path_factory.mktemp("clean5"), minutes=5)


def read(paths, cache):
    """Every row of ``paths`` as the consumer sees it, and the bad lines."""
    bad = BadLines()
    out = []
    for b in blocks(paths, bad=bad, cache=cache):
        out += [(b.t[i], b.event(i)) for i in range(len(b.t))]
    return out, dict(bad.counts)


def entries(cache: DayCache) -> list[Path]:
    return sorted(p for p in cache.root.iterdir() if not p.name.startswith("."))


class Payload:
    """A pickle that runs a command when loaded."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def damaged(caplog) -> int:
    return sum("damaged day-cache entry" in r.getMessage() for r in caplog.records)


# ---- the day cache ---------------------------------------------------------------------------------

def test_a_planted_pickle_in_the_day_cache_never_runs(day5, tmp_path, caplog):
    """Issue 10: the day cache loaded `others.pkl` with pickle: a planted payload ran as the user."""
    cache = DayCache(tmp_path / "c")
    cold = read([day5], cache)
    (entry,) = entries(cache)
    marker = tmp_path / "pwned"
    evil = pickle.dumps(Payload(marker))
    for name in ("others.pkl", "passed.pkl", "others.json", "passed.json"):
        (entry / name).write_bytes(evil)
    with caplog.at_level("WARNING"):
        warm = read([day5], cache)
    assert not marker.exists()
    assert warm == cold and damaged(caplog) == 1
    assert not list(entries(cache)[0].glob("*.pkl"))                # written again, as JSON


@pytest.mark.parametrize("column", ["t", "x", "code", "cs"])
def test_an_edited_column_changes_no_result(day5, tmp_path, caplog, column):
    """Issue 10: a reversed column in an entry gave 2 trades instead of 4."""
    cache = DayCache(tmp_path / "c")
    cold = read([day5], cache)
    (entry,) = entries(cache)
    path = entry / column
    data = np.fromfile(path, np.uint8)
    path.write_bytes(data[::-1].tobytes())                           # the same size, reversed
    with caplog.at_level("WARNING"):
        assert read([day5], cache) == cold
    assert damaged(caplog) == 1
    caplog.clear()
    assert read([day5], cache) == cold and damaged(caplog) == 0     # the entry was written again


def test_a_damaged_entry_is_written_again(day5, tmp_path, caplog):
    """Issue 10: a damaged entry was skipped but never rewritten (the rename onto it failed)."""
    cache = DayCache(tmp_path / "c")
    cold = read([day5], cache)
    (entry,) = entries(cache)
    t = entry / "t"
    whole = t.read_bytes()
    t.write_bytes(whole[:-8])
    for _ in range(2):
        assert read([day5], cache) == cold
    assert (entries(cache)[0] / "t").read_bytes() == whole
    assert damaged(caplog) == 1


def test_garbage_meta_and_missing_files_are_not_a_traceback(day5, tmp_path):
    cache = DayCache(tmp_path / "c")
    cold = read([day5], cache)
    (entry,) = entries(cache)
    for spoil in (lambda: (entry / "meta.json").write_text("[1, 2"), lambda: (entry / "meta.json").write_text("{}"),
                  lambda: (entry / "x").unlink(), lambda: (entry / "passed.json").write_text('[["a"]]')):
        assert read([day5], cache) == cold
        (entry,) = entries(cache)
        spoil()
        assert read([day5], cache) == cold
        (entry,) = entries(cache)


@pytest.mark.parametrize("how", ["touch -r", "cp -p"])
def test_a_same_size_edit_that_keeps_the_mtime_is_seen(day5, tmp_path, how):
    """Issue 10: the key was (size, mtime): `touch -r` or `cp -p` after a same-size edit was
    served stale."""
    folder = copy_day(day5, tmp_path / DAY)
    cache = DayCache(tmp_path / "c")
    read([folder], cache)
    trades = folder / f"chart_3_trade_{DAY}.jsonl"
    st = trades.stat()
    lines = lines_of(trades)
    lines[3] = lines[3].replace(b'"side":"BUY"', b'"side":"BUX"') if b"BUY" in lines[3] else \
        lines[3].replace(b'"side":"SELL"', b'"side":"SELX"')
    edited = b"".join(lines)
    assert len(edited) == st.st_size
    if how == "touch -r":
        trades.write_bytes(edited)
        os.utime(trades, ns=(st.st_atime_ns, st.st_mtime_ns))
    else:
        other = tmp_path / "edited"
        other.write_bytes(edited)
        os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
        trades.unlink()
        shutil.copy2(other, trades)
    assert trades.stat().st_size == st.st_size and trades.stat().st_mtime_ns == st.st_mtime_ns
    warm = read([folder], cache)
    assert warm == read([folder], None)
    assert warm[1] == {(str(trades), "bad_side"): 1}


def test_unfinished_writes_count_toward_the_size_limit(day5, tmp_path):
    cache = DayCache(tmp_path / "c")
    read([day5], cache)
    (entry,) = entries(cache)
    size = sum(p.stat().st_size for p in entry.iterdir())
    tmp = cache.root / ".0123.unfinished"
    tmp.mkdir()
    (tmp / "t").write_bytes(b"\0" * size)                            # another process's write, under way
    small = DayCache(tmp_path / "c", limit_mb=1.5 * size / 1e6)
    small.prune()
    assert entries(small) == [] and tmp.exists()                   # the entry went; the write stays


def test_a_day_cache_others_can_write_is_not_read(day5, tmp_path, caplog):
    cache = DayCache(tmp_path / "c")
    cold = read([day5], cache)
    os.chmod(cache.root, 0o777)
    (entry,) = entries(cache)
    (entry / "t").write_bytes(b"")                                   # whatever it holds now
    again = DayCache(tmp_path / "c")
    with caplog.at_level("WARNING"):
        assert read([day5], again) == cold
        assert read([day5], again) == cold
    assert sum("the day cache is not used" in r.getMessage() and "writable by others" in r.getMessage()
               for r in caplog.records) == 1


def test_the_day_cache_folder_is_private(day5, tmp_path, monkeypatch):
    monkeypatch.setenv("MIA_CACHE_DIR", str(tmp_path / "fresh"))
    read([day5], DayCache())
    for p in (tmp_path / "fresh", tmp_path / "fresh" / "days"):
        assert stat.S_IMODE(p.stat().st_mode) == 0o700


# ---- the kernel cache ------------------------------------------------------------------------------

RULES = """\
version: 1
instrument: ES
features:
  f{n}: close - open + {n}
signals:
  - {{name: s, when: f{n} > 1000000, side: long}}
"""


def compile_fresh(tmp_path: Path, n: int):
    """Compile a rule set of its own (``n``) as a new process would: nothing of it in memory."""
    from mia.dsl import compile_rules, load_rules
    from mia.dsl.codegen import generate
    from mia.dsl.program import build_program

    path = tmp_path / f"r{n}" / "rules.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(RULES.format(n=n))
    rs = load_rules([path])
    digest = hashlib.sha256(generate(build_program(rs)).encode()).hexdigest()[:20]
    sys.modules.pop(f"mia_rules_{digest}", None)
    return rs, digest, lambda: compile_rules(rs)


@pytest.fixture
def kernel_cache(tmp_path, monkeypatch):
    """A kernel cache of the test's own, the 'said once' state reset."""
    import mia.dsl.compile as comp

    monkeypatch.setenv("MIA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(comp, "_fallback", None, raising=False)
    return tmp_path / "cache" / "kernels"


def works(compiled) -> bool:
    X = np.zeros((3, len(compiled.inputs)))
    return compiled.batch(X).shape == (3, len(compiled.outputs))


def test_the_kernel_cache_is_created_private(tmp_path, kernel_cache):
    _, digest, build = compile_fresh(tmp_path, 1)
    assert works(build())
    assert stat.S_IMODE(kernel_cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(kernel_cache.parent.stat().st_mode) == 0o700
    assert (kernel_cache / f"rules_{digest}.py").exists()


def test_code_planted_in_a_kernel_cache_others_can_write_never_runs(tmp_path, kernel_cache, caplog):
    """Issue 10: numba's kernel cache is pickles: planted ones ran as the user. A folder that
    others can write is not loaded from (said once); the rules still compile and run."""
    _, digest, build = compile_fresh(tmp_path, 2)
    assert works(build())                                           # the cache holds this rule set now
    _, digest, build = compile_fresh(tmp_path, 2)
    marker = tmp_path / "pwned"
    index = sorted((kernel_cache / "__pycache__").glob(f"rules_{digest}.*.nbi"))
    assert index
    for p in index:
        p.write_bytes(pickle.dumps(Payload(marker)))
    os.chmod(kernel_cache, 0o777)
    with caplog.at_level("WARNING"):
        assert works(build())
        _, _, build3 = compile_fresh(tmp_path, 3)
        assert works(build3())
    assert not marker.exists()
    warned = [r.getMessage() for r in caplog.records if "kernel cache" in r.getMessage()]
    assert len(warned) == 1 and "writable by others" in warned[0]


def test_a_file_in_the_kernel_cache_others_can_write_is_not_loaded(tmp_path, kernel_cache, caplog):
    _, digest, build = compile_fresh(tmp_path, 4)
    assert works(build())
    _, digest, build = compile_fresh(tmp_path, 4)
    marker = tmp_path / "pwned"
    for p in sorted((kernel_cache / "__pycache__").glob(f"rules_{digest}.*.nbi")):
        p.write_bytes(pickle.dumps(Payload(marker)))
        os.chmod(p, 0o666)
    with caplog.at_level("WARNING"):
        assert works(build())
    assert not marker.exists()
    assert any("writable by others" in r.getMessage() for r in caplog.records)


def test_a_read_only_kernel_cache_is_one_warning(tmp_path, kernel_cache, caplog, monkeypatch):
    import mia.dsl.compile as comp

    _, _, build = compile_fresh(tmp_path, 5)
    assert works(build())
    real = comp._write_once

    def read_only(path, text):
        if path.parent == kernel_cache:
            raise PermissionError(13, "Read-only file system")
        return real(path, text)

    monkeypatch.setattr(comp, "_write_once", read_only)
    with caplog.at_level("WARNING"):
        _, _, build = compile_fresh(tmp_path, 6)
        assert works(build())
        _, _, build = compile_fresh(tmp_path, 7)
        assert works(build())
    warned = [r.getMessage() for r in caplog.records if "kernel cache" in r.getMessage()]
    assert len(warned) == 1 and "Read-only file system" in warned[0]


@pytest.mark.parametrize("kind", ["a file", "under a file"])
def test_a_mia_cache_dir_that_cannot_be_used_is_one_line(day5, tmp_path, kind):
    """Issue 10: MIA_CACHE_DIR naming a file, or a folder that cannot be made: a traceback."""
    bad = tmp_path / "file"
    bad.write_text("x")
    env = dict(os.environ, MIA_CACHE_DIR=str(bad if kind == "a file" else bad / "sub"))
    proc = subprocess.run([sys.executable, "-c", "import sys; from mia.cli import main; sys.exit(main())",
                           "backtest", "--data", str(day5), "--out", str(tmp_path / "run"), "--no-progress"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "MIA_CACHE_DIR=" in proc.stderr and "cannot use it as mia's cache folder" in proc.stderr
