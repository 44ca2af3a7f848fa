"""Every Mixpeek endpoint the client uses, against the fake over loopback HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.mixpeek_server import running_fake_mixpeek
from tui.api.mixpeek import (
    BlobInput,
    FeatureExtractorRef,
    MixpeekClient,
    MixpeekConflict,
    MixpeekNotFound,
    NamespaceRequired,
)
from tui.api.mixpeek.client import MissingApiKey


def api_requests(fake, path_part: str = ""):
    return [r for r in fake.requests if not r.path.startswith("/_storage/") and path_part in r.path]


# ---------------------------------------------------------------- namespaces


async def test_list_namespaces_is_not_namespace_scoped_and_authenticates(fake, client):
    page = await client.list_namespaces()
    assert [n.namespace_name for n in page.items] == ["research", "personal"]
    assert page.items[0].namespace_id.startswith("ns_")
    assert page.items[0].document_count == 3
    req = api_requests(fake, "/v1/namespaces/list")[0]
    assert req.method == "POST"
    assert req.headers["authorization"] == f"Bearer {fake.api_key}"
    assert "x-namespace" not in req.headers
    assert req.body == {}


async def test_list_namespaces_limit_offset_and_total(fake, client):
    first = await client.list_namespaces(limit=1, include_total=True)
    assert [n.namespace_name for n in first.items] == ["research"]
    assert first.total_count == 2 and first.pagination.total == 2
    assert first.next_cursor is not None and first.pagination.next_page == 2
    second = await client.list_namespaces(limit=1, offset=1)
    assert [n.namespace_name for n in second.items] == ["personal"]
    assert second.pagination.total is None  # counts only when include_total=true
    assert second.next_cursor is None
    assert api_requests(fake, "/list")[-1].query == {"limit": "1", "offset": "1"}


async def test_list_namespaces_search_body(fake, client):
    page = await client.list_namespaces(search="pers")
    assert [n.namespace_name for n in page.items] == ["personal"]
    assert api_requests(fake, "/v1/namespaces/list")[-1].body == {"search": "pers"}


async def test_get_namespace_by_name_and_id(client):
    by_name = await client.get_namespace("research")
    by_id = await client.get_namespace(by_name.namespace_id)
    assert by_id.namespace_name == "research"
    assert by_id.description == "papers and notes"


async def test_get_missing_namespace_is_not_found(fake, client):
    with pytest.raises(MixpeekNotFound) as info:
        await client.get_namespace("nowhere")
    err = info.value
    assert err.status == 404 and err.type == "NotFoundError"
    assert "nowhere" in err.server_message
    assert "namespace" in err.message.lower()
    assert len(api_requests(fake, "/v1/namespaces/nowhere")) == 1  # never retried


async def test_create_namespace_sends_only_declared_keys_and_409_on_duplicate(fake, client):
    ns = await client.create_namespace("papers", feature_extractors=[FeatureExtractorRef("text_extractor", "v1")], description="my papers")
    assert ns.namespace_name == "papers" and ns.namespace_id.startswith("ns_")
    sent = api_requests(fake, "/v1/namespaces")[-1]
    assert sent.body == {
        "namespace_name": "papers",
        "description": "my papers",
        "feature_extractors": [{"feature_extractor_name": "text_extractor", "version": "v1"}],
    }
    assert "x-namespace" not in sent.headers
    with pytest.raises(MixpeekConflict) as info:
        await client.create_namespace("papers", feature_extractors=[FeatureExtractorRef("text_extractor")])
    assert info.value.code == "namespace_name_taken"
    assert info.value.type == "AlreadyExistsError"
    assert "already exists" in info.value.message


async def test_create_namespace_needs_an_extractor(client):
    with pytest.raises(ValueError):
        await client.create_namespace("empty", feature_extractors=[])


# ---------------------------------------------------------------- buckets


async def test_list_buckets_sends_x_namespace(fake, client):
    page = await client.list_buckets()
    assert [b.bucket_name for b in page.items] == ["docs", "images"]
    assert page.items[0].properties == {"content": {"type": "text", "required": True}}
    assert page.warnings == [] and not page.unresolved
    assert api_requests(fake, "/v1/buckets/list")[-1].headers["x-namespace"] == "research"


async def test_per_call_namespace_overrides_the_current_one(fake, client):
    page = await client.list_buckets(namespace="personal")
    assert page.items == [] and not page.unresolved
    assert api_requests(fake, "/v1/buckets/list")[-1].headers["x-namespace"] == "personal"


async def test_unresolved_namespace_is_an_empty_page_with_a_warning_not_no_data(fake, client):
    page = await client.list_buckets(namespace="typo-ns")
    assert page.items == []
    assert page.unresolved
    assert page.warnings[0].reason == "unresolved"
    assert "typo-ns" in page.warnings[0].message


async def test_namespace_scoped_call_without_namespace_is_refused_before_sending(fake, make_client):
    client = make_client(fake, namespace=None)
    before = len(fake.requests)
    with pytest.raises(NamespaceRequired):
        await client.list_buckets()
    assert len(fake.requests) == before


async def test_get_and_create_bucket(fake, client):
    docs = await client.get_bucket("docs")
    assert docs.bucket_id.startswith("bkt_") and docs.object_count == 3
    assert (await client.get_bucket(docs.bucket_id)).bucket_name == "docs"
    created = await client.create_bucket("pdfs", bucket_schema={"properties": {"file": {"type": "pdf"}}}, description="papers")
    assert created.bucket_name == "pdfs" and created.blob_property_for("pdf") == ("file", "pdf")
    assert api_requests(fake, "/v1/buckets")[-1].body == {"bucket_name": "pdfs", "bucket_schema": {"properties": {"file": {"type": "pdf"}}}, "description": "papers"}
    with pytest.raises(MixpeekConflict):
        await client.create_bucket("pdfs", bucket_schema={"properties": {"file": {"type": "pdf"}}})


async def test_get_missing_bucket(client):
    with pytest.raises(MixpeekNotFound) as info:
        await client.get_bucket("nope")
    assert "research" in info.value.message  # the sentence names the namespace to check


# ---------------------------------------------------------------- objects


async def test_list_objects_and_create_object(fake, client):
    page = await client.list_objects("docs")
    assert [o.label for o in page.items] == ["solar.md", "tides.md", "wind.md"]
    assert all(o.status == "COMPLETED" for o in page.items)
    obj = await client.create_object("docs", [BlobInput(property="content", type="text", data="a typed note")], metadata={"filename": "note.txt"})
    assert obj.status == "DRAFT" and obj.object_id.startswith("obj_")
    assert api_requests(fake, "/objects")[-1].body == {
        "blobs": [{"property": "content", "type": "text", "data": "a typed note"}],
        "metadata": {"filename": "note.txt"},
    }
    assert len((await client.list_objects("docs")).items) == 4


def test_blob_input_needs_exactly_one_source():
    with pytest.raises(ValueError):
        BlobInput(property="content", type="text")
    with pytest.raises(ValueError):
        BlobInput(property="content", type="text", data="x", upload_id="upl_1")


async def test_objects_cursor_pagination_walks_every_object():
    with running_fake_mixpeek(seed_objects=25) as fake:
        async with MixpeekClient(fake.api_key, base_url=fake.base_url, namespace="research") as client:
            first = await client.list_objects("docs", limit=10)
            assert len(first.items) == 10 and first.next_cursor
            second = await client.list_objects("docs", limit=10, cursor=first.next_cursor)
            assert {o.object_id for o in first.items}.isdisjoint({o.object_id for o in second.items})
            walked = [o.object_id async for o in client.paginate(lambda **kw: client.list_objects("docs", **kw), page_size=10)]
            assert len(walked) == 25 and len(set(walked)) == 25
            cursors = [r.query.get("cursor") for r in fake.requests if r.path.endswith("/objects/list")][-3:]
            assert cursors[0] is None and all(cursors[1:])
            capped = [o async for o in client.paginate(lambda **kw: client.list_objects("docs", **kw), page_size=10, max_items=12)]
            assert len(capped) == 12


async def test_paginate_falls_back_to_offsets_when_only_page_numbers_are_given(client):
    from tui.api.mixpeek import Page, PageInfo

    calls = []

    async def fetch(limit, offset, cursor):
        calls.append((limit, offset, cursor))
        start = offset or 0
        items = list(range(start, min(start + limit, 7)))
        more = start + limit < 7
        return Page(items=items, pagination=PageInfo(next_page=2 if more else None))

    assert [i async for i in MixpeekClient.paginate(fetch, page_size=3)] == list(range(7))
    assert calls == [(3, None, None), (3, 3, None), (3, 6, None)]


async def test_bad_limit_is_a_validation_error(client):
    from tui.api.mixpeek import MixpeekValidationError

    with pytest.raises(MixpeekValidationError) as info:
        await client.list_objects("docs", limit=5000)
    assert info.value.field_errors[0].location == "query.limit"


# ---------------------------------------------------------------- construction


def test_client_needs_a_key():
    with pytest.raises(MissingApiKey):
        MixpeekClient("")


async def test_from_settings_takes_the_key_from_env_and_urls_from_config(tmp_path: Path):
    from tui.config import Config, MixpeekConfig, Secrets

    with running_fake_mixpeek() as fake:
        secrets = Secrets(tmp_path / "secrets.json", env={"MIXPEEK_API_KEY": fake.api_key})
        config = Config(mixpeek=MixpeekConfig(base_url=fake.base_url + "/v1", namespace="research"))
        client = MixpeekClient.from_settings(config, secrets)
        try:
            assert client.namespace == "research" and client.base_url == fake.base_url
            assert [b.bucket_name for b in (await client.list_buckets()).items] == ["docs", "images"]
        finally:
            await client.aclose()
        with pytest.raises(MissingApiKey):
            MixpeekClient.from_settings(config, Secrets(tmp_path / "none.json", env={}))


async def test_collect_gathers_pages_and_keeps_warnings():
    with running_fake_mixpeek(seed_objects=25) as fake:
        async with MixpeekClient(fake.api_key, base_url=fake.base_url, namespace="research") as client:
            everything = await client.collect(lambda **kw: client.list_objects("docs", **kw), page_size=10)
            assert len(everything.items) == 25 and everything.next_cursor is None
            capped = await client.collect(lambda **kw: client.list_objects("docs", **kw), page_size=10, max_items=15)
            assert len(capped.items) == 15 and capped.next_cursor is not None
            unresolved = await client.collect(lambda **kw: client.list_objects("docs", namespace="gone", **kw))
            assert unresolved.items == [] and unresolved.unresolved
