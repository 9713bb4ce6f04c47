"""Fusion of the dense and keyword results, the rerank step, and 0..1 scores.

* Fusion (a convex combination of normalised scores, which beat reciprocal rank fusion on the
  support-KB benchmark and is what Bruch et al. 2023, "An Analysis of Fusion Functions for
  Hybrid Retrieval", recommend over RRF):
  ``fused = DENSE_WEIGHT * dense + (1 - DENSE_WEIGHT) * keyword``, where ``dense`` is the
  chunk's cosine min-max scaled over the dense candidates (0 for chunks outside them) and
  ``keyword`` its BM25 divided by the best BM25 of the search (0 without a keyword match).
  Unlike ranks, scores keep margins: an exact identifier whose BM25 towers over the rest lifts
  its chunk clear of near-duplicates that have almost the same cosine, while a chunk that both
  methods rank first scores 1.
* ``ranker="none"``: results in fused order, ``score = fused``. The score says how high a chunk
  ranks relative to the others, not how relevant it is, so a threshold filters by position.
* ``ranker="auto"`` (and the dated default names): the candidates are rescored with absolute
  evidence, ``score = max(cosine, identifier) * (1 - FUSION_WEIGHT + FUSION_WEIGHT * fused)``,
  clamped to 0..1. ``cosine`` is the chunk's best similarity to any query string.
  ``identifier`` is 0 unless the query quotes a rare identifier (a word with a digit such as
  ``E-4411``; see ``identifiers``): then it is the mean, over the query's rare identifiers, of
  the specificity of each one the chunk quotes (1 when no other chunk of the searched stores
  quotes it, ½ when √N of their N chunks do). The stronger evidence sets the level and
  agreement between the two methods lifts a chunk by up to half again. Embeddings hardly tell
  one error code from another: on meaning alone, the one article quoting the asked ``E-4411``
  ranked below look-alikes quoting other codes (identifier questions: recall@5 0.70, against
  1.00 for ``none``, on the benchmark); with the identifier evidence it is found again.

  What ``score_threshold`` keeps: a chunk of cosine ``c`` that quotes no asked identifier scores
  between ``c/2`` and ``c`` (``c`` when both methods rank it first), so an off-topic chunk
  (cosine near 0) drops at any threshold. A chunk quoting the query's one identifier, which
  ``k`` of the ``N`` chunks quote, scores at least ``ln(N/k) / ln(N) / 2``: at least 0.5 when
  it is the only one, so a threshold of 0.5 keeps it.
"""

from __future__ import annotations

DENSE_WEIGHT = 0.5
FUSION_WEIGHT = 0.5


def fused_scores(dense: dict[int, float], keyword: dict[int, float]) -> dict[int, float]:
    """Chunk id → fused score in 0..1.

    ``dense`` maps the dense candidates to their cosine, ``keyword`` the keyword candidates to
    their BM25 (higher is better); either may be empty when only one method ran.
    """
    fused: dict[int, float] = {}
    if dense:
        low, high = min(dense.values()), max(dense.values())
        span = high - low
        for chunk_id, cosine in dense.items():
            fused[chunk_id] = DENSE_WEIGHT * ((cosine - low) / span if span > 0 else 1.0)
    if keyword:
        best = max(keyword.values())
        for chunk_id, bm25 in keyword.items():
            share = bm25 / best if best > 0 else 1.0
            fused[chunk_id] = fused.get(chunk_id, 0.0) + (1 - DENSE_WEIGHT) * share
    return {chunk_id: min(max(value, 0.0), 1.0) for chunk_id, value in fused.items()}


def final_scores(
    fused: dict[int, float],
    cosines: dict[int, float],
    ranker: str,
    identifier: dict[int, float] | None = None,
) -> list[tuple[int, float]]:
    """``(chunk id, score)`` best first, after the ranker's rerank step.

    ``identifier`` maps the chunks quoting the query's identifiers to their evidence (0..1);
    those outside ``fused`` join the candidates under ``auto``.
    """
    if ranker == "none":
        scored = fused
    else:
        identifier = identifier or {}
        scored = {
            chunk_id: _level(cosines.get(chunk_id, 0.0), identifier.get(chunk_id, 0.0))
            * (1 - FUSION_WEIGHT + FUSION_WEIGHT * fused.get(chunk_id, 0.0))
            for chunk_id in fused.keys() | identifier.keys()
        }
    return sorted(scored.items(), key=lambda item: (-item[1], item[0]))


def _level(cosine: float, identifier: float) -> float:
    """The stronger evidence, in 0..1 (a unit vector's cosine with itself can round above 1)."""
    return min(max(cosine, identifier, 0.0), 1.0)
