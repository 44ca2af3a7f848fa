"""Decoding the body of `POST /api/chat`.

The documented contract is a raw UTF-8 text stream. Nothing documents its Content-Type, an end
marker, or where a new conversation's id comes back, so each framing a server could plausibly use
is handled:

* plain text: the body is the answer. Bytes go through an incremental UTF-8 decoder (a character
  can be split across chunks). A trailing JSON object on its own line that carries a conversation
  id (`{"conversationId": "..."}`) is taken as an end-of-body marker and not shown;
* SSE (`text/event-stream`) and NDJSON (`application/x-ndjson`): text from the usual fields
  (`content`, `text`, `delta`, `token`, OpenAI-style `choices[0].delta.content`) or raw data; a
  conversation id from any object or from an event named like "conversation"; an `error` object
  or event ends the stream as an error, never as answer text;
* a JSON body (`application/json`): one object with the reply and perhaps the id.

Response headers are checked by the client (a header whose name contains "conversation").
"""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass
from typing import Any

ID_KEYS = ("conversationId", "conversation_id", "conversationID", "ConversationId")
TEXT_KEYS = ("content", "text", "delta", "token", "chunk", "reply", "answer", "output", "response")
NESTED_KEYS = ("data", "meta", "metadata", "result")
DONE_SENTINELS = ("[DONE]", "[done]")
MARKER_LIMIT = 2048  # characters of a candidate end marker held back before giving up on it


def conversation_id_in(obj: Any, depth: int = 0) -> str | None:
    """The conversation id anywhere it is likely to be in a decoded JSON object."""
    if not isinstance(obj, dict) or depth > 2:
        return None
    for key in ID_KEYS:
        value = obj.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    conv = obj.get("conversation")
    if isinstance(conv, dict):
        value = conv.get("id")
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    elif isinstance(conv, str) and conv.strip():
        return conv.strip()
    for key in NESTED_KEYS:
        found = conversation_id_in(obj.get(key), depth + 1)
        if found:
            return found
    return None


def text_in(obj: dict[str, Any]) -> str | None:
    for key in TEXT_KEYS:
        value = obj.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, dict):  # {"delta": {"content": "..."}}
            inner = text_in(value)
            if inner is not None:
                return inner
    choices = obj.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        first = choices[0]
        for key in ("delta", "message"):
            part = first.get(key)
            if isinstance(part, dict) and isinstance(part.get("content"), str):
                return part["content"]
        if isinstance(first.get("text"), str):
            return first["text"]
    return None


def error_in(obj: dict[str, Any]) -> str | None:
    value = obj.get("error")
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, dict):
        message = value.get("message") or value.get("error")
        return str(message).strip() if message else "MixerLead reported an error without a message."
    if str(obj.get("type", "")).lower() == "error":
        message = obj.get("message")
        return str(message).strip() if message else "MixerLead reported an error without a message."
    return None


@dataclass
class Piece:
    """What one unit of the stream contributed."""

    text: str = ""
    conversation_id: str | None = None
    error: str | None = None
    done: bool = False


def decode_object(obj: Any, raw: str) -> Piece:
    """One JSON value of an SSE data field or an NDJSON line."""
    if isinstance(obj, str):
        return Piece(text=obj)
    if not isinstance(obj, dict):
        return Piece(text=raw)
    error = error_in(obj)
    if error is not None:
        return Piece(error=error, conversation_id=conversation_id_in(obj))
    piece = Piece(conversation_id=conversation_id_in(obj), text=text_in(obj) or "")
    kind = str(obj.get("type") or obj.get("event") or "").lower()
    piece.done = kind in ("done", "end", "complete", "completed", "final", "stop")
    return piece


def decode_sse(event: str, data: str) -> Piece:
    name = (event or "message").lower()
    if data.strip() in DONE_SENTINELS:
        return Piece(done=True)
    try:
        obj = json.loads(data)
    except ValueError:
        obj = None
    if isinstance(obj, dict):
        piece = decode_object(obj, data)
        if name == "error" and piece.error is None:
            piece = Piece(error=text_in(obj) or "MixerLead reported an error in the stream.")
        if "conversation" in name and piece.conversation_id is None:
            piece.conversation_id = text_in(obj) or None
        piece.done = piece.done or name in ("done", "end", "complete", "completed")
        return piece
    if name == "error":
        return Piece(error=data.strip() or "MixerLead reported an error in the stream.")
    if "conversation" in name:
        return Piece(conversation_id=data.strip() or None)
    if name in ("done", "end", "complete", "completed", "close"):
        return Piece(done=True)
    if name in ("ping", "heartbeat", "keepalive"):
        return Piece()
    return Piece(text=obj if isinstance(obj, str) else data)


class Utf8Text:
    """Bytes in, text out, never splitting a multi-byte character."""

    def __init__(self, encoding: str = "utf-8") -> None:
        try:
            self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        except LookupError:
            self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, data: bytes) -> str:
        return self._decoder.decode(data)

    def finish(self) -> str:
        return self._decoder.decode(b"", final=True)


class EndMarker:
    """Holds back a possible trailing `{"conversationId": ...}` (or `{"error": ...}`) line until the body ends.

    Only text from the last line that starts with `{` is held, and only while it could still be
    such a marker (valid-so-far JSON, at most MARKER_LIMIT characters), so ordinary text flows
    through at once.
    """

    def __init__(self) -> None:
        self._held = ""
        self._emitted_any = False

    def feed(self, text: str) -> str:
        if not text:
            return ""
        buf = self._held + text
        cut = self._candidate(buf)
        if cut is None:
            self._held = ""
            out = buf
        else:
            self._held = buf[cut:]
            out = buf[:cut]
        if out:
            self._emitted_any = True
        return out

    def finish(self) -> tuple[str, str | None, str | None]:
        """(text still to show, conversation id if the held tail was a marker, error if it was an error object)."""
        held, self._held = self._held, ""
        stripped = held.strip()
        if stripped.startswith("{"):
            try:
                obj = json.loads(stripped)
            except ValueError:
                obj = None
            if isinstance(obj, dict):
                error = error_in(obj)
                if error is not None:
                    # `{"error": ...}` as the whole body or its last line: an error, never answer text.
                    return "", conversation_id_in(obj), error
                found = conversation_id_in(obj)
                if found and not (text_in(obj) or ""):
                    return "", found, None
        return held, None, None

    def _candidate(self, buf: str) -> int | None:
        """Where a possible marker starts in `buf` (everything before it can be shown), or None."""
        window = max(0, len(buf) - MARKER_LIMIT)
        i = buf.rfind("\n{", window)
        if i >= 0 and _could_be_marker(buf[i:].strip()):
            return i
        if not self._emitted_any and buf.lstrip().startswith("{") and len(buf) <= MARKER_LIMIT and _could_be_marker(buf.strip()):
            return 0
        if buf.endswith("\n"):
            return len(buf) - 1  # a line break at the very end may be followed by a marker
        return None


def _could_be_marker(text: str) -> bool:
    try:
        obj, end = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as exc:
        # Incomplete JSON fails at (or, for an open string, inside) its end: keep holding.
        return exc.pos >= len(text) - 1 or exc.msg.startswith("Unterminated string")
    if text[end:].strip():
        return False
    return isinstance(obj, dict) and (conversation_id_in(obj) is not None or error_in(obj) is not None)


class LineSplitter:
    """Text in, complete lines out (for NDJSON)."""

    def __init__(self) -> None:
        self._rest = ""

    def feed(self, text: str) -> list[str]:
        if "\n" not in text:
            self._rest += text
            return []
        lines = (self._rest + text).split("\n")
        self._rest = lines.pop()
        return [line.rstrip("\r") for line in lines]

    def finish(self) -> list[str]:
        rest, self._rest = self._rest, ""
        return [rest] if rest.strip() else []


def decode_ndjson_line(line: str) -> Piece:
    if not line.strip():
        return Piece()
    try:
        obj = json.loads(line)
    except ValueError:
        return Piece(text=line + "\n")  # not JSON: show it as text rather than lose it
    return decode_object(obj, line + "\n")


def decode_json_body(body: str) -> Piece:
    try:
        obj = json.loads(body)
    except ValueError:
        return Piece(text=body)
    if isinstance(obj, dict):
        error = error_in(obj)
        if error is not None:
            return Piece(error=error)
        return Piece(text=text_in(obj) or (obj.get("message") if isinstance(obj.get("message"), str) else "") or "",
                     conversation_id=conversation_id_in(obj), done=True)
    return decode_object(obj, body)
