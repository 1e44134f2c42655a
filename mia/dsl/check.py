"""Rule files -> a checked ``RuleSet``: the order of the checker's steps, section by section.

Gather the files (``load.rule_files``), read and validate each (``load``, ``schema``), merge
them: one instrument, params, derived features typed in dependency order (``order``), signals,
hard rules with their reason templates and sizing rules (each expression typed by
``typecheck``), then risk, exits and sizing (``settings``). Every problem is reported (not only
the first) as ``path:line:col: error: ...`` pointing into the YAML file; ``load_rules`` raises
one ``RuleError`` holding them all.
"""
from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path

from mia.dsl.errors import Pos, Reporter, RuleError
from mia.dsl.load import Document, Source, load_document, rule_files
from mia.dsl.order import feature_order
from mia.dsl.ruleset import DerivedFeature, Expr, HardRule, Param, ReasonPart, RuleSet, ScaleRule, Signal
from mia.dsl.schema import validate_document
from mia.dsl.settings import quantity, read_settings
from mia.dsl.typecheck import TypeChecker
from mia.errors import MiaError
from mia.instruments import load_instruments
from mia.resources import instruments_path


def load_rules(paths: list[str | Path] | str | Path) -> RuleSet:
    """Load, validate and check rule files; raises ``RuleError`` listing every problem."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    rep = Reporter()
    files = rule_files(list(paths), rep)
    docs = [d for d in (load_document(f, rep) for f in files) if d is not None]
    for doc in docs:
        if validate_document(doc, rep):
            _known_instrument(doc, rep)
    rep.raise_if_any()
    try:
        ruleset = _check(docs, rep)
    except RecursionError:
        rep.error(Pos(docs[0].path if docs else "rules", 1, 1), "an expression is nested too deeply")
        ruleset = None
    rep.raise_if_any()
    digest = hashlib.sha256()
    for doc in docs:
        digest.update(doc.path.encode() + b"\0" + doc.text.encode() + b"\0")
    ruleset.source_hash = digest.hexdigest()
    return ruleset


def _check(docs: list[Document], rep: Reporter) -> RuleSet:
    instrument, spec = _instrument(docs, rep)
    ck = TypeChecker(rep)
    _params(docs, ck, rep)                  # params first: every expression may read them
    derived = _derived_features(docs, ck, rep)
    signals: list[Signal] = []
    hard_rules: list[HardRule] = []
    scale: list[ScaleRule] = []
    for doc in docs:                        # file by file: a name clash cites the first one
        for i, item in enumerate(doc.data.get("signals") or []):
            signals.extend(_signal(ck, doc, ("signals", i), item))
        for i, item in enumerate(doc.data.get("hard_rules") or []):
            hard_rules.extend(_hard_rule(ck, doc, ("hard_rules", i), item, rep))
        for i, item in enumerate((doc.data.get("sizing") or {}).get("scale") or []):
            scale.extend(_scale_rule(ck, doc, ("sizing", "scale", i), item, len(scale)))
    risk, exits, sizing, setting_pos = read_settings(docs, spec.tick_size, rep)
    sizing.scale = scale
    return RuleSet(instrument=instrument, tick_size=spec.tick_size, tick_value=spec.tick_value,
                   params=ck.params, features=derived, signals=signals, hard_rules=hard_rules,
                   risk=risk, exits=exits, sizing=sizing, files=[d.path for d in docs],
                   setting_pos=setting_pos)


def _known_instrument(doc: Document, rep: Reporter) -> None:
    """A file's `instrument:` must be in the instrument table (said with the schema's errors)."""
    name = doc.data.get("instrument") if isinstance(doc.data, dict) else None
    if name is None:
        return
    path = instruments_path(near=doc.path)
    try:
        table = load_instruments(path)
    except MiaError as exc:
        rep.error(doc.value_pos(("instrument",)), f"instrument {name}: {exc}")
        return
    if name not in table:
        rep.error(doc.value_pos(("instrument",)),
                  f"instrument {name} is not in {path} (known: {', '.join(sorted(table)) or 'none'})")


def _instrument(docs: list[Document], rep: Reporter):
    """The one instrument the files name (ES when none does) and its spec."""
    instrument, instrument_pos = None, None
    for doc in docs:
        data = doc.data
        if "instrument" in data:
            if instrument is not None and data["instrument"] != instrument:
                rep.error(doc.value_pos(("instrument",)),
                          f"instrument {data['instrument']} conflicts with {instrument} set at {instrument_pos}")
            elif instrument is None:
                instrument, instrument_pos = data["instrument"], doc.value_pos(("instrument",))
    instrument = instrument or "ES"
    path = instruments_path(near=docs[0].path)
    try:
        table = load_instruments(path)
    except MiaError as exc:
        rep.error(instrument_pos or Pos(docs[0].path, 1, 1), f"instrument {instrument}: {exc}")
        raise RuleError(rep.diagnostics) from None
    if instrument not in table:
        rep.error(instrument_pos or Pos(docs[0].path, 1, 1),
                  f"instrument {instrument} is not in {path} (known: {', '.join(sorted(table)) or 'none'})")
        raise RuleError(rep.diagnostics) from None
    return instrument, table[instrument]


def _params(docs: list[Document], ck: TypeChecker, rep: Reporter) -> None:
    for doc in docs:
        for name, value in (doc.data.get("params") or {}).items():
            path = ("params", name)
            pos = doc.key_pos(path)
            if not ck.declare(name, "param", pos):
                continue
            src = Source(doc, path, str(value)) if isinstance(value, str) else None
            q = quantity(value, doc.value_pos(path), rep, src)
            if q is not None:
                ck.params[name] = Param(name, q[0], q[1], pos, is_time=q[2])


def _derived_features(docs: list[Document], ck: TypeChecker, rep: Reporter) -> list[DerivedFeature]:
    """Parse every derived feature, then type them in dependency order."""
    for doc in docs:
        for name, text in (doc.data.get("features") or {}).items():
            path = ("features", name)
            pos = doc.key_pos(path)
            if not ck.declare(name, "feature", pos):
                continue
            src = Source(doc, path, _expr_text(text))
            tree = ck.parse(src)
            if tree is not None:
                ck.features[name] = (tree, src, pos)
    derived = []
    for name in feature_order(ck.features, rep):
        tree, src, pos = ck.features[name]
        t = ck.infer(tree, src)
        if t is not None and t.kind == "levels":
            ck.err(src, 0, "a derived feature cannot be a level set")
            t = None
        if t is not None:
            ck.feature_types[name] = t
            derived.append(DerivedFeature(name, Expr(src.text, src.pos(0), tree), pos))
    return derived


def _signal(ck: TypeChecker, doc: Document, base: tuple, item: dict) -> list[Signal]:
    ck.declare(item["name"], "signal", doc.value_pos(base + ("name",)))
    when = _condition(ck, doc, base + ("when",), "when")
    if when is None:
        return []
    return [Signal(item["name"], when, item["side"], int(item.get("priority", 0)), doc.value_pos(base))]


def _hard_rule(ck: TypeChecker, doc: Document, base: tuple, item: dict, rep: Reporter) -> list[HardRule]:
    pos = doc.value_pos(base)
    ck.declare(item["name"], "hard rule", doc.value_pos(base + ("name",)))
    has_block, has_factor = "block" in item, "size_factor" in item
    bad_factor = has_factor and not math.isfinite(item["size_factor"])
    if bad_factor:
        rep.error(doc.value_pos(base + ("size_factor",)), "size_factor must be a number from 0 to 1")
    if has_block == has_factor:
        rep.error(pos, f"hard rule '{item['name']}' needs exactly one of 'block' (a veto) "
                       "or 'size_factor' (a soft rule that scales size)")
    when = _condition(ck, doc, base + ("when",), "when")
    reason = _reason(ck, doc, base + ("reason",)) if "reason" in item else []
    if when is None or reason is None or has_block == has_factor or bad_factor:
        return []
    return [HardRule(item["name"], when, item.get("block"),
                     float(item["size_factor"]) if has_factor else None, reason, pos)]


def _scale_rule(ck: TypeChecker, doc: Document, base: tuple, item: dict, n_before: int) -> list[ScaleRule]:
    name = item.get("name") or f"scale_{n_before + 1}"
    if "name" in item:
        ck.declare(name, "sizing rule", doc.value_pos(base + ("name",)))
    when = _condition(ck, doc, base + ("when",), "when")
    if when is None:
        return []
    return [ScaleRule(name, when, float(item["factor"]), doc.value_pos(base))]


def _expr_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _condition(ck: TypeChecker, doc: Document, path: tuple, key: str) -> Expr | None:
    value = doc.data
    for p in path:
        value = value[p]
    src = Source(doc, path, _expr_text(value))
    tree = ck.parse(src)
    if tree is None:
        return None
    t = ck.infer(tree, src)
    if t is None:
        return None
    if t.kind != "bool":
        ck.err(src, 0, f"'{key}' must be a condition (true or false), but this is {t}")
        return None
    return Expr(src.text, src.pos(0), tree)


_BRACES = re.compile(r"\{([^{}]*)\}")


def _reason(ck: TypeChecker, doc: Document, path: tuple) -> list[ReasonPart] | None:
    template = doc.data
    for p in path:
        template = template[p]
    template = str(template)
    parts: list[ReasonPart] = []
    ok = True
    last = 0
    for m in _BRACES.finditer(template):
        if m.start() > last:
            parts.append(ReasonPart(text=template[last:m.start()]))
        src = Source(doc, path, m.group(1), base=m.start(1))
        tree = ck.parse(src)
        t = ck.infer(tree, src) if tree is not None else None
        if t is not None and t.kind == "levels":
            ck.err(src, 0, "a level set cannot be shown; use nearest(...)")
            t = None
        if t is None:
            ok = False
        else:
            parts.append(ReasonPart(expr=Expr(src.text, src.pos(0), tree)))
        last = m.end()
    if last < len(template):
        parts.append(ReasonPart(text=template[last:]))
    return parts if ok else None
