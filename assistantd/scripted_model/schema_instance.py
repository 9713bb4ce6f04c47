"""The smallest JSON value a JSON schema accepts, for the scripted model's answers to requests
that constrain it: a ``json_schema`` response format, and the arguments of a tool call that
``tool_choice`` forces. Only the keywords models' schemas use are read (types, properties,
required, items, enum, const, anyOf/oneOf/allOf); strings are ``text``.

    instance({"type": "object", "properties": {"city": {"type": "string"}}}, "Oslo")
    # {"city": "Oslo"}
"""

from __future__ import annotations

from typing import Any

_SCALARS: dict[str, Any] = {"integer": 0, "number": 0, "boolean": False, "null": None}


def instance(schema: object, text: str) -> Any:
    if not isinstance(schema, dict):
        return text
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for combined in ("anyOf", "oneOf", "allOf"):
        if isinstance(schema.get(combined), list) and schema[combined]:
            return instance(schema[combined][0], text)
    kind = schema.get("type")
    if isinstance(kind, list):  # e.g. ["string", "null"]: the first that is not null
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        properties = schema.get("properties") or {}
        required = schema.get("required") or list(properties)
        return {name: instance(properties.get(name), text) for name in required}
    if kind == "array":
        return [instance(schema.get("items"), text) for _ in range(schema.get("minItems") or 0)]
    return _SCALARS.get(str(kind), text)
