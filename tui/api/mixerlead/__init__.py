"""MixerLead: typed async client, chat stream decoding, local conversation store, and the chat backend."""

from tui.api.mixerlead.client import DEFAULT_BASE_URL, IndexingTimedOut, MixerLeadClient, framing_of
from tui.api.mixerlead.errors import Conflict, MissingApiKey, StreamInterrupted
from tui.api.mixerlead.models import (
    AUTO_MODEL_ID,
    ChatDone,
    ChatStarted,
    CrawlStarted,
    KnowledgeAdded,
    KnowledgeSource,
    Model,
    Skill,
    SkillResult,
    SkillVariable,
)
from tui.api.mixerlead.retry import RetryNotice, RetryPolicy

__all__ = [
    "AUTO_MODEL_ID", "ChatDone", "ChatStarted", "Conflict", "CrawlStarted", "DEFAULT_BASE_URL", "IndexingTimedOut",
    "KnowledgeAdded", "KnowledgeSource", "MissingApiKey", "MixerLeadClient", "Model", "RetryNotice", "RetryPolicy",
    "Skill", "SkillResult", "SkillVariable", "StreamInterrupted", "framing_of",
]
