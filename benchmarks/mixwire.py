"""The few client calls the floor and the decode benchmark need, on top of the real `MixClient`."""

from __future__ import annotations

from typing import Any, AsyncIterator

from benchmarks.appkit import close as _close


def client(url: str) -> Any:
    from tui.api.mix import MixClient

    return MixClient(url)


async def create_session(client: Any, title: str) -> str:
    session = await client.create_session(title)
    return session if isinstance(session, str) else session.id


async def list_sessions(client: Any) -> list[Any]:
    return await client.list_sessions()


async def messages(client: Any, session_id: str) -> list[Any]:
    """Every message of the session, parsed (`MessageData`: `.text`, `.role`)."""
    return await client.list_messages(session_id)


async def send(client: Any, session_id: str, text: str) -> None:
    await client.send_message(session_id, text)


def stream(client: Any, session_id: str) -> AsyncIterator[Any]:
    return client.stream(session_id)


async def close(client: Any) -> None:
    await _close(client)

