"""Attribute filters of vector-store search: ``ComparisonFilter`` and recursive ``CompoundFilter``.

A file whose attributes lack the key fails every comparison except ``ne`` and ``nin`` (it is not
equal to, and not in, anything). Ordering comparisons (gt/gte/lt/lte) need both sides to be
numbers or both strings; booleans compare only for equality. Which filters are valid is the
API's rule, in ``wire/search_filters.py``; these are filters that passed it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def matches(spec: dict | None, attributes: dict[str, Any]) -> bool:
    """Whether a file with ``attributes`` passes the filter (no filter passes everything)."""
    if not spec:
        return True
    kind = spec["type"]
    if kind == "and":
        return all(matches(child, attributes) for child in spec["filters"])
    if kind == "or":
        return any(matches(child, attributes) for child in spec["filters"])
    return _compare(kind, attributes.get(spec["key"], _MISSING), spec["value"])


class _Missing:
    pass


_MISSING = _Missing()


def _compare(kind: str, actual: Any, expected: Any) -> bool:
    if kind == "ne":
        return not _equal(actual, expected)
    if kind == "nin":
        return not any(_equal(actual, item) for item in expected)
    if actual is _MISSING:
        return False
    if kind == "eq":
        return _equal(actual, expected)
    if kind == "in":
        return any(_equal(actual, item) for item in expected)
    if not _orderable(actual, expected):
        return False
    return _ORDERINGS[kind](actual, expected)


def _equal(actual: Any, expected: Any) -> bool:
    # True == 1 in Python; attribute types must agree for a match.
    if isinstance(actual, bool) != isinstance(expected, bool):
        return False
    return actual == expected


def _orderable(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return False
    numbers = (int, float)
    both_numbers = isinstance(actual, numbers) and isinstance(expected, numbers)
    return both_numbers or (isinstance(actual, str) and isinstance(expected, str))
