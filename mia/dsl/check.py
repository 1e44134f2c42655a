"""Rule files -> a checked ``RuleSet``: the order of the checker's steps, section by section.

Gather the files (``load.rule_files``), read and validate each (``load``, ``schema``), merge
them: one instrument, params (those that set the feature engine, ``catalog.SETTINGS``, checked
for their kind and order), derived features typed in dependency order (``order``), signals,
hard rules with their side and reason templates, sizing rules and labels (each expression typed
by ``typecheck``), then risk, exits and sizing (``settings``). Every problem is reported (not only
the first) as ``path:line:col: error: ...`` pointing into the YAML file; ``load_rules`` raises
one ``RuleError`` holding them all.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from mia.dsl import catalog
from mia.dsl.errors import Pos, Reporter, RuleError
from mia.dsl.load import Document, Source, load_document, rule_files
from mia.dsl.order import feature_order
from mia.dsl.ruleset import DerivedFeature, Expr, HardRule, Label, Param, ReasonPart, RuleSet, ScaleRule, Signal
from mia.dsl.schema import validate_document
from mia.dsl.settings import finite, quantity, read_settings
from mia.dsl.typecheck import TypeChecker
from mia.errors import MiaError
from mia.instruments import load_instruments
from mia.resources import instruments_path


def load_rules(paths: list[str | Path] | str | Path) -> RuleSet:
    """Load, validate and check rule files; raises ``RuleError`` listing every problem.

    Every error of every file is reported at once: a value the schema refuses is reported and
    left out (``prune``), and the rest of the file is checked as if it were not there (names it
    defined are known, so that their uses are not reported again). Only a file that cannot be
    read at all stops the check after the files are read: without it, every name it defines
    would be reported as unknown elsewhere.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    rep = Reporter()
    skipped: list[str] = []
    files = rule_files(list(paths), rep, skipped)
    rep.notes.extend(f"skipped hidden file {f}" for f in skipped)
    docs = [d for d in (load_document(f, rep) for f in files) if d is not None]
    unread = len(docs) < len(files)
    broken: set[str] = set()
    for doc in docs:
        bad: list[tuple] = []
        validate_document(doc, rep, bad=bad)
        if bad:
            broken |= prune(doc, bad)
    docs = [d for d in docs if isinstance(d.data, dict)]
    if not docs:
        rep.raise_if_any()
    instrument = _instrument(docs, rep)     # said even when a file could not be read
    if unread:
        rep.raise_if_any()
    try:
        ruleset = _check(docs, rep, instrument, broken)
    except RecursionError:
        rep.error(Pos(docs[0].path if docs else "rules", 1, 1), "an expression is nested too deeply")
        ruleset = None
    rep.raise_if_any()
    digest = hashlib.sha256()
    for doc in docs:
        digest.update(Path(doc.path).name.encode() + b"\0" + doc.text.encode() + b"\0")
    ruleset.source_hash = digest.hexdigest()
    ruleset.skipped_files = skipped
    return ruleset


#: sections whose entries are lists of rules (an entry with an error is left out whole)
_LISTS = ("signals", "hard_rules")
#: sections whose entries are names (an entry with an error is left out, its name kept as broken)
_NAMED = ("params", "features")


def prune(doc: Document, bad: list[tuple]) -> set[str]:
    """Leave out of ``doc.data`` the values at the paths ``bad`` (each already reported): a rule
    of a list whole (its place kept as None), a setting, a param or a feature. Returns the names
    of the params and features left out (their uses are not errors of their own)."""
    broken: set[str] = set()
    data = doc.data
    if not isinstance(data, dict):
        return broken
    for path in bad:
        if not path:
            continue
        section = path[0]
        if len(path) == 1 or not isinstance(data.get(section), (dict, list)):
            data.pop(section, None)
            continue
        body = data[section]
        if section in _LISTS or (section == "sizing" and path[1] == "scale" and len(path) >= 3):
            items = body if section in _LISTS else body.get("scale")
            i = path[1] if section in _LISTS else path[2]
            if isinstance(items, list) and isinstance(i, int) and 0 <= i < len(items):
                items[i] = None
            continue
        if isinstance(body, dict):
            if section in _NAMED and isinstance(path[1], str):
                broken.add(path[1])
            body.pop(path[1], None)
    return broken


def _check(docs: list[Document], rep: Reporter, instrument: tuple, broken: set[str] = frozenset()) -> RuleSet:
    instrument, spec = instrument
    ck = TypeChecker(rep)
    ck.broken |= broken
    _params(docs, ck, rep)                  # params first: every expression may read them
    derived = _derived_features(docs, ck, rep)
    signals: list[Signal] = []
    hard_rules: list[HardRule] = []
    scale: list[ScaleRule] = []
    for doc in docs:                        # file by file: a name clash cites the first one
        for i, item in enumerate(doc.data.get("signals") or []):
            if item is not None:
                signals.extend(_signal(ck, doc, ("signals", i), item))
        for i, item in enumerate(doc.data.get("hard_rules") or []):
            if item is not None:
                hard_rules.extend(_hard_rule(ck, doc, ("hard_rules", i), item, rep))
        for i, item in enumerate((doc.data.get("sizing") or {}).get("scale") or []):
            if item is not None:
                scale.extend(_scale_rule(ck, doc, ("sizing", "scale", i), item, len(scale)))
    labels = _labels(docs, ck, rep)
    risk, exits, sizing, setting_pos = read_settings(docs, spec.tick_size, rep)
    sizing.scale = scale
    return RuleSet(instrument=instrument, tick_size=spec.tick_size, tick_value=spec.tick_value,
                   params=ck.params, features=derived, signals=signals, hard_rules=hard_rules,
                   risk=risk, exits=exits, sizing=sizing, files=[d.path for d in docs],
                   setting_pos=setting_pos, sierra_symbol=spec.sierra_symbol, labels=labels)


def _labels(docs: list[Document], ck: TypeChecker, rep: Reporter) -> list[Label]:
    """``labels:``: feature -> {label text: condition}, the feature a built-in or derived one
    (a number), each condition typed; a feature labelled in two files is an error."""
    out: list[Label] = []
    seen: dict[str, Pos] = {}
    for doc in docs:
        for feature, entries in (doc.data.get("labels") or {}).items():
            pos = doc.key_pos(("labels", feature))
            if feature in seen:
                rep.error(pos, f"labels of {feature} are already given at {seen[feature]}")
                continue
            seen[feature] = pos
            t = ck.name_type(feature)
            if t is None:
                if feature not in ck.broken and feature not in ck.features:   # else: reported
                    rep.error(pos, f"labels name an unknown feature '{feature}'" + ck.suggest(feature))
                continue
            if t.kind != "number":
                rep.error(pos, f"labels name ranges of a number; {feature} is {t}")
                continue
            for text in entries:
                when = _condition(ck, doc, ("labels", feature, text), "the label's condition")
                if when is not None:
                    out.append(Label(feature, str(text), when, doc.key_pos(("labels", feature, text))))
    return out


def _instrument(docs: list[Document], rep: Reporter):
    """The one instrument the files name (ES when none does) and its spec. Each file's
    `instrument:` must be in the instrument table beside it, and name the same instrument as
    the files before it."""
    chosen, chosen_pos, spec = None, None, None
    for doc in docs:
        if "instrument" not in doc.data:
            continue
        name, pos = doc.data["instrument"], doc.value_pos(("instrument",))
        table = _table(doc.path, pos, name, rep)
        if name not in table:
            rep.error(pos, f"instrument {name} is not in {instruments_path(near=doc.path)} "
                           f"(known: {', '.join(sorted(table)) or 'none'})")
        elif chosen is not None and name != chosen:
            rep.error(pos, f"instrument {name} conflicts with {chosen} set at {chosen_pos}")
        elif chosen is None:
            chosen, chosen_pos, spec = name, pos, table[name]
    if chosen is not None:
        return chosen, spec
    pos = Pos(docs[0].path, 1, 1)
    table = _table(docs[0].path, pos, "ES", rep)
    if "ES" not in table:
        rep.error(pos, f"instrument ES is not in {instruments_path(near=docs[0].path)} "
                       f"(known: {', '.join(sorted(table)) or 'none'})")
        raise RuleError(rep.diagnostics, rep.notes)
    return "ES", table["ES"]


def _table(near: str, pos: Pos, name: str, rep: Reporter) -> dict:
    """The instrument table beside the rule file ``near``; its problems end the check."""
    try:
        return load_instruments(instruments_path(near=near))
    except MiaError as exc:
        rep.error(pos, f"instrument {name}: {exc}")
        raise RuleError(rep.diagnostics, rep.notes) from None


def _params(docs: list[Document], ck: TypeChecker, rep: Reporter) -> None:
    for doc in docs:
        for name, value in (doc.data.get("params") or {}).items():
            path = ("params", name)
            pos = doc.key_pos(path)
            if not ck.declare(name, "param", pos):
                continue
            src = Source(doc, path, str(value)) if isinstance(value, str) else None
            q = quantity(value, doc.value_pos(path), rep, src)
            if q is not None and _setting_ok(name, q, doc.value_pos(path), rep):
                ck.params[name] = Param(name, q[0], q[1], pos, is_time=q[2])
            else:
                ck.broken.add(name)         # reported: its uses are not errors of their own
    for group in catalog.ORDERED_SETTINGS:
        values = [(n, ck.params[n].value if n in ck.params else catalog.SETTINGS_BY_NAME[n].default) for n in group]
        for (a, va), (b, vb) in zip(values, values[1:]):
            if vb <= va and (a in ck.params or b in ck.params):
                where = ck.params[b].pos if b in ck.params else ck.params[a].pos
                rep.error(where, f"{b} ({vb:g}) must be more than {a} ({va:g}): they set the feature engine's "
                                 f"{'VIX regimes' if a.startswith('vix') else 'gamma-cycle phases'} in that order")


def _setting_ok(name: str, q: tuple, pos: Pos, rep: Reporter) -> bool:
    """A param that sets the feature engine (``catalog.SETTINGS``) must be a number of its kind."""
    s = catalog.SETTINGS_BY_NAME.get(name)
    if s is None:
        return True
    value, unit, is_time = q
    if is_time or unit not in (None, s.unit):
        allowed = "a bare number" + (f" or {s.unit}" if s.unit else "")
        rep.error(pos, f"{name} sets the feature engine ({s.meaning}): it must be {allowed}")
        return False
    if value < s.minimum or (s.whole and value != int(value)):
        rep.error(pos, f"{name} must be {'a whole number ' if s.whole else ''}of at least {s.minimum:g}, got {value:g}")
        return False
    return True


def _derived_features(docs: list[Document], ck: TypeChecker, rep: Reporter) -> list[DerivedFeature]:
    """Parse every derived feature, then type them in dependency order."""
    for doc in docs:
        for name, text in (doc.data.get("features") or {}).items():
            path = ("features", name)
            pos = doc.key_pos(path)
            if not ck.declare(name, "feature", pos):
                continue
            src = Source(doc, path, _expr_text(text))
            tree = _parse(ck, doc, src)
            if tree is not None:
                ck.features[name] = (tree, src, pos)
            else:
                ck.broken.add(name)         # reported: its uses are not errors of their own
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
    bad_factor = has_factor and not finite(item["size_factor"])
    if bad_factor:
        rep.error(doc.value_pos(base + ("size_factor",)), "size_factor must be a number from 0 to 1")
    if has_block == has_factor:
        rep.error(pos, f"hard rule '{item['name']}' needs exactly one of 'block' (a veto) "
                       "or 'size_factor' (a soft rule that scales size)")
    side = item.get("side")
    bad_side = side is not None and item.get("block") == "all"
    if bad_side:
        rep.error(doc.value_pos(base + ("side",)), f"hard rule '{item['name']}' blocks all: it cannot stand "
                                                   "against one side only (use 'block: entries' with 'side')")
    when = _condition(ck, doc, base + ("when",), "when")
    reasons: list | None = []
    if "reason" in item:
        texts = item["reason"] if isinstance(item["reason"], list) else [item["reason"]]
        paths = [base + ("reason", k) for k in range(len(texts))] if isinstance(item["reason"], list) \
            else [base + ("reason",)]
        reasons = [_reason(ck, doc, path) for path in paths]
        reasons = None if any(r is None for r in reasons) else reasons
    if when is None or reasons is None or has_block == has_factor or bad_factor or bad_side:
        return []
    return [HardRule(item["name"], when, item.get("block"),
                     float(item["size_factor"]) if has_factor else None, reasons, pos, side)]


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


def _parse(ck: TypeChecker, doc: Document, src: Source):
    """The tree of the expression ``src``, or None after reporting; a value YAML reads as a date
    is not an expression (it would read as 2025 - 11 - 20)."""
    if src.path in doc.dates:
        ck.rep.error(doc.value_pos(src.path), f"{src.text} is a date, and rules have no dates: write an "
                                              "expression (in quotes if you mean the subtraction)")
        return None
    return ck.parse(src)


def _condition(ck: TypeChecker, doc: Document, path: tuple, key: str) -> Expr | None:
    value = doc.data
    for p in path:
        value = value[p]
    src = Source(doc, path, _expr_text(value))
    tree = _parse(ck, doc, src)
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
    """A reason template: text with ``{expression}`` parts; a brace without its pair is an error."""
    template = doc.data
    for p in path:
        template = template[p]
    template = str(template)
    parts: list[ReasonPart] = []
    ok = True
    last = 0

    def text(i: int, j: int) -> None:
        nonlocal ok
        piece = template[i:j]
        for k, ch in enumerate(piece):
            if ch in "{}":
                what = "'{' without its closing '}'" if ch == "{" else "'}' without an opening '{'"
                ck.err(Source(doc, path, template), i + k, f"{what} in the reason (a {{...}} part is "
                                                           "an expression to fill in)")
                ok = False
                return
        if piece:
            parts.append(ReasonPart(text=piece))

    for m in _BRACES.finditer(template):
        text(last, m.start())
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
    text(last, len(template))
    return parts if ok else None
