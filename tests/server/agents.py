"""Small real agents for runner tests: they follow the seed-era event order of PROTOCOL §5.6."""

from __future__ import annotations

import asyncio
import json


class EchoAgent:
    """Thinking, then the answer in three chunks, then `complete`."""

    async def run_turn(self, ctx, text: str) -> None:
        await ctx.emit("thinking", {"type": "thinking", "content": "Reading the request."})
        answer = f"You said: {text}"
        for part in ("You said", ": ", text):
            await ctx.emit("content", {"type": "content", "content": part})
        mid = ctx.store_message("assistant", answer, reasoning="Reading the request.", reasoning_duration=0.5,
                                finish_reason="end_turn", model="test-1")
        await ctx.emit("complete", {"type": "complete", "content": answer, "messageId": mid, "done": True,
                                    "reasoning": "Reading the request.", "reasoningDuration": 0.5})


class WriterAgent:
    """Asks to write `note.txt` with the text; writes it only when granted."""

    async def run_turn(self, ctx, text: str) -> None:
        call_id = "toolu_test1"
        params = {"file_path": "note.txt", "content": text}
        await ctx.emit("tool", {"type": "tool", "name": "write", "input": "", "id": call_id, "status": "running"})
        await ctx.emit("tool", {"type": "tool", "name": "write", "input": "", "id": call_id, "status": "completed"})
        await ctx.emit("tool_execution_start", {"type": "tool_execution_start", "toolName": "write",
                                                "progress": "Executing write tool", "toolCallId": call_id})
        granted = await ctx.request_permission(tool_name="write", description="Create file note.txt", action="write",
                                               path=str(ctx.session_dir), params=params)
        if granted:
            (ctx.session_dir / "note.txt").write_text(text)
            progress, answer = "Completed write tool in 1ms", "Wrote note.txt."
        else:
            progress, answer = "Failed write tool after 1ms: permission denied", "Permission was denied; nothing written."
        await ctx.emit("tool_execution_complete", {"type": "tool_execution_complete", "toolName": "write",
                                                   "progress": progress, "success": granted, "toolCallId": call_id})
        call = {"id": call_id, "name": "write", "input": json.dumps(params), "type": "tool_use", "finished": True}
        await ctx.emit("tool", {"type": "tool", "name": "write", "input": call["input"], "id": call_id, "status": "completed"})
        ctx.store_message("assistant", "", tool_calls=[call], finish_reason="tool_use")
        ctx.store_message("tool", "", tool_calls=[{**call, "result": progress, "isError": not granted}])
        await ctx.emit("content", {"type": "content", "content": answer})
        mid = ctx.store_message("assistant", answer, finish_reason="end_turn")
        await ctx.emit("complete", {"type": "complete", "content": answer, "messageId": mid, "done": True})


class SlowAgent:
    """Streams a first chunk, then waits until cancelled; keeps the partial text like the real agent."""

    async def run_turn(self, ctx, text: str) -> None:
        await ctx.emit("content", {"type": "content", "content": "Working"})
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            ctx.store_message("assistant", "Working", finish_reason="canceled")
            raise
        await ctx.emit("complete", {"type": "complete", "content": "done", "done": True})


class BrokenAgent:
    async def run_turn(self, ctx, text: str) -> None:
        await ctx.emit("content", {"type": "content", "content": "partial"})
        raise RuntimeError("tool exploded")


class SilentAgent:
    """Ends without a terminal event: the runner must close the turn itself."""

    async def run_turn(self, ctx, text: str) -> None:
        await ctx.emit("content", {"type": "content", "content": "hm"})


class ChattyAgent:
    """3,000 tiny deltas, as a long answer streams."""

    async def run_turn(self, ctx, text: str) -> None:
        for i in range(3000):
            await ctx.emit("content", {"type": "content", "content": f"w{i} "})
        mid = ctx.store_message("assistant", "".join(f"w{i} " for i in range(3000)))
        await ctx.emit("complete", {"type": "complete", "content": "ok", "messageId": mid, "done": True})
