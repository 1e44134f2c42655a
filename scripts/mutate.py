#!/usr/bin/env python3
"""Mutation testing of mia's core modules: does the suite notice when the code is wrong?

``make mutate`` (not in CI; about half an hour on two cores). Each mutant of the catalogue
(``scripts/mutants.py``: a module, an exact piece of its text, what it becomes, and why that
would be a bug) is applied to a private copy of the checkout, the tests of its module's group
run there (``pytest -x``: the first failure kills it), and the copy is restored. The report gives,
per group, the mutants killed, the survivors (each a hole in the tests, or a mutant to mark
equivalent with the reason) and the score: killed / (all - equivalent).

A mutant whose text is no longer found exactly once in its module is *stale* (the code moved or
changed): it is reported and makes the run fail, so the catalogue is kept up to date.

    .venv/bin/python scripts/mutate.py                   # every group
    .venv/bin/python scripts/mutate.py --group risk      # one group (repeatable)
    .venv/bin/python scripts/mutate.py --id risk-03      # one mutant (repeatable)
    .venv/bin/python scripts/mutate.py --id risk-03 --tests tests/engine/test_gate_boundaries.py
                                                         # does this test kill it?
    .venv/bin/python scripts/mutate.py --list            # the catalogue, nothing run
    .venv/bin/python scripts/mutate.py --auto risk       # every operator swap in the group's modules
    .venv/bin/python scripts/mutate.py --check           # only check that every mutant applies

Exit status: 0 when no mutant is stale and every group reaches ``--target`` (90 %), else 1.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from mutants import GROUPS, MUTANTS, Mutant  # noqa: E402


@dataclass
class Outcome:
    mutant: Mutant
    status: str          # killed, survived, timeout (counted as killed), stale, error
    seconds: float
    by: str = ""         # the first failing test


def _copy_tree(dest: Path) -> None:
    """The checkout's files (tracked and new, not ignored) into ``dest``."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def _env(work: Path, kernels: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(work)                  # the copy's mia, before the editable install
    env["MIA_TEST_KERNELS"] = str(kernels)         # rule kernels kept between runs (named by source hash)
    env["MIA_TEST_PROFILE"] = "mutate"              # the CI draws, no shrinking
    env.pop("PYTEST_ADDOPTS", None)
    return env


_FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.M)


def _pytest(work: Path, env: dict, tests: list[str], timeout: float) -> tuple[int | None, str]:
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "-rfE",
           *tests]
    try:
        proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, ""
    return proc.returncode, proc.stdout + proc.stderr


def _run_one(m: Mutant, k: int, work: Path, env: dict, timeout: float, tests: list[str] | None = None) -> Outcome:
    path = work / m.file
    t0 = time.monotonic()
    if not path.is_file():
        return Outcome(m, "stale", 0.0, f"{m.file} is gone")
    text = path.read_text()
    n = text.count(m.find)
    if n != 1:
        return Outcome(m, "stale", 0.0, f"found {n} times in {m.file}")
    mutated = text.replace(m.find, m.replace)
    if path.suffix == ".py":
        try:
            compile(mutated, str(path), "exec")
        except SyntaxError as exc:
            return Outcome(m, "error", 0.0, f"the mutant is not Python: {exc}")
    st = path.stat()
    try:
        path.write_text(mutated)
        # numba's cache knows a source by (mtime, size): give every mutant a stamp of its own
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + (k + 1) * 1_000_000_000))
        code, out = _pytest(work, env, tests or GROUPS[m.group].tests, timeout)
    finally:
        path.write_text(text)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    secs = time.monotonic() - t0
    if code is None:
        return Outcome(m, "timeout", secs)
    if code == 0:
        return Outcome(m, "survived", secs)
    if code in (1, 2) or code < 0:                 # tests failed, collection broke, or the run crashed
        hit = _FAILED.search(out)
        last = out.strip().splitlines()[-1][:120] if out.strip() else ""
        return Outcome(m, "killed", secs, (hit.group(1) if hit else last) + (f" (crashed: signal {-code})"
                                                                             if code < 0 else ""))
    return Outcome(m, "error", secs, out.strip().splitlines()[-1][:200] if out.strip() else f"exit {code}")


_SWAP = {ast.Lt: "<=", ast.LtE: "<", ast.Gt: ">=", ast.GtE: ">", ast.Eq: "!=", ast.NotEq: "==",
         ast.Add: "-", ast.Sub: "+", ast.Mult: "/", ast.Div: "*", ast.And: "or", ast.Or: "and"}
_TEXT = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
         ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.And: "and", ast.Or: "or"}


def auto_mutants(file: str, group: str) -> list[Mutant]:
    """Every operator of ``file`` swapped for its neighbour (< <=, > >=, == !=, + -, * /, and or)
    and every ``not`` dropped, one at a time: an unbiased sample beside the written catalogue.
    A mutant is its whole source line, mutated; lines that are not unique in the file are left out."""
    text = (ROOT / file).read_text()
    lines = text.splitlines()
    out: list[Mutant] = []

    def add(lineno: int, start: int, end: int, new: str, what: str) -> None:
        line = lines[lineno - 1]
        if text.count(line) != 1 or not line.strip():
            return
        mutated = line[:start] + new + line[end:]
        out.append(Mutant(f"{group}-auto{len(out) + 1:03d}", file, line, mutated, f"line {lineno}: {what}"))

    for node in ast.walk(ast.parse(text)):
        pairs = []
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            pairs = [(node.left, node.ops[0], node.comparators[0])]
        elif isinstance(node, ast.BinOp) and type(node.op) in _SWAP:
            pairs = [(node.left, node.op, node.right)]
        elif isinstance(node, ast.BoolOp):
            pairs = [(a, node.op, b) for a, b in zip(node.values, node.values[1:])]
        for left, op, right in pairs:
            if left.end_lineno != right.lineno or type(op) not in _SWAP:
                continue
            line = lines[left.end_lineno - 1]
            gap = line[left.end_col_offset:right.col_offset]
            k = gap.find(_TEXT[type(op)])
            if k < 0 or "#" in gap:
                continue
            a = left.end_col_offset + k
            add(left.end_lineno, a, a + len(_TEXT[type(op)]), _SWAP[type(op)],
                f"{_TEXT[type(op)]} -> {_SWAP[type(op)]}")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not) and node.lineno == node.operand.lineno:
            line = lines[node.lineno - 1]
            if line[node.col_offset:node.operand.col_offset].strip() == "not":
                add(node.lineno, node.col_offset, node.operand.col_offset, "", "not dropped")
    return out


def _report(outcomes: list[Outcome], target: float) -> tuple[str, bool]:
    lines, ok = [], True
    lines.append(f"{'group':<16} {'mutants':>7} {'equiv.':>6} {'killed':>6} {'survived':>8} {'score':>6}")
    for g in GROUPS:
        mine = [o for o in outcomes if o.mutant.group == g]
        if not mine:
            continue
        real = [o for o in mine if not o.mutant.equivalent]
        killed = [o for o in real if o.status in ("killed", "timeout")]
        survived = [o for o in real if o.status == "survived"]
        score = len(killed) / len(real) if real else 1.0
        ok &= score >= target
        lines.append(f"{g:<16} {len(mine):>7} {len(mine) - len(real):>6} {len(killed):>6} {len(survived):>8} "
                     f"{score:>6.0%}")
    for title, pick in (("survivors", lambda o: o.status == "survived" and not o.mutant.equivalent),
                        ("stale (update scripts/mutants.py)", lambda o: o.status == "stale"),
                        ("errors", lambda o: o.status == "error"),
                        ("marked equivalent but killed (unmark them)",
                         lambda o: o.mutant.equivalent and o.status in ("killed", "timeout"))):
        chosen = [o for o in outcomes if pick(o)]
        if chosen:
            lines.append(f"\n{title}:")
            lines += [f"  {o.mutant.id}: {o.mutant.file}: {o.mutant.why} {o.by}".rstrip() for o in chosen]
    equivalent = [o for o in outcomes if o.mutant.equivalent]
    if equivalent:
        lines.append("\nequivalent (not scored):")
        lines += [f"  {o.mutant.id}: {o.mutant.why}: {o.mutant.equivalent} [{o.status}]" for o in equivalent]
    ok &= not any(o.status in ("stale", "error") for o in outcomes)
    return "\n".join(lines), ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--group", action="append", choices=list(GROUPS), help="only this group (repeatable)")
    ap.add_argument("--id", action="append", help="only this mutant (repeatable)")
    ap.add_argument("--list", action="store_true", help="print the catalogue and stop")
    ap.add_argument("--check", action="store_true", help="only check that every mutant applies")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per mutant (a timeout kills it)")
    ap.add_argument("--target", type=float, default=0.90, help="the score every group must reach")
    ap.add_argument("--json", help="also write the outcomes to this file")
    ap.add_argument("--auto", metavar="GROUP",
                    help="instead of the catalogue, every operator swap of the group's modules (exploration)")
    ap.add_argument("--tests", action="append",
                    help="run these tests instead of the group's (repeatable): does this test kill those mutants?")
    args = ap.parse_args(argv)

    catalogue = MUTANTS
    if args.auto:
        files = sorted({m.file for m in MUTANTS if m.group == args.auto and m.file.endswith(".py")})
        catalogue = [m for f in files for m in auto_mutants(f, args.auto)]
    chosen = [m for m in catalogue if (not args.group or m.group in args.group) and (not args.id or m.id in args.id)]
    if args.list:
        for m in chosen:
            flag = f"  [equivalent: {m.equivalent}]" if m.equivalent else ""
            print(f"{m.id:<10} {m.file}: {m.find!r} -> {m.replace!r}\n           {m.why}{flag}")
        return 0
    if args.check:
        bad = []
        for m in chosen:
            p = ROOT / m.file
            n = p.read_text().count(m.find) if p.is_file() else 0
            if n != 1:
                bad.append(f"{m.id}: {m.file}: found {n} times: {m.find!r}")
        print("\n".join(bad) or f"all {len(chosen)} mutants apply")
        return 1 if bad else 0

    with tempfile.TemporaryDirectory(prefix="mia-mutate-") as tmp:
        work, kernels = Path(tmp) / "work", Path(tmp) / "kernels"
        work.mkdir()
        _copy_tree(work)
        env = _env(work, kernels)
        groups = sorted({m.group for m in chosen}, key=list(GROUPS).index)
        for g in groups:                           # the unmutated code must pass its tests
            t0 = time.monotonic()
            code, out = _pytest(work, env, args.tests or GROUPS[g].tests, args.timeout)
            print(f"baseline {g}: {'ok' if code == 0 else 'FAILED'} ({time.monotonic() - t0:.0f} s)", flush=True)
            if code != 0:
                print(out[-3000:])
                return 1
        outcomes = []
        for k, m in enumerate(chosen):
            o = _run_one(m, k, work, env, args.timeout, args.tests)
            outcomes.append(o)
            print(f"[{k + 1}/{len(chosen)}] {m.id:<10} {o.status:<8} {o.seconds:5.0f} s  {o.by}", flush=True)
    text, ok = _report(outcomes, args.target)
    print("\n" + text)
    if args.json:
        Path(args.json).write_text(json.dumps([{"id": o.mutant.id, "group": o.mutant.group, "status": o.status,
                                                "equivalent": o.mutant.equivalent, "by": o.by,
                                                "seconds": round(o.seconds, 1)} for o in outcomes], indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
