"""The one way every pass goes over an expression tree: dispatch on the node's class name.

A pass subclasses ``Visitor`` and writes ``visit_Num``, ``visit_Call``, ... (one method per node
class of ``mia.dsl.ast``, like lark's ``Interpreter`` methods named after rules); ``visit(node,
*args)`` calls the one for ``node``'s class with the extra arguments. A pass must handle every
node class, checked when the class is defined (so a new node class cannot be forgotten by one
pass), unless it defines ``generic_visit`` for the classes it leaves out. ``Walker`` is the pass
whose ``generic_visit`` visits the children in order (parents before children, left to right).
"""
from __future__ import annotations

from collections.abc import Callable

from mia.dsl import ast


class Visitor:
    _cases: dict[type, Callable]

    def __init_subclass__(cls, abstract: bool = False, **kwargs):
        super().__init_subclass__(**kwargs)
        if abstract:
            return
        fallback = getattr(cls, "generic_visit", None)
        cases, missing = {}, []
        for node_cls in ast.NODES:
            method = getattr(cls, f"visit_{node_cls.__name__}", fallback)
            if method is None:
                missing.append(f"visit_{node_cls.__name__}")
            cases[node_cls] = method
        if missing:
            raise TypeError(f"{cls.__qualname__} does not handle every node: no {', '.join(missing)} "
                            "(or a generic_visit)")
        cls._cases = cases

    def visit(self, node: ast.Node, *args):
        return self._cases[type(node)](self, node, *args)


class Walker(Visitor, abstract=True):
    """A pass that visits every node, children after their parent, unless a method stops it."""

    def generic_visit(self, node: ast.Node, *args) -> None:
        for child in node.children():
            self.visit(child, *args)
