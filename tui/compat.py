"""The only place mix-tui imports a private module of a dependency. Each import says why the public
API will not do; tests/test_compat.py fails loudly when the dependency changes what we rely on, and
tests/test_architecture.py fails when a private import appears anywhere else.

No Textual here: tui.api imports this module.
"""

from __future__ import annotations

# httpx-sse: the public API (`EventSource.aiter_sse`) awaits once per line. The Mix stream feeds the
# library's own line and event decoders synchronously, one network chunk at a time (hundreds of
# events per chunk): 141,589 events/s against 106,647/s through the public API (`python -m benchmarks
# --only sse_decode`, README). Replacing them means owning the SSE framing ourselves (~60 lines).
try:
    from httpx_sse._decoders import SSEDecoder, SSELineDecoder
except ImportError as exc:  # pragma: no cover - only when httpx-sse moves them
    raise ImportError(
        "httpx-sse no longer has httpx_sse._decoders.SSEDecoder/SSELineDecoder, which tui/api/mix/stream.py "
        "uses through tui/compat.py: pin the last httpx-sse that has them, or write the SSE framing here"
    ) from exc

__all__ = ["SSEDecoder", "SSELineDecoder"]
