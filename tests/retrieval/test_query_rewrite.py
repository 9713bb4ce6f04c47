"""rewrite_query: questions searched as the terms they hold."""

from __future__ import annotations

import pytest

from assistantd.retrieval.query_rewrite import rewrite_query, searched_queries


@pytest.mark.parametrize(
    ("question", "terms"),
    [
        ("What is the fix for error code E-4411?", "fix error code E-4411"),
        ("I'd like to know the height of the main office building.", "height main office building"),
        ("Why is v2.1 not supported on O'Brien's laptop?", "v2.1 not supported O'Brien's laptop"),
        ("Can you tell me what’s new?", "new"),
    ],
)
def test_filler_goes_and_identifiers_and_negations_stay(question: str, terms: str) -> None:
    assert rewrite_query(question) == terms


def test_a_query_of_nothing_but_filler_is_searched_as_written() -> None:
    assert rewrite_query(" What is it? ") == "What is it?"


def test_queries_are_rewritten_only_when_asked() -> None:
    asked = ["Where is the giraffe?", "How do ships sail?"]
    assert searched_queries(asked, rewrite=False) == asked
    assert searched_queries(asked, rewrite=True) == ["giraffe", "ships sail"]
    assert searched_queries("Who are you?", rewrite=False) == ["Who are you?"]
