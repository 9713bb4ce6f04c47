"""Reciprocal rank fusion of the dense and keyword rankings, the rerank step, and 0..1 scores.

* Fusion: a chunk's RRF value is ``sum(1 / (RRF_K + rank))`` over the two rankings it appears in
  (rank 1 is best). It is mapped to 0..1 by dividing by the best possible value, that of a chunk
  ranked first by both methods: ``fused = rrf / (2 / (RRF_K + 1))``.
* ``ranker="none"``: results in fused order, ``score = fused``. The score says how high a chunk
  ranks relative to the others, not how relevant it is, so a threshold filters by position.
* ``ranker="auto"`` (and the dated default names): the fused candidates are rescored with an
  absolute signal, ``score = max(cosine, 0) * (1 - FUSION_WEIGHT + FUSION_WEIGHT * fused)``,
  where ``cosine`` is the chunk's best similarity to any query string. Meaning sets the level
  (an off-topic chunk scores near 0, so ``score_threshold`` can drop it) and agreement between
  the two rankings lifts a chunk by up to half again.
"""

from __future__ import annotations

from collections.abc import Sequence

RRF_K = 60
FUSION_WEIGHT = 0.5


def fused_scores(rankings: Sequence[Sequence[int]]) -> dict[int, float]:
    """Chunk id → fused score in 0..1 from best-first rankings of ids (two rankings assumed)."""
    best = 2 / (RRF_K + 1)
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, chunk_id in enumerate(ranking, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1 / (RRF_K + rank)
    return {chunk_id: min(value / best, 1.0) for chunk_id, value in scores.items()}


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
