"""The rule language: load -> validate (schema) -> parse (Lark) -> check -> compile (numba).

``load_rules(paths)`` gives a checked ``RuleSet`` or raises ``RuleError`` listing every problem
as ``path:line:col: error: ...``; ``compile_rules(ruleset)`` gives its streaming and batch kernels.

Modules: ``load`` (YAML with positions), ``schema``, ``parse`` (Lark -> ``ast``), ``check`` (the
checker's steps) with ``typecheck`` (names, types, units), ``order`` (derived features) and
``settings`` (risk, exits, sizing); ``functions`` (the built-in functions' registry), ``visit``
(how every pass goes over a tree), ``program`` (layout), ``codegen`` and ``compile`` (kernels),
``firings`` (where rules fire); ``catalog``, ``units``, ``errors``, ``suggestions``.
"""
from mia.dsl.check import load_rules
from mia.dsl.compile import CompiledRules, compile_rules
from mia.dsl.errors import RuleError

__all__ = ["load_rules", "compile_rules", "CompiledRules", "RuleError"]
