"""Expression text -> AST, with the Lark grammar in grammars/rules.lark.

``parse_expr`` raises ``ExprError(offset, message)``; the offset is a character index into the
expression, which the rule loader maps back to a line and column of the YAML file.
"""
from __future__ import annotations

import functools
import math
import re

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from mia.resources import shipped
from mia.dsl import ast
from mia.dsl.suggestions import did_you_mean

GRAMMAR_PATH = shipped("grammars/rules.lark")

#: how a unit may be written -> its canonical name ("%" becomes a ratio)
UNIT_SPELLINGS = {
    "tick": "ticks", "ticks": "ticks",
    "point": "points", "points": "points", "pt": "points", "pts": "points",
    "USD": "USD", "usd": "USD",
    "R": "R",
    "%": "%",
    "min": "min", "mins": "min", "minute": "min", "minutes": "min",
}

KEYWORDS = ("and", "or", "not", "true", "false")

_TOKEN_NAMES = {
    "NAME": "a name", "NUMBER": "a number", "TIME": "a time", "UNIT": "a unit",
    "RPAR": "')'", "LPAR": "'('", "RSQB": "']'", "LSQB": "'['", "COMMA": "','",
    "COMP_OP": "a comparison", "ADD_OP": "'+' or '-'", "MUL_OP": "'*' or '/'",
    "MINUS": "'-'", "PLUS": "'+'", "AND": "'and'", "OR": "'or'", "NOT": "'not'",
    "TRUE": "'true'", "FALSE": "'false'", "$END": "the end",
}


class ExprError(Exception):
    def __init__(self, offset: int, message: str):
        super().__init__(message)
        self.offset = offset
        self.message = message


@functools.lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(GRAMMAR_PATH.read_text(), parser="lalr", propagate_positions=True,
                maybe_placeholders=False)


def _span(meta) -> tuple[int, int]:
    return meta.start_pos, meta.end_pos


@v_args(meta=True)
class _ToAst(Transformer):
    def number(self, meta, children):
        tok = children[0]
        value = float(tok)
        if not math.isfinite(value):
            raise ExprError(tok.start_pos, f"number '{tok}' is out of range")
        unit = None
        if len(children) == 2:
            utok = children[1]
            unit = UNIT_SPELLINGS.get(str(utok))
            if unit is None:
                raise ExprError(utok.start_pos, f"unknown unit '{utok}'"
                                + did_you_mean(str(utok), UNIT_SPELLINGS))
            if unit == "%":
                value, unit = value / 100.0, "1"
        return ast.Num(*_span(meta), value=value, unit=unit)

    def time(self, meta, children):
        tok = children[0]
        hh, mm = (int(p) for p in str(tok).split(":"))
        if hh > 23 or mm > 59:
            raise ExprError(tok.start_pos, f"'{tok}' is not a time of day (00:00-23:59)")
        return ast.Time(*_span(meta), minutes=float(hh * 60 + mm))

    def true(self, meta, _):
        return ast.Bool(*_span(meta), value=True)

    def false(self, meta, _):
        return ast.Bool(*_span(meta), value=False)

    def name(self, meta, children):
        return ast.Name(*_span(meta), id=str(children[0]))

    def args(self, meta, children):
        return list(children)

    def call(self, meta, children):
        fn = children[0]
        args = children[1] if len(children) > 1 else []
        return ast.Call(*_span(meta), fn=str(fn), args=args, fn_end=fn.end_pos)

    def neg(self, meta, children):
        return ast.Unary(*_span(meta), op="-", operand=children[0])

    def not_(self, meta, children):
        return ast.Unary(*_span(meta), op="not", operand=children[0])

    def _binary(self, meta, left, op, right, op_start):
        return ast.Binary(*_span(meta), op=op, left=left, right=right, op_start=op_start)

    def binop(self, meta, children):
        left, op, right = children
        return self._binary(meta, left, str(op), right, op.start_pos)

    def compare(self, meta, children):
        left, op, right = children
        return self._binary(meta, left, str(op), right, op.start_pos)

    def and_(self, meta, children):
        left, right = children
        return self._binary(meta, left, "and", right, left.end)

    def or_(self, meta, children):
        left, right = children
        return self._binary(meta, left, "or", right, left.end)

    def history(self, meta, children):
        operand, tok = children
        text = str(tok)
        if not re.fullmatch(r"[0-9]+", text) or len(text) > 6:
            if re.fullmatch(r"[0-9]+", text):
                raise ExprError(tok.start_pos, "history index is too far back (at most 10000 bars)")
            raise ExprError(tok.start_pos, f"history index must be a whole number of bars, got '{text}'")
        n = int(text)
        if n > 10000:
            raise ExprError(tok.start_pos, f"history index {n} is too far back (at most 10000 bars)")
        return ast.History(*_span(meta), operand=operand, n=n)


def _describe(tok: Token) -> str:
    if tok.type == "$END":
        return "end of expression"
    return f"'{tok}'"


def _expected(exc: UnexpectedInput) -> str:
    names = sorted({_TOKEN_NAMES.get(t, f"'{t.lower()}'") for t in (getattr(exc, "expected", None) or [])
                    if not t.startswith("__")})
    if not names or len(names) > 6:
        return ""
    return "; expected " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1])


def parse_expr(text: str) -> ast.Node:
    """Parse one expression; raises ``ExprError`` with the offending offset."""
    if not text.strip():
        raise ExprError(0, "empty expression")
    try:
        tree = _parser().parse(text)
        return _ToAst().transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, ExprError):
            raise exc.orig_exc from None
        raise
    except UnexpectedCharacters as exc:
        ch = text[exc.pos_in_stream]
        hint = ""
        if ch == "=":
            hint = " (use '==' to compare)"
        elif ch == "&":
            hint = " (use 'and')"
        elif ch == "|":
            hint = " (use 'or')"
        elif ch == "!":
            hint = " (use 'not', or '!=' to compare)"
        elif ch in "'\"":
            hint = " (strings are not part of expressions)"
        raise ExprError(exc.pos_in_stream, f"unexpected character '{ch}'{hint}") from None
    except UnexpectedToken as exc:
        tok = exc.token
        offset = len(text) if tok.type == "$END" else tok.start_pos
        if tok.type == "$END":
            raise ExprError(offset, "unexpected end of expression" + _expected(exc)) from None
        msg = f"unexpected {_describe(tok)}"
        if tok.type == "COMP_OP":
            raise ExprError(offset, f"comparisons cannot be chained at '{tok}': "
                                    "join them with 'and', or use between(x, lo, hi)") from None
        if str(tok) in KEYWORDS:
            msg = f"unexpected keyword '{tok}'"
        raise ExprError(offset, msg + _expected(exc)) from None
    except UnexpectedEOF as exc:
        raise ExprError(len(text), "unexpected end of expression" + _expected(exc)) from None
    except RecursionError:
        raise ExprError(0, "expression nested too deeply") from None
