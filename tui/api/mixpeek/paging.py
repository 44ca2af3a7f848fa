"""Listings: one page of a `POST …/list` call, every item of a listing, or up to N items in one Page.

`collect` keeps the pages it already has when a later one cannot be had (the transport has retried
it by then): the caller gets those items with an "incomplete" warning and the cursor to go on from,
never an exception that throws them away.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Awaitable, Callable, TypeVar

from tui.api.errors import ApiError
from tui.api.mixpeek import schema
from tui.api.mixpeek.models import ApiWarning, Page, PageInfo, parse_warnings

T = TypeVar("T")
INCOMPLETE = "incomplete"  # the warning reason of a listing cut short by a page that failed


def is_page(data: Any) -> bool:
    """A listing answer: an object with a `results` list (empty with a warning when unresolved)."""
    return isinstance(data, dict) and isinstance(data.get("results", []), list)


class PagingMixin:
    """Listing helpers of MixpeekClient (needs the transport's `_call`)."""

    _call: Callable[..., Awaitable[Any]]

    @staticmethod
    def _page_params(limit: int | None, offset: int | None, cursor: str | None, include_total: bool) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, "offset": offset, "cursor": cursor}
        if include_total:
            params["include_total"] = "true"
        return params

    @staticmethod
    def _page(data: Any, parse: Callable[[Any], T]) -> Page[T]:
        data = data if isinstance(data, dict) else {}
        results = data.get("results")
        total = data.get("total_count")
        if total is None:
            total = data.get("total")  # the retriever listing's name for it
        return Page(
            items=[parse(item) for item in results] if isinstance(results, list) else [],
            pagination=PageInfo.from_wire(data.get("pagination")),
            total_count=total if isinstance(total, int) and not isinstance(total, bool) else None,
            warnings=parse_warnings(data.get("warnings")),
        )

    async def _list(
        self, operation: str, path: str, parse: Callable[[Any], T], *, scoped: bool, namespace: str | None,
        limit: int | None, offset: int | None, cursor: str | None, include_total: bool, search: str | None,
    ) -> Page[T]:
        """One page of a `POST …/list` listing: paging in the query, the search in the body."""
        data = await self._call(
            "POST",
            path,
            scoped=scoped,
            namespace=namespace,
            params=self._page_params(limit, offset, cursor, include_total),
            json_body=schema.body(operation, search=search),
            valid=is_page,
        )
        return self._page(data, parse)

    @staticmethod
    async def paginate(
        fetch: Callable[..., Awaitable[Page[T]]], *, page_size: int = 100, max_items: int | None = None
    ) -> AsyncIterator[T]:
        """Every item of a listing: follow `next_cursor` until it is null; a server that gives only
        page numbers is walked by offset instead. `fetch(limit=, offset=, cursor=)` gets one page."""
        cursor: str | None = None
        offset = 0
        seen_cursors: set[str] = set()
        count = 0
        while True:
            page = await fetch(limit=page_size, offset=None if cursor else (offset or None), cursor=cursor)
            for item in page.items:
                yield item
                count += 1
                if max_items is not None and count >= max_items:
                    return
            if page.next_cursor:
                if page.next_cursor in seen_cursors:
                    return  # a server repeating a cursor would loop forever
                seen_cursors.add(page.next_cursor)
                cursor = page.next_cursor
            elif page.pagination.next_page is not None and page.items:
                cursor = None
                offset += len(page.items)
            else:
                return

    @staticmethod
    async def collect(fetch: Callable[..., Awaitable[Page[T]]], *, page_size: int = 100, max_items: int = 1000) -> Page[T]:
        """Up to `max_items` of a listing in one Page, following cursors like `paginate`. The first
        page's warnings are kept (an unresolved namespace stays visible), and `pagination.next_cursor`
        is set when there was more than `max_items`. A page that cannot be had ends the listing with the
        items so far and an "incomplete" warning (its cursor in `next_cursor`), unless it was the first."""
        first = await fetch(limit=min(page_size, max_items), offset=None, cursor=None)
        items = list(first.items[:max_items])
        warnings = list(first.warnings)
        page = first
        seen: set[str] = set()
        while len(items) < max_items and page.items:
            limit = min(page_size, max_items - len(items))
            if page.next_cursor and page.next_cursor not in seen:
                seen.add(page.next_cursor)
                where: dict[str, Any] = {"offset": None, "cursor": page.next_cursor}
            elif not page.next_cursor and page.pagination.next_page is not None:
                where = {"offset": len(items), "cursor": None}
            else:
                break
            try:
                page = await fetch(limit=limit, **where)
            except ApiError as exc:  # keep what we have, say it is not all, and where to go on from
                warnings.append(ApiWarning(INCOMPLETE, f"Only the first {len(items)} items could be fetched: {exc}"))
                return Page(items=items, pagination=PageInfo(total=first.pagination.total, next_cursor=where["cursor"]),
                            total_count=first.total_count, warnings=warnings)
            items.extend(page.items[: max_items - len(items)])
        more = page.next_cursor if len(items) >= max_items and page.pagination.has_more else None
        return Page(items=items, pagination=PageInfo(total=first.pagination.total, next_cursor=more), total_count=first.total_count, warnings=warnings)
