from __future__ import annotations

import pytest

from assistantd.retrieval.ranking import final_scores, fused_scores


def test_a_chunk_first_for_both_methods_fuses_to_one() -> None:
    fused = fused_scores({1: 0.9, 2: 0.5, 3: 0.4}, {1: 7.0, 3: 2.0})
    assert fused[1] == pytest.approx(1.0)
    assert fused[2] == pytest.approx(0.5 * 0.2)  # dense only, 0.1 above the lowest of 0.5 span
    assert fused[3] == pytest.approx(0.5 * 2.0 / 7.0)


def test_a_towering_keyword_match_beats_a_near_duplicate() -> None:
    # Near-duplicates have almost the same cosine; the one quoting the asked identifier has a
    # BM25 far above the rest, and that margin decides under both rankers.
    cosines = {1: 0.61, 2: 0.60, 3: 0.40}
    keyword = {2: 12.0, 1: 3.0, 3: 3.0}
    fused = fused_scores(cosines, keyword)
    for ranker in ("none", "auto"):
        assert final_scores(fused, cosines, ranker)[0][0] == 2


def test_auto_scores_follow_meaning_so_thresholds_drop_off_topic_chunks() -> None:
    cosines = {1: 0.7, 2: 0.05}
    fused = fused_scores(cosines, {2: 5.0})  # the off-topic chunk is the only keyword match
    scores = dict(final_scores(fused, cosines, "auto"))
    assert scores[1] > 0.5 > 0.1 > scores[2]


def test_one_method_alone() -> None:
    assert fused_scores({}, {4: 2.0, 5: 1.0}) == {4: 0.5, 5: 0.25}
    assert fused_scores({4: 0.3}, {}) == {4: 0.5}
    assert fused_scores({}, {}) == {}


def test_the_only_chunk_quoting_the_asked_identifier_stays_on_top() -> None:
    # Look-alike articles (the same template, other error codes) are closer in meaning to
    # "What is the fix for error code E-4411?" than the one article that quotes E-4411.
    cosines = {1: 0.62, 2: 0.60, 3: 0.58, 4: 0.41}
    keyword = {4: 11.0, 1: 2.0, 2: 2.0, 3: 2.0}  # 4 holds "4411"; all hold "error code"
    fused = fused_scores(cosines, keyword)
    assert final_scores(fused, cosines, "auto")[0][0] == 1  # meaning alone buries it
    ranked = final_scores(fused, cosines, "auto", {4: 1.0})
    assert ranked[0][0] == 4
    assert ranked[0][1] == pytest.approx(1.0 * (0.5 + 0.5 * fused[4]))
    assert [chunk_id for chunk_id, _ in ranked[1:]] == [1, 2, 3]


def test_a_quoting_chunk_outside_both_candidate_lists_joins_them() -> None:
    cosines = {1: 0.6, 2: 0.3, 9: 0.2}
    fused = fused_scores({1: 0.6, 2: 0.3}, {})
    ranked = dict(final_scores(fused, cosines, "auto", {9: 0.8}))
    assert ranked[9] == pytest.approx(0.8 * 0.5)
    assert 9 not in dict(final_scores(fused, cosines, "none", {9: 0.8}))


def test_a_paraphrase_without_identifiers_ranks_by_meaning() -> None:
    # No word of the question is in the right chunks; the keyword side only found boilerplate.
    cosines = {1: 0.35, 2: 0.71, 3: 0.52}
    fused = fused_scores(cosines, {1: 4.0})
    ranked = final_scores(fused, cosines, "auto", {})
    assert [chunk_id for chunk_id, _ in ranked] == [2, 3, 1]
    assert all(score <= cosines[chunk_id] for chunk_id, score in ranked)


@pytest.mark.parametrize(
    ("cosines", "keyword", "identifier"),
    [
        ({1: 1.0000001, 2: -0.3}, {1: 5.0, 2: 5.0}, {}),
        ({1: -1.0, 2: 0.0}, {2: 1.0}, {1: 1.0, 2: 1.0}),
        ({1: 0.9}, {1: 3.0}, {1: 1.0, 7: 1.0}),
        ({}, {}, {5: 0.5}),
    ],
)
def test_auto_scores_stay_within_zero_and_one(
    cosines: dict[int, float], keyword: dict[int, float], identifier: dict[int, float]
) -> None:
    fused = fused_scores(cosines, keyword)
    for _, score in final_scores(fused, cosines, "auto", identifier):
        assert 0.0 <= score <= 1.0
