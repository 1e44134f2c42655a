"""Precedence and associativity of the rule language, pinned by a table a person wrote.

The reference oracle and the kernels share the parser, so they cannot notice a parse that groups
``a - b - c`` as ``a - (b - c)``: this table can. Each row gives an expression, how it must be
grouped (written out by hand, fully parenthesised) and its value (worked out by hand). Three
checks per row: the parsed tree's grouping, the value from the kernels and from the reference
oracle, and (for rows without calls or history) the value Python's own ``eval`` gives the same
text, Python's precedence and associativity being those the grammar promises (comparisons aside,
which mia refuses to chain).
"""
from __future__ import annotations

import numpy as np
import pytest

from mia.dsl import ast, compile_rules, load_rules
from mia.dsl.parse import ExprError, parse_expr
from mia.dsl.program import build_program
from oracles.reference import ReferenceEvaluator

# (text, grouping, value)
GOLDEN = [
    # + - * / are left-associative; * / bind tighter than + -
    ("10 - 4 - 3", "((10 - 4) - 3)", 3.0),
    ("64 / 8 / 2", "((64 / 8) / 2)", 4.0),
    ("12 - 2 + 5", "((12 - 2) + 5)", 15.0),
    ("100 / 10 * 5", "((100 / 10) * 5)", 50.0),
    ("8 / 4 / 2 * 3", "(((8 / 4) / 2) * 3)", 3.0),
    ("2 + 3 * 4", "(2 + (3 * 4))", 14.0),
    ("2 * 3 + 4", "((2 * 3) + 4)", 10.0),
    ("20 - 6 / 2", "(20 - (6 / 2))", 17.0),
    ("1 - 2 * 3 - 4", "((1 - (2 * 3)) - 4)", -9.0),
    ("2 * (3 + 4)", "(2 * (3 + 4))", 14.0),
    ("(10 - 4) - (3 - 1)", "((10 - 4) - (3 - 1))", 4.0),
    ("1 - (2 - 3)", "(1 - (2 - 3))", 2.0),
    # unary minus binds tighter than * and -, and nests; unary plus is nothing
    ("-2 - 3", "((-2) - 3)", -5.0),
    ("-2 * 3", "((-2) * 3)", -6.0),
    ("- -4", "(-(-4))", 4.0),
    ("-3 * -2 - -1", "(((-3) * (-2)) - (-1))", 7.0),
    ("+3 - +1", "(3 - 1)", 2.0),
    ("-(2 - 5)", "(-(2 - 5))", 3.0),
    # comparisons bind looser than arithmetic, tighter than not / and / or
    ("1 + 2 > 2 + 0.5", "((1 + 2) > (2 + 0.5))", True),
    ("2 - 1 == 1 and 6 / 3 / 2 == 1", "(((2 - 1) == 1) and (((6 / 3) / 2) == 1))", True),
    ("not 1 > 2", "(not (1 > 2))", True),
    ("not true == false", "(not (true == false))", True),
    ("true != false == false", None, None),              # a chain: refused (below)
    # not binds tighter than and, and tighter than or; and is tighter than or; both left-associative
    ("true or false and false", "(true or (false and false))", True),
    ("true or true and false", "(true or (true and false))", True),
    ("false and true or true", "((false and true) or true)", True),
    ("not false and false", "((not false) and false)", False),
    ("not true or true", "((not true) or true)", True),
    ("false or not true or true", "((false or (not true)) or true)", True),
    ("not not true", "(not (not true))", True),
    ("true and false or false and true", "((true and false) or (false and true))", False),
    ("(true or false) and false", "((true or false) and false)", False),
    # how numbers are written: a leading dot, an exponent, a percentage (of 1), a time of day (minutes)
    (".5 + 1.5", "(0.5 + 1.5)", 2.0),
    ("2.5e-1 * 4", "(0.25 * 4)", 1.0),
    ("1e3 / 10 - 1E1", "((1000 / 10) - 10)", 90.0),
    ("50 % * 4 + 1 %", "((0.5 * 4) + 0.01)", 2.01),
    ("09:30 - 9:05 == 25 min", "((570 - 545) == 25)", True),
    ("23:59 - 00:00", "(1439 - 0)", 1439.0),
    # calls and history: arguments are whole expressions; history binds tighter than unary minus
    ("max(1, 2) - min(5, 3) - 1", "((max(1, 2) - min(5, 3)) - 1)", -2.0),
    ("clamp(10 - 4 - 3, 0, 2 * 3 - 1)", "clamp(((10 - 4) - 3), 0, ((2 * 3) - 1))", 3.0),
    ("if(true or false and false, 1, 2) * 2", "(if((true or (false and false)), 1, 2) * 2)", 2.0),
    ("-close[1]", "(-close[1])", None),
    ("close[1] * 2 - 1", "((close[1] * 2) - 1)", None),
    ("-(close)[2]", "(-close[2])", None),
]

ROWS = [r for r in GOLDEN if r[1] is not None]
VALUED = [r for r in ROWS if r[2] is not None]
#: the rows Python can read as they are: no call, no history, no unit, no time of day
PLAIN = [r for r in VALUED if not any(c in r[0] for c in "[%:") and " min" not in r[0]
         and not any(f"{f}(" in r[0] for f in ("max", "min", "clamp", "if"))]


def grouping(node: ast.Node) -> str:
    """The tree written fully parenthesised (numbers as integers when they are, times in minutes)."""
    if isinstance(node, (ast.Num, ast.Time)):
        v = node.value if isinstance(node, ast.Num) else node.minutes
        return str(int(v)) if v == int(v) else repr(v)
    if isinstance(node, ast.Bool):
        return "true" if node.value else "false"
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Unary):
        return f"(-{grouping(node.operand)})" if node.op == "-" else f"(not {grouping(node.operand)})"
    if isinstance(node, ast.Binary):
        return f"({grouping(node.left)} {node.op} {grouping(node.right)})"
    if isinstance(node, ast.History):
        return f"{grouping(node.operand)}[{node.n}]"
    if isinstance(node, ast.Call):
        return f"{node.fn}({', '.join(grouping(a) for a in node.args)})"
    raise TypeError(node)


@pytest.mark.parametrize("text,want", [(r[0], r[1]) for r in ROWS], ids=[r[0] for r in ROWS])
def test_the_tree_groups_as_written_by_hand(text, want):
    assert grouping(parse_expr(text)) == want


@pytest.mark.parametrize("text,ok", [("00:00", True), ("23:59", True), ("24:00", False), ("12:60", False),
                                     ("x[10000]", True), ("x[10001]", False)])
def test_the_largest_time_and_history_index(text, ok):
    if ok:
        parse_expr(text)
    else:
        with pytest.raises(ExprError, match="not a time of day|too far back"):
            parse_expr(text)


def test_comparisons_do_not_chain():
    with pytest.raises(ExprError, match="comparisons cannot be chained"):
        parse_expr("true != false == false")
    with pytest.raises(ExprError, match="comparisons cannot be chained"):
        parse_expr("1 < 2 < 3")


@pytest.mark.parametrize("text,value", [(r[0], r[2]) for r in PLAIN], ids=[r[0] for r in PLAIN])
def test_python_gives_the_same_value(text, value):
    """Python's grammar as a second oracle (its ``not``/``and``/``or`` and arithmetic have the
    precedence and associativity the grammar promises)."""
    got = eval(text.replace("true", "True").replace("false", "False"), {"__builtins__": {}})  # noqa: S307
    assert got == value and isinstance(got, bool) == isinstance(value, bool)


@pytest.fixture(scope="module")
def golden_rules(tmp_path_factory):
    """Every valued row as a derived feature of one rule set (one compile for the whole table)."""
    lines = ["version: 1", "instrument: ES", "features:"]
    lines += [f"  g{k}: {text!r}" for k, (text, _, _) in enumerate(VALUED)]
    path = tmp_path_factory.mktemp("golden") / "golden.yaml"
    path.write_text("\n".join(lines) + "\n")
    rs = load_rules([path])
    return rs, compile_rules(rs)


def test_the_kernels_and_the_oracle_give_the_hand_worked_values(golden_rules):
    rs, compiled = golden_rules
    want = [float(v) for _, _, v in VALUED]
    x = np.empty((1, len(compiled.inputs)))
    batch = compiled.batch(x)[0, :len(VALUED)].tolist()
    out = np.empty(len(compiled.outputs))
    compiled.stream(x[0].copy(), compiled.new_state(), out)
    ref = ReferenceEvaluator(build_program(rs)).step({})[:len(VALUED)]
    texts = [t for t, _, _ in VALUED]
    assert dict(zip(texts, batch)) == dict(zip(texts, want))
    assert dict(zip(texts, out[:len(VALUED)].tolist())) == dict(zip(texts, want))
    assert dict(zip(texts, [float(v) for v in ref])) == dict(zip(texts, want))


def test_history_binds_tighter_than_unary_minus(tmp_path):
    """``-close[1]`` is minus the previous close, by the kernels and the oracle alike."""
    path = tmp_path / "h.yaml"
    path.write_text("version: 1\ninstrument: ES\nfeatures:\n  a: '-close[1]'\n  b: 'close[1] * 2 - 1'\n")
    rs = load_rules([path])
    compiled = compile_rules(rs)
    closes = np.array([[3.0], [5.0], [11.0]])
    got = compiled.batch(closes)[:, :2]
    ref = ReferenceEvaluator(build_program(rs))
    want = [[np.nan, np.nan], [-3.0, 5.0], [-5.0, 9.0]]
    assert np.array_equal(got, np.array(want), equal_nan=True)
    assert np.array_equal(np.array([ref.step({"close": c[0]})[:2] for c in closes], dtype=float), np.array(want),
                          equal_nan=True)
