"""Fuzzing the parser and checker: whatever comes in, only mia's own errors come out.

`parse_expr` raises only `ExprError` (offset inside the text); `load_rules` either succeeds or raises
`RuleError` whose every diagnostic points inside the file: line >= 1, col >= 1, the line exists,
the shown source line is that line and the caret is at most one past its end. No compilation here.
Examples are derandomized so that a failure is reproducible run after run.
"""
from __future__ import annotations

import re
import string
import tempfile
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from profiles import examples

from mia import HOME
from mia.dsl import RuleError, load_rules
from mia.dsl.parse import ExprError, parse_expr

FUZZ = settings(max_examples=examples(200))
ALPHABET = string.ascii_letters + string.digits + " _.,:()[]<>=!+-*/%{}'\"\n\t#&|~@`\\$"
#: a line as PyYAML counts them (and mia must: positions and the shown source line alike)
YAML_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
DEFAULT_TEXTS = {p.name: p.read_text() for p in sorted((HOME / "rules").glob("*.yaml"))}

#: pieces of expressions, including edge cases (long digit runs, times, units, keywords)
TOKENS = st.sampled_from([
    "close", "vwap", "spread", "in_rth", "blind_spots", "gamma_wall_0dte", "time_of_day", "vix", "n", "p",
    "sma", "ema", "nearest", "ticks_to", "to_ticks", "if", "between", "abs", "min", "max", "clamp",
    "crosses_above", "highest", "(", ")", "[", "]", ",", "+", "-", "*", "/", "<", "<=", "==", "!=", ">",
    "and", "or", "not", "true", "false", "1", "0", "2.5", ".5", "1e3", "1e999", "09:30", "25:00", "9:5",
    "ticks", "points", "USD", "R", "%", "min", "tiks", "=", "&", "1" * 40, "9" * 5000,
])
expressions = st.lists(TOKENS, min_size=1, max_size=12).map(" ".join)


def diagnostics_of(paths, texts: dict[str, str]) -> list:
    """Run load_rules; on RuleError check every place against the text of its file."""
    try:
        load_rules(paths)
    except RuleError as exc:
        assert exc.diagnostics
        assert str(exc).endswith("error" if len(exc.diagnostics) == 1 else "errors")
        for d in exc.diagnostics:
            assert d.pos.line >= 1 and d.pos.col >= 1, d
            text = texts.get(d.pos.path)
            if text is None:
                continue
            lines = YAML_BREAK.split(text)
            assert d.pos.line <= len(lines), (d, len(lines))
            if d.source_line is not None:
                assert d.source_line == lines[d.pos.line - 1], d
                assert d.pos.col <= len(d.source_line) + 1, d
        return exc.diagnostics
    return []


def check_file(path) -> list:
    text = path.read_bytes().decode("utf-8", errors="replace")
    return diagnostics_of([path], {str(path): text})


@FUZZ
@given(st.text(alphabet=ALPHABET, max_size=80))
def test_random_text_as_an_expression(text):
    try:
        parse_expr(text)
    except ExprError as exc:
        assert 0 <= exc.offset <= len(text)
        assert exc.message


@FUZZ
@given(expressions)
def test_random_token_soup_as_an_expression(text):
    try:
        parse_expr(text)
    except ExprError as exc:
        assert 0 <= exc.offset <= len(text)


@FUZZ
@given(expr=expressions,
       n=st.sampled_from(["3", "0", "-1", "2.5", ".inf", "-.inf", ".nan", "1e308", "20000", "5 ticks", "09:30"]),
       p=st.sampled_from(["1", "5 ticks", "2 points", "500 USD", "2 R", "10 min", "50%", "09:30"]))
def test_random_expressions_through_the_checker(tmp_path, expr, n, p):
    """Token soup as a signal's `when`, a feature and a reason part, beside params of odd values."""
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({
        "version": 1, "instrument": "ES",
        "params": {"n": yaml.safe_load(n) if n[0] in ".-" else n, "p": p},
        "features": {"f": expr},
        "signals": [{"name": "s", "when": expr, "side": "long"}],
        "hard_rules": [{"name": "h", "when": "spread > 2 ticks", "block": "entries", "reason": "{" + expr + "}"}],
    }, sort_keys=False))
    check_file(path)


ATOMS = st.sampled_from(["close", "vwap", "spread", "delta_ratio", "in_rth", "blind_spots", "time_of_day",
                         "minutes_since_open", "vix", "n", "p", "f0", "1", "0", "2.5", "5 ticks", "2 points",
                         "500 USD", "2 R", "10 min", "50%", "09:30", "true", "false"])
FUNCS = st.sampled_from(["abs", "min", "max", "clamp", "between", "if", "sma", "ema", "highest", "lowest",
                         "crosses_above", "crosses_below", "nearest", "above", "below", "ticks_to", "to_ticks",
                         "to_points"])
OPS = st.sampled_from(["+", "-", "*", "/", "<", "<=", "==", "!=", ">", ">=", "and", "or"])
well_formed = st.recursive(ATOMS, lambda e: st.one_of(
    st.tuples(e, OPS, e).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
    e.map(lambda x: f"not {x}"),
    e.map(lambda x: f"-{x}"),
    e.map(lambda x: f"{x}[2]"),
    st.tuples(FUNCS, st.lists(e, min_size=1, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
    st.tuples(st.sampled_from(["sma", "ema", "highest", "lowest"]), e, st.sampled_from(["n", "n", "3", "p", "0"]))
    .map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
), max_leaves=8)


@FUZZ
@given(exprs=st.lists(well_formed, min_size=3, max_size=3),
       n=st.sampled_from(["3", "0", "2.5", ".inf", ".nan", "1e308", "20000", "5 ticks", "-4"]),
       p=st.sampled_from(["1", "5 ticks", "2 points", "500 USD", "2 R", "10 min", "50%", "09:30"]))
def test_well_formed_expressions_through_the_checker(tmp_path, exprs, n, p):
    """Grammatical expressions (calls with the right shape, windows, params of odd values) in every
    place an expression goes: the checker reports type and unit errors, never crashes."""
    f0, when, reason = exprs
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({
        "version": 1, "instrument": "ES",
        "params": {"n": yaml.safe_load(n) if n[0] == "." else n, "p": p},
        "features": {"f0": f0},
        "signals": [{"name": "s", "when": when, "side": "long"}],
        "hard_rules": [{"name": "h", "when": when, "size_factor": 0.5, "reason": "x {" + reason + "} y"}],
        "sizing": {"scale": [{"when": when, "factor": 0.5}]},
    }, sort_keys=False))
    check_file(path)


@FUZZ
@given(st.text(max_size=300))
def test_random_text_as_a_rule_file(tmp_path, text):
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    check_file(path)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_as_a_rule_file(tmp_path, data):
    path = tmp_path / "r.yaml"
    path.write_bytes(data)
    diags = check_file(path)
    if b"\x00" in data:
        assert any("binary" in d.message for d in diags)


scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True),
                    st.text(alphabet=ALPHABET, max_size=20),
                    st.sampled_from(["close > vwap", "5 ticks", "09:30", "long", "entries", "sma(close, 3)",
                                     "09:30-16:00 America/New_York", "2 R", "500 USD", "{close}"]))
keys = st.sampled_from(["version", "instrument", "params", "features", "signals", "hard_rules", "risk",
                        "exits", "sizing", "scale", "name", "when", "side", "block", "size_factor", "reason",
                        "stop", "take_profit", "daily_loss", "trading_hours", "factor", "x", "close"])
documents = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(keys, inner, max_size=5)),
                         max_leaves=20)


@FUZZ
@given(st.dictionaries(keys, documents, max_size=6), st.booleans())
def test_random_yaml_structures(tmp_path, doc, with_version):
    if with_version:
        doc["version"] = 1   # get past the schema more often
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(doc))
    check_file(path)


def _mutate(text: str, op: str, where: float, ch: str) -> str:
    i = int(where * (len(text) - 1))
    if op == "del":
        return text[:i] + text[i + 1:]
    if op == "ins":
        return text[:i] + ch + text[i:]
    lines = text.splitlines(keepends=True)
    k = int(where * (len(lines) - 2))
    lines[k], lines[k + 1] = lines[k + 1], lines[k]
    return "".join(lines)


@FUZZ
@given(name=st.sampled_from(sorted(DEFAULT_TEXTS)),
       edits=st.lists(st.tuples(st.sampled_from(["del", "ins", "swap"]), st.floats(0, 1),
                                st.sampled_from(list(ALPHABET))), min_size=1, max_size=3))
def test_mutated_default_rules(tmp_path, name, edits):
    text = DEFAULT_TEXTS[name]
    for op, where, ch in edits:
        text = _mutate(text, op, where, ch)
    # alone, and beside the other default files, as a trader's bad edit in rules/ would be
    work = Path(tempfile.mkdtemp(dir=tmp_path))   # tmp_path is shared by all examples
    path = work / "alone" / name
    path.parent.mkdir()
    path.write_text(text)
    check_file(path)
    folder = work / "rules"
    folder.mkdir()
    texts = {}
    for other, body in DEFAULT_TEXTS.items():
        body = text if other == name else body
        (folder / other).write_text(body)
        texts[str(folder / other)] = body
    diagnostics_of([folder], texts)


def test_the_unmutated_default_rules_load():
    """The mutation test starts from files that are valid: each mutation is the only change."""
    load_rules([HOME / "rules"])
