"""Tolerant decoding of MixerLead wire objects (the reference shows few shapes, some odd)."""

from __future__ import annotations

import pytest

from tui.api.mixerlead.models import KnowledgeSource, Model, Skill, SkillResult, parse_models, parse_sources, source_in


@pytest.mark.parametrize("value,expected", [(1, True), (0, False), (True, True), (False, False), ("true", True),
                                            ("false", False), ("1", True), ("0", False), ("TRUE", True), (None, True)])
def test_enabled_accepts_every_plausible_form(value: object, expected: bool) -> None:
    raw = {"id": "kb_1", "status": "indexed"}
    if value is not None:
        raw["enabled"] = value
    assert KnowledgeSource.from_wire(raw).enabled is expected


def test_source_fields_and_camel_case() -> None:
    source = KnowledgeSource.from_wire({"id": "kb_9", "type": "file", "sourceUrlOrPath": "a.pdf", "status": "weird-new-status",
                                        "chunkCount": "12", "createdAt": 1_700_000_000_000, "lastError": ""})
    assert source.source == "a.pdf" and source.chunk_count == 12 and source.status == "weird-new-status"
    assert source.created_at is not None and source.created_at.year == 2023 and source.last_error is None
    assert not source.is_settled  # an unknown status is not taken as done


def test_garbage_is_skipped_not_fatal() -> None:
    assert parse_sources({"sources": [None, 3, {"status": "indexed"}, {"id": "kb_1"}]})[0].id == "kb_1"
    assert parse_sources("not json") == [] and parse_models({"models": "x"}) == []
    assert Model.from_wire({"id": "m", "requiresPaid": "yes"}).requires_paid is True


def test_skill_variables_when_a_server_sends_them() -> None:
    assert Skill.from_wire({"id": "s"}).variables == ()
    listed = Skill.from_wire({"id": "s", "variables": ["product", {"name": "tone", "required": True, "default": "warm"}]})
    assert [(v.name, v.required, v.default) for v in listed.variables] == [("product", False, ""), ("tone", True, "warm")]
    mapped = Skill.from_wire({"id": "s", "vars": {"audience": "who reads it"}})
    assert mapped.variables[0].description == "who reads it"


def test_skill_result_non_string_output_is_shown_as_json() -> None:
    assert SkillResult.from_wire({"output": {"a": 1}}).output.startswith("```json")
    assert SkillResult.from_wire({"output": "# Hi"}).output == "# Hi"


def test_source_in_undocumented_answers() -> None:
    assert source_in({"ok": True}) is None and source_in(None) is None
    assert source_in({"source": {"id": "kb_1", "enabled": 0}}).enabled is False  # type: ignore[union-attr]
