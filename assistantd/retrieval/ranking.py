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
* ``ranker="auto"`` (and the dated default names): the fused candidates are rescored with an
  absolute signal, ``score = max(cosine, 0) * (1 - FUSION_WEIGHT + FUSION_WEIGHT * fused)``,
  where ``cosine`` is the chunk's best similarity to any query string. Meaning sets the level
  (an off-topic chunk scores near 0, so ``score_threshold`` can drop it) and agreement between
  the two methods lifts a chunk by up to half again.
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
    fused: dict[int, float], cosines: dict[int, float], ranker: str
) -> list[tuple[int, float]]:
    """``(chunk id, score)`` best first, after the ranker's rerank step."""
    if ranker == "none":
        scored = fused
    else:
        scored = {
            chunk_id: max(cosines.get(chunk_id, 0.0), 0.0)
            * (1 - FUSION_WEIGHT + FUSION_WEIGHT * value)
            for chunk_id, value in fused.items()
        }
    return sorted(scored.items(), key=lambda item: (-item[1], item[0]))
