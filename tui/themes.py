"""Find the TCSS files: inside the installed package (wheel) or at the top of a source checkout."""

from __future__ import annotations

from pathlib import Path


def themes_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "themes", here.parent / "themes"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("mix-tui themes folder is missing from this installation")
