"""A bucket's objects with their processing status."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from tui.api.mixpeek.models import BucketObject

# Status -> style class colour, from the theme.
_STATUS_STYLE = {
    "COMPLETED": "green",
    "COMPLETED_WITH_ERRORS": "yellow",
    "FAILED": "red",
    "CANCELED": "red",
    "PROCESSING": "cyan",
    "IN_PROGRESS": "cyan",
    "PENDING": "cyan",
    "QUEUED": "cyan",
    "DRAFT": "dim",
}


class ObjectTable(DataTable[Text]):
    HELP = """\
## Objects

A bucket's objects: name, processing status (DRAFT until a batch is submitted), and why one failed.
"""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.objects: list[BucketObject] = []

    def on_mount(self) -> None:
        self.add_column("name", key="name", width=26)
        self.add_column("status", key="status", width=11)
        self.add_column("note", key="note", width=34)
        self.add_column("id", key="id", width=18)

    def show_objects(self, objects: list[BucketObject]) -> None:
        self.objects = list(objects)
        self.clear()
        for obj in objects:
            style = _STATUS_STYLE.get(obj.status, "")
            self.add_row(
                Text(obj.label),
                Text(obj.status or "?", style=style),
                Text(obj.error, style="red") if obj.error else Text(""),
                Text(obj.object_id, style="dim"),
                key=obj.object_id,
            )

    def status_of(self, object_id: str) -> str:
        for obj in self.objects:
            if obj.object_id == object_id:
                return obj.status
        return ""
