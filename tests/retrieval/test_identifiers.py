"""Which query words are identifiers, and how much quoting one says."""

from __future__ import annotations

import math

import pytest

from assistantd.retrieval.identifiers import (
    identifier_evidence,
    quoted_identifiers,
    rare_limit,
    specificity,
)


def test_words_with_a_digit_are_identifiers_once_each() -> None:
    queries = [
        "What is the fix for error code E-4411?",
        "Is v2.1 of the QX-7781 from 2024?",
        "e-4411",
    ]
    assert quoted_identifiers(queries) == ["E-4411", "v2.1", "QX-7781", "2024", "e-4411"]
    assert quoted_identifiers(["How do I reset my router?"]) == []


def test_specificity_is_one_for_a_single_quote_and_half_at_the_rare_limit() -> None:
    assert specificity(1, 100_000) == pytest.approx(1.0)
    assert rare_limit(100_000) == 316
    assert specificity(316, 100_000) == pytest.approx(0.5, abs=0.001)
    assert specificity(100_000, 100_000) == 0.0
    assert specificity(0, 100_000) == 0.0
    assert specificity(1, 1) == 1.0


def test_evidence_is_the_share_of_the_asked_identifiers_a_chunk_quotes() -> None:
    # "E-4411" is quoted by chunk 1 alone, "LX-20" by chunks 1, 2 and 3 of 9, "E-9999" by none.
    quotes = {"E-4411": [1], "LX-20": [1, 2, 3], "E-9999": []}
    lx = math.log(3) / math.log(9)
    assert identifier_evidence(quotes, 9) == pytest.approx(
        {1: (1.0 + lx) / 3, 2: lx / 3, 3: lx / 3}
    )
    assert identifier_evidence({}, 9) == {}
