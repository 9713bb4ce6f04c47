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
