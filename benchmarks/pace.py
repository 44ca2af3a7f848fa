"""Realistic pace: the streaming case again at 80 tokens/s, reporting the client's CPU use.

The answer is shortened to ~2,000 characters (~440 chunks, ~5.5 s per run) so three runs of
ours and of the floor stay near a minute; the fraction of one core is CPU time / wall time from
send to the last line painted, in the client process (the server runs in its own process).
"""

from __future__ import annotations

from typing import Any

TOKENS_PER_S = 80
SIZE = 2_000
QUICK_SIZE = 700


def bench(ctx: Any) -> Any:
    from benchmarks import streaming

    result = streaming.bench(ctx, name="pace", title=f"Realistic pace ({TOKENS_PER_S} tokens/s)",
                             size=QUICK_SIZE if ctx.quick else SIZE, delay=1 / TOKENS_PER_S)
    result.notes.append(f"answer shortened to about {QUICK_SIZE if ctx.quick else SIZE:,} characters to keep the run short")
    return result
