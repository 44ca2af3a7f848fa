"""Retrievers: listing (with the unresolved warning) and execution with both pagination styles."""

from __future__ import annotations

from tui.api.mixpeek import SearchResult, SearchResults


async def test_list_retrievers(fake, client):
    page = await client.list_retrievers()
    assert [r.retriever_name for r in page.items] == ["semantic-search", "keyword-search"]
    assert page.total_count == 2
    assert page.items[0].query_input == "query"
    assert page.items[0].input_schema == {"query": {"type": "text", "required": True}}
    req = [r for r in fake.requests if r.path == "/v1/retrievers/list"][-1]
    assert req.headers["x-namespace"] == "research" and req.body == {}


async def test_list_retrievers_unresolved_namespace_warns(client):
    page = await client.list_retrievers(namespace="ns_missing")
    assert page.items == [] and page.unresolved
    assert "ns_missing" in page.warnings[0].message


async def test_execute_ranks_documents_with_score_text_and_source(fake, client):
    retriever = (await client.list_retrievers()).items[0]
    results = await client.search(retriever, "energy electricity turbines", limit=5)
    assert results.status == "completed" and results.execution_id.startswith("exec_")
    assert [d.rank for d in results.documents] == list(range(1, len(results.documents) + 1))
    scores = [d.score for d in results.documents]
    assert scores == sorted(scores, reverse=True) and all(s is not None and 0 < s < 1 for s in scores)
    top = results.documents[0]
    assert top.source.endswith(".md") and top.text and top.document_id.startswith("doc_")
    assert top.citation == f"{top.source} ({top.document_id})"
    body = [r for r in fake.requests if r.path.endswith("/execute")][-1].body
    assert body == {"inputs": {"query": "energy electricity turbines"}, "pagination": {"method": "cursor", "limit": 5, "cursor": None}}


async def test_execute_cursor_pagination(client):
    retriever = (await client.list_retrievers()).items[0]
    first = await client.execute_retriever(retriever.retriever_id, {"query": "electricity energy"}, limit=1)
    assert first.pagination.method == "cursor" and first.pagination.has_next and first.pagination.cursor
    assert first.pagination.returned == 1
    second = await client.execute_retriever(retriever.retriever_id, {"query": "electricity energy"}, limit=1, cursor=first.pagination.cursor)
    assert second.documents[0].document_id != first.documents[0].document_id


async def test_execute_offset_pagination(fake, client):
    retriever = (await client.list_retrievers()).items[0]
    page2 = await client.execute_retriever(retriever.retriever_id, {"query": "electricity energy"}, limit=1, page_number=2)
    assert page2.pagination.method == "offset" and page2.pagination.page_number == 2 and page2.pagination.page_size == 1
    assert len(page2.documents) == 1
    body = [r for r in fake.requests if r.path.endswith("/execute")][-1].body
    assert body["pagination"] == {"method": "offset", "page_size": 1, "page_number": 2}


async def test_execute_with_no_match_is_empty_not_an_error(client):
    retriever = (await client.list_retrievers()).items[0]
    results = await client.search(retriever, "zzzz qqqq")
    assert results.documents == [] and not results.unresolved


def test_search_result_shapes_vary_by_extractor():
    nested = SearchResult.from_wire({"document_id": "doc_1", "score": 0.5, "payload": {"content": "from payload"}, "_internal": {"source_object_id": "obj_9"}})
    assert nested.text == "from payload" and nested.source == "obj_9"
    bare = SearchResult.from_wire({"document_id": "doc_2"})
    assert bare.score is None and bare.source == "doc_2" and bare.citation == "doc_2"
    long = SearchResult.from_wire({"document_id": "d", "text": "word " * 100})
    assert len(long.snippet(40)) == 40 and long.snippet(40).endswith("…")
    legacy = SearchResults.from_wire({"status": "COMPLETED", "results": [{"document_id": "d1", "text": "t"}], "warnings": ["namespace unresolved"]})
    assert legacy.documents[0].document_id == "d1" and legacy.unresolved and legacy.status == "completed"
