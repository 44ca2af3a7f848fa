"""Textual widgets of mix-tui. The message pane lives in `transcript`, `message`, `tool_card`,
`thinking`, `streaming_markdown` and `permission_prompt`."""

from tui.widgets.message import AssistantMessage, UserMessage
from tui.widgets.permission_prompt import PermissionAnswered, PermissionPrompt
from tui.widgets.streaming_markdown import StreamingMarkdown
from tui.widgets.thinking import ThinkingView
from tui.widgets.tool_card import ToolCard
from tui.widgets.transcript import Transcript

__all__ = [
    "AssistantMessage",
    "PermissionAnswered",
    "PermissionPrompt",
    "StreamingMarkdown",
    "ThinkingView",
    "ToolCard",
    "Transcript",
    "UserMessage",
]
