"""Typed MixerLead wire objects, decoded tolerantly.

The reference documents few shapes and shows some oddities (`enabled` as the integer 1, booleans
that may come as strings), so every decoder accepts the documented form, the obvious variants
(camelCase or snake_case keys, 1/0/"true"/"false"), and missing fields, and keeps the raw dict.
A decoder never raises on a surprising value; it falls back to a neutral default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

AUTO_MODEL_ID = "ml-auto"

# Statuses the reference documents; anything else is shown as the server wrote it.
STATUS_INDEXING = "indexing"
STATUS_INDEXED = "indexed"
FAILED_STATUSES = frozenset({"failed", "error", "errored"})


def as_bool(value: Any, default: bool = False) -> bool:
    """True/False from a bool, 1/0, or "true"/"false"/"yes"/"no"/"1"/"0"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on", "enabled"):
            return True
        if lowered in ("0", "false", "no", "off", "disabled", ""):
            return False
    return default


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value.strip()))
        except ValueError:
            return None
    return None


def as_str(value: Any, default: str = "") -> str:
    if value is None:
        return default
    return value if isinstance(value, str) else str(value)


def as_time(value: Any) -> datetime | None:
    """An ISO-8601 string (with Z or an offset) or a Unix time in seconds/milliseconds, as aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        if " " in text and "T" not in text:
            text = text.replace(" ", "T", 1)
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            return None
        return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    return None


def pick(raw: dict[str, Any], *keys: str) -> Any:
    """The first present, non-None value among `keys`."""
    for key in keys:
        value = raw.get(key)
        if value is not None:
            return value
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def items_of(body: Any, key: str) -> list[dict[str, Any]]:
    """The array under `key` (or the body itself when it is an array); non-objects are skipped."""
    if isinstance(body, dict):
        body = body.get(key, [])
    if not isinstance(body, list):
        return []
    return [item for item in body if isinstance(item, dict)]


@dataclass(frozen=True)
class Model:
    id: str
    name: str = ""
    task: str = ""
    requires_paid: bool = False
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def label(self) -> str:
        return self.name or self.id

    @property
    def is_auto(self) -> bool:
        return self.id == AUTO_MODEL_ID

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> "Model":
        return cls(
            id=as_str(pick(raw, "id", "model", "modelId")),
            name=as_str(pick(raw, "name", "label", "displayName")),
            task=as_str(pick(raw, "task", "type")),
            requires_paid=as_bool(pick(raw, "requiresPaid", "requires_paid", "paid", "isPaid")),
            raw=raw,
        )


def parse_models(body: Any) -> list[Model]:
    return [m for m in (Model.from_wire(item) for item in items_of(body, "models")) if m.id]


@dataclass(frozen=True)
class KnowledgeSource:
    id: str
    type: str = ""  # "url" is documented; "text" and "file" are likely, anything else is kept as sent
    source: str = ""  # the wire's `source_url_or_path`
    status: str = ""
    chunk_count: int | None = None
    enabled: bool = True
    created_at: datetime | None = None
    indexed_at: datetime | None = None
    last_error: str | None = None
    name: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def label(self) -> str:
        return self.name or self.source or self.id

    @property
    def is_indexed(self) -> bool:
        return self.status.lower() == STATUS_INDEXED

    @property
    def has_failed(self) -> bool:
        return self.status.lower() in FAILED_STATUSES or (bool(self.last_error) and self.status.lower() != STATUS_INDEXING)

    @property
    def is_settled(self) -> bool:
        """Indexing is over, one way or the other: nothing more to wait for."""
        return self.is_indexed or self.has_failed

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> "KnowledgeSource":
        error = pick(raw, "last_error", "lastError", "error")
        return cls(
            id=as_str(pick(raw, "id", "sourceId", "source_id")),
            type=as_str(pick(raw, "type", "kind")),
            source=as_str(pick(raw, "source_url_or_path", "sourceUrlOrPath", "url", "path", "source")),
            status=as_str(pick(raw, "status", "state")),
            chunk_count=as_int(pick(raw, "chunk_count", "chunkCount", "chunks")),
            enabled=as_bool(pick(raw, "enabled", "is_enabled", "isEnabled"), default=True),
            created_at=as_time(pick(raw, "created_at", "createdAt")),
            indexed_at=as_time(pick(raw, "indexed_at", "indexedAt", "last_indexed_at", "lastIndexedAt")),
            last_error=as_str(error) if error not in (None, "") else None,
            name=as_str(pick(raw, "name", "title")),
            raw=raw,
        )


def parse_sources(body: Any) -> list[KnowledgeSource]:
    return [s for s in (KnowledgeSource.from_wire(item) for item in items_of(body, "sources")) if s.id]


def source_in(body: Any) -> KnowledgeSource | None:
    """A source from an undocumented response body (PATCH, reindex, delete), when it holds one."""
    raw = _dict(body)
    for key in ("source", "data", "knowledge"):
        if isinstance(raw.get(key), dict):
            raw = raw[key]
            break
    if not raw.get("id") or not any(k in raw for k in ("status", "enabled", "chunk_count", "type")):
        return None
    return KnowledgeSource.from_wire(raw)


@dataclass(frozen=True)
class KnowledgeAdded:
    """What `POST /api/knowledge` answers: the new source's id and its first status."""

    id: str
    status: str = STATUS_INDEXING
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_wire(cls, body: Any) -> "KnowledgeAdded":
        raw = _dict(body)
        return cls(id=as_str(pick(raw, "id", "sourceId", "source_id")), status=as_str(pick(raw, "status"), STATUS_INDEXING), raw=raw)


@dataclass(frozen=True)
class CrawlStarted:
    """A crawl id, not a source id: the crawled pages show up as sources of their own."""

    crawl_id: str
    status: str = STATUS_INDEXING
    max_pages: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_wire(cls, body: Any) -> "CrawlStarted":
        raw = _dict(body)
        return cls(
            crawl_id=as_str(pick(raw, "crawlId", "crawl_id", "id")),
            status=as_str(pick(raw, "status"), STATUS_INDEXING),
            max_pages=as_int(pick(raw, "maxPages", "max_pages")),
            raw=raw,
        )


@dataclass(frozen=True)
class SkillVariable:
    """A variable a skill takes. The reference documents none of this: only filled when the server sends it."""

    name: str
    label: str = ""
    description: str = ""
    required: bool = False
    default: str = ""


def _variables(raw: dict[str, Any]) -> tuple[SkillVariable, ...]:
    value = pick(raw, "variables", "vars", "inputs", "params", "parameters")
    out: list[SkillVariable] = []
    if isinstance(value, dict):
        # {"name": "description"} or {"name": {"description", "required", ...}}
        for name, spec in value.items():
            spec_d = _dict(spec)
            out.append(SkillVariable(
                name=as_str(name),
                label=as_str(pick(spec_d, "label", "title")),
                description=as_str(spec) if isinstance(spec, str) else as_str(pick(spec_d, "description", "help")),
                required=as_bool(spec_d.get("required")),
                default=as_str(pick(spec_d, "default", "example")),
            ))
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, str) and item:
                out.append(SkillVariable(name=item))
            elif isinstance(item, dict) and pick(item, "name", "key", "id"):
                out.append(SkillVariable(
                    name=as_str(pick(item, "name", "key", "id")),
                    label=as_str(pick(item, "label", "title")),
                    description=as_str(pick(item, "description", "help")),
                    required=as_bool(item.get("required")),
                    default=as_str(pick(item, "default", "example")),
                ))
    return tuple(v for v in out if v.name)


@dataclass(frozen=True)
class Skill:
    id: str
    name: str = ""
    category: str = ""
    description: str = ""
    variables: tuple[SkillVariable, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def label(self) -> str:
        return self.name or self.id

    @property
    def variables_known(self) -> bool:
        """False: the server did not say which variables the skill takes (the documented case)."""
        return bool(self.variables)

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> "Skill":
        return cls(
            id=as_str(pick(raw, "id", "skillId", "skill_id")),
            name=as_str(pick(raw, "name", "title")),
            category=as_str(pick(raw, "category")),
            description=as_str(pick(raw, "description", "summary")),
            variables=_variables(raw),
            raw=raw,
        )


def parse_skills(body: Any) -> list[Skill]:
    return [s for s in (Skill.from_wire(item) for item in items_of(body, "skills")) if s.id]


@dataclass(frozen=True)
class SkillResult:
    output: str  # Markdown
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_wire(cls, body: Any) -> "SkillResult":
        raw = _dict(body)
        output = pick(raw, "output", "result", "markdown", "text")
        if output is not None and not isinstance(output, str):
            import json

            output = "```json\n" + json.dumps(output, indent=2, ensure_ascii=False) + "\n```"
        return cls(output=as_str(output), raw=raw)


# ---------------------------------------------------------------- chat stream items


@dataclass(frozen=True)
class ChatStarted:
    """The server accepted the message (a 2xx status arrived); text follows."""

    content_type: str = ""
    framing: str = "text"  # "text" | "sse" | "ndjson"
    conversation_id: str | None = None  # when a response header already carried it
    attempts: int = 1


@dataclass(frozen=True)
class ChatDone:
    """The reply ended. `conversation_id` is None when the server gave none anywhere we could look."""

    conversation_id: str | None
    source: str = "none"  # where it was found: "header" | "sse" | "ndjson" | "body-marker" | "none"
    text: str = ""  # the whole reply as rendered (marker excluded)

    @property
    def continuity_known(self) -> bool:
        return self.conversation_id is not None
