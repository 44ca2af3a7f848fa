"""Paint a change as soon as it is made: Textual's screen update timer at 1,000 Hz instead of 60.

The screen paints from a timer that is paused while nothing changes. After a frame that overran
its slot (a frame of a streaming answer takes 5-15 ms), that timer skips one slot more than it
needs to, so the next change (a key, the first words) waits one to two slots before it is
painted: 17-33 ms at 60 Hz, 1-2 ms at 1,000 Hz. Frames still happen only when something changed,
and the transcript's own redraws stay throttled to 30-40 Hz, so the faster timer paints no more
frames while an answer streams (11 in both, same answer).
Measured: keys while streaming p50 27 -> 8 ms and idle p99 13 -> 4 ms (60 -> 240 Hz, 2 x 70 keys);
first words 49.5 -> 40.8 ms (240 -> 1,000 Hz, medians of 6 alternated runs).

`TEXTUAL_FPS` is Textual's own setting, read once when `textual.constants` is first imported; the
variable is set only for that import, so the commands the agent runs do not inherit it.
"""

from __future__ import annotations

import os
import sys

FRAMES_PER_SECOND = 1000


def apply() -> None:
    """Call before the first import of Textual (a user's own TEXTUAL_FPS wins)."""
    if "textual.constants" in sys.modules or "TEXTUAL_FPS" in os.environ:
        return
    os.environ["TEXTUAL_FPS"] = str(FRAMES_PER_SECOND)
    try:
        import textual.constants  # noqa: F401  (reads TEXTUAL_FPS now)
    finally:
        del os.environ["TEXTUAL_FPS"]
