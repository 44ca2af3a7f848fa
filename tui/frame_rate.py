"""Paint a change as soon as it is made: Textual's screen update timer at 240 Hz instead of 60.

The screen paints from a timer that is paused while nothing changes. After a frame that overran
its slot (a frame of a streaming answer takes 10-20 ms), that timer skips one slot more than it
needs to, so the next change (a key) waits 17-33 ms at 60 Hz before it is painted. At 240 Hz the
wait is 4-8 ms. Frames still happen only when something changed, and the transcript's own redraws
stay throttled to 30-40 Hz, so a faster timer costs no extra frames while an answer streams.
Measured (benchmarks/keys.py, 2 x 70 keys): keys while streaming p50 27 -> 8 ms, idle p99 13 -> 4 ms.

`TEXTUAL_FPS` is Textual's own setting, read once when `textual.constants` is first imported; the
variable is set only for that import, so the commands the agent runs do not inherit it.
"""

from __future__ import annotations

import os
import sys

FRAMES_PER_SECOND = 240


def apply() -> None:
    """Call before the first import of Textual (a user's own TEXTUAL_FPS wins)."""
    if "textual.constants" in sys.modules or "TEXTUAL_FPS" in os.environ:
        return
    os.environ["TEXTUAL_FPS"] = str(FRAMES_PER_SECOND)
    try:
        import textual.constants  # noqa: F401  (reads TEXTUAL_FPS now)
    finally:
        del os.environ["TEXTUAL_FPS"]
