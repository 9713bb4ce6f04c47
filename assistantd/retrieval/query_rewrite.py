"""``rewrite_query``: a question turned into the search terms it holds.

The hosted API had a model rewrite the query. Here the rewrite is offline and deterministic:
the words that say nothing about the topic (question words, pronouns, auxiliaries, politeness
and "I'd like to know") are dropped and the rest kept in their order, so "What is the fix for
error code E-4411?" is searched as "fix error code E-4411". Identifiers survive whole
(``E-4411``, ``v2.1``, ``O'Brien``); negations are kept, since they change what is asked. A
query of nothing but such words is searched as written.
"""

from __future__ import annotations

from assistantd.retrieval.identifiers import WORD

# English function words that carry no topic. Not "no", "not", "without": they change meaning.
_FILLER = frozenset(
    str.split("""
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i i'd i'll
    i'm i've if in into is it it's its itself just let me more most my myself of off on once
    only or other ought our ours ourselves out over own please same she should so some such
    than that that's the their theirs them themselves then there these they this those
    through to too under until up us very was we were what what's when where which while who
    whom why will with would you you're your yours yourself yourselves know like want need
    tell show find explain help thanks thank hi hello
    """)
)


def rewrite_query(query: str) -> str:
    """``query`` as its search terms (see the module docstring)."""
    words = WORD.findall(query)
    kept = [word for word in words if word.lower().replace("’", "'") not in _FILLER]
    return " ".join(kept) if kept else query.strip()


def searched_queries(query: str | list[str], rewrite: bool) -> list[str]:
    """The queries a search runs (and reports as ``search_query``): as given, or rewritten."""
    queries = [query] if isinstance(query, str) else list(query)
    return [rewrite_query(q) for q in queries] if rewrite else queries
