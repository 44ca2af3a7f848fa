"""What a chat backend can tell about a conversation, whether it is one backend or a router of several
(`tui.backends.RoutedBackend` answers per conversation from the backend that owns it). Every question
is optional: a backend that cannot answer gets a neutral default, never an error."""

from __future__ import annotations

from typing import Any

from tui.api.backend import Capabilities, ChatBackend, Conversation


def model_owner(backend: ChatBackend | None, conversation_id: str | None) -> str:
    """Which backend's model the status bar should show for this conversation ("" for a single backend)."""
    owner_name = getattr(backend, "owner_name", None)
    return owner_name(conversation_id) if owner_name else ""


async def model_label(backend: ChatBackend | None, conversation_id: str | None) -> str | None:
    """The model name for the status bar; None when the backend cannot tell (the bar then keeps what it shows).
    Raises what the backend raised."""
    for_conversation = getattr(backend, "model_label", None)  # several backends: the owner's model
    getter = getattr(backend, "current_model", None)
    if for_conversation is not None:
        return str(await for_conversation(conversation_id) or "")
    if getter is None:
        return None
    model = await getter()
    return str(model) if model else None


def continuity_state(backend: ChatBackend | None, conversation_id: str | None) -> str:
    state_of = getattr(backend, "continuity_state", None)
    return state_of(conversation_id) if conversation_id is not None and state_of is not None else "yes"


def capabilities(backend: ChatBackend, conversation_id: str) -> Capabilities:
    capabilities_for = getattr(backend, "capabilities_for", None)
    return capabilities_for(conversation_id) if capabilities_for else backend.capabilities


def marks(backend: ChatBackend | None) -> dict[str, str]:
    """One sidebar mark per backend, when several are listed together."""
    return getattr(backend, "marks", dict)()


async def fresh_usage(backend: ChatBackend, conversation: Conversation) -> bool:
    """Copy the session's current token counts and cost into `conversation` (one GET). False when the
    backend has no usage (MixerLead has no `get_conversation`). Raises what the backend raised."""
    owner: Any = backend.backend_of(conversation.id) if hasattr(backend, "backend_of") else backend
    get = getattr(owner, "get_conversation", None)
    if get is None:
        return False
    fresh = await get(conversation.id)
    conversation.prompt_tokens, conversation.completion_tokens, conversation.cost = (
        fresh.prompt_tokens, fresh.completion_tokens, fresh.cost)
    return True
