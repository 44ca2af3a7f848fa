"""The Knowledge screen: browse Mixpeek namespaces and buckets, upload files and watch them be
processed, search them with a retriever, and attach a result to the next chat message.

Every network call runs in a worker; the widgets only draw. Attaching posts `AttachContext` (which
bubbles to the App) and calls the `on_attach` callback when one was given.
"""

from __future__ import annotations

import glob
import inspect
import logging
import os
import shlex
from pathlib import Path
from typing import Any, Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Select, Static, Tree
from textual.worker import Worker

from tui.api.errors import ApiError
from tui.api.mixpeek.client import MixpeekClient
from tui.api.mixpeek.ingest import IngestProgress, ingest_file
from tui.api.mixpeek.models import Bucket, Namespace, Retriever, SearchResult
from tui.api.mixpeek.retry import RetryNotice
from tui.themes import themes_dir
from tui.widgets.mixpeek_objects import ObjectTable
from tui.widgets.mixpeek_results import ResultList
from tui.widgets.mixpeek_tree import KnowledgeNode, KnowledgeTree
from tui.widgets.mixpeek_uploads import UploadList, UploadRow

log = logging.getLogger(__name__)

MAX_LISTED = 500  # objects or buckets shown at most; the title says when there are more
SEARCH_PAGE = 20  # results per page of a search


class AttachContext(Message):
    """Put `text` (from `source`) into the composer as context for the next chat message."""

    def __init__(self, text: str, source: str, *, document_id: str = "", score: float | None = None, retriever: str = "", namespace: str = "") -> None:
        super().__init__()
        self.text = text
        self.source = source
        self.document_id = document_id
        self.score = score
        self.retriever = retriever
        self.namespace = namespace

    def as_context(self) -> str:
        """A plain-text block a chat composer can insert as is."""
        return f"[context from {self.source}]\n{self.text.strip()}\n[end of context]"


AttachCallback = Callable[[AttachContext], Any]


def unresolved_note(namespace: str) -> str:
    return f"⚠ Mixpeek could not resolve namespace '{namespace}': nothing was listed (this does not mean it is empty)"


class KnowledgeScreen(Screen[None]):
    CSS_PATH = [themes_dir() / "mixpeek.tcss"]

    HELP = """\
## Knowledge (Mixpeek)

- the tree on the left: namespaces and their buckets; `enter` on a bucket lists its objects
- `ctrl+o`: upload files into the chosen bucket (type paths separated by spaces, `enter`); each file
  gets a bar through upload, confirm, batch and processing, ending COMPLETED or FAILED with the reason
- `ctrl+f`: search; pick a retriever on the left of the box, type, `enter`
- in the results, `a` or `enter` attaches the result (text and source) to your next chat message;
  `n` fetches more results
- `ctrl+r`: reload · `escape`: stop what is loading (a rate-limit wait too), else back to the chat
  (asks again while uploads are running)
"""

    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("ctrl+o", "upload", "Upload"),
        Binding("ctrl+f", "search", "Search"),
        Binding("ctrl+r", "refresh", "Reload"),
    ]

    def __init__(
        self,
        client: MixpeekClient | None = None,
        *,
        on_attach: AttachCallback | None = None,
        namespace: str | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.client = client
        self._owns_client = client is None
        self.attach_callback = on_attach
        self.initial_namespace = namespace
        self.namespace: Namespace | None = None
        self.bucket: Bucket | None = None
        self.retrievers: list[Retriever] = []
        self.status_log: list[str] = []  # every status line shown, oldest first (tests and debugging read it)
        self.retry_notices: list[RetryNotice] = []
        self._previous_on_retry: Any = None
        self._pending_uploads = 0
        self._upload_outcomes: list[IngestProgress] = []
        self._leave_armed = False  # esc pressed once while uploads were running
        self._search: tuple[Retriever, str, str] | None = None  # retriever, query, next cursor

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Static("Knowledge · Mixpeek", id="mp-title")
        with Horizontal(id="mp-body"):
            yield KnowledgeTree(id="mp-tree")
            with Vertical(id="mp-main"):
                yield Static("Choose a bucket in the tree to see its objects.", id="mp-bucket-title", markup=False)
                yield ObjectTable(id="mp-objects")
                yield Input(placeholder="files to upload into the bucket: paths separated by spaces, then enter", id="mp-upload-input")
                yield UploadList(id="mp-uploads")
                with Horizontal(id="mp-search-bar"):
                    yield Select([], prompt="retriever", id="mp-retriever", compact=True)
                    yield Input(placeholder="search your files, then enter", id="mp-query")
                yield ResultList(id="mp-results")
        yield Static("", id="mp-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(UploadList).display = False
        self.query_one("#mp-upload-input").display = False
        if self._owns_client and self.client is not None and self.client.is_closed:
            self.client = None  # this screen was shown before and closed the client it had made
        if self.client is None:
            self.client = self._client_from_settings()
            if self.client is None:
                return
        self._previous_on_retry = self.client.on_retry
        self.client.on_retry = self._on_retry
        self.query_one(KnowledgeTree).focus()
        self.load_namespaces()

    async def on_unmount(self) -> None:
        if self.client is None:
            return
        self.client.on_retry = self._previous_on_retry
        if self._owns_client:
            await self.client.aclose()

    def _client_from_settings(self) -> MixpeekClient | None:
        """No client given: build one from the app's config and secrets, like the rest of the app."""
        from tui.config import Config, Secrets, resolve_paths

        config = getattr(self.app, "config", None) or Config()
        paths = getattr(self.app, "paths", None) or resolve_paths()
        try:
            return MixpeekClient.from_settings(config, Secrets(paths.secrets_file))
        except ApiError as exc:
            self.say(exc.message, "error")
            return None

    # ------------------------------------------------------------ status line

    def say(self, text: str, kind: str = "info") -> None:
        status = self.query_one("#mp-status", Static)
        status.update(text)
        for k in ("info", "error", "warn"):
            status.set_class(k == kind, f"-{k}")
        self.status_log.append(text)

    @property
    def status_text(self) -> str:
        return self.status_log[-1] if self.status_log else ""

    def _on_retry(self, notice: RetryNotice) -> None:
        self.retry_notices.append(notice)
        self.say(f"{notice.reason} Retrying in {notice.wait:.1f} s (retry {notice.attempt}) · esc cancels.", "warn")

    def _fail(self, exc: BaseException, doing: str) -> None:
        if isinstance(exc, ApiError):
            self.say(exc.message, "error")
        else:
            log.exception("mixpeek: %s failed", doing)
            self.say(f"Unexpected error while {doing}: {exc.__class__.__name__}: {exc}", "error")

    # ------------------------------------------------------------ namespaces and buckets

    @work(exclusive=True, group="mp-namespaces")
    async def load_namespaces(self) -> None:
        assert self.client is not None
        tree = self.query_one(KnowledgeTree)
        self.say("Loading namespaces…")
        try:
            client = self.client
            page = await client.collect(lambda **kw: client.list_namespaces(**kw), max_items=MAX_LISTED)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a sentence on screen
            tree.show_namespaces([], note="could not load namespaces")
            self._fail(exc, "loading namespaces")
            return
        note = "no namespaces yet" if not page.items else ""
        if page.next_cursor:
            note = f"showing the first {len(page.items)} namespaces"
        tree.show_namespaces(page.items, note=note)
        self.say(f"{len(page.items)} namespaces.")
        wanted = self.initial_namespace or (self.namespace.namespace_id if self.namespace else None) or self.client.namespace
        node = tree.namespace_node(wanted) if wanted else None
        if node is None and wanted and not page.items:
            return
        if node is None and wanted:
            self.say(unresolved_note(wanted), "warn")
        node = node or next((n for n in tree.root.children if n.data and n.data.kind == "namespace"), None)
        if node is not None and node.data is not None and node.data.namespace is not None:
            tree.move_cursor(node)
            node.expand()
            self.choose_namespace(node.data.namespace)

    def choose_namespace(self, namespace: Namespace) -> None:
        if self.namespace is not None and self.namespace.namespace_id == namespace.namespace_id:
            return
        self.namespace = namespace
        assert self.client is not None
        self.client.namespace = namespace.namespace_id
        self.query_one("#mp-title", Static).update(f"Knowledge · Mixpeek · {namespace.namespace_name}")
        self.load_retrievers(namespace)

    @on(Tree.NodeExpanded, "#mp-tree")
    def _namespace_opened(self, event: Tree.NodeExpanded[KnowledgeNode]) -> None:
        data = event.node.data
        if data is None or data.kind != "namespace" or data.namespace is None:
            return
        tree = self.query_one(KnowledgeTree)
        if data.namespace.namespace_id not in tree.loaded:
            tree.loaded.add(data.namespace.namespace_id)
            tree.show_loading(event.node)
            self.load_buckets(event.node)

    @on(Tree.NodeSelected, "#mp-tree")
    def _node_chosen(self, event: Tree.NodeSelected[KnowledgeNode]) -> None:
        data = event.node.data
        if data is None or data.namespace is None:
            return
        self.choose_namespace(data.namespace)
        if data.kind == "bucket" and data.bucket is not None:
            self.bucket = data.bucket
            self.load_objects(data.namespace, data.bucket)

    @work(group="mp-buckets")
    async def load_buckets(self, node: Any) -> None:
        assert self.client is not None and node.data is not None
        ns: Namespace = node.data.namespace
        tree = self.query_one(KnowledgeTree)
        client = self.client
        try:
            page = await client.collect(lambda **kw: client.list_buckets(namespace=ns.namespace_id, **kw), max_items=MAX_LISTED)
        except Exception as exc:  # noqa: BLE001
            tree.show_node_error(node, "could not load buckets")
            self._fail(exc, f"loading the buckets of {ns.namespace_name}")
            return
        note = ""
        if page.unresolved:
            note = unresolved_note(ns.namespace_name)
            self.say(note, "warn")
        elif page.next_cursor:
            note = f"showing the first {len(page.items)} buckets"
        tree.show_buckets(node, page.items, note=note)

    @work(exclusive=True, group="mp-objects")
    async def load_objects(self, ns: Namespace, bucket: Bucket) -> None:
        assert self.client is not None
        title = self.query_one("#mp-bucket-title", Static)
        table = self.query_one(ObjectTable)
        title.update(f"{ns.namespace_name} / {bucket.bucket_name} · loading objects…")
        client = self.client
        try:
            page = await client.collect(
                lambda **kw: client.list_objects(bucket.bucket_id, namespace=ns.namespace_id, **kw), max_items=MAX_LISTED
            )
        except Exception as exc:  # noqa: BLE001
            title.update(f"{ns.namespace_name} / {bucket.bucket_name} · could not load objects")
            self._fail(exc, f"loading the objects of {bucket.bucket_name}")
            return
        table.show_objects(page.items)
        if page.unresolved:
            note = unresolved_note(ns.namespace_name)
            title.update(f"{ns.namespace_name} / {bucket.bucket_name} · {note}")
            self.say(note, "warn")
            return
        if not page.next_cursor:
            self.query_one(KnowledgeTree).update_object_count(bucket.bucket_id, len(page.items))
        more = " (more not shown)" if page.next_cursor else ""
        count = f"{len(page.items)} object{'s' if len(page.items) != 1 else ''}{more}" if page.items else "no objects yet; ctrl+o uploads files"
        title.update(f"{ns.namespace_name} / {bucket.bucket_name} · {count}")

    # ------------------------------------------------------------ uploads

    def action_upload(self) -> None:
        if self.bucket is None:
            self.say("Choose a bucket in the tree first; files are uploaded into it.", "warn")
            return
        box = self.query_one("#mp-upload-input", Input)
        box.display = True
        box.focus()

    @on(Input.Submitted, "#mp-upload-input")
    def _upload_submitted(self, event: Input.Submitted) -> None:
        paths = self.parse_paths(event.value)
        if paths is None:
            return
        if not paths:
            self.say("Type the paths of the files to upload, separated by spaces.", "warn")
            return
        event.input.value = ""
        self.upload_files(paths)

    def parse_paths(self, text: str) -> list[Path] | None:
        """Paths as a shell would split them (quotes for spaces), with ~ and globs expanded."""
        try:
            words = shlex.split(text)
        except ValueError as exc:
            self.say(f"Could not read the file list: {exc}.", "error")
            return None
        out: list[Path] = []
        for word in words:
            expanded = os.path.expanduser(word)
            matches = sorted(glob.glob(expanded)) if glob.has_magic(expanded) else [expanded]
            out.extend(Path(m) for m in (matches or [expanded]))
        return out

    def upload_files(self, paths: list[Path]) -> list[UploadRow]:
        """Start one worker per file; returns the rows (one progress bar each)."""
        if self.bucket is None or self.namespace is None:
            self.say("Choose a bucket in the tree first; files are uploaded into it.", "warn")
            return []
        uploads = self.query_one(UploadList)
        rows = [uploads.add_file(p) for p in paths]
        self._pending_uploads += len(rows)
        self.say(f"Uploading {len(rows)} file{'s' if len(rows) != 1 else ''} into {self.bucket.bucket_name}…")
        for row in rows:
            self.ingest_one(row, self.namespace, self.bucket)
        return rows

    @work(group="mp-upload")
    async def ingest_one(self, row: UploadRow, ns: Namespace, bucket: Bucket) -> None:
        assert self.client is not None
        try:
            final = await ingest_file(self.client, bucket, row.path, on_progress=row.show, namespace=ns.namespace_id)
        except Exception as exc:  # noqa: BLE001 - ingest_file reports API errors itself; this is the rest
            final = IngestProgress(path=row.path, stage="failed", fraction=1.0, status="FAILED", message=str(exc) or type(exc).__name__)
            row.show(final)
        self._upload_outcomes.append(final)
        self._pending_uploads -= 1
        if self._pending_uploads == 0:
            done = self._upload_outcomes
            self._upload_outcomes = []
            failed = [p for p in done if p.failed]
            if failed:
                reasons = "; ".join(f"{p.path.name}: {p.message}" for p in failed[:3])
                self.say(f"{len(done) - len(failed)} of {len(done)} files processed; failed: {reasons}", "error")
            else:
                self.say(f"{len(done)} file{'s' if len(done) != 1 else ''} processed and searchable.")
            if self.bucket is not None and self.bucket.bucket_id == bucket.bucket_id:
                self.load_objects(ns, bucket)

    # ------------------------------------------------------------ retrievers and search

    @work(exclusive=True, group="mp-retrievers")
    async def load_retrievers(self, ns: Namespace) -> None:
        assert self.client is not None
        select: Select[str] = self.query_one("#mp-retriever", Select)
        client = self.client
        try:
            page = await client.collect(lambda **kw: client.list_retrievers(namespace=ns.namespace_id, **kw), max_items=MAX_LISTED)
        except Exception as exc:  # noqa: BLE001
            self.retrievers = []
            select.set_options([])
            self._fail(exc, f"loading the retrievers of {ns.namespace_name}")
            return
        self.retrievers = page.items
        select.set_options([(r.label, r.retriever_id) for r in page.items])
        if page.items:
            select.value = page.items[0].retriever_id
        elif page.unresolved:
            self.say(unresolved_note(ns.namespace_name), "warn")
        else:
            self.say(f"Namespace {ns.namespace_name} has no retrievers yet, so it cannot be searched.", "warn")

    def action_search(self) -> None:
        self.query_one("#mp-query", Input).focus()

    def chosen_retriever(self) -> Retriever | None:
        value = self.query_one("#mp-retriever", Select).value
        for r in self.retrievers:
            if r.retriever_id == value:
                return r
        return self.retrievers[0] if self.retrievers else None

    @on(Input.Submitted, "#mp-query")
    def _query_submitted(self, event: Input.Submitted) -> None:
        query = event.value.strip()
        if not query:
            self.say("Type what to search for.", "warn")
            return
        retriever = self.chosen_retriever()
        if retriever is None:
            self.say("There is no retriever to search with in this namespace.", "warn")
            return
        self.run_search(retriever, query)

    @work(exclusive=True, group="mp-search")
    async def run_search(self, retriever: Retriever, query: str, cursor: str | None = None) -> None:
        assert self.client is not None
        results_view = self.query_one(ResultList)
        self.say(f"Searching with {retriever.label}…")
        try:
            results = await self.client.search(retriever, query, limit=SEARCH_PAGE, cursor=cursor)
        except Exception as exc:  # noqa: BLE001
            if cursor is None:
                results_view.show_results([])
            self._fail(exc, "searching")
            return
        more = results.pagination.cursor if results.pagination.has_next else None
        self._search = (retriever, query, more or "")
        if cursor is not None:
            start = len(results_view.results)
            for i, doc in enumerate(results.documents):
                doc.rank = start + i + 1  # ranks continue across pages
            results_view.add_results(results.documents)
        else:
            results_view.show_results(results.documents)
        if results_view.results:
            results_view.focus()
            hint = " · n shows more" if more else ""
            self.say(f"{len(results_view.results)} results for “{query}” · a or enter attaches the highlighted one to your next message{hint}.")
        elif results.unresolved:
            self.say(unresolved_note(self.namespace.namespace_name if self.namespace else ""), "warn")
        elif results.error:
            self.say(f"The search failed: {results.error}", "error")
        else:
            self.say(f"No matches for “{query}”.")

    @on(ResultList.MoreRequested)
    def _more_requested(self, event: ResultList.MoreRequested) -> None:
        event.stop()
        if self._search is None or not self._search[2]:
            self.say("There are no more results for this search.")
            return
        retriever, query, cursor = self._search
        self.run_search(retriever, query, cursor)

    @on(ResultList.AttachRequested)
    async def _attach_requested(self, event: ResultList.AttachRequested) -> None:
        event.stop()
        await self.attach(event.result)

    async def attach(self, result: SearchResult) -> AttachContext:
        retriever = self.chosen_retriever()
        message = AttachContext(
            result.text or result.snippet(),
            result.citation,
            document_id=result.document_id,
            score=result.score,
            retriever=retriever.label if retriever else "",
            namespace=self.namespace.namespace_name if self.namespace else "",
        )
        if self.attach_callback is not None:
            outcome = self.attach_callback(message)
            if inspect.isawaitable(outcome):
                await outcome
        self.post_message(message)
        self.say(f"Attached {result.source} to your next message.")
        return message

    # ------------------------------------------------------------ other keys

    def action_refresh(self) -> None:
        if self.client is None:
            self.client = self._client_from_settings()
            if self.client is None:
                return
            self.client.on_retry = self._on_retry
        self.load_namespaces()
        if self.namespace is not None and self.bucket is not None:
            self.load_objects(self.namespace, self.bucket)

    def _my_workers(self, uploads: bool) -> list[Worker[Any]]:
        return [w for w in self.app.workers if w.node is self and w.is_running and (w.group == "mp-upload") == uploads]

    def action_close(self) -> None:
        """esc: first stop what is loading (a retry wait included); with uploads running, ask for a
        second esc (leaving stops them); otherwise go back."""
        busy = self._my_workers(uploads=False)
        if busy:
            for worker in busy:
                worker.cancel()
            self.say("Cancelled.", "warn")
            return
        uploads = self._my_workers(uploads=True)
        if uploads and not self._leave_armed:
            self._leave_armed = True
            self.say(f"{len(uploads)} upload{'s are' if len(uploads) != 1 else ' is'} still running: esc again leaves and stops them.", "warn")
            return
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
