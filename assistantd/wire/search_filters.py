"""What a valid attribute filter of vector-store search is: a ``ComparisonFilter`` or a
recursive ``CompoundFilter``.

Part of the protocol, so request validation (``wire/vector_stores.py``) checks it without
importing retrieval; ``retrieval/filters.py`` evaluates filters that passed it.
"""

from __future__ import annotations

from typing import Any

COMPARISONS = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"})
COMPOUNDS = frozenset({"and", "or"})


def filter_error(spec: Any) -> str | None:
    """Why ``spec`` is not a valid filter, or None."""
    if not isinstance(spec, dict):
        return "filters must be an object"
    kind = spec.get("type")
    if not isinstance(kind, str):
        # Checked first: the lookups below hash it, and an object or array does not hash.
        return "a filter needs a string 'type'"
    if kind in COMPOUNDS:
        children = spec.get("filters")
        if not isinstance(children, list):
            return f"a '{kind}' filter needs a 'filters' array"
        return next((e for e in map(filter_error, children) if e), None)
    if kind not in COMPARISONS:
        return f"unknown filter type {kind!r}"
    if not isinstance(spec.get("key"), str):
        return "a comparison filter needs a string 'key'"
    value = spec.get("value")
    if kind in ("in", "nin"):
        return None if isinstance(value, list) else f"'{kind}' needs an array value"
    if not isinstance(value, str | int | float | bool):
        return f"'{kind}' needs a string, number or boolean value"
    return None
