from __future__ import annotations

import pytest

from assistantd.retrieval import filter_error, matches

ATTRS = {"author": "ada", "year": 2021, "score": 4.5, "draft": False}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"type": "eq", "key": "author", "value": "ada"}, True),
        ({"type": "eq", "key": "author", "value": "bob"}, False),
        ({"type": "ne", "key": "author", "value": "bob"}, True),
        ({"type": "gt", "key": "year", "value": 2020}, True),
        ({"type": "gte", "key": "year", "value": 2021}, True),
        ({"type": "lt", "key": "score", "value": 4.5}, False),
        ({"type": "lte", "key": "score", "value": 4.5}, True),
        ({"type": "in", "key": "author", "value": ["bob", "ada"]}, True),
        ({"type": "nin", "key": "author", "value": ["bob", "ada"]}, False),
        ({"type": "eq", "key": "draft", "value": False}, True),
        ({"type": "eq", "key": "year", "value": "2021"}, False),
        ({"type": "gt", "key": "author", "value": 3}, False),
        ({"type": "eq", "key": "missing", "value": "x"}, False),
        ({"type": "ne", "key": "missing", "value": "x"}, True),
        ({"type": "nin", "key": "missing", "value": ["x"]}, True),
        ({"type": "gt", "key": "missing", "value": 1}, False),
    ],
)
def test_comparisons(spec: dict, expected: bool) -> None:
    assert filter_error(spec) is None
    assert matches(spec, ATTRS) is expected


def test_compound_filters_nest() -> None:
    spec = {
        "type": "and",
        "filters": [
            {"type": "gte", "key": "year", "value": 2020},
            {
                "type": "or",
                "filters": [
                    {"type": "eq", "key": "author", "value": "bob"},
                    {"type": "eq", "key": "draft", "value": False},
                ],
            },
        ],
    }
    assert filter_error(spec) is None
    assert matches(spec, ATTRS)
    assert not matches(spec, {**ATTRS, "draft": True})
    assert matches(None, ATTRS)


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "xor", "filters": []},
        {"type": "eq", "value": 1},
        {"type": "in", "key": "a", "value": 1},
        {"type": "eq", "key": "a", "value": {"nested": 1}},
        {"type": "and", "filters": [{"type": "bogus", "key": "a", "value": 1}]},
        "eq",
    ],
)
def test_invalid_filters_are_explained(spec: object) -> None:
    assert filter_error(spec)
