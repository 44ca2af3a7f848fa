"""A small validator for the JSON-schema subset openapi-seed.json uses, plus operation lookup.

`check(value, schema)` returns (problems, extras): problems are real violations (wrong type, a
missing required key, a value outside an enum); extras are keys the schema does not declare, which
the contract test must account for one by one. Supported keywords: $ref, allOf, type, nullable,
enum, properties, required, additionalProperties, items, format (ignored), minimum/maximum.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SPEC = json.loads(Path(__file__).with_name("openapi-seed.json").read_text("utf-8"))

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}


def resolve(schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = SPEC["components"]["schemas"][name]
    return schema


def _merge_all_of(schema: dict) -> dict:
    if "allOf" not in schema:
        return schema
    merged: dict = {"type": "object", "properties": {}, "required": []}
    for part in schema["allOf"]:
        part = _merge_all_of(resolve(part))
        merged["properties"].update(part.get("properties", {}))
        merged["required"] += part.get("required", [])
    return merged


def check(value: Any, schema: dict, path: str = "$", overrides: dict[str, dict] | None = None) -> tuple[list[str], list[str]]:
    overrides = overrides or {}
    generic = re.sub(r"\[\d+\]", "[*]", path)
    if generic in overrides:
        schema = overrides[generic]
    schema = _merge_all_of(resolve(schema))
    problems: list[str] = []
    extras: list[str] = []
    if value is None:
        if not schema.get("nullable"):
            problems.append(f"{path}: null is not allowed")
        return problems, extras
    kind = schema.get("type")
    if kind and not _TYPES[kind](value):
        problems.append(f"{path}: expected {kind}, got {type(value).__name__} {value!r:.60}")
        return problems, extras
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"{path}: {value} < minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"{path}: {value} > maximum {schema['maximum']}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                problems.append(f"{path}: required key '{key}' is missing")
        extra_schema = schema.get("additionalProperties")
        for key, item in value.items():
            sub = f"{path}.{key}"
            if key in props:
                p, e = check(item, props[key], sub, overrides)
            elif isinstance(extra_schema, dict):
                p, e = check(item, extra_schema, f"{path}.*", overrides)
            elif extra_schema is True or (not props and kind == "object" and "additionalProperties" not in schema and not schema.get("required")):
                p, e = [], []  # a free-form object (e.g. permission params)
            else:
                p, e = [], [re.sub(r"\[\d+\]", "[*]", sub)]
            problems += p
            extras += e
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            p, e = check(item, schema["items"], f"{path}[{i}]", overrides)
            problems += p
            extras += e
    return problems, extras


def find_operation(method: str, path: str) -> tuple[str, dict] | None:
    """The spec's path template and operation for a concrete request path, or None."""
    for template, ops in SPEC["paths"].items():
        # a file name parameter may carry encoded separators in attacks; it still names that operation
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template.replace("{filename}", "(?:.+)")) + "$"
        if re.match(pattern, path) and method.lower() in ops:
            return template, ops[method.lower()]
    return None
