"""Sizes and times as people read them (plain Python: widgets and screens both use it)."""

from __future__ import annotations

from datetime import datetime


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def human_time(when: datetime | None) -> str:
    if when is None or when.timestamp() <= 0:
        return "—"  # later servers send 0
    return when.astimezone().strftime("%Y-%m-%d %H:%M")
