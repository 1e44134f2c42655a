"""Fuzzing the parser and checker: whatever comes in, only mia's own errors come out."""
from __future__ import annotations

import string

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mia import HOME
from mia.dsl import RuleError, load_rules
from mia.dsl.parse import ExprError, parse_expr

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ALPHABET = string.ascii_letters + string.digits + " _.,:()[]<>=!+-*/%{}'\"\n\t#&|"
DEFAULT_TEXTS = {p.name: p.read_text() for p in sorted((HOME / "rules").glob("*.yaml"))}


def check_outcome(path) -> None:
    """load_rules either succeeds or raises RuleError whose every place is inside the file."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    n_lines = max(1, len(text.splitlines()) + 1)
    try:
        load_rules([path])
    except RuleError as exc:
        assert exc.diagnostics
        for d in exc.diagnostics:
            assert d.pos.line >= 1 and d.pos.col >= 1
            assert d.pos.line <= n_lines, (d, n_lines)


@FUZZ
@given(st.text(alphabet=ALPHABET, max_size=80))
def test_random_expression_text(text):
    try:
        parse_expr(text)
    except ExprError as exc:
        assert 0 <= exc.offset <= len(text)


@FUZZ
@given(st.text(max_size=300))
def test_random_text_as_a_rule_file(tmp_path, text):
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    check_outcome(path)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_as_a_rule_file(tmp_path, data):
    path = tmp_path / "r.yaml"
    path.write_bytes(data)
    check_outcome(path)


scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True),
                    st.text(alphabet=ALPHABET, max_size=20),
                    st.sampled_from(["close > vwap", "5 ticks", "09:30", "long", "entries", "sma(close, 3)"]))
keys = st.sampled_from(["version", "instrument", "params", "features", "signals", "hard_rules", "risk",
                        "exits", "sizing", "name", "when", "side", "block", "size_factor", "reason", "x", "close"])
documents = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(keys, inner, max_size=5)), max_leaves=20)


@FUZZ
@given(st.dictionaries(keys, documents, max_size=6))
def test_random_yaml_structures(tmp_path, doc):
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(doc))
    check_outcome(path)


@FUZZ
@given(name=st.sampled_from(sorted(DEFAULT_TEXTS)), where=st.floats(0, 1), op=st.sampled_from(["del", "ins", "swap"]),
       ch=st.sampled_from(list(ALPHABET)))
def test_mutated_default_rules(tmp_path, name, where, op, ch):
    text = DEFAULT_TEXTS[name]
    i = int(where * (len(text) - 1))
    if op == "del":
        text = text[:i] + text[i + 1:]
    elif op == "ins":
        text = text[:i] + ch + text[i:]
    else:
        lines = text.splitlines(keepends=True)
        k = int(where * (len(lines) - 2))
        lines[k], lines[k + 1] = lines[k + 1], lines[k]
        text = "".join(lines)
    # a mutated file sits beside the other default files, as a trader's bad edit would
    for other, body in DEFAULT_TEXTS.items():
        (tmp_path / other).write_text(body)
    (tmp_path / name).write_text(text)
    check_outcome(tmp_path / name)
    try:
        load_rules([tmp_path])
    except RuleError:
        pass
