"""The assistant message being streamed, kept in the store as it grows, so a crash or a cancel
loses nothing the user already saw.

A turn opens a draft row (finish reason `streaming`) right after its user message. Every
`content`, `thinking` and `tool` event the turn emits is folded into the draft, and the row is
rewritten at most `FLUSH_INTERVAL` seconds after the change (one small SQLite update). When the
agent stores its assistant message, it takes the draft's row (same id, same place); the next
delta opens a new draft. A turn that ends with a draft still open closes it with its reason
(`canceled`, `error`); a server that died mid-turn finds `streaming` rows at start and marks them
`interrupted` (Store.close_interrupted), so no turn is left looking as if it were still running.
"""

from __future__ import annotations

import asyncio
import logging
import time

from tui.server.store import STREAMING, Store

log = logging.getLogger("tui.server")

FLUSH_INTERVAL = 0.25  # seconds: how far the stored draft may lag behind what was sent


class AnswerDraft:
    def __init__(self, store: Store, session_id: str, interval: float = FLUSH_INTERVAL) -> None:
        self.store = store
        self.session_id = session_id
        self.interval = interval
        self.message_id: str | None = None
        self.text = ""
        self.reasoning = ""
        self.calls: dict[str, dict] = {}
        self._dirty = False
        self._last_flush = 0.0
        self._timer: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------ what streams

    def open(self) -> None:
        """Reserve the answer's row now, so even a turn killed before its first word is closed later."""
        if self.message_id is None:
            self.message_id = self.store.add_message(self.session_id, "assistant", "", finish_reason=STREAMING)
            self._last_flush = time.monotonic()

    def observe(self, event: str, data: dict) -> None:
        if event == "content":
            self.text += str(data.get("content") or "")
        elif event == "thinking":
            self.reasoning += str(data.get("content") or "")
        elif event == "tool":
            call_id = str(data.get("id") or "")
            if not call_id:
                return
            call = self.calls.setdefault(call_id, {"id": call_id, "name": str(data.get("name") or ""), "input": "",
                                                   "type": "tool_use", "finished": False})
            if data.get("input"):
                call["input"] = str(data["input"])
        else:
            return
        self.open()
        self._dirty = True
        self._schedule()

    def _schedule(self) -> None:
        wait = self.interval - (time.monotonic() - self._last_flush)
        if wait <= 0:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(wait, self._timer_fired)

    def _timer_fired(self) -> None:
        self._timer = None
        self.flush()

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._dirty or self.message_id is None:
            return
        self._dirty = False
        self._last_flush = time.monotonic()
        try:
            self.store.update_message(self.message_id, text=self.text, reasoning=self.reasoning,
                                      tool_calls=list(self.calls.values()) or None)
        except Exception:  # the draft is a safety net; failing to write it must not end the turn
            log.exception("could not store the streaming answer of session %s", self.session_id)

    # ------------------------------------------------------------ how it ends

    def adopt(self) -> str | None:
        """The agent is storing its assistant message: hand over the draft's row id (None: no draft)."""
        message_id = self.message_id
        self._reset()
        return message_id

    def close(self, reason: str) -> None:
        """The turn is over: keep what arrived under `reason`, or drop an empty reservation."""
        if self.message_id is None:
            return
        message_id = self.message_id
        keep = bool(self.text or self.reasoning or self.calls)
        text, reasoning, calls = self.text, self.reasoning, list(self.calls.values())
        self._reset()
        try:
            if keep:
                for call in calls:
                    if not call.get("finished"):
                        call.update(finished=True, result=f"Tool execution {reason}", isError=True)
                self.store.update_message(message_id, text=text, reasoning=reasoning, tool_calls=calls or None,
                                          finish_reason=reason)
            else:
                self.store.delete_message(message_id)
        except Exception:
            log.exception("could not close the streaming answer of session %s", self.session_id)

    def _reset(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.message_id = None
        self.text = self.reasoning = ""
        self.calls = {}
        self._dirty = False
