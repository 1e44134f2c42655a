"""The rule-file JSON Schema (draft 2020-12, shipped as rules.schema.json) and its validation.

jsonschema's messages are rewritten for a trader ("unknown key 'whne' (did you mean 'when'?)")
and placed at the key or value they are about.
"""
from __future__ import annotations

import functools
import json
from importlib import resources

import jsonschema

from mia.dsl.errors import Reporter
from mia.dsl.load import Document
from mia.dsl.suggestions import did_you_mean


@functools.lru_cache(maxsize=1)
def rules_schema() -> dict:
    return json.loads(resources.files("mia.dsl").joinpath("rules.schema.json").read_text())


@functools.lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(rules_schema())


_TYPE_WORDS = {"object": "a mapping", "array": "a list", "string": "a string", "number": "a number",
               "integer": "a whole number", "boolean": "true or false"}


def _where(path: tuple) -> str:
    parts = []
    for p in path:
        parts.append(f"[{p}]" if isinstance(p, int) else (("." if parts else "") + str(p)))
    return "".join(parts) or "the file"


def _schema_at(path: tuple, schema: dict) -> dict:
    """The schema that applies to ``path`` (following properties/items/additionalProperties)."""
    node = schema
    defs = node.get("$defs", {})
    for p in path:
        if "$ref" in node:
            node = defs[node["$ref"].rsplit("/", 1)[1]]
        if isinstance(p, int):
            node = node.get("items", {})
        else:
            node = node.get("properties", {}).get(p) or node.get("additionalProperties") or {}
        if not isinstance(node, dict):
            return {}
    return node


def validate_document(doc: Document, rep: Reporter,
                      validator: jsonschema.Draft202012Validator | None = None, bad: list | None = None) -> bool:
    """Report every schema violation of ``doc`` against ``validator`` (default: the rule-file
    schema); True when there was none. ``bad`` gets the json path of each value refused (an
    unknown key's own path; the mapping missing a required key)."""
    ok = True
    validator = validator or _validator()
    refused = bad if bad is not None else []
    for err in sorted(validator.iter_errors(doc.data), key=lambda e: list(map(str, e.absolute_path))):
        ok = False
        path = tuple(err.absolute_path)
        where = _where(path)
        v = err.validator
        if v == "pattern" and isinstance(_data_at(doc.data, path), dict) and err.instance in _data_at(doc.data, path):
            refused.append(path + (err.instance,))     # a key that is not a name (propertyNames)
        elif v != "additionalProperties":
            refused.append(path)
        if v == "additionalProperties":
            allowed = list(_schema_at(path, validator.schema).get("properties", {}))
            for key in sorted(set(err.instance) - set(allowed)):
                refused.append(path + (key,))
                hint = did_you_mean(key, allowed)
                if any(c in key for c in "()<>=+*/ "):
                    hint = (" (a comma inside a {...} mapping ends the value: "
                            "put the expression in quotes)")
                rep.error(doc.key_pos(path + (key,)), f"unknown key '{key}' in {where}" + hint)
            continue
        if v == "required":
            missing = err.message.split("'")[1] if "'" in err.message else err.message
            rep.error(doc.value_pos(path), f"{where} is missing the required key '{missing}'")
            continue
        if v == "type":
            want = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
            words = " or ".join(_TYPE_WORDS.get(w, w) for w in want)
            rep.error(doc.value_pos(path), f"{where} must be {words}, got {_show(err.instance)}")
            continue
        if v == "enum":
            choices = ", ".join(map(str, err.validator_value))
            rep.error(doc.value_pos(path), f"{where} must be one of {choices}, got {_show(err.instance)}"
                      + did_you_mean(str(err.instance), map(str, err.validator_value)))
            continue
        if v == "const":
            rep.error(doc.value_pos(path), f"{where} must be {err.validator_value}, got {_show(err.instance)}")
            continue
        if v == "pattern":
            bad = err.instance
            parent = _data_at(doc.data, path)
            pos = doc.key_pos(path + (bad,)) if isinstance(parent, dict) and bad in parent else doc.value_pos(path)
            rep.error(pos, f"{_show(bad)} is not a valid name (letters, digits and _, not starting with a digit)")
            continue
        if v == "oneOf":
            words = " or ".join(_one_of_word(sub) for sub in err.validator_value)
            rep.error(doc.value_pos(path), f"{where} must be {words}, got {_show(err.instance)}")
            continue
        if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            words = {"minimum": "at least", "maximum": "at most",
                     "exclusiveMinimum": "more than", "exclusiveMaximum": "less than"}[v]
            rep.error(doc.value_pos(path), f"{where} must be {words} {err.validator_value}, got {_show(err.instance)}")
            continue
        rep.error(doc.value_pos(path), f"{where}: {err.message}")
    return ok


def _one_of_word(sub: dict) -> str:
    """A schema alternative in words: "a string", "a list of strings"."""
    if sub.get("type") == "array":
        item = sub.get("items", {}).get("type")
        return f"a list of {item}s" if item else "a list"
    return _TYPE_WORDS.get(sub.get("type"), "another value")


def _data_at(data: object, path: tuple) -> object:
    for p in path:
        try:
            data = data[p]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _show(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return repr(value)
    return str(value)
