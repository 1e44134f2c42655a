"""Derived features in dependency order: each before the features that read it; cycles reported."""
from __future__ import annotations

from mia.dsl import ast
from mia.dsl.errors import Pos, Reporter


def feature_order(features: dict[str, tuple[ast.Node, object, Pos]], rep: Reporter) -> list[str]:
    """The names of ``features`` (name -> (tree, source, position)) in dependency order.

    Each cycle is reported once, at the feature where it was found; the features in a cycle are
    left out of the order.
    """
    deps = {name: [n.id for n in ast.walk(tree, ast.Name) if n.id in features]
            for name, (tree, _, _) in features.items()}
    order: list[str] = []
    state: dict[str, int] = {}   # 1 visiting, 2 done
    in_cycle: set[str] = set()

    def visit(name: str, stack: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = stack[stack.index(name):] + [name]
            if not in_cycle.intersection(cycle):
                _, _, pos = features[name]
                rep.error(pos, "derived features form a cycle: " + " -> ".join(cycle))
            in_cycle.update(cycle)
            return
        state[name] = 1
        for d in deps[name]:
            visit(d, stack + [name])
        state[name] = 2
        if name not in in_cycle:
            order.append(name)

    for name in features:
        visit(name, [])
    return [n for n in order if n not in in_cycle]
