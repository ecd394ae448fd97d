"""The inverted-file (IVF) index's shared arithmetic: which centroid an item is nearest, and the items
grouped cluster by cluster. Used at request time (Recommender.rank) and offline when the index is
built and its recall measured (scripts/recommender_index.py), so both read the index the same way."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def nearest_centroid(x: np.ndarray, centroids: np.ndarray, *, chunk: int = 65_536) -> np.ndarray:
    """(n,) int32 index of each row of `x` (n, d)'s nearest centroid (C, d), by Euclidean distance,
    `chunk` rows at a time (the (chunk, C) distance block bounds the memory)."""
    x = np.asarray(x, dtype=np.float32)
    centroids = np.asarray(centroids, dtype=np.float32)
    norms = (centroids**2).sum(axis=1)
    out = np.empty(len(x), dtype=np.int32)
    for start in range(0, len(x), chunk):
        out[start:start + chunk] = np.argmin(norms[None, :] - 2.0 * x[start:start + chunk] @ centroids.T, axis=1)
    return out


def cluster_lists(assign: np.ndarray, clusters: int) -> tuple[np.ndarray, np.ndarray]:
    """Items grouped by cluster: `order` (item indices, cluster by cluster, stable) and `offsets`
    (C + 1): cluster c's items are order[offsets[c]:offsets[c + 1]]."""
    assign = np.asarray(assign)
    order = np.argsort(assign, kind="stable").astype(np.int64)
    return order, np.searchsorted(assign[order], np.arange(clusters + 1)).astype(np.int64)


def members(order: np.ndarray, offsets: np.ndarray, chosen: Iterable[int]) -> np.ndarray:
    """The items of the `chosen` clusters, one array (in the clusters' order)."""
    return np.concatenate([order[offsets[c]:offsets[c + 1]] for c in chosen])
