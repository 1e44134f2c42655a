"""Compile a checked rule set into numba kernels, cached on disk by source hash.

numba can cache only functions defined in real source files, so the generated module is written
to ``<cache>/kernels/rules_<sha>.py`` (written once, atomically, never rewritten) and imported from
there: a second start, or a reload of unchanged rules, loads machine code from numba's cache and
compiles nothing. Params are passed as a vector, so editing a param value changes no source.
The cache folder is ``$MIA_CACHE_DIR`` or ``~/.cache/mia``.

What is imported from the kernel cache runs as you (the module, Python's and numba's cached
code, which numba keeps as pickles), so the folder is created readable and writable by you only
(0700) and nothing is loaded from it, or from a file in it, that is not yours or that your group
or others can write (``mia.cache.unsafe``); nor can a read-only one be written. Then the rules
are compiled into a private temporary folder for this process instead (removed at exit), and a
warning says so once.
"""
from __future__ import annotations

import atexit
import hashlib
import importlib.util
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from mia.cache import private_dir, unsafe
from mia.dsl.codegen import generate
from mia.dsl.program import Program, build_program
from mia.dsl.ruleset import RuleSet


log = logging.getLogger(__name__)
#: the private folder used instead of an unsafe or read-only kernel cache (this process only)
_fallback: Path | None = None


def _use_fallback(problem: str) -> Path:
    global _fallback
    if _fallback is None:
        _fallback = Path(tempfile.mkdtemp(prefix="mia-kernels-"))
        atexit.register(shutil.rmtree, _fallback, True)
        log.warning("warning: not loading compiled rules from the kernel cache: %s; compiling into a private "
                    "temporary folder for this run instead", problem)
    return _fallback


def cache_dir() -> Path:
    """The folder compiled rules are written to and loaded from (see the module's docstring)."""
    if _fallback is not None:
        return _fallback
    path = private_dir("kernels")
    problem = unsafe(path) or unsafe(path / "__pycache__")
    if problem is None and not os.access(path, os.W_OK | os.X_OK):
        problem = f"{path} is read-only"
    return _use_fallback(problem) if problem else path


def _files_problem(folder: Path, stem: str) -> str | None:
    """Why the module ``stem`` and its cached code in ``folder`` must not be loaded, or None."""
    cached = folder / "__pycache__"
    try:
        names = [p for p in cached.iterdir() if p.name.startswith(stem + ".")] if cached.is_dir() else []
    except OSError:
        names = []
    for p in [folder / f"{stem}.py", *names]:
        problem = unsafe(p)
        if problem:
            return problem
    return None


class CompiledRules:
    """A rule set's kernels with its layout: call ``stream`` per row or ``batch`` on a matrix."""

    def __init__(self, program: Program, module, source_path: Path):
        self.program = program
        self.ruleset = program.ruleset
        self.module = module
        self.source_path = source_path
        self.inputs = program.inputs
        self.outputs = program.outputs
        self.params = program.params.copy()

    def new_state(self) -> np.ndarray:
        return self.module.STATE_INIT.copy()

    def stream(self, x: np.ndarray, state: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Evaluate one row ``x`` (float64, in ``inputs`` order); fills and returns ``out``."""
        self.module.stream(x, self.params, state, out)
        return out

    def batch(self, X: np.ndarray, state: np.ndarray | None = None) -> np.ndarray:
        """Evaluate every row of ``X`` (n x len(inputs)); returns the n x len(outputs) matrix."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.inputs):
            raise ValueError(f"expected a matrix with {len(self.inputs)} columns, got shape {X.shape}")
        out = np.empty((X.shape[0], len(self.outputs)), dtype=np.float64)
        self.module.batch(X, self.params, self.new_state() if state is None else state, out)
        return out


def _write_once(path: Path, text: str) -> None:
    if path.exists() and path.read_text() == text:
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def compile_rules(ruleset: RuleSet) -> CompiledRules:
    program = build_program(ruleset)
    source = generate(program)
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    name = f"mia_rules_{digest}"
    if name in sys.modules:
        return CompiledRules(program, sys.modules[name], Path(sys.modules[name].__file__))
    folder = cache_dir()
    problem = _files_problem(folder, f"rules_{digest}")
    if problem:
        folder = _use_fallback(problem)
    path = folder / f"rules_{digest}.py"
    try:
        _write_once(path, source)
    except OSError as exc:
        folder = _use_fallback(f"cannot write {path} ({exc.strerror or exc})")
        path = folder / f"rules_{digest}.py"
        _write_once(path, source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module   # numba's cache re-imports the module by name while loading
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return CompiledRules(program, module, path)
