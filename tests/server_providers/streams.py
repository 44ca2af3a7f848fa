"""Feeding raw SSE bytes through httpx + httpx-sse in arbitrary pieces, as a socket would deliver them."""

from __future__ import annotations

import random
from typing import AsyncIterator, Callable

import httpx


def response_of(pieces: list[bytes], content_type: str = "text/event-stream") -> httpx.Response:
    async def body() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    return httpx.Response(200, headers={"content-type": content_type}, content=body())


def split_at(raw: bytes, *cuts: int) -> list[bytes]:
    points = [0, *sorted(c for c in cuts if 0 < c < len(raw)), len(raw)]
    return [raw[a:b] for a, b in zip(points, points[1:]) if b > a]


def random_pieces(raw: bytes, seed: int, max_size: int = 9) -> list[bytes]:
    rng = random.Random(seed)
    out, i = [], 0
    while i < len(raw):
        n = rng.randint(1, max_size)
        out.append(raw[i:i + n])
        i += n
    return out


async def collect(decode: Callable[[httpx.Response], AsyncIterator], response: httpx.Response) -> list:
    return [event async for event in decode(response)]
