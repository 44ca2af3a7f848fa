"""Forgiving readers of JSON values, shared by the Mix wire models: a wrong or missing value becomes
the default instead of an error (the servers' generations disagree on types, PROTOCOL §2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = ["_bool", "_float", "_int", "_list", "_obj", "_opt_float", "_opt_str", "_str", "parse_time"]


def _obj(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _str(value: Any, default: str = "") -> str:
    if value is None:
        return default
    return value if isinstance(value, str) else str(value)


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value))
        except ValueError:
            return default
    return default


def _float(value: Any, default: float = 0.0) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return default
    return default


def _opt_float(value: Any) -> float | None:
    return None if value is None else _float(value)


def _opt_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _bool(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def parse_time(value: Any) -> datetime | None:
    """RFC 3339 strings (sessions) or unix seconds (files, preferences, SSE)."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value)).astimezone()
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            try:
                return datetime.fromtimestamp(float(text)).astimezone()
            except (ValueError, OverflowError, OSError):
                return None
    return None
