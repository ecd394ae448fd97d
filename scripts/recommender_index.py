"""An inverted-file (IVF) index over item embeddings, for ranking a catalog of a million items
inside the generate function (docs/RECOMMENDER.md, "A million items").

Offline only (numpy; the training export and the benchmark use it; the runtime reads the arrays it
makes): `build_ivf` fits k-means centroids on a sample of the item factors and assigns every item;
`choose_probe` picks the smallest number of clusters to probe whose recall@100 against exact
scoring reaches the target on customers' vectors; `ivf_recall` measures it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "layers" / "runtime") not in sys.path:  # the index arithmetic the runtime reads it with
    sys.path.insert(0, str(ROOT / "layers" / "runtime"))

from nudge.recommend.ivf import cluster_lists, members, nearest_centroid  # noqa: E402

IVF_MIN_ITEMS = 100_000  # embeddings above this many items are exported with an IVF index (docs/RECOMMENDER.md)
IVF_RECALL_TARGET = 0.97  # the probe count is the smallest whose recall@100 against exact scoring reaches this


def build_ivf(factors: np.ndarray, *, clusters: int = 0, seed: int = 42, iterations: int = 8,
              sample: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
    """An inverted-file index over item factors: k-means centroids (C, d) float32, fitted on a sample,
    and every item's nearest centroid (n,) int32. C defaults to ~sqrt(n) (1,000 at a million items)."""
    factors = np.asarray(factors, dtype=np.float32)
    n = len(factors)
    clusters = min(n, clusters or int(min(4096, max(16, round(np.sqrt(n))))))
    rng = np.random.default_rng(seed)
    train = factors[np.sort(rng.choice(n, size=min(n, sample), replace=False))]
    centroids = train[rng.choice(len(train), size=clusters, replace=False)].copy()
    for _ in range(iterations):
        assign = nearest_centroid(train, centroids)
        counts = np.bincount(assign, minlength=clusters)
        sums = np.zeros_like(centroids, dtype=np.float64)
        np.add.at(sums, assign, train)
        filled = counts > 0  # an empty cluster keeps its centroid
        centroids[filled] = (sums[filled] / counts[filled, None]).astype(np.float32)
    return centroids, nearest_centroid(factors, centroids)


def ivf_recall(factors: np.ndarray, centroids: np.ndarray, assign: np.ndarray, users: np.ndarray, probe: int,
               *, k: int = 100) -> float:
    """Mean share of the exact top-k (by inner product over every item) that the `probe` best-scoring
    clusters' items contain, over the user vectors `users` (m, d)."""
    factors = np.asarray(factors, dtype=np.float32)
    k = min(k, len(factors))
    order, offsets = cluster_lists(assign, len(centroids))
    hits = []
    for user in np.asarray(users, dtype=np.float32):
        scores = factors @ user
        exact = np.argpartition(-scores, k - 1)[:k]
        probed = members(order, offsets, np.argpartition(-(centroids @ user), probe - 1)[:probe])
        if len(probed) > k:
            approx = probed[np.argpartition(-scores[probed], k - 1)[:k]]
        else:
            approx = probed
        hits.append(len(np.intersect1d(exact, approx)) / k)
    return float(np.mean(hits))


def choose_probe(factors: np.ndarray, centroids: np.ndarray, assign: np.ndarray, users: np.ndarray, *,
                 target: float = IVF_RECALL_TARGET, k: int = 100) -> tuple[int, float]:
    """The smallest probe count (1/64, 1/32, ... of the clusters) whose recall@k reaches `target`."""
    clusters = len(centroids)
    recall = 0.0
    for share in (64, 32, 16, 8, 4, 2, 1):
        probe = max(1, clusters // share)
        recall = ivf_recall(factors, centroids, assign, users, probe, k=k)
        if recall >= target:
            return probe, recall
    return clusters, recall
