"""Compile a checked rule set into numba kernels, cached on disk by source hash.

numba can cache only functions defined in real source files, so the generated module is written
to ``<cache>/rules_<sha>.py`` (written once, atomically, never rewritten) and imported from there:
a second start, or a reload of unchanged rules, loads machine code from numba's cache and
compiles nothing. Params are passed as a vector, so editing a param value changes no source.
The cache folder is ``$MIA_CACHE_DIR`` or ``~/.cache/mia``.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from mia.cache import cache_root
from mia.dsl.codegen import generate
from mia.dsl.program import Program, build_program
from mia.dsl.ruleset import RuleSet


def cache_dir() -> Path:
    path = cache_root() / "kernels"
    path.mkdir(parents=True, exist_ok=True)
    return path


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
    path = cache_dir() / f"rules_{digest}.py"
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
