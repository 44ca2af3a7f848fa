"""Pictures in the terminal, where the terminal announces a graphics protocol (kitty's, or sixel).

Terminals announce it in the environment (kitty sets TERM=xterm-kitty and KITTY_WINDOW_ID, WezTerm
and Ghostty TERM_PROGRAM, sixel terminals a TERM naming it); `MIX_TUI_GRAPHICS=kitty|sixel|none`
overrides. Only then is textual-image loaded, by `prepare()` before the app starts: it asks the
terminal for its cell size and protocols, which cannot be done once Textual owns the terminal, and
which would slow every start in terminals that show no pictures anyway. Everywhere else `picture()`
returns None and callers keep their text description.
"""

from __future__ import annotations

import io
import logging
import os
from typing import Any, Mapping

log = logging.getLogger(__name__)

PROTOCOLS = ("kitty", "sixel")
_KITTY_PROGRAMS = {"wezterm", "ghostty"}

protocol = ""  # "kitty" | "sixel" | "": what `picture` draws with, set by `prepare`


def announced(env: Mapping[str, str] = os.environ) -> str:
    """The protocol the environment announces, or ""."""
    forced = env.get("MIX_TUI_GRAPHICS", "").strip().lower()
    if forced:
        return forced if forced in PROTOCOLS else ""
    term = env.get("TERM", "").lower()
    if term == "xterm-kitty" or env.get("KITTY_WINDOW_ID") or env.get("TERM_PROGRAM", "").lower() in _KITTY_PROGRAMS:
        return "kitty"
    if "sixel" in term or term.startswith(("mlterm", "foot")):
        return "sixel"
    return ""


def prepare(env: Mapping[str, str] = os.environ) -> str:
    """Load the picture support for a terminal that announced a protocol (call before the app runs)."""
    global protocol
    wanted = announced(env)
    if not wanted:
        protocol = ""
        return protocol
    try:
        import textual_image.widget  # noqa: F401 — asks the terminal now, while it still can
    except Exception as exc:  # noqa: BLE001 — no pictures then, the text stays
        log.info("no terminal graphics: %s", exc)
        wanted = ""
    protocol = wanted
    return protocol


def picture(data: bytes, **widget_args: Any) -> Any:
    """A widget drawing the image in `data`, or None where the terminal shows no pictures (or the
    bytes are not an image)."""
    if not protocol:
        return None
    from PIL import Image as PILImage
    from textual_image.widget import SixelImage, TGPImage

    try:
        image = PILImage.open(io.BytesIO(data))
        image.load()
    except Exception:  # noqa: BLE001 — not an image after all: the text says what it is
        return None
    widget_class = TGPImage if protocol == "kitty" else SixelImage
    return widget_class(image, **widget_args)
