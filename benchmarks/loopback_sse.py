"""A loopback HTTP server that answers `GET /stream?sessionId=…` with one large, pre-built SSE body.

Used by the SSE-decode benchmark: the body is built before the server reports ready, so the
server only copies bytes and the client's decoding is what is measured. It runs in its own
process (`python -m benchmarks.loopback_sse --events N --ready-file F`), on the second core.
Other requests get the small JSON answers a Mix client may ask for first (a session, health).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path

from benchmarks.corpus import answer_and_chunks

SESSION_ID = "3f2c9a1e-7b4d-4e2a-9c1f-5d8e6a0b7c12"
CHUNK = 64 * 1024  # bytes per chunked-encoding chunk


def sse_event(seq: int, name: str, data: dict, retry: int = 30000) -> bytes:
    payload = json.dumps(data, separators=(",", ":"))
    return f"id: {seq}\nevent: {name}\ndata: {payload}\nretry: {retry}\n\n".encode()


def build_body(n_events: int) -> bytes:
    """`connected`, then `n_events` content deltas (the corpus tokens, repeated), then `complete`."""
    _text, chunks = answer_and_chunks()
    out = [sse_event(1, "connected", {"sessionId": SESSION_ID})]
    for i in range(n_events):
        out.append(sse_event(i + 2, "content", {"type": "content", "content": chunks[i % len(chunks)]}))
    out.append(sse_event(n_events + 2, "complete", {"type": "complete", "content": "", "messageId": "m-1", "done": True}))
    return b"".join(out)


def _session() -> bytes:
    return json.dumps({
        "id": SESSION_ID, "title": "decode", "userMessageCount": 0, "assistantMessageCount": 0,
        "toolCallCount": 0, "promptTokens": 0, "completionTokens": 0, "cost": 0.0,
        "createdAt": "2026-01-01T00:00:00Z",
    }).encode()


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, body: bytes) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line = head.split(b"\r\n", 1)[0].decode()
            method, target, _ = request_line.split(" ", 2)
            path = target.split("?", 1)[0]
            if method == "GET" and path == "/stream":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                             b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
                for start in range(0, len(body), CHUNK):
                    part = body[start : start + CHUNK]
                    writer.write(b"%x\r\n" % len(part) + part + b"\r\n")
                    await writer.drain()
                writer.write(b"0\r\n\r\n")
                await writer.drain()
                break
            if method == "GET" and path.startswith("/api/sessions/"):
                status, payload = b"200 OK", _session()
            elif method == "GET" and path == "/api/sessions":
                status, payload = b"200 OK", b"[" + _session() + b"]"
            elif path in ("/health", "/api/health"):
                status, payload = b"200 OK", b'{"status":"ok"}'
            else:
                status, payload = b"404 Not Found", b'{"error":{"code":404,"message":"not found","type":"not_found"}}'
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(payload)).encode() + b"\r\n\r\n" + payload)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(n_events: int, ready_file: Path) -> None:
    body = build_body(n_events)
    server = await asyncio.start_server(lambda r, w: _handle(r, w, body), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    tmp = ready_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"url": f"http://127.0.0.1:{port}", "session_id": SESSION_ID, "events": n_events + 2, "bytes": len(body), "pid": os.getpid()}))
    tmp.replace(ready_file)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--ready-file", type=Path, required=True)
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.events, args.ready_file))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
