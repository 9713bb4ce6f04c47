"""The words a keyword search looks for, whatever index answers it: the queries' words less
function words, and the tokens of a quoted identifier (``E-4411`` → ``e``, ``4411``).

Words are runs of letters and digits as SQLite's ``unicode61`` tokenizer cuts them, lowercased.
"""

from __future__ import annotations

import re

WORD = re.compile(r"\w+", re.UNICODE)
# Function words: OR-ing "the" or "in" would let any chunk match.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "too",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)


def query_words(queries: list[str]) -> list[str]:
    """The searchable words of the queries, once each, in order (no function words)."""
    words = (word for q in queries for word in (w.lower() for w in WORD.findall(q)))
    return list(dict.fromkeys(word for word in words if word not in STOPWORDS))


def phrase_tokens(word: str) -> list[str]:
    """The tokens of one word, for a phrase search: ``E-4411`` → ``["e", "4411"]``."""
    return [token.lower() for token in WORD.findall(word)]
