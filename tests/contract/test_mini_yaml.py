"""The YAML subset reader behind openapi-seed.json, and that the committed JSON is current."""

from __future__ import annotations

import json

import pytest

from tests.contract.build_schemas import DEFAULT_SOURCE, TARGET
from tests.contract.mini_yaml import loads

SNIPPET = '''
paths:
  "/a/{id}":
    get:
      parameters:
        - description: "Session ID (it's 'quoted')"
          in: "path"
          required: true
      responses:
        "200":
          content:
            "application/json":
              schema: {"$ref": "#/components/schemas/X"}
      tags:
        - "Sessions"
limits:
  max: 1000
  ratio: 1.5
  flag: false
  word: plain text
'''


def test_reads_the_subset():
    data = loads(SNIPPET)
    op = data["paths"]["/a/{id}"]["get"]
    assert op["parameters"] == [{"description": "Session ID (it's 'quoted')", "in": "path", "required": True}]
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/X"}
    assert op["tags"] == ["Sessions"]
    assert data["limits"] == {"max": 1000, "ratio": 1.5, "flag": False, "word": "plain text"}


def test_rejects_what_it_does_not_understand():
    with pytest.raises(ValueError, match="line 2"):
        loads("a:\n  | block scalar\n")


@pytest.mark.skipif(not DEFAULT_SOURCE.exists(), reason="reference spec not present on this machine")
def test_committed_json_matches_the_reference_yaml():
    assert json.loads(TARGET.read_text("utf-8")) == loads(DEFAULT_SOURCE.read_text("utf-8"))
