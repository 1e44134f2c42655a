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
    # a depth-first walk with its own stack (a chain of thousands of features is no recursion):
    # ``path`` is the chain being visited, ``at`` each of its names' place in it
    path: list[str] = []
    at: dict[str, int] = {}
    for root in features:
        if state.get(root):
            continue
        state[root], at[root] = 1, 0
        path.append(root)
        frames = [(root, iter(deps[root]))]
        while frames:
            name, pending = frames[-1]
            for d in pending:
                seen = state.get(d)
                if seen == 2:
                    continue
                if seen == 1:
                    cycle = path[at[d]:] + [d]
                    if not in_cycle.intersection(cycle):
                        rep.error(features[d][2], "derived features form a cycle: " + " -> ".join(cycle))
                    in_cycle.update(cycle)
                    continue
                state[d], at[d] = 1, len(path)
                path.append(d)
                frames.append((d, iter(deps[d])))
                break
            else:
                frames.pop()
                path.pop()
                del at[name]
                state[name] = 2
                if name not in in_cycle:
                    order.append(name)
    return [n for n in order if n not in in_cycle]
