"""Mixpeek namespaces and their buckets as a tree. It only draws: the Knowledge screen loads the
data (in workers) and calls `show_namespaces` / `show_buckets`; a namespace's buckets are loaded
the first time it is expanded."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tui.api.mixpeek.models import Bucket, Namespace


@dataclass(frozen=True)
class KnowledgeNode:
    """What a tree node stands for. `kind` is "namespace", "bucket" or "note" (loading, warnings)."""

    kind: str
    namespace: Namespace | None = None
    bucket: Bucket | None = None


def _count(n: int | None, word: str) -> str:
    return "" if n is None else f" · {n} {word}"


class KnowledgeTree(Tree[KnowledgeNode]):
    HELP = """\
## Knowledge tree

- `↑`/`↓`: move · `enter`/`space`: open a namespace or show a bucket's objects
- a namespace shows its buckets the first time it is opened
"""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("Mixpeek", id=id, classes=classes)
        self.show_root = False
        self.guide_depth = 2
        self.loaded: set[str] = set()  # namespace ids whose buckets are shown

    def show_namespaces(self, namespaces: list[Namespace], *, note: str = "") -> None:
        self.clear()
        self.loaded.clear()
        if note:
            self.root.add_leaf(Text(note, style="italic"), KnowledgeNode("note"))
        for ns in namespaces:
            label = Text.assemble((ns.namespace_name or ns.namespace_id, "bold"), (_count(ns.bucket_count, "buckets"), "dim"))
            self.root.add(label, KnowledgeNode("namespace", namespace=ns), allow_expand=True)

    def namespace_node(self, identifier: str) -> TreeNode[KnowledgeNode] | None:
        for node in self.root.children:
            ns = node.data.namespace if node.data else None
            if ns and identifier in (ns.namespace_id, ns.namespace_name):
                return node
        return None

    def show_loading(self, node: TreeNode[KnowledgeNode]) -> None:
        node.remove_children()
        node.add_leaf(Text("loading…", style="dim italic"), KnowledgeNode("note"))

    def show_buckets(self, node: TreeNode[KnowledgeNode], buckets: list[Bucket], *, note: str = "") -> None:
        """Fill a namespace node. `note` says why the list is empty or cut short (never just "empty")."""
        node.remove_children()
        assert node.data is not None and node.data.namespace is not None
        self.loaded.add(node.data.namespace.namespace_id)
        if note:
            node.add_leaf(Text(note, style="italic"), KnowledgeNode("note", namespace=node.data.namespace))
        for bucket in buckets:
            label = Text.assemble(bucket.bucket_name or bucket.bucket_id, (_count(bucket.object_count, "objects"), "dim"))
            node.add_leaf(label, KnowledgeNode("bucket", namespace=node.data.namespace, bucket=bucket))
        if not buckets and not note:
            node.add_leaf(Text("no buckets yet", style="dim italic"), KnowledgeNode("note", namespace=node.data.namespace))

    def show_node_error(self, node: TreeNode[KnowledgeNode], message: str) -> None:
        node.remove_children()
        node.add_leaf(Text(message, style="italic"), KnowledgeNode("note"))
        if node.data and node.data.namespace:
            self.loaded.discard(node.data.namespace.namespace_id)

    def update_object_count(self, bucket_id: str, count: int) -> None:
        """Keep a bucket's label in step with what its object listing just showed."""
        node = self.bucket_node(bucket_id)
        if node is not None and node.data is not None and node.data.bucket is not None:
            node.data.bucket.object_count = count
            node.set_label(Text.assemble(node.data.bucket.bucket_name or bucket_id, (_count(count, "objects"), "dim")))

    def bucket_node(self, bucket_id: str) -> TreeNode[KnowledgeNode] | None:
        for ns_node in self.root.children:
            for child in ns_node.children:
                if child.data and child.data.bucket and child.data.bucket.bucket_id == bucket_id:
                    return child
        return None
