"""Mix: typed wire objects, async client, the reconnecting SSE stream, and the chat backend.

The only place that knows the Mix wire protocol. Never imports Textual.
"""

from tui.api.mix.client import DEFAULT_BASE_URL, FileContent, MixClient
from tui.api.mix.errors import MethodNotAllowed
from tui.api.mix.models import (
    AuthResult,
    AuthStatus,
    AuthValidation,
    BroadcastResult,
    CancelResult,
    Command,
    FileInfo,
    Health,
    McpServer,
    McpTool,
    MessageData,
    OAuthStart,
    PermissionResult,
    Preferences,
    PreferencesResponse,
    ProviderAuth,
    ProviderInfo,
    SendResult,
    SessionData,
    ToolCallData,
    ToolCategory,
    ToolProvider,
    ToolsStatus,
    first_message_text,
    strip_system_reminder,
    to_chat_messages,
)
from tui.api.mix.stream import ReconnectPolicy, SseReader, decode_event

__all__ = [
    "AuthResult", "AuthStatus", "AuthValidation", "BroadcastResult", "CancelResult", "Command", "DEFAULT_BASE_URL",
    "FileContent", "FileInfo", "Health", "McpServer", "McpTool", "MessageData", "MethodNotAllowed", "MixBackend",
    "MixClient", "OAuthStart", "PermissionResult", "Preferences", "PreferencesResponse", "ProviderAuth", "ProviderInfo",
    "ReconnectPolicy", "SendResult", "SessionData", "SseReader", "ToolCallData", "ToolCategory", "ToolProvider",
    "ToolsStatus", "decode_event", "first_message_text", "strip_system_reminder", "to_chat_messages",
]


def __getattr__(name: str):  # MixBackend lazily, so the client can be used without it
    if name == "MixBackend":
        from tui.api.mix.backend import MixBackend

        return MixBackend
    raise AttributeError(name)
