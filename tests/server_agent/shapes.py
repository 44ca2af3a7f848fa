"""Reduce an event list to its order, so agent turns can be compared with the reference transcripts."""

from __future__ import annotations

import json
from pathlib import Path

TRANSCRIPTS = Path("/work/shared/reference/mix/transcripts")


def shape(events: list[tuple[str, dict]]) -> list[str]:
    """Runs of thinking/content collapse to `thinking*`/`content*`; tool snapshots show status and
    whether their input is filled in."""
    out: list[str] = []
    for name, data in events:
        if name in ("thinking", "content"):
            label = name + "*"
            if out and out[-1] == label:
                continue
        elif name == "tool":
            label = f"tool:{data['status']}" + ("+input" if data["input"] else "")
        else:
            label = name
        out.append(label)
    return out


def transcript_events(name: str) -> list[tuple[str, dict]]:
    events = []
    for block in (TRANSCRIPTS / name).read_text().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.strip().splitlines() if ": " in line)
        if "event" in fields:
            events.append((fields["event"], json.loads(fields["data"])))
    return [e for e in events if e[0] not in ("connected", "heartbeat")]
