"""The MixerLead knowledge screen: the workspace's knowledge sources with their status, chunk
count and enabled switch; add a URL, a text, a file or a whole site (crawl) and watch each one
until MixerLead has indexed it; re-index or delete (after asking).

Every network call runs in a worker. MixerLead has no per-source status endpoint and no crawl
status, so one poller re-reads the list while something is indexing and updates the table and the
progress rows from it. Text typed into the add fields is cleared only once MixerLead accepted it.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Select, Static, TextArea

from tui.api.mixerlead.models import KnowledgeSource
from tui.api.mixerlead.retry import RetryNotice
from tui.screens.confirm import ConfirmScreen
from tui.screens.mixerlead_common import client_of, error_sentence, retry_sentence
from tui.themes import themes_dir
from tui.widgets.mixerlead_sources import AdditionList, AdditionRow, SourceTable

KINDS = [("URL", "url"), ("Text", "text"), ("File", "file"), ("Crawl a site", "crawl")]
PLACEHOLDERS = {
    "url": "a page to add, e.g. https://example.com/pricing, then enter",
    "text": "type or paste the text below, then ctrl+s",
    "file": "path of a file to upload, then enter",
    "crawl": "the site to crawl from, e.g. https://example.com, then enter",
}
MAX_WATCH = 600.0  # seconds an addition is watched before the screen stops waiting for it
CRAWL_PAGES = 12


class MixerLeadKnowledgeScreen(Screen[None]):
    CSS_PATH = [themes_dir() / "mixerlead.tcss"]

    HELP = """\
## Knowledge (MixerLead)

- the table lists every source with its status, chunk count, last indexing time and last error
- `space` or `e` on a row turns the source on or off (only enabled sources ground answers)
- `r` re-indexes the source (after a failure) · `d` or `delete` deletes it, after asking
- `a` goes to the add bar: choose URL, Text, File or Crawl, then type and `enter` (text: `ctrl+s`);
  a row shows the upload and then the indexing until MixerLead says `indexed` (or the error)
- `ctrl+r` reloads · `escape` goes back
- MixerLead does not say how a crawl is going: its pages appear in the table as they are indexed
"""

    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("a", "focus_add", "Add"),
        Binding("ctrl+s", "submit_add", "Add text", show=False),
        Binding("ctrl+r", "reload", "Reload"),
    ]

    def __init__(self, source: Any, *, poll_interval: float = 1.0, id: str | None = None) -> None:
        super().__init__(id=id)
        self.client = client_of(source)
        self.poll_interval = poll_interval
        self.status_log: list[str] = []  # every status line shown, oldest first (tests read it)
        self.pending: dict[str, tuple[AdditionRow, float]] = {}  # source id -> (row, watched since)
        self._polling = False
        self._previous_on_retry: Any = None

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Static("Knowledge · MixerLead", id="ml-kb-title")
        yield SourceTable(id="ml-sources")
        with Horizontal(id="ml-add-bar"):
            yield Select(KINDS, value="url", allow_blank=False, id="ml-add-kind", compact=True)
            yield Input(placeholder=PLACEHOLDERS["url"], id="ml-add-input")
            yield Input(placeholder="name (optional)", id="ml-add-name")
        yield TextArea(id="ml-add-text", soft_wrap=True)
        yield AdditionList(id="ml-additions")
        yield Static("", id="ml-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#ml-add-text").display = False
        self.query_one(AdditionList).display = False
        self._previous_on_retry = self.client.on_retry
        self.client.on_retry = self._on_retry
        self.query_one(SourceTable).focus()
        self.action_reload()

    def on_unmount(self) -> None:
        if self.client.on_retry == self._on_retry:
            self.client.on_retry = self._previous_on_retry

    def _on_retry(self, notice: RetryNotice) -> None:
        self.say(retry_sentence(notice))

    def say(self, text: str, *, error: bool = False) -> None:
        self.status_log.append(text)
        status = self.query_one("#ml-status", Static)
        status.update(text)
        status.set_class(error, "ml-error")

    @property
    def table(self) -> SourceTable:
        return self.query_one(SourceTable)

    # ------------------------------------------------------------ listing and polling

    def action_reload(self) -> None:
        self._reload()

    @work(group="ml-kb-list", exclusive=True)
    async def _reload(self) -> None:
        try:
            sources = await self.client.list_knowledge()
        except Exception as exc:  # noqa: BLE001 — shown; the table keeps what it had
            self.say(error_sentence(exc, "list the knowledge sources"), error=True)
            return
        self._show(sources)
        self.say(self._summary(sources))
        self._ensure_polling(sources)

    def _summary(self, sources: list[KnowledgeSource]) -> str:
        if not sources:
            return "No knowledge sources yet: press a to add a URL, a text, a file or a site."
        on = sum(1 for s in sources if s.enabled)
        indexing = sum(1 for s in sources if not s.is_settled)
        extra = f" · {indexing} still indexing" if indexing else ""
        return f"{len(sources)} sources · {on} on{extra}"

    def _show(self, sources: list[KnowledgeSource]) -> None:
        self.table.set_sources(sources)
        by_id = {s.id: s for s in sources}
        now = time.monotonic()
        for source_id, (row, since) in list(self.pending.items()):
            source = by_id.get(source_id)
            if source is None:
                if now - since > MAX_WATCH:
                    row.set_status("failed", "not listed by MixerLead; press ctrl+r to check again")
                    self.pending.pop(source_id)
                continue
            if source.is_indexed:
                chunks = f" · {source.chunk_count} chunks" if source.chunk_count is not None else ""
                row.set_status("indexed", f"✓ indexed{chunks}")
                self.pending.pop(source_id)
            elif source.has_failed:
                row.set_status("failed", f"✗ {source.last_error or source.status}; press r on it to re-index")
                self.pending.pop(source_id)
            elif now - since > MAX_WATCH:
                row.set_status("failed", f"still {source.status or 'indexing'} after {MAX_WATCH / 60:.0f} min; it may finish later")
                self.pending.pop(source_id)
            else:
                row.set_status("indexing", f"… {source.status or 'indexing'}")

    def _ensure_polling(self, sources: list[KnowledgeSource] | None = None) -> None:
        busy = bool(self.pending) or any(not s.is_settled for s in (sources if sources is not None else self.table.sources))
        if busy and not self._polling:
            self._polling = True
            self._poll()

    @work(group="ml-kb-poll", exclusive=True)
    async def _poll(self) -> None:
        try:
            while True:
                await asyncio.sleep(self.poll_interval)
                try:
                    sources = await self.client.list_knowledge()
                except Exception as exc:  # noqa: BLE001
                    self.say(error_sentence(exc, "check the indexing"), error=True)
                    continue
                self._show(sources)
                unsettled = [s for s in sources if not s.is_settled]
                if not self.pending and not unsettled:
                    self.say(self._summary(sources))
                    return
        finally:
            self._polling = False

    # ------------------------------------------------------------ adding

    def action_focus_add(self) -> None:
        kind = self.query_one("#ml-add-kind", Select).value
        (self.query_one("#ml-add-text") if kind == "text" else self.query_one("#ml-add-input")).focus()

    @on(Select.Changed, "#ml-add-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        kind = str(event.value)
        field = self.query_one("#ml-add-input", Input)
        field.placeholder = PLACEHOLDERS.get(kind, "")
        field.display = kind != "text"
        self.query_one("#ml-add-text").display = kind == "text"

    @on(Input.Submitted, "#ml-add-input")
    @on(Input.Submitted, "#ml-add-name")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit_add()

    def action_submit_add(self) -> None:
        kind = str(self.query_one("#ml-add-kind", Select).value)
        name = self.query_one("#ml-add-name", Input).value.strip() or None
        if kind == "text":
            text = self.query_one("#ml-add-text", TextArea).text
            if not text.strip():
                self.say("Type or paste some text first; nothing was sent.", error=True)
                return
            self._add(kind, text, name)
            return
        value = self.query_one("#ml-add-input", Input).value.strip()
        if not value:
            self.say(f"Nothing to add: {PLACEHOLDERS[kind].split(',')[0]}.", error=True)
            return
        if kind in ("url", "crawl") and not value.startswith(("http://", "https://")):
            self.say(f"{value!r} is not a web address: it must start with http:// or https://. Nothing was sent.", error=True)
            return
        if kind == "file":
            path = Path(value).expanduser()
            if not path.is_file():
                self.say(f"No file at {path}; nothing was sent.", error=True)
                return
            value = str(path)
        self._add(kind, value, name)

    @work(group="ml-kb-add")
    async def _add(self, kind: str, value: str, name: str | None) -> None:
        label = name or (Path(value).name if kind == "file" else (value.strip().splitlines()[0][:40] if kind == "text" else value))
        total = Path(value).stat().st_size if kind == "file" else None
        row = self.query_one(AdditionList).add(f"{kind}: {label}", total=total)
        try:
            if kind == "url":
                added = await self.client.add_knowledge_url(value, name=name)
            elif kind == "text":
                added = await self.client.add_knowledge_text(value, name=name)
            elif kind == "file":
                added = await self.client.upload_knowledge_file(value, name=name, on_progress=row.set_bytes)
            else:
                crawl = await self.client.crawl(value, max_pages=CRAWL_PAGES)
                row.set_status("started", f"crawl started (up to {crawl.max_pages or CRAWL_PAGES} pages); "
                                          "its pages appear in the table as MixerLead indexes them")
                self._clear_inputs(kind)
                self.say(f"Crawl {crawl.crawl_id} started from {value}.")
                self.action_reload()
                return
        except Exception as exc:  # noqa: BLE001 — shown; what was typed stays in the fields
            message = error_sentence(exc, f"add the {kind}")
            row.set_status("failed", message)
            self.say(message + " What you typed is kept.", error=True)
            return
        self._clear_inputs(kind)
        row.set_status("indexing", f"… {added.status or 'indexing'}")
        self.pending[added.id] = (row, time.monotonic())
        self.say(f"Added {label}; MixerLead is indexing it.")
        self._ensure_polling()

    def _clear_inputs(self, kind: str) -> None:
        if kind == "text":
            self.query_one("#ml-add-text", TextArea).text = ""
        else:
            self.query_one("#ml-add-input", Input).value = ""
        self.query_one("#ml-add-name", Input).value = ""

    # ------------------------------------------------------------ row actions

    def action_toggle_source(self) -> None:
        source = self.table.selected_source
        if source is None:
            self.say("No source is highlighted.")
            return
        self._toggle(source)

    @work(group="ml-kb-edit")
    async def _toggle(self, source: KnowledgeSource) -> None:
        wanted = not source.enabled
        try:
            await self.client.set_knowledge_enabled(source.id, wanted)
            sources = await self.client.list_knowledge()  # the PATCH answer is undocumented: read back
        except Exception as exc:  # noqa: BLE001
            self.say(error_sentence(exc, "turn the source " + ("on" if wanted else "off")), error=True)
            return
        self._show(sources)
        now = next((s for s in sources if s.id == source.id), None)
        if now is not None and now.enabled != wanted:
            self.say(f"MixerLead accepted the change but still lists {source.label} as {'on' if now.enabled else 'off'}.", error=True)
            return
        self.say(f"{source.label} is now {'on: it grounds answers' if wanted else 'off: it no longer grounds answers'}.")

    def action_reindex_source(self) -> None:
        source = self.table.selected_source
        if source is None:
            self.say("No source is highlighted.")
            return
        self._reindex(source)

    @work(group="ml-kb-edit")
    async def _reindex(self, source: KnowledgeSource) -> None:
        try:
            await self.client.reindex_knowledge(source.id)
        except Exception as exc:  # noqa: BLE001
            self.say(error_sentence(exc, "re-index the source"), error=True)
            return
        row = self.query_one(AdditionList).add(f"re-index: {source.label}")
        row.set_status("indexing", "… indexing")
        self.pending[source.id] = (row, time.monotonic())
        self.say(f"Re-indexing {source.label}.")
        self._ensure_polling()

    def action_delete_source(self) -> None:
        source = self.table.selected_source
        if source is None:
            self.say("No source is highlighted.")
            return

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self._delete(source)
            else:
                self.say("Nothing was deleted.")

        self.app.push_screen(ConfirmScreen(f"Delete the knowledge source “{source.label}”? MixerLead will stop using it "
                                           "for answers. This cannot be undone."), answered)

    @work(group="ml-kb-edit")
    async def _delete(self, source: KnowledgeSource) -> None:
        try:
            await self.client.delete_knowledge(source.id)
            sources = await self.client.list_knowledge()
        except Exception as exc:  # noqa: BLE001
            self.say(error_sentence(exc, "delete the source"), error=True)
            return
        self.pending.pop(source.id, None)
        self._show(sources)
        self.say(f"Deleted {source.label}.")

    def action_close(self) -> None:
        self.dismiss(None)
