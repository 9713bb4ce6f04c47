"""Derive the wire contract the tests check from OpenAI's OpenAPI description.

    python -m tests.contract.generate path/to/assistants-v2.openapi.yaml

writes ``tests/contract/assistants-v2.contract.json``: the same operations and component schemas,
reduced to their facts (paths, parameters, request and response schemas: field names, types,
enums, required fields, limits, references). Prose (descriptions, titles, summaries, examples and
OpenAI's documentation metadata) is dropped. The file records where it came from (repository,
commit, file and its sha256); run this again when the source changes. The suite reads only the
committed file, so a clone needs nothing beside it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

OUTPUT = Path(__file__).with_name("assistants-v2.contract.json")

# Keys that document rather than constrain. Inside a ``properties`` map the keys are field names
# (an Assistant has a ``description`` field), so they are kept there.
_PROSE = frozenset(
    {"description", "title", "summary", "example", "examples", "x-oaiMeta", "x-oaiTypeLabel"}
)
# Maps whose keys are names, not keywords.
_NAMED = frozenset({"properties", "schemas", "paths", "responses", "securitySchemes", "headers"})


def facts(node: Any, named: bool = False) -> Any:
    if isinstance(node, list):
        return [facts(item) for item in node]
    if not isinstance(node, dict):
        return node
    kept = {}
    for key, value in node.items():
        if not named and key in _PROSE:
            continue
        kept[key] = facts(value, named=not named and key in _NAMED)
    return kept


def _with_response_descriptions(paths: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI requires a ``description`` on every response object: keep it, empty."""
    for item in paths.values():
        for operation in item.values():
            for response in operation.get("responses", {}).values():
                response.setdefault("description", "")
    return paths


def contract(spec: dict[str, Any], source: Path) -> dict[str, Any]:
    components = facts(spec["components"], named=True)
    for response in components.get("responses", {}).values():
        response.setdefault("description", "")
    return {
        "openapi": spec["openapi"],
        "info": {
            "title": "assistantd wire contract (facts of the Assistants API v2)",
            "version": spec["info"]["version"],
        },
        "x-provenance": {
            "derived_from": spec.get("x-subset-source", {}),
            "source_file": source.name,
            "source_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
            "generator": "tests/contract/generate.py",
            "license": "MIT, Copyright (c) OpenAI; see tests/contract/README.md",
        },
        "security": spec.get("security", []),
        "paths": _with_response_descriptions(facts(spec["paths"], named=True)),
        "components": components,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", type=Path, help="the OpenAPI description (YAML)")
    args = parser.parse_args()
    spec = yaml.load(args.spec.read_text(), Loader=yaml.CSafeLoader)
    text = json.dumps(contract(spec, args.spec), indent=1, ensure_ascii=False)
    OUTPUT.write_text(text + "\n")
    print(f"wrote {OUTPUT} ({len(text):,} characters)")


if __name__ == "__main__":
    main()
