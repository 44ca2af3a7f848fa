"""Cutting an answer into parts at `block_starts` never changes how it looks: the parts drawn
apart and joined by one empty line are the text drawn whole, whatever the blocks and the cuts."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.segment import Segment
from textual.strip import Strip

from tui.widgets.markdown_render import ChatMarkdown, block_starts, evenly_spaced

BLOCKS = [
    "A paragraph with **bold**, `code` and a [link](http://x.io).",
    "A paragraph\nover two lines.",
    "# Heading one",
    "## Heading two",
    "### Heading three",
    "```python\ndef f(x):\n\n    return x  # a blank line inside the fence\n```",
    "````\n```\nnot a fence end\n```\n\n````",
    "~~~\ntilde fence\n\n~~~",
    "- tight\n- list",
    "- loose\n\n- list\n\n  with a continued paragraph",
    "1. one\n2. two\n\n3. three",
    "- outer\n  - inner\n  - inner two",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "> a quote\n> on two lines",
    "---",
    "    indented code\n\n    more indented code",
    "Setext heading\n==============",
]


def draw(text: str) -> list[str]:
    console = Console(width=60, file=io.StringIO(), color_system="truecolor")
    segments = console.render(ChatMarkdown(text.strip("\n"), code_theme="monokai", hyperlinks=False), console.options)
    lines = Segment.split_and_crop_lines(segments, 60, include_new_lines=False, pad=False)
    return [strip.text.rstrip() for strip in evenly_spaced([Strip(line) for line in lines])]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(BLOCKS), min_size=2, max_size=8), st.data())
def test_parts_cut_at_block_starts_look_like_the_whole_text(blocks: list[str], data: st.DataObject) -> None:
    text = "\n\n".join(blocks) + "\n"
    lines = text.split("\n")
    starts = [start for start in block_starts(text) if start > 0]
    cuts = sorted(data.draw(st.sets(st.sampled_from(starts))) if starts else set())
    parts = ["\n".join(lines[top:bottom]) for top, bottom in zip([0, *cuts], [*cuts, len(lines)])]
    joined: list[str] = []
    for part in parts:
        drawn = draw(part)
        if joined and drawn:
            joined.append("")
        joined += drawn
    assert joined == draw(text)


def test_no_cut_inside_fenced_code_or_an_indented_continuation() -> None:
    text = "Intro\n\n```py\nx\n\ny\n```\n\n- a\n\n  more\n- b\n\n    code\n\n    code2\n\nEnd\n"
    assert block_starts(text) == [0, 2, 8, 17]
