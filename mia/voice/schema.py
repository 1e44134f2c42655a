"""JSON Schema validation of a positioned YAML document, with errors placed at the key or value.

Used for `voice/commands.yaml` and the `voice:` section of config/mia.yaml. jsonschema finds the
violations; this module words them for a person and points at the place in the file.
"""
from __future__ import annotations

import jsonschema

from mia.dsl.errors import Reporter
from mia.dsl.load import Document
from mia.dsl.suggestions import did_you_mean

_TYPE_WORDS = {"object": "a mapping", "array": "a list", "string": "a string", "number": "a number",
               "integer": "a whole number", "boolean": "true or false", "null": "nothing"}


def where(path: tuple) -> str:
    parts: list[str] = []
    for p in path:
        parts.append(f"[{p}]" if isinstance(p, int) else (("." if parts else "") + str(p)))
    return "".join(parts) or "the file"


def show(value: object) -> str:
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


def validate(doc: Document, data: object, schema: dict, rep: Reporter, root: tuple = ()) -> bool:
    """Report every violation of ``schema`` by ``data`` (found at ``root`` in ``doc``); True if none."""
    ok = True
    validator = jsonschema.Draft202012Validator(schema)
    for err in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        ok = False
        path = root + tuple(err.absolute_path)
        name = where(path)
        v = err.validator
        if "propertyNames" in err.absolute_schema_path:  # a key that is not allowed: point at the key
            key = err.instance
            choices = err.validator_value if v == "enum" else None
            words = f": one of {', '.join(map(str, choices))}" if choices else ""
            hint = did_you_mean(str(key), map(str, choices)) if choices else ""
            what = err.schema.get("description", "is not a known name")
            rep.error(doc.key_pos(path + (key,)), f"'{key}' {what} in {name}{words}{hint}")
        elif v == "additionalProperties":
            allowed = list(err.schema.get("properties", {}))
            for key in sorted(set(err.instance) - set(allowed)):
                rep.error(doc.key_pos(path + (key,)),
                          f"unknown key '{key}' in {name}" + did_you_mean(key, allowed))
        elif v == "required":
            missing = err.message.split("'")[1] if "'" in err.message else err.message
            rep.error(doc.value_pos(path), f"{name} is missing the required key '{missing}'")
        elif v == "type":
            want = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
            words = " or ".join(_TYPE_WORDS.get(w, w) for w in want)
            rep.error(doc.value_pos(path), f"{name} must be {words}, got {show(err.instance)}")
        elif v == "enum":
            choices = [str(c) for c in err.validator_value]
            rep.error(doc.value_pos(path), f"{name} must be one of {', '.join(choices)}, got {show(err.instance)}"
                      + did_you_mean(str(err.instance), choices))
        elif v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            words = {"minimum": "at least", "maximum": "at most",
                     "exclusiveMinimum": "more than", "exclusiveMaximum": "less than"}[v]
            rep.error(doc.value_pos(path), f"{name} must be {words} {err.validator_value}, got {show(err.instance)}")
        elif v == "minItems":
            rep.error(doc.value_pos(path), f"{name} must list at least {err.validator_value} item(s)")
        elif v == "minLength":
            rep.error(doc.value_pos(path), f"{name} must not be empty")
        elif v == "pattern":
            rep.error(doc.value_pos(path), f"{name}: {show(err.instance)} {err.schema.get('description', 'is not allowed here')}")
        else:
            rep.error(doc.value_pos(path), f"{name}: {err.message}")
    return ok
