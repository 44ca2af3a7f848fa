"""Colours of the mix-tui themes (Textual Theme objects). Every style rule lives in themes/*.tcss;
this file only names colours, which the TCSS reads as $primary, $surface, ..."""

from __future__ import annotations

from textual.theme import Theme

MIX_DARK = Theme(
    name="mix-dark",
    primary="#5fa8d3",
    secondary="#8f7ad6",
    accent="#e0a458",
    warning="#e0b050",
    error="#e06c75",
    success="#7fbf7f",
    foreground="#d8dee9",
    background="#16191f",
    surface="#1d2129",
    panel="#262b35",
    dark=True,
    variables={"footer-key-foreground": "#e0a458", "block-cursor-text-style": "none"},
)

MIX_LIGHT = Theme(
    name="mix-light",
    primary="#1f6fa8",
    secondary="#6a4fbf",
    accent="#b3641b",
    warning="#a87a00",
    error="#b8323e",
    success="#2e7d32",
    foreground="#1f2328",
    background="#f6f7f9",
    surface="#ffffff",
    panel="#e6e9ef",
    dark=False,
    variables={"footer-key-foreground": "#b3641b", "block-cursor-text-style": "none"},
)

THEMES: tuple[Theme, ...] = (MIX_DARK, MIX_LIGHT)
THEME_NAMES: tuple[str, ...] = tuple(t.name for t in THEMES)
DEFAULT_THEME = MIX_DARK.name
