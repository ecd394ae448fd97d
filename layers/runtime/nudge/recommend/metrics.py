"""Top-k ranking metrics with the Microsoft Recommenders definitions (binary relevance).

Users present in both `recommended` and `relevant` are scored; each metric is the mean over them.

- precision@k = hits in the top k / k
- recall@k    = hits in the top k / |relevant|
- nDCG@k      = Σ_{hit at rank r} 1/log2(r+1)  /  Σ_{r=1..min(|relevant|, k)} 1/log2(r+1)
- MAP         = Σ_{hit at rank r} (hits so far / r) / |relevant|   (not divided by min(|relevant|, k))
- coverage    = distinct items recommended / catalog size

>>> m = ranking_metrics({"u": ["a", "b"]}, {"u": {"b"}}, k=2, n_items=4)
>>> round(m["precision@2"], 3), round(m["ndcg@2"], 3), round(m["map"], 3), m["coverage"]
(0.5, 0.631, 0.5, 0.5)
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping, Sequence

import numpy as np


def ranking_metrics(
    recommended: Mapping[Hashable, Sequence[Hashable]],
    relevant: Mapping[Hashable, Collection[Hashable]],
    *,
    k: int = 10,
    n_items: int | None = None,
) -> dict[str, float]:
    """nDCG@k, precision@k, recall@k, MAP and catalog coverage, averaged over the common users."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))  # (k,) gain of a hit at rank 1..k
    ndcg = precision = recall = average_precision = 0.0
    users = [u for u in recommended if u in relevant and len(relevant[u]) > 0]
    shown: set[Hashable] = set()
    for user in users:
        truth = set(relevant[user])
        top = list(recommended[user])[:k]
        shown.update(top)
        hits = np.array([item in truth for item in top], dtype=bool)
        n_hits = int(hits.sum())
        dcg = float(discounts[: len(top)][hits].sum())
        idcg = float(discounts[: min(len(truth), k)].sum())
        ndcg += dcg / idcg
        precision += n_hits / k
        recall += n_hits / len(truth)
        ranks = np.flatnonzero(hits) + 1  # 1-based ranks of the hits
        average_precision += float((np.arange(1, n_hits + 1) / ranks).sum()) / len(truth)
    n = max(len(users), 1)
    return {
        f"ndcg@{k}": ndcg / n,
        f"precision@{k}": precision / n,
        f"recall@{k}": recall / n,
        "map": average_precision / n,
        "coverage": (len(shown) / n_items) if n_items else float("nan"),
        "users": len(users),
    }
