"""A fixture helper for "make as many as the test wants, close them all afterwards"."""

from __future__ import annotations

from typing import Any, AsyncIterator, Awaitable, Callable, TypeVar

T = TypeVar("T")


async def closing_factory(build: Callable[..., T], close: Callable[[T], Awaitable[Any]]) -> AsyncIterator[Callable[..., T]]:
    """Yields `build`, remembering what it made; on the way out `close` is awaited on each, in order.
    Use from an async fixture: `async for make in closing_factory(...): yield make`."""
    made: list[T] = []

    def make(*args: Any, **kw: Any) -> T:
        thing = build(*args, **kw)
        made.append(thing)
        return thing

    yield make
    for thing in made:
        await close(thing)
