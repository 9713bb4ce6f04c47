"""The wire contract: every response body the tests see is checked against the OpenAPI contract
(``tests/contract/``, the facts of OpenAI's description, committed with their provenance).

The spec's OAS-3.0 idiom ``nullable: true`` is read as "or null", and ``CompoundFilter``'s
``$recursiveRef`` as a plain ``$ref`` (SEMANTICS.md §12). Besides the schema, objects must carry
no field the schema does not define.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

# Derived from OpenAI's OpenAPI description and committed (tests/contract/README.md).
CONTRACT_PATH = Path(__file__).resolve().parents[1] / "contract" / "assistants-v2.contract.json"
SPEC_URI = "urn:assistants-v2"


@dataclass
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    schema: dict[str, Any] | None


@dataclass
class ContractLog:
    checked: int = 0
    violations: list[str] = field(default_factory=list)


@cache
def _spec() -> dict[str, Any]:
    return _read_spec(SPEC_URI)


def fuzzable_spec() -> dict[str, Any]:
    """The contract as a whole OpenAPI document for a request generator (the fuzzing test): read
    as the checks here read it, its references kept local to the document."""
    return _read_spec("")


def _read_spec(ref_base: str) -> dict[str, Any]:
    spec = _normalise(json.loads(CONTRACT_PATH.read_text()), ref_base)
    _allow_null_cursors_on_empty_lists(spec)
    return spec


def _allow_null_cursors_on_empty_lists(spec: dict[str, Any]) -> None:
    """A deliberate reading: an empty list has no first or last ID, so they are ``null`` (as
    OpenAI answered). The spec types them as plain strings (SEMANTICS.md §1)."""
    for name, schema in spec["components"]["schemas"].items():
        if name.startswith("List") and name.endswith("Response"):
            for key in ("first_id", "last_id"):
                if key in schema.get("properties", {}):
                    schema["properties"][key] = {
                        "anyOf": [schema["properties"][key], {"type": "null"}]
                    }


def _normalise(node: Any, ref_base: str) -> Any:
    """``ref_base`` is put before local references (the registry's URI for the checks here)."""
    if isinstance(node, list):
        return [_normalise(item, ref_base) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _normalise(value, ref_base) for key, value in node.items()}
    node.pop("$recursiveAnchor", None)
    if node.get("$recursiveRef") == "#":
        node.pop("$recursiveRef")
        node["$ref"] = "#/components/schemas/CompoundFilter"
    if isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        node["$ref"] = ref_base + node["$ref"]
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


@cache
def _registry() -> Registry:
    return Registry().with_resource(SPEC_URI, Resource(contents=_spec(), specification=DRAFT202012))


@cache
def _operations() -> list[Operation]:
    operations = []
    for template, item in _spec()["paths"].items():
        pattern = re.compile("^/v1" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")
        for method, operation in item.items():
            if method not in ("get", "post", "delete"):
                continue
            content = operation.get("responses", {}).get("200", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            operations.append(Operation(method.upper(), template, pattern, schema))
    return operations


def find_operation(method: str, path: str) -> Operation | None:
    for operation in _operations():
        if operation.method == method and operation.pattern.match(path):
            return operation
    return None


def schema_named(name: str) -> dict[str, Any]:
    return {"$ref": f"{SPEC_URI}#/components/schemas/{name}"}


def violations(schema: dict[str, Any], body: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema, registry=_registry())
    found = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)
    ]
    found.extend(_unknown_fields(schema, body))
    return found


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = _registry().resolver().lookup(schema["$ref"]).contents
    return schema


def _unknown_fields(schema: dict[str, Any], body: Any, where: str = "") -> list[str]:
    """Fields the schema does not define, at the top level and in list items."""
    schema = _resolve(copy.deepcopy(schema))
    if not isinstance(body, dict) or "properties" not in schema:
        return []
    extra = sorted(set(body) - set(schema["properties"]))
    found = [f"{where or '/'}: field(s) not in the spec: {extra}"] if extra else []
    items = schema["properties"].get("data", {}).get("items")
    if body.get("object") == "list" and isinstance(items, dict) and "$ref" in items:
        for index, item in enumerate(body.get("data", [])):
            found.extend(_unknown_fields(items, item, f"data/{index}"))
    return found


def check_response(log: ContractLog, method: str, path: str, status: int, body: Any) -> None:
    """Record what about this response breaks the spec (nothing for paths outside it)."""
    operation = find_operation(method, path)
    if operation is None:
        return
    if status >= 400:
        schema: dict[str, Any] | None = schema_named("ErrorResponse")
    else:
        schema = operation.schema
    if schema is None:
        return
    log.checked += 1
    for problem in violations(schema, body):
        log.violations.append(f"{method} {path} ({status}): {problem}")
