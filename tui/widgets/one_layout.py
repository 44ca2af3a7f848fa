"""One layout per growth: a `virtual_size` that does not ask for a second layout.

Textual's `Widget.virtual_size` is a reactive that lays out again when it changes. After a layout
in which a widget grew, Textual stores the widget's new virtual size, and that asks for another
layout and a full repaint of the widget: a second frame in which nothing moves. While an answer
streams, that frame (8-14 ms: the answer, its message and the transcript laid out and repainted
again) came after every growth, and a key typed meanwhile was painted only with it. The widgets
that grow with a streaming answer declare `virtual_size = virtual_size_set_by_layout()`: the
layout that measured the new size has already placed and painted them.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive


def virtual_size_set_by_layout() -> Reactive[Size]:
    return Reactive(Size(0, 0), layout=False, repaint=False)
