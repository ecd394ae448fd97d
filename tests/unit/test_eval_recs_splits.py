"""The evaluation's MovieLens splits: by item (Microsoft Recommenders' notebook) and by user (papers)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from scripts.eval_recs import python_stratified_split


def test_split_by_user_keeps_three_quarters_of_every_users_ratings_and_by_item_of_every_items():
    # GIVEN 40 users × their ratings of 50 items (4 to 40 ratings each)
    rng = np.random.default_rng(3)
    users = np.concatenate([np.full(n, f"u{u:02d}") for u, n in enumerate(rng.integers(4, 41, size=40))])
    items = np.array([f"i{i:02d}" for i in rng.integers(0, 50, size=len(users))])
    for filter_by, groups in (("user", users), ("item", items)):
        # WHEN split 75/25 with seed 42
        train = python_stratified_split(users, items, ratio=0.75, seed=42, filter_by=filter_by)
        # THEN each group keeps round(0.75 · its count) rows in training (numpy rounding), and no other split
        total, kept = Counter(groups.tolist()), Counter(groups[train].tolist())
        assert all(kept[g] == np.round(0.75 * n) for g, n in total.items())
        # AND the same seed gives the same split
        assert (train == python_stratified_split(users, items, ratio=0.75, seed=42, filter_by=filter_by)).all()
    # AND the two protocols are different splits of the same rows
    assert (python_stratified_split(users, items, filter_by="user") != python_stratified_split(users, items)).any()
    with pytest.raises(ValueError, match="expected 'item' or 'user'"):
        python_stratified_split(users, items, filter_by="time")


def test_repurchase_statistics_per_category_count_rebought_pairs_and_their_interval():
    from datetime import date
    from decimal import Decimal

    from nudge.types import Product
    from scripts.train_recommender import Interactions, repurchase_stats

    day = 86400.0
    # GIVEN u1 buying a mug on days 0, 10 and 30, u2 a mug once, u3 a lamp twice in one day (one basket)
    rows = [("u1", "mug", 0), ("u1", "mug", 10), ("u1", "mug", 30), ("u2", "mug", 3), ("u3", "lamp", 5), ("u3", "lamp", 5.2)]
    data = Interactions(users=np.array([r[0] for r in rows], dtype=object), items=np.array([r[1] for r in rows], dtype=object),
                        weight=np.ones(len(rows), dtype=np.float32), timestamp=np.array([r[2] * day for r in rows]))
    products = {pid: Product(pid, pid, pid, category, Decimal("5"), "GBP", 1, "x", date(2026, 1, 1))
                for pid, category in (("mug", "mugs"), ("lamp", "lamps"))}
    # WHEN summarised per category
    stats = repurchase_stats(data, products)
    # THEN mugs: 2 customer-item pairs, 1 rebought, intervals 10 and 20 days (median 15); lamps: the
    # same-day pair is one basket, not a rebuy, and no interval under a day is a repurchase interval
    assert stats["mugs"] == {"pairs": 2, "buyers": 2, "rebuy_share": 0.5, "intervals": 2,
                             "p25_days": 12.5, "median_days": 15.0, "p75_days": 17.5}
    assert stats["lamps"] == {"pairs": 1, "buyers": 1, "rebuy_share": 0.0, "intervals": 0,
                              "p25_days": None, "median_days": None, "p75_days": None}


def test_all_future_purchases_keeps_bought_items_and_rebuy_first_puts_them_in_front():
    import scipy.sparse as sp

    from scripts.train_recommender import PopularityModel, evaluate

    # GIVEN 3 items, a customer who bought item 0 and will buy it again, and popularity favouring item 2
    X = sp.csr_matrix(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 1.0]], dtype=np.float32))
    model = PopularityModel().fit(X)
    truth = {0: {0}}
    # WHEN scored at k=1 excluding the history, keeping it, and with the customer's own items first
    excluded = evaluate(model, X, truth, k=1)["ndcg@1"]
    kept = evaluate(model, X, truth, k=1, exclude_seen=False)["ndcg@1"]
    rebuy = evaluate(model, X, truth, k=1, exclude_seen=False, rebuy_boost=1.0)["ndcg@1"]
    # THEN only the rebuy-first list finds the repurchase
    assert (excluded, kept, rebuy) == (0.0, 0.0, 1.0)


def test_due_reorders_go_first_only_for_the_customers_who_have_one():
    import scipy.sparse as sp

    from scripts.train_recommender import PopularityModel, evaluate

    # GIVEN the same store, and customer 0's item 0 due again (customer 1 has nothing due)
    X = sp.csr_matrix(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 1.0]], dtype=np.float32))
    model = PopularityModel().fit(X)
    # WHEN scored at k=1 with the due items in front
    due = evaluate(model, X, {0: {0}, 1: {2}}, k=1, exclude_seen=False, front={0: [0]})
    # THEN customer 0's rebuy is found and customer 1 keeps the model's list (item 2, popular, kept)
    assert due["ndcg@1"] == 1.0
