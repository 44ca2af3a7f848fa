"""A reader for the YAML subset openapi-seed.yaml is written in (PyYAML is not a dependency).

Supported: block mappings and sequences by indentation, `key: value` with plain or double-quoted
keys, scalars that are double-quoted strings, numbers, true/false/null or plain words, and flow
values (`{…}`, `[…]`) that are valid JSON. Anything else raises ValueError with the line number.
"""

from __future__ import annotations

import json
import re
from typing import Any

_KEY = re.compile(r'^("(?:[^"\\]|\\.)*"|[^\s:"][^:]*?):(?:\s+(.*))?$')


def _scalar(text: str, lineno: int) -> Any:
    text = text.strip()
    if text.startswith(('"', "{", "[")):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ValueError(f"line {lineno}: unsupported value {text!r}") from exc
    if text in ("true", "false"):
        return text == "true"
    if text in ("null", "~"):
        return None
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d*", text):
        return float(text)
    return text


def _key(raw: str) -> str:
    return json.loads(raw) if raw.startswith('"') else raw


def loads(source: str) -> Any:
    lines = [(i + 1, len(l) - len(l.lstrip(" ")), l.strip()) for i, l in enumerate(source.splitlines())
             if l.strip() and not l.lstrip().startswith("#")]
    value, pos = _block(lines, 0, lines[0][1] if lines else 0)
    if pos != len(lines):
        raise ValueError(f"line {lines[pos][0]}: unexpected indentation")
    return value


def _block(lines: list, pos: int, indent: int) -> tuple[Any, int]:
    if lines[pos][2].startswith("- ") or lines[pos][2] == "-":
        return _sequence(lines, pos, indent)
    return _mapping(lines, pos, indent)


def _entry_value(lines: list, pos: int, indent: int, rest: str | None, lineno: int) -> tuple[Any, int]:
    if rest:
        return _scalar(rest, lineno), pos
    if pos < len(lines) and lines[pos][1] > indent:
        return _block(lines, pos, lines[pos][1])
    if pos < len(lines) and lines[pos][1] == indent and lines[pos][2].startswith("- "):
        return _sequence(lines, pos, indent)  # YAML allows a list at the key's own indentation
    return None, pos


def _mapping(lines: list, pos: int, indent: int) -> tuple[dict, int]:
    out: dict = {}
    while pos < len(lines) and lines[pos][1] == indent and not lines[pos][2].startswith("- "):
        lineno, _, text = lines[pos]
        m = _KEY.match(text)
        if not m:
            raise ValueError(f"line {lineno}: expected 'key: value', got {text!r}")
        value, pos = _entry_value(lines, pos + 1, indent, m.group(2), lineno)
        out[_key(m.group(1))] = value
    return out, pos


def _sequence(lines: list, pos: int, indent: int) -> tuple[list, int]:
    out: list = []
    while pos < len(lines) and lines[pos][1] == indent and lines[pos][2].startswith("-"):
        lineno, _, text = lines[pos]
        item = text[1:].strip()
        if not item:
            value, pos = _block(lines, pos + 1, lines[pos + 1][1])
            out.append(value)
            continue
        m = _KEY.match(item) if not item.startswith(('"', "{", "[")) or re.match(r'^"[^"]*":', item) else None
        if m is None:
            out.append(_scalar(item, lineno))
            pos += 1
            continue
        # "- key: value" opens a mapping whose further keys sit at the column after "- "
        inner = indent + (len(text) - len(item))
        lines[pos] = (lineno, inner, item)
        value, pos = _mapping(lines, pos, inner)
        out.append(value)
    return out, pos
