"""Should msgspec or pydantic replace the hand-written Mix wire parsers? `python -m benchmarks.wire_models`

A one-off measurement for docs/wire-models.md (not part of `python -m benchmarks`: it needs msgspec and
pydantic, which mix-tui does not depend on; install them into the venv to run it). It compares, on the
biggest payload the client decodes (a session's history: `GET /api/sessions/{id}/messages`):
- decode throughput: bytes -> list of typed messages with their tool calls, same fields and the same
  normalisation (tool input/result as JSON text, `userInput` falling back to `text`/`content`);
- import time of each way, in fresh processes;
- lines of code of the equivalent definitions;
- tolerance: what each does with one odd value in an otherwise good payload (the hand-written
  parsers take any shape; PROTOCOL §2 lists the server generations' differences).
"""

from __future__ import annotations

import inspect
import json
import statistics
import subprocess
import sys
import time
from typing import Any, Callable

MESSAGES = 2_000
ROUNDS = 7


def payload(n: int = MESSAGES) -> bytes:
    """A history in the latest server's shape: user, assistant with a tool call, tool result, answer."""
    items: list[dict[str, Any]] = []
    for i in range(n):
        kind = i % 4
        base = {"id": f"m{i}", "sessionId": "s1", "createdAt": 1_700_000_000 + i, "model": "offline-1"}
        if kind == 0:
            items.append({**base, "role": "user", "userInput": f"Please look at file {i} and tell me what it does."})
        elif kind == 1:
            items.append({**base, "role": "assistant", "assistantResponse": "", "reasoning": "Reading the file first.",
                          "reasoningDuration": 0.4, "inputTokens": 1200, "outputTokens": 80, "cost": 0.0031,
                          "toolCalls": [{"id": f"t{i}", "name": "view", "input": {"file_path": f"src/f{i}.py"},
                                         "type": "tool_use", "finished": True}]})
        elif kind == 2:
            items.append({**base, "role": "tool", "toolCalls": [{"id": f"t{i - 1}", "name": "view", "input": "{}",
                                                                  "result": "def main():\n    return 0\n" * 20,
                                                                  "isError": False, "finished": True}]})
        else:
            items.append({**base, "role": "assistant", "assistantResponse": "It defines `main`, which returns 0. " * 12,
                          "inputTokens": 1500, "outputTokens": 160, "cacheReadTokens": 1100, "cost": 0.0042})
    return json.dumps(items).encode()


# ---------------------------------------------------------------- the three ways


def handwritten() -> Callable[[bytes], list]:
    from tui.api.mix.models import MessageData

    def decode(body: bytes) -> list:
        data = json.loads(body)
        return [MessageData.from_json(m) for m in (data if isinstance(data, list) else [])]

    return decode


MSGSPEC_MODELS = '''
import json
from typing import Any

import msgspec


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else json.dumps(value))


class ToolCallM(msgspec.Struct, rename="camel"):
    id: str = ""
    name: str = ""
    input: Any = ""
    type: str = ""
    finished: bool = False
    result: Any = None
    is_error: bool = False
    screenshot_urls: list[str] | None = None

    def __post_init__(self) -> None:
        self.input = _json_text(self.input)
        if self.result is not None and not isinstance(self.result, str):
            self.result = json.dumps(self.result)
        self.screenshot_urls = self.screenshot_urls or []


class MessageM(msgspec.Struct, rename="camel"):
    id: str = ""
    session_id: str = ""
    role: str = ""
    user_input: str | None = None
    text: str | None = None
    content: str | None = None
    assistant_response: str = ""
    tool_calls: list[ToolCallM] | None = None
    reasoning: str = ""
    reasoning_duration: float | None = None
    model: str = ""
    cost: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0

    def __post_init__(self) -> None:
        self.user_input = self.user_input if self.user_input is not None else (self.text or self.content or "")
        self.tool_calls = self.tool_calls or []
'''

PYDANTIC_MODELS = '''
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic.alias_generators import to_camel


class _Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ToolCallP(_Wire):
    id: str = ""
    name: str = ""
    input: str = ""
    type: str = ""
    finished: bool = False
    result: str | None = None
    is_error: bool = False
    screenshot_urls: list[str] = []

    @field_validator("input", "result", mode="before")
    @classmethod
    def _json_text(cls, value: Any) -> Any:
        return value if value is None or isinstance(value, str) else json.dumps(value)


class MessageP(_Wire):
    id: str = ""
    session_id: str = ""
    role: str = ""
    user_input: str = ""
    text: str | None = None
    content: str | None = None
    assistant_response: str = ""
    tool_calls: list[ToolCallP] = []
    reasoning: str = ""
    reasoning_duration: float | None = None
    model: str = ""
    cost: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0

    def model_post_init(self, _context: Any) -> None:
        if not self.user_input:
            self.user_input = self.text or self.content or ""
'''


def _module(source: str, name: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": name}
    exec(compile(source, name, "exec", dont_inherit=True), namespace)  # eager annotations
    return namespace


def with_msgspec() -> Callable[[bytes], list]:
    import msgspec

    models = _module(MSGSPEC_MODELS, "msgspec_models")
    decoder = msgspec.json.Decoder(list[models["MessageM"]])
    return decoder.decode


def with_pydantic() -> Callable[[bytes], list]:
    from pydantic import TypeAdapter

    models = _module(PYDANTIC_MODELS, "pydantic_models")
    return TypeAdapter(list[models["MessageP"]]).validate_json


# ---------------------------------------------------------------- measurements


def throughput(decode: Callable[[bytes], list], body: bytes) -> float:
    """Messages per second, the best of ROUNDS (the machine is shared: the best is the least disturbed)."""
    decode(body)  # warm
    best = float("inf")
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        decode(body)
        best = min(best, time.perf_counter() - t0)
    return MESSAGES / best


# Imported first, untimed: what the client has loaded anyway before it decodes anything.
ALREADY_LOADED = "import json, re, typing, dataclasses, datetime, httpx, httpx_sse, tui.api.backend, tui.api.turn"


def import_ms(code: str, runs: int = 5) -> float:
    """Median milliseconds `code` takes in a fresh interpreter that has ALREADY_LOADED."""
    def once() -> float:
        script = f"{ALREADY_LOADED}\nimport time\nt = time.perf_counter()\n{code}\nprint(time.perf_counter() - t)"
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
        return float(out.stdout.strip()) * 1000

    return statistics.median(once() for _ in range(runs))


def same_result(a: list, b: list) -> bool:
    fields = ("id", "role", "user_input", "assistant_response", "reasoning", "model", "cost", "input_tokens")
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if any(getattr(x, f) != getattr(y, f) for f in fields):
            return False
        if [(t.id, t.input, t.result, t.is_error) for t in x.tool_calls] != [(t.id, t.input, t.result, t.is_error) for t in y.tool_calls]:
            return False
    return True


def tolerance(decode: Callable[[bytes], list]) -> str:
    odd = json.loads(payload(8))
    odd[3]["cost"] = "n/a"  # a string where a number belongs
    odd[1]["toolCalls"][0]["finished"] = None
    odd[5]["inputTokens"] = None  # null where the spec says integer
    odd[0]["userInput"] = 42  # a number where text belongs
    try:
        out = decode(json.dumps(odd).encode())
    except Exception as exc:  # noqa: BLE001 — what it raises is the finding
        return f"rejects the whole history ({type(exc).__name__})"
    return f"keeps all {len(out)} messages"


def lines_of(obj: Any) -> int:
    source = obj if isinstance(obj, str) else inspect.getsource(obj)
    return sum(1 for line in source.splitlines() if line.strip() and not line.strip().startswith("#"))


def main() -> None:
    from tui.api.mix import coerce, models

    body = payload()
    ways = {"hand-written": handwritten(), "msgspec": with_msgspec(), "pydantic": with_pydantic()}
    reference = ways["hand-written"](body)
    print(f"payload: {MESSAGES} messages, {len(body) / 1024:.0f} KiB; python {sys.version.split()[0]}")
    import msgspec
    import pydantic
    print(f"msgspec {msgspec.__version__}, pydantic {pydantic.VERSION}")
    print("\nway            messages/s   same result   one odd value")
    for name, decode in ways.items():
        print(f"{name:<14} {throughput(decode, body):>10,.0f}   {str(same_result(reference, decode(body))):<12}  {tolerance(decode)}")

    print("\nimport, ms (median of 5 fresh processes that already have httpx and tui.api's core loaded)")
    print(f"  the whole Mix package, hand-written models included: {import_ms('import tui.api.mix'):.1f}")
    print(f"  msgspec + the two Structs:                           {import_ms(MSGSPEC_MODELS):.1f}")
    print(f"  pydantic + the two models:                           {import_ms(PYDANTIC_MODELS):.1f}")

    handwritten_lines = lines_of(models.ToolCallData) + lines_of(models.MessageData)
    helpers = sum(lines_of(getattr(coerce, n)) for n in ("_obj", "_list", "_str", "_int", "_float", "_opt_float", "_bool"))
    print("\nnon-blank lines for MessageData + ToolCallData")
    print(f"  hand-written: {handwritten_lines} (+ {helpers} of shared coercion helpers)")
    print(f"  msgspec:      {lines_of(MSGSPEC_MODELS)}   pydantic: {lines_of(PYDANTIC_MODELS)}")


if __name__ == "__main__":
    main()
