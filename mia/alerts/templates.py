"""alerts/alerts.yaml: each alert kind's level (on / silent / off) and message template.

``load_templates`` reads and checks the file, all at once, before anything is sent: an unknown
kind or level, a placeholder that is not one of the kind's fields (``mia.runtime.alerts.FIELDS``
plus ``COMMON``), a format that does not suit the field's type, a stray brace, markup Telegram
would refuse: each is a ``path:line:col: error: ...``. A template is then a list of literal
markup and (field, format) parts, and ``Templates.render`` fills it: every value formatted
(a format that does not suit the value falls back to the plain value, a missing field is
empty) and HTML-escaped; an alert that has none of the template's own fields, or renders to
nothing, is sent as its own text. Rendering never raises: whatever goes wrong, the alert's own
text is sent, escaped.
"""
from __future__ import annotations

import functools
import json
import logging
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jsonschema

from mia.resources import shipped
from mia.alerts import html
from mia.dsl.errors import Pos, Reporter
from mia.dsl.load import Document, load_document
from mia.dsl.schema import validate_document
from mia.dsl.suggestions import did_you_mean
from mia.calendar import local
from mia.runtime.alerts import FIELDS, KINDS, Alert

log = logging.getLogger(__name__)

LEVELS = ("on", "silent", "off")
#: fields every kind has (an alert's own field of the same name wins)
COMMON: dict[str, type] = {"text": str, "time": str, "clock": str, "date": str}
#: kinds that are off unless alerts.yaml says otherwise
OFF_BY_DEFAULT = frozenset({"veto"})
#: kinds said aloud when the file does not say (`speak:`): fills, stops, targets, risk-state changes
SPOKEN_BY_DEFAULT = frozenset({"fill", "stop", "target", "gate"})
_SAMPLE = {str: "x", int: 1, float: 1.5}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def default_templates_path() -> Path:
    """alerts/alerts.yaml of the current folder when there is one, else the bundled one."""
    here = Path("alerts/alerts.yaml")
    return here if here.is_file() else shipped("alerts/alerts.yaml")


@functools.lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(resources.files("mia.alerts").joinpath("alerts.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


@dataclass(frozen=True)
class Template:
    kind: str
    level: str
    parts: tuple          # str (markup) | (field, format)

    def fill(self, values: dict) -> str:
        out = []
        for p in self.parts:
            if isinstance(p, str):
                out.append(p)
                continue
            name, spec = p
            v = values.get(name)
            if v is None:
                continue
            try:
                s = format(v, spec) if spec else str(v)
            except (ValueError, TypeError):
                s = str(v)
            out.append(html.escape(s))
        return "".join(out)


_PLAIN = Template("", "on", (("text", ""),))


class Templates:
    """The levels and templates of every kind; ``render(alert)`` -> (markup, silent) or None (off)."""

    def __init__(self, path: str | None, by_kind: dict[str, Template], speak: dict[str, bool] | None = None):
        self.path = path
        self.by_kind = by_kind
        #: kind -> said aloud or not, as the file says (others: ``SPOKEN_BY_DEFAULT``)
        self.speak = speak or {}
        self._warned: set = set()

    def spoken_kinds(self) -> frozenset:
        """The kinds the voice front end says aloud."""
        return frozenset(k for k in KINDS if self.speak.get(k, k in SPOKEN_BY_DEFAULT))

    def level(self, kind: str) -> str:
        t = self.by_kind.get(kind)
        if t is not None:
            return t.level
        return "off" if kind in OFF_BY_DEFAULT else "on"

    def render(self, alert: Alert) -> tuple[str, bool] | None:
        level = self.level(alert.kind)
        if level == "off":
            return None
        tpl = self.by_kind.get(alert.kind, _PLAIN)
        try:
            values = dict(alert.fields) if isinstance(alert.fields, dict) else {}
            when = local(alert.t) if alert.t else None
            values.setdefault("text", alert.text)
            values.setdefault("time", when.isoformat(timespec="seconds") if when else "")
            values.setdefault("clock", when.strftime("%H:%M:%S") if when else "")
            values.setdefault("date", when.strftime("%Y-%m-%d") if when else "")
            own = [p[0] for p in tpl.parts if not isinstance(p, str) and p[0] not in COMMON]
            if own and not any(values.get(name) is not None for name in own):
                text = ""                      # the alert carries none of the template's fields
            else:
                text = tpl.fill(values)
            if not html._TAG.sub("", text).strip():
                text = html.escape(str(alert.text)) or html.escape(alert.kind)
        except Exception:                      # a template must never stop an alert, nor the supervisor
            if alert.kind not in self._warned:
                self._warned.add(alert.kind)
                log.warning("alert template of %s failed; sending its plain text", alert.kind, exc_info=True)
            text = html.escape(str(alert.text))
        return text, level == "silent"


def builtin_templates() -> Templates:
    """No file: every kind on (veto off) as its plain text."""
    return Templates(None, {})


def load_templates(path: str | Path) -> Templates:
    """``path`` read and checked; a ``RuleError`` listing every problem (positioned) otherwise."""
    rep = Reporter()
    path = Path(path)
    doc = load_document(path, rep)
    if doc is None:
        rep.raise_if_any()
    data = doc.data
    if data is None:
        data = doc.data = {}
    if not isinstance(data, dict):
        rep.error(doc.value_pos(()), f"an alerts file is a mapping (version: 1, alerts: ...), got "
                                     f"{type(data).__name__}")
        rep.raise_if_any()
    validate_document(doc, rep, _validator())
    rep.raise_if_any()
    by_kind: dict[str, Template] = {}
    speak: dict[str, bool] = {}
    for kind, entry in (data.get("alerts") or {}).items():
        if kind not in KINDS:
            rep.error(doc.key_pos(("alerts", kind)), f"unknown alert kind '{kind}'{did_you_mean(kind, KINDS)} "
                                                     f"(the kinds: {', '.join(KINDS)})")
            continue
        if isinstance(entry, dict):
            level_path = ("alerts", kind, "level")
            raw = entry.get("level", "off" if kind in OFF_BY_DEFAULT else "on")
        else:
            level_path = ("alerts", kind)
            raw = entry
        level = _level(raw)
        if level is None:
            rep.error(doc.value_pos(level_path), f"{'.'.join(level_path)} must be on, silent or off, got "
                                                 f"{raw!r}{did_you_mean(str(raw), LEVELS)}")
            continue
        if isinstance(entry, dict) and "speak" in entry:
            speak[kind] = bool(entry["speak"])
        parts: tuple = (("text", ""),)
        if isinstance(entry, dict) and "template" in entry:
            parts = _compile(doc, ("alerts", kind, "template"), entry["template"], kind, rep)
        by_kind[kind] = Template(kind, level, parts)
    rep.raise_if_any()
    return Templates(str(path), by_kind, speak)


def _level(raw) -> str | None:
    if raw is True:                            # YAML 1.1 reads a bare on as true, off as false
        return "on"
    if raw is False:
        return "off"
    if isinstance(raw, str) and raw.strip().lower() in LEVELS:
        return raw.strip().lower()
    return None


def _compile(doc: Document, path: tuple, text: str, kind: str, rep: Reporter) -> tuple:
    """The parts of a template, every problem reported at its character."""
    fields = {**COMMON, **FIELDS.get(kind, {})}
    spots: list[tuple[int, str]] = []
    parts: list = []
    lit: list[str] = []
    blanked = list(text)                       # the markup with the placeholders blanked, for html.check
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "{":
            if text.startswith("{{", i):
                lit.append("{")
                i += 2
                continue
            j = text.find("}", i + 1)
            k = text.find("{", i + 1)
            if j < 0 or 0 <= k < j:
                spots.append((i, "'{' opens a placeholder that is never closed (write {{ for a literal brace)"))
                lit.append("{")
                i += 1
                continue
            inner = text[i + 1:j]
            name, colon, spec = inner.partition(":")
            blanked[i:j + 1] = "x" * (j + 1 - i)
            if "!" in name:
                spots.append((i + 1, f"'{{{inner}}}': conversions (!r, !s) are not supported; write {{field}} or "
                                     "{field:FORMAT}"))
            elif not _NAME.fullmatch(name):
                spots.append((i + 1, f"'{{{inner}}}' is not a placeholder: write {{field}} with one of the {kind} "
                                     f"fields ({', '.join(fields)}), or {{{{ for a literal brace"))
            elif name not in fields:
                spots.append((i + 1, f"unknown field '{name}' for {kind} alerts{did_you_mean(name, fields)} "
                                     f"(its fields: {', '.join(fields)})"))
            else:
                problem = _spec_problem(fields[name], spec) if colon else None
                if problem:
                    spots.append((i + 2 + len(name), f"'{{{inner}}}': {problem}"))
                else:
                    if lit:
                        parts.append("".join(lit))
                        lit = []
                    parts.append((name, spec))
            i = j + 1
            continue
        if c == "}":
            if text.startswith("}}", i):
                lit.append("}")
                i += 2
                continue
            spots.append((i, "a single '}' (write }} for a literal brace)"))
            i += 1
            continue
        lit.append(c)
        i += 1
    if lit:
        parts.append("".join(lit))
    spots.extend(html.check("".join(blanked)))
    if spots:
        where = doc.source_map(path)
        for off, msg in spots:
            pos: Pos = where[min(off, len(where) - 1)]
            rep.error(pos, f"alerts.{kind}.template: {msg}")
    return tuple(parts)


def _spec_problem(typ: type, spec: str) -> str | None:
    try:
        format(_SAMPLE[typ], spec)
    except (ValueError, TypeError) as exc:
        what = {str: "text", int: "a whole number", float: "a number"}[typ]
        return f"the format '{spec}' does not suit this field ({what}): {exc}"
    return None
