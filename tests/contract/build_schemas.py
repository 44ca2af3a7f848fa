"""Regenerate openapi-seed.json (next to this file) from the reference openapi-seed.yaml.

    .venv/bin/python -m tests.contract.build_schemas [path/to/openapi-seed.yaml]

The JSON copy is committed so the contract test runs without the reference folder or PyYAML.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.contract.mini_yaml import loads

DEFAULT_SOURCE = Path("/work/shared/reference/mix/openapi-seed.yaml")
TARGET = Path(__file__).with_name("openapi-seed.json")


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else DEFAULT_SOURCE
    spec = loads(source.read_text("utf-8"))
    TARGET.write_text(json.dumps(spec, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(f"wrote {TARGET} ({len(spec['paths'])} paths, {len(spec['components']['schemas'])} schemas)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
