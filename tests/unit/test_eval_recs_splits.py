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
