"""Ranking metrics on hand-computed examples (Microsoft Recommenders definitions)."""

import math

import pytest

from nudge.recommend.metrics import ranking_metrics


def test_metrics_hand_computed():
    # GIVEN user a: hits at ranks 1 and 3 of 3 relevant; user b: no hits
    recommended = {"a": ["x", "y", "z"], "b": ["x", "y", "z"], "only_recs": ["x"]}
    relevant = {"a": {"x", "z", "w"}, "b": {"q"}}
    m = ranking_metrics(recommended, relevant, k=3, n_items=10)
    dcg = 1 + 1 / math.log2(4)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert m["users"] == 2
    assert m["ndcg@3"] == pytest.approx(dcg / idcg / 2)
    assert m["precision@3"] == pytest.approx((2 / 3) / 2)
    assert m["recall@3"] == pytest.approx((2 / 3) / 2)
    assert m["map"] == pytest.approx(((1 / 1 + 2 / 3) / 3) / 2)
    assert m["coverage"] == pytest.approx(3 / 10)


def test_map_divides_by_all_relevant_not_min_k():
    m = ranking_metrics({"a": ["x"]}, {"a": {"x", "y", "z", "w"}}, k=1)
    assert m["map"] == pytest.approx(1 / 4)
    assert m["ndcg@1"] == pytest.approx(1.0)
