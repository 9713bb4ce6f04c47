"""Identifiers a query quotes (``E-4411``, ``QX-7781``, ``v2.1``) and how specific they are.

An identifier is a query word holding a digit. Embeddings cannot tell ``E-4411`` from
``E-4412`` (both are "an error code"), so whether a chunk quotes the identifier is decided by
the keyword index, as a phrase of the word's tokens (``"e 4411"``: case and the punctuation
between the parts do not matter).

An identifier's specificity is its normalised IDF in the searched stores,
``ln(N / df) / ln(N)`` for ``df`` quoting chunks of ``N``: 1 when one chunk quotes it, ½ when
√N chunks do. Only rare identifiers count, those that at most √N chunks quote (316 of 100,000):
a "2024" quoted everywhere says no more than an ordinary word, and the limit bounds what a
search reads to √N chunk ids per identifier.
"""

from __future__ import annotations

import math
import re

# A word, with inner hyphens, dots and apostrophes kept (identifiers, versions, names).
WORD = re.compile(r"\w+(?:[-.'’]\w+)*")
_DIGIT = re.compile(r"\d")


def quoted_identifiers(queries: list[str]) -> list[str]:
    """The identifier words of the queries, once each, in order."""
    words = (word for query in queries for word in WORD.findall(query))
    return list(dict.fromkeys(word for word in words if _DIGIT.search(word)))


def rare_limit(chunks: int) -> int:
    """The most chunks (of ``chunks`` searched) that may quote an identifier that counts."""
    return math.isqrt(chunks)


def specificity(quoting: int, chunks: int) -> float:
    """Normalised IDF, 0..1, of an identifier that ``quoting`` of ``chunks`` chunks quote."""
    if quoting <= 0:
        return 0.0
    return math.log(chunks / quoting) / math.log(chunks) if chunks > 1 else 1.0


def identifier_evidence(quotes: dict[str, list[int]], chunks: int) -> dict[int, float]:
    """Chunk id → the mean, over the query's rare identifiers, of the specificity of those the
    chunk quotes (0 for the rest).

    ``quotes`` maps each rare identifier to the ids of all chunks that quote it (none, when the
    stores lack it: a chunk quoting one of two asked identifiers answers half the question).
    """
    evidence: dict[int, float] = {}
    for chunk_ids in quotes.values():
        weight = specificity(len(chunk_ids), chunks) / len(quotes)
        for chunk_id in chunk_ids:
            evidence[chunk_id] = evidence.get(chunk_id, 0.0) + weight
    return evidence
