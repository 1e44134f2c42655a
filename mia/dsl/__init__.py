"""The rule language: load -> validate (schema) -> parse (Lark) -> check -> compile (numba).

``load_rules(paths)`` gives a checked ``RuleSet`` or raises ``RuleError`` listing every problem
as ``path:line:col: error: ...``; ``compile_rules(ruleset)`` gives its streaming and batch kernels.
"""
from mia.dsl.check import load_rules
from mia.dsl.compile import CompiledRules, compile_rules
from mia.dsl.errors import RuleError

__all__ = ["load_rules", "compile_rules", "CompiledRules", "RuleError"]
