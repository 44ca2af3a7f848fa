"""The banner shown when the embedded server keeps stopping and the app stopped restarting it:
what happened, the last lines of the server's log, and the key that tries again."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class ServerDownBanner(Static):
    def __init__(self, line: str, log_tail: str, key: str) -> None:
        super().__init__(markup=False)
        self.line = line
        self.log_tail = log_tail
        self.key = key

    def on_mount(self) -> None:
        self.update(self.content)

    @property
    def content(self) -> Content:
        parts: list[str | tuple[str, str]] = [("⚠ ", "bold"), (self.line, "bold"), f" Press {self.key} to try again."]
        if self.log_tail:
            parts.append(("\nThe server's log ends with:\n" + self.log_tail, "dim"))
        parts.append("\nYour text and the conversations are kept.")
        return Content.assemble(*parts)

    @property
    def text(self) -> str:
        return self.content.plain
