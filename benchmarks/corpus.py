"""The benchmark answer: a deterministic Markdown document and its token-sized chunks.

The full-size answer is ~13 kB with every block a chat answer has (headings, paragraphs with
inline styles, bullet and numbered lists, fenced code in several languages, a table) and is cut
into ~2,800 pieces the size of LLM tokens (a word or a piece of one, with its leading space;
punctuation on its own), the way a model streams it.

Needles make "painted" checkable on the screen: any answer text (`ANSWER_NEEDLES`, which start
with the first token `FIRST_WORD`), and the last line `LAST_LINE` (short, never wrapped at 120 columns).
"""

from __future__ import annotations

import re

FIRST_WORD = "Alright"
LAST_LINE = "End of the benchmark answer."
# Any answer text on screen: the first word, or words every section has (a view that follows the
# bottom may first paint a later part of the answer). None of them is in the prompt or the chrome.
ANSWER_NEEDLES = (FIRST_WORD, "Section", "pipeline", "measure again", "design review", "inline_code", "row 1")
FULL_SIZE = 13_000  # characters of the full answer
FULL_CHUNKS = 2_800  # pieces it is streamed in

_LANGS = ("python", "typescript", "bash", "sql")


def _code(lang: str, section: int) -> str:
    if lang == "python":
        return (
            f"```python\ndef handle_{section}(event: dict) -> dict:\n"
            f'    """Fold one event into the running totals."""\n'
            f"    total = sum(x * {section} for x in range(10))\n"
            f"    return {{'section': {section}, 'total': total, 'kind': event.get('type')}}\n```\n\n"
        )
    if lang == "typescript":
        return (
            f"```typescript\nexport function render{section}(items: string[]): string {{\n"
            f"  const lines = items.map((item, i) => `${{i + 1}}. ${{item}}`);\n"
            f"  return lines.join('\\n');\n}}\n```\n\n"
        )
    if lang == "bash":
        return f"```bash\nset -euo pipefail\nfor f in logs/*.txt; do\n  grep -c 'section {section}' \"$f\" || true\ndone\n```\n\n"
    return (
        f"```sql\nSELECT id, title, created_at\n  FROM sessions\n WHERE section = {section}\n"
        f" ORDER BY created_at DESC\n LIMIT 50;\n```\n\n"
    )


def build_answer(target: int = FULL_SIZE) -> str:
    """A Markdown answer of about `target` characters (deterministic; always ends with LAST_LINE)."""
    parts = [
        f"{FIRST_WORD}, here is the design review you asked for. It walks through each part of the "
        "system, shows the code that matters, and ends with a summary table.\n\n",
        "# Design review\n\n",
    ]
    size = sum(map(len, parts))
    section = 0
    tail = f"## Summary\n\n| part | status | owner |\n| --- | --- | --- |\n| client | done | ana |\n| server | review | bo |\n\n{LAST_LINE}\n"
    while size + len(tail) < target:
        section += 1
        block = [
            f"## Section {section}: notes and details\n\n",
            f"This part covers **step {section}** of the pipeline, with `inline_code()`, *emphasis* and a "
            "[link](https://example.com/docs). It goes on long enough to wrap over a couple of lines in a "
            "120-column terminal, which is what real answers do most of the time.\n\n",
            "- the first point, short\n- a second point that is a little longer than the first one\n"
            "  - a nested point under it\n- the third point\n\n",
            _code(_LANGS[section % len(_LANGS)], section),
        ]
        if section % 3 == 0:
            rows = "".join(f"| row {r} | {r * section} | {'ok' if r % 2 else 'check'} |\n" for r in range(4))
            block.append(f"| name | value | note |\n| --- | ---: | --- |\n{rows}\n")
        block.append("1. read the numbers\n2. change one thing\n3. measure again\n\n")
        text = "".join(block)
        if size + len(text) + len(tail) > target + 400 and section > 1:
            break
        parts.append(text)
        size += len(text)
    parts.append(tail)
    return "".join(parts)


# A token: optional leading spaces then a run of up to 7 letters/digits, or one other character,
# or a newline run. Long words become several tokens, like a BPE tokenizer would cut them.
_TOKEN = re.compile(r"\n+| *[A-Za-z0-9]{1,7}| *[^\sA-Za-z0-9]| +")


def token_chunks(text: str, target: int | None = None) -> list[str]:
    """Cut `text` into token-sized pieces; with `target`, merge neighbours evenly to about that many."""
    tokens = _TOKEN.findall(text)
    assert "".join(tokens) == text, "the tokenizer must not lose characters"
    if target is None or len(tokens) <= target:
        return tokens
    # Merge evenly: piece i takes tokens [bounds[i], bounds[i+1]).
    bounds = [round(i * len(tokens) / target) for i in range(target + 1)]
    return ["".join(tokens[a:b]) for a, b in zip(bounds, bounds[1:]) if b > a]


def answer_and_chunks(size: int = FULL_SIZE, chunks: int | None = FULL_CHUNKS) -> tuple[str, list[str]]:
    """The answer of `size` characters and its chunks (about `chunks` of them, scaled for small sizes)."""
    text = build_answer(size)
    target = None if chunks is None else max(1, round(chunks * len(text) / FULL_SIZE)) if size != FULL_SIZE else chunks
    return text, token_chunks(text, target)


def describe(text: str) -> dict[str, int]:
    """What the answer contains (reported with the results)."""
    lines = text.splitlines()
    return {
        "chars": len(text),
        "bytes": len(text.encode()),
        "headings": sum(1 for l in lines if l.startswith("#")),
        "code_fences": sum(1 for l in lines if l.startswith("```")) // 2,
        "table_rows": sum(1 for l in lines if l.startswith("|")),
        "list_items": sum(1 for l in lines if re.match(r"\s*(- |\d+\. )", l)),
    }
