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

from dataclasses import dataclass

from assistantd.retrieval.identifiers import identifier_evidence

DENSE_WEIGHT = 0.5
FUSION_WEIGHT = 0.5
# Candidates each method contributes before fusion, at least.
MIN_CANDIDATES = 50


def candidate_pool(max_num_results: int) -> int:
    """How many candidates each method contributes to a search for ``max_num_results``."""
    return max(MIN_CANDIDATES, 4 * max_num_results)


def weighs_identifiers(mode: str, ranker: str) -> bool:
    """Whether the search looks for quoted identifiers: only the rerank weighs them ("none"
    stays the plain fused order), and only with the keyword index in play."""
    return mode != "dense" and ranker != "none"


@dataclass(frozen=True)
class Candidates:
    """What an index found for one search, before fusion; every index hands over the same.

    * ``dense``: the dense candidates' chunk ids, best first;
    * ``keyword``: the keyword candidates' chunk ids → BM25 (higher is better);
    * ``quotes``: each rare identifier of the queries → the ids of all chunks of the searched
      stores quoting it, filters or not (see ``identifiers``);
    * ``cosines``: chunk id → best cosine to the queries, for every candidate that passes the
      filters (a quoting chunk missing here is one the filters exclude);
    * ``chunks``: how many chunks the searched stores hold.
    """

    dense: list[int]
    keyword: dict[int, float]
    quotes: dict[str, list[int]]
    cosines: dict[int, float]
    chunks: int


def choose(
    candidates: Candidates, ranker: str, score_threshold: float, max_num_results: int
) -> list[tuple[int, float]]:
    """``(chunk id, score)`` of the results, best first: fused, reranked, rounded, thresholded."""
    cosines = candidates.cosines
    fused = fused_scores(
        {chunk_id: cosines[chunk_id] for chunk_id in candidates.dense}, candidates.keyword
    )
    evidence = {
        chunk_id: value
        for chunk_id, value in identifier_evidence(candidates.quotes, candidates.chunks).items()
        if chunk_id in cosines
    }
    ranked = final_scores(fused, cosines, ranker, evidence)
    # Rounded before the threshold so a client re-using a returned score keeps that hit.
    rounded = [(chunk_id, round(score, 6)) for chunk_id, score in ranked]
    return [(cid, score) for cid, score in rounded if score >= score_threshold][:max_num_results]


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
