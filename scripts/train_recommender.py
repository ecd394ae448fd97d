"""Train, choose and export the recommender.

Inputs → outputs:
  a store directory (nudge.store: catalog.csv, customers.csv, events.csv, store.json)
  or an interactions CSV (user,item,timestamp + event_type | weight | rating)
    → build/recommender/   meta.json, item_ids.json, *.npy (neighbours or item factors),
                           popularity.npy, popularity_by_locale.json, trending.json, catalog/
    → build/catalog/       the same catalog, where the generate function's Engine reads it

Every candidate model is tuned on a validation split carved out of the training events (the last
`validation_days` of each customer's history), the best validation nDCG@10 wins, the winner is
refitted on all events, exported, reloaded through the numpy runtime and checked against the
trained model on a few customers (ExportParityError when they disagree).

    python scripts/train_recommender.py --source build/store --out build/recommender
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # shared 2-core box; implicit warns when BLAS is threaded

import numpy as np
import scipy.sparse as sp
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "layers" / "runtime") not in sys.path:  # run as a plain script: the core lives in the layer
    sys.path.insert(0, str(ROOT / "layers" / "runtime"))
if str(ROOT) not in sys.path:  # and its offline siblings are imported as scripts.<name>
    sys.path.insert(1, str(ROOT))

from nudge.campaigns import load_campaigns  # noqa: E402
from nudge.errors import ExportParityError, NudgeError, ValidationError  # noqa: E402
from nudge.recommend import EVENT_WEIGHTS, Catalog, Recommender  # noqa: E402
from nudge.recommend.metrics import ranking_metrics  # noqa: E402
from nudge.recommend.repurchase import CategoryRepurchase, RepurchaseTable, due_repurchases  # noqa: E402
from nudge.types import Product  # noqa: E402
from scripts.recommender_index import IVF_MIN_ITEMS, build_ivf, choose_probe  # noqa: E402

log = logging.getLogger("train_recommender")


@dataclass
class TrainConfig:
    source: str = "build/store"  # store dir (nudge.store) or interactions CSV
    out_dir: str = "build/recommender"  # model artifacts
    catalog_dir: str = "build/catalog"  # a copy of the catalog where the Engine reads it ("" = skip)
    social_proof: bool = True  # a store's ratings, review counts and quotes into the catalog (scripts/social_proof.py)
    models: tuple[str, ...] = ("popularity", "itemknn", "rp3beta", "ease", "als", "hybrid")  # candidates
    model: str = "auto"  # "auto" = best validation nDCG@10 among `models`; or force one name
    grid: str = "full"  # "full" (GRIDS, ~80 s on the 2.4k-item store) or "compact" (COMPACT_GRIDS, ~4x faster)
    half_life_days: float = 120.0  # recency decay of an event's weight (days to halve)
    validation_days: int = 28  # hold out each customer's last N days of history to tune and choose
    validation_fraction: float = 0.2  # CSV / no-date data: each user's last 20% of events instead
    top_neighbours: int = 200  # neighbours kept per item in the exported item-item form
    k: int = 10  # cut-off of the validation metric
    parity_users: int = 8  # customers checked runtime-vs-trained at export
    parity_tolerance: float = 1e-4  # max |runtime - trained| relative to max |trained|
    seed: int = 42
    memory_budget_gb: float = 0.0  # largest fit allowed (0 = 60% of this machine's memory); bigger families are skipped
    time_budget_minutes: float = 60.0  # tuning time shared among the families; over it, compact grids, then skip
    max_validation_users: int = 20_000  # validation customers scored per grid point (a seeded sample past this)
    max_validation_cells: float = 4e8  # and at most this many customers × items (2,000 customers at 200k items)
    # repeat purchases (nudge.recommend.repurchase): a category is repeatable when at least this share of
    # its (customer, item) purchase pairs were bought again, over >= min_rebuy_pairs pairs and >= 10 intervals
    min_rebuy_share: float = 0.10
    min_rebuy_pairs: int = 30


# --------------------------------------------------------------------------- interactions
@dataclass
class Interactions:
    """Implicit feedback as parallel arrays (one row per event)."""

    users: np.ndarray  # (n,) str user ids
    items: np.ndarray  # (n,) str item ids
    weight: np.ndarray  # (n,) float32 event weight before recency decay
    timestamp: np.ndarray  # (n,) float64 unix seconds
    products: dict[str, Product] = field(default_factory=dict)  # catalog when known
    customers: dict[str, Any] = field(default_factory=dict)
    as_of: date | None = None
    source: str = ""
    sha256: str = ""
    purchase: np.ndarray | None = None  # (n,) bool: the event is a purchase (None: every row is one, or unknown)
    reviews: list[Any] | None = None  # the store's review events (nudge.types.Event, with texts): social proof

    def __len__(self) -> int:
        return len(self.users)

    def subset(self, keep: np.ndarray) -> Interactions:
        return Interactions(self.users[keep], self.items[keep], self.weight[keep], self.timestamp[keep],
                            self.products, self.customers, self.as_of, self.source, self.sha256,
                            None if self.purchase is None else self.purchase[keep], self.reviews)

    def purchases(self) -> Interactions:
        """The purchase events only (all of them when the source does not say)."""
        return self if self.purchase is None else self.subset(self.purchase)


def event_weight(event_type: str, rating: int | None = None) -> float:
    """view < add_to_cart < purchase; a review weighs by its rating (1★ 0.5 … 5★ 4.0)."""
    if event_type == "review" and rating is not None:
        return max(0.5, float(rating) - 1.0)
    return EVENT_WEIGHTS.get(event_type, 1.0)


def file_sha256(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def load_store_interactions(path: str | Path, *, heldout: bool = False) -> Interactions:
    """Events of a nudge store (history, or the held-out future with heldout=True)."""
    from nudge.store import load_store

    store = load_store(path)
    events = store.heldout_events if heldout else store.events
    return Interactions(
        users=np.array([e.customer_id for e in events], dtype=object),
        items=np.array([e.product_id for e in events], dtype=object),
        weight=np.array([event_weight(e.event_type, e.rating) for e in events], dtype=np.float32),
        timestamp=np.array([e.timestamp.timestamp() for e in events], dtype=np.float64),
        products=dict(store.products),
        customers=dict(store.customers),
        as_of=store.as_of,
        source=str(path),
        sha256=file_sha256(p for p in Path(path).iterdir() if p.is_file()),
        purchase=np.array([e.event_type == "purchase" for e in events], dtype=bool),
        reviews=[e for e in events if e.event_type == "review"],
    )


def _parse_time(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return (ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)).timestamp()


def load_csv_interactions(path: str | Path) -> Interactions:
    """Interactions CSV with a header: user,item,timestamp and one of event_type, weight or rating.

    timestamp: unix seconds or ISO 8601. event_type: view | add_to_cart | purchase | review (with an
    optional rating column). weight: a non-negative float used as is. Rows that do not parse raise
    ValidationError naming the row.
    """
    users, items, weights, times = [], [], [], []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        columns = set(reader.fieldnames or ())
        if not {"user", "item", "timestamp"} <= columns or not columns & {"event_type", "weight", "rating"}:
            raise ValidationError(f"{path}: expected columns user,item,timestamp and event_type|weight|rating, "
                                  f"got {sorted(columns)}")
        for row_number, row in enumerate(reader, start=2):
            try:
                if row.get("event_type"):
                    rating = int(row["rating"]) if row.get("rating") else None
                    w = event_weight(row["event_type"], rating)
                elif row.get("weight"):
                    w = float(row["weight"])
                else:
                    w = max(0.5, float(row["rating"]) - 1.0)
                times.append(_parse_time(row["timestamp"]))
            except (KeyError, ValueError) as exc:
                raise ValidationError(f"{path} row {row_number}: {exc}") from exc
            users.append(row["user"])
            items.append(row["item"])
            weights.append(w)
    return Interactions(np.array(users, dtype=object), np.array(items, dtype=object),
                        np.array(weights, dtype=np.float32), np.array(times, dtype=np.float64),
                        source=str(path), sha256=file_sha256([Path(path)]))


def build_matrix(
    data: Interactions,
    user_index: Mapping[str, int],
    item_index: Mapping[str, int],
    *,
    as_of_ts: float | None = None,
    half_life_days: float | None = None,
    position_half_life: float | None = None,
    binary: bool = False,
) -> sp.csr_matrix:
    """(n_users, n_items) float32 CSR: log1p(Σ weight · 0.5^(age/half_life_days) · 0.5^(position/
    position_half_life)), or 1/0 when binary. `position` counts a user's events back from their most
    recent (0), the per-customer recency the runtime applies to a profile's most-recent-first lists."""
    rows = np.array([user_index.get(u, -1) for u in data.users], dtype=np.int64)
    cols = np.array([item_index.get(i, -1) for i in data.items], dtype=np.int64)
    keep = (rows >= 0) & (cols >= 0)
    w = data.weight.astype(np.float64)
    if half_life_days and as_of_ts is not None:
        age_days = np.maximum(0.0, (as_of_ts - data.timestamp) / 86400.0)
        w = w * 0.5 ** (age_days / half_life_days)
    if position_half_life and len(w):
        order = np.lexsort((-data.timestamp, rows))  # per user, newest first
        sorted_rows = rows[order]
        starts = np.flatnonzero(np.r_[True, sorted_rows[1:] != sorted_rows[:-1]])
        counts = np.diff(np.r_[starts, len(order)])
        position = np.empty(len(order), dtype=np.float64)
        position[order] = np.arange(len(order)) - np.repeat(starts, counts)
        w = w * 0.5 ** (position / position_half_life)
    matrix = sp.csr_matrix((w[keep], (rows[keep], cols[keep])), shape=(len(user_index), len(item_index)))
    matrix.sum_duplicates()
    if binary:
        matrix.data[:] = 1.0
    else:
        matrix.data = np.log1p(matrix.data)
    matrix.eliminate_zeros()
    return matrix.astype(np.float32)


# --------------------------------------------------------------------------- models
def _top_per_row(dense: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep the m largest-magnitude entries of each row (EASE's negative weights matter: dropping
    them cost 0.014 nDCG@10 on MovieLens): (index int32 (n, m), weight float32 (n, m)), -1 pads zeros."""
    n = dense.shape[0]
    m = min(m, dense.shape[1])
    part = np.argpartition(-np.abs(dense), m - 1, axis=1)[:, :m]
    vals = np.take_along_axis(dense, part, axis=1)
    order = np.argsort(-np.abs(vals), axis=1, kind="stable")
    idx = np.take_along_axis(part, order, axis=1).astype(np.int32)
    vals = np.take_along_axis(vals, order, axis=1).astype(np.float32)
    idx[vals == 0] = -1
    assert idx.shape == (n, m)
    return idx, vals


def _neighbours_to_sparse(idx: np.ndarray, vals: np.ndarray, n_items: int) -> sp.csr_matrix:
    rows = np.repeat(np.arange(idx.shape[0]), idx.shape[1])
    keep = idx.ravel() >= 0
    return sp.csr_matrix((vals.ravel()[keep], (rows[keep], idx.ravel()[keep])), shape=(idx.shape[0], n_items))


class Model:
    """Offline model contract (after benfred/implicit): fit(X) → scores(X_rows) → export(...).

    X holds interaction strengths (log1p of summed, decayed event weights). Hyperparameter
    `value_beta` turns them into the model's input exactly as the runtime does (Recommender.values):
    None = as is, 0 = binary, b = 1 + b·(strength − mean).
    """

    name = "model"
    form = "popularity"
    default_value_beta: float | None = 0.0

    def __init__(self, **hyperparameters: Any) -> None:
        self.hyperparameters = hyperparameters
        self.value_beta = hyperparameters.get("value_beta", self.default_value_beta)
        self.value_mean = 0.0
        self.popularity: np.ndarray | None = None

    def fit(self, X: sp.csr_matrix, **context: Any) -> Model:
        self.popularity = np.asarray((X > 0).sum(axis=0)).ravel().astype(np.float32)
        self.value_mean = float(X.data.mean()) if X.nnz else 0.0
        return self

    def inputs(self, X: sp.csr_matrix) -> sp.csr_matrix:
        """The model's input matrix (same transform as the runtime's Recommender.values)."""
        out = X.copy().astype(np.float32)
        if self.value_beta is None:
            return out
        if self.value_beta == 0.0:
            out.data[:] = 1.0
        else:
            out.data = np.maximum(0.05, 1.0 + self.value_beta * (out.data - self.value_mean)).astype(np.float32)
        return out

    recency: float | None = None  # position half-life of the request-time fold-in (None: runtime default)

    def runtime_kwargs(self) -> dict[str, Any]:
        return {"value_beta": self.value_beta, "value_mean": self.value_mean, "position_half_life": self.recency}

    def scores(self, X_rows: sp.csr_matrix) -> np.ndarray:
        """Dense (n_rows, n_items) scores for users given as rows of the interaction matrix."""
        return np.broadcast_to(self.popularity, (X_rows.shape[0], len(self.popularity))).copy()

    def export(self, item_ids: Sequence[str], **kwargs: Any) -> Recommender:
        return Recommender(item_ids=item_ids, form="popularity", popularity=self.popularity,
                           **self.runtime_kwargs(), **kwargs)


class PopularityModel(Model):
    name = "popularity"


class NeighbourModel(Model):
    """Item-item weights W (n_items × n_items), exported as the top-M neighbours per item."""

    form = "neighbours"

    def _weights(self, X: sp.csr_matrix) -> np.ndarray:
        raise NotImplementedError

    def fit(self, X: sp.csr_matrix, **context: Any) -> NeighbourModel:
        super().fit(X)
        self.index, self.weight = self._neighbours(self.inputs(X), self.hyperparameters.get("top_neighbours", 200))
        self.sparse = _neighbours_to_sparse(self.index, self.weight, X.shape[1])
        return self

    def _neighbours(self, X: sp.csr_matrix, m: int) -> tuple[np.ndarray, np.ndarray]:
        """The top-m neighbours of every item from the dense weight matrix (EASE: its inverse is dense)."""
        full = self._weights(X).astype(np.float32)
        np.fill_diagonal(full, 0.0)
        return _top_per_row(full, m)

    def scores(self, X_rows: sp.csr_matrix) -> np.ndarray:
        return np.asarray((self.inputs(X_rows) @ self.sparse).todense(), dtype=np.float32)

    def export(self, item_ids: Sequence[str], **kwargs: Any) -> Recommender:
        return Recommender(item_ids=item_ids, form="neighbours", popularity=self.popularity,
                           neighbour_index=self.index, neighbour_weight=self.weight,
                           **self.runtime_kwargs(), **kwargs)


class SparseNeighbourModel(NeighbourModel):
    """A neighbour model whose weights are computed a block of item rows at a time from the sparse
    interaction matrix, never as a dense items × items matrix: memory is the top-m result plus one
    block (`block_bytes`), so it goes to catalogs of hundreds of thousands of items (measured in
    scripts/bench_recommender_training.py). The weights are the same as a dense computation's."""

    block_bytes = 256 * 2**20  # one block of weight rows (sparse, at most rows × n_items entries of 12 bytes)

    def _prepare(self, X: sp.csr_matrix) -> dict[str, Any]:
        """What every block of one fit needs (matrices, norms, degrees): built once, dropped after the fit."""
        raise NotImplementedError

    def _block(self, state: dict[str, Any], rows: slice) -> sp.csr_matrix:
        """Weight rows `rows` (source items) against every item, as a sparse (len(rows), n_items) matrix."""
        raise NotImplementedError

    def _neighbours(self, X: sp.csr_matrix, m: int) -> tuple[np.ndarray, np.ndarray]:
        X = X.tocsr().astype(np.float64)
        n = X.shape[1]
        m = min(m, n)
        state = self._prepare(X)
        rows_per_block = max(1, min(n, self.block_bytes // max(1, 12 * n)))
        index = np.full((n, m), -1, dtype=np.int32)
        weight = np.zeros((n, m), dtype=np.float32)
        for start in range(0, n, rows_per_block):
            block = self._block(state, slice(start, min(n, start + rows_per_block))).tocoo()
            block.data[block.row + start == block.col] = 0.0  # an item is not its own neighbour
            block = block.tocsr()
            block.eliminate_zeros()
            _top_per_sparse_row(block, m, index[start:start + block.shape[0]], weight[start:start + block.shape[0]])
        return index, weight


def _top_per_sparse_row(block: sp.csr_matrix, m: int, index: np.ndarray, weight: np.ndarray) -> None:
    """Write each row's m largest-magnitude entries into index/weight (ordered by magnitude, -1 pads),
    as _top_per_row does for a dense row."""
    indptr, indices, data = block.indptr, block.indices, block.data.astype(np.float32)
    for r in range(block.shape[0]):
        lo, hi = indptr[r], indptr[r + 1]
        if lo == hi:
            continue
        vals, cols = data[lo:hi], indices[lo:hi]
        if hi - lo > m:
            part = np.argpartition(-np.abs(vals), m - 1)[:m]
            vals, cols = vals[part], cols[part]
        order = np.argsort(-np.abs(vals), kind="stable")
        index[r, :len(order)] = cols[order]
        weight[r, :len(order)] = vals[order]


class ItemKNNModel(SparseNeighbourModel):
    """Cosine similarity between item columns (shrunk by `shrink`)."""

    name = "itemknn"

    def _prepare(self, X: sp.csr_matrix) -> dict[str, Any]:
        return {"X": X, "Xt": X.T.tocsr(), "norms": np.sqrt(np.asarray(X.multiply(X).sum(axis=0)).ravel())}

    def _block(self, state: dict[str, Any], rows: slice) -> sp.csr_matrix:
        block = (state["Xt"][rows] @ state["X"]).tocoo()
        shrink, norms = self.hyperparameters.get("shrink", 0.0), state["norms"]
        block.data = block.data / (norms[rows.start + block.row] * norms[block.col] + shrink + 1e-9)
        return block.tocsr()


class RP3betaModel(SparseNeighbourModel):
    """RP3beta (Paudel et al. 2017): 3-step random-walk item→user→item, ^alpha, / popularity^beta."""

    name = "rp3beta"

    def _prepare(self, X: sp.csr_matrix) -> dict[str, Any]:
        B = X.copy()
        B.data[:] = 1.0
        user_deg = np.asarray(B.sum(axis=1)).ravel()
        item_deg = np.asarray(B.sum(axis=0)).ravel()
        return {"item_deg": item_deg,
                "p_ui": (sp.diags(1.0 / np.maximum(user_deg, 1)) @ B).tocsr(),  # user → item
                "p_iu": (sp.diags(1.0 / np.maximum(item_deg, 1)) @ B.T).tocsr()}  # item → user

    def _block(self, state: dict[str, Any], rows: slice) -> sp.csr_matrix:
        block = (state["p_iu"][rows] @ state["p_ui"]).tocoo()
        alpha = self.hyperparameters.get("alpha", 1.0)
        beta = self.hyperparameters.get("beta", 0.5)
        block.data = block.data**alpha / np.maximum(state["item_deg"][block.col], 1) ** beta
        return block.tocsr()


class EASEModel(NeighbourModel):
    """EASE (Steck 2019) with two measured extensions:

    - EDLAE dropout emphasis (Steck 2020): Λ = λI + p/(1−p)·diag(G), hyperparameter `dropout` = p;
    - input item weighting: columns of X scaled by popularity^−`item_power` before the fit, so a
      blockbuster in a history says less about a customer than a niche item does (IDF-like). The
      scaling is folded into the exported rows (B'[h] = popularity_h^−γ · B[h]), so the runtime is
      unchanged. λ is quoted for unscaled columns (multiplied by mean(popularity^−2γ)).
    """

    name = "ease"

    def _weights(self, X: sp.csr_matrix) -> np.ndarray:
        lam = self.hyperparameters.get("lambda", 500.0)
        dropout = self.hyperparameters.get("dropout", 0.0)
        power = self.hyperparameters.get("item_power", 0.0)
        counts = np.maximum(np.asarray((X > 0).sum(axis=0)).ravel(), 1.0)
        scale = counts**-power  # (n_items,)
        Xw = (X @ sp.diags(scale)).tocsr()
        G = np.asarray((Xw.T @ Xw).todense(), dtype=np.float64)
        diag = np.diag(G).copy()
        G[np.diag_indices_from(G)] += lam * float(np.mean(scale**2)) + dropout / (1.0 - dropout) * diag
        P = np.linalg.inv(G)
        B = -P / np.diag(P)  # column j divided by P_jj
        np.fill_diagonal(B, 0.0)
        return scale[:, None] * B  # fold the input scaling into the rows


class ALSModel(Model):
    """Implicit ALS (benfred/implicit); the runtime folds customers in with the same least squares."""

    name = "als"
    form = "embeddings"
    default_value_beta = None

    def fit(self, X: sp.csr_matrix, **context: Any) -> ALSModel:
        from implicit.als import AlternatingLeastSquares

        super().fit(X)
        hp = {"factors": 64, "regularization": 0.05, "alpha": 2.0, "iterations": 15, **self.hyperparameters}
        self.hyperparameters = hp
        self.model = AlternatingLeastSquares(
            factors=hp["factors"], regularization=hp["regularization"], alpha=hp["alpha"],
            iterations=hp["iterations"], random_state=context.get("seed", 42), num_threads=hp.get("threads", 0),
            calculate_training_loss=False, use_gpu=False,
        )
        self.model.fit(self.inputs(X), show_progress=False)
        self.item_factors = np.asarray(self.model.item_factors, dtype=np.float32)
        content = context.get("content")
        self.content_to_factors = _ridge_map(content, self.item_factors) if content is not None else None
        return self

    def scores(self, X_rows: sp.csr_matrix) -> np.ndarray:
        user = self.model.recalculate_user(np.arange(X_rows.shape[0]), self.inputs(X_rows).tocsr())
        return np.asarray(user @ self.item_factors.T, dtype=np.float32)

    def export(self, item_ids: Sequence[str], **kwargs: Any) -> Recommender:
        hp = self.hyperparameters
        ivf: dict[str, Any] = {}
        if len(item_ids) >= IVF_MIN_ITEMS:  # an IVF index, its probe count chosen by measured recall
            centroids, assign = build_ivf(self.item_factors)
            users = np.asarray(self.model.user_factors, dtype=np.float32)
            sample = users[np.random.default_rng(0).choice(len(users), size=min(200, len(users)), replace=False)]
            probe, recall = choose_probe(self.item_factors, centroids, assign, sample)
            log.info("IVF index: %d clusters, probe %d, recall@100 %.3f on %d training customers",
                     len(centroids), probe, recall, len(sample))
            ivf = {"ivf_centroids": centroids, "ivf_assign": assign}
            kwargs["meta"] = {**dict(kwargs.get("meta") or {}), "ivf_probe": probe, "ivf_recall_at_100": round(recall, 4)}
        return Recommender(item_ids=item_ids, form="embeddings", popularity=self.popularity,
                           factors=self.item_factors, content_to_factors=self.content_to_factors,
                           regularization=hp["regularization"], alpha=hp["alpha"], **self.runtime_kwargs(),
                           **ivf, **kwargs)


def _ridge_map(content: np.ndarray, factors: np.ndarray, reg: float = 1.0) -> np.ndarray:
    """W minimising |content·W − factors|² + reg|W|²: (CONTENT_DIMS, d); cold item factors = content·W."""
    A = content.T.astype(np.float64) @ content + reg * np.eye(content.shape[1])
    return np.linalg.solve(A, content.T.astype(np.float64) @ factors).astype(np.float32)


class HybridModel(Model):
    """A collaborative base model plus content similarity (hashed text vectors), as the runtime mixes them:
    score = cf / max|cf| + content_weight · cos(item content, Σ weight · history content)."""

    name = "hybrid"

    def __init__(self, base: Model, content_weight: float = 0.1, **hp: Any) -> None:
        super().__init__(base=base.name, content_weight=content_weight, **base.hyperparameters)
        self.base = base
        self.form = base.form
        self.content_weight = content_weight

    def fit(self, X: sp.csr_matrix, **context: Any) -> HybridModel:
        self.base.fit(X, **context)
        self.popularity = self.base.popularity
        self.content = context["content"]
        return self

    def scores(self, X_rows: sp.csr_matrix) -> np.ndarray:
        cf = self.base.scores(X_rows)
        top = np.abs(cf).max(axis=1, keepdims=True)
        cf = cf / np.where(top > 0, top, 1.0)
        taste = self.base.inputs(X_rows) @ self.content  # (n, CONTENT_DIMS)
        norm = np.linalg.norm(taste, axis=1, keepdims=True)
        taste = taste / np.where(norm > 0, norm, 1.0)
        return (cf + self.content_weight * (taste @ self.content.T)).astype(np.float32)

    def export(self, item_ids: Sequence[str], **kwargs: Any) -> Recommender:
        self.base.recency = self.recency
        return self.base.export(item_ids, content_weight=self.content_weight, **kwargs)


class BlendModel(Model):
    """A weighted sum of per-user max-normalised scores of two fitted models (offline comparison only)."""

    name = "blend"

    def __init__(self, first: Model, second: Model, weight: float = 0.3) -> None:
        super().__init__(first=first.name, second=second.name, weight=weight)
        self.first, self.second, self.weight = first, second, weight

    def fit(self, X: sp.csr_matrix, **context: Any) -> BlendModel:
        self.first.fit(X, **context)
        self.second.fit(X, **context)
        self.popularity = self.first.popularity
        return self

    def scores(self, X_rows: sp.csr_matrix) -> np.ndarray:
        out = []
        for model in (self.first, self.second):
            s = model.scores(X_rows)
            top = np.abs(s).max(axis=1, keepdims=True)
            out.append(s / np.where(top > 0, top, 1.0))
        return (1.0 - self.weight) * out[0] + self.weight * out[1]


# --------------------------------------------------------------------------- what fits
class TrainingBudgetError(NudgeError, RuntimeError):
    """No candidate (or the model asked for) fits the memory or time budget; the message says what each needs."""


@dataclass
class FitEstimate:
    """What one fit of a family is expected to need on this data, before it runs.

    Calibrated on this project's 2-core x86 machine (scripts/bench_recommender_training.py prints the
    estimate beside the measurement at 10k, 50k and 200k items); a rough figure, good to a factor of
    about two, for deciding what to fit, not for billing."""

    name: str
    peak_bytes: int  # the fit's own peak over the interaction data already in memory
    seconds: float  # one fit plus one evaluation of the validation customers at three recencies

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "peak_gib": round(self.peak_bytes / 2**30, 3), "seconds": round(self.seconds, 1)}


def estimate_fit(name: str, X: sp.csr_matrix, *, hp: Mapping[str, Any] | None = None, top_neighbours: int = 200,
                 eval_users: int = 0, block_bytes: int = SparseNeighbourModel.block_bytes) -> FitEstimate:
    """Memory and time of one fit of family `name` on interaction matrix X (users × items)."""
    hp = hp or {}
    n_users, n = X.shape
    nnz = int(X.nnz)
    row_lengths = np.diff(X.indptr).astype(np.float64)
    pairs = float(np.sum(row_lengths**2))  # co-occurrences: the work of X^T X, however it is blocked
    m = min(top_neighbours, n)
    # scoring the validation customers at 3 recencies: dense (users × items) blocks, top-k over each
    evaluation = 3 * eval_users * n * 1.5e-8
    if name == "ease":
        # measured: peak ~4.1 float64 n x n matrices (G, its inverse, B, the float32 copy, top-m);
        # time: the inverse of G (1.1e-10 n^3 s at one BLAS thread), the Gram product and the top-m cut
        peak, seconds = int(4.2 * 8 * n * n), 1.1e-10 * n**3 + 2.5e-8 * n * n + pairs * 2e-8
    elif name in ("itemknn", "rp3beta"):
        # the sparse input in float64 and its transpose (and rp3beta's two walk matrices), one block of
        # weight rows with its COO copy, the top-m result and its sparse form
        peak = nnz * 12 * (6 if name == "rp3beta" else 4) + 3 * block_bytes + n * m * 20
        seconds = pairs * 4e-8 + n * 1.5e-5
    elif name == "als":
        factors = int(hp.get("factors", 64))
        iterations = int(hp.get("iterations", 15))
        peak = nnz * 12 * 4 + (n_users + n) * factors * 4 * 3
        seconds = iterations * (nnz * factors * 2.4e-8 + (n_users + n) * factors**2 * 1.6e-8) / max(1, os.cpu_count() or 1)
    elif name == "hybrid":  # its base's fit (estimated separately) plus the content similarity per score block
        peak, seconds = n * 4 * 64 * 2, n * 1e-6
    else:  # popularity
        peak, seconds = n * 8, nnz * 1e-8
    return FitEstimate(name, int(peak), float(seconds + evaluation))


def physical_memory_bytes() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 16 * 2**30


def plan_fits(names: Sequence[str], X: sp.csr_matrix, grids: Mapping[str, list[dict[str, Any]]],
              compact: Mapping[str, list[dict[str, Any]]], *, memory_budget: int, time_budget_s: float,
              top_neighbours: int = 200, eval_users: int = 0
              ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str], dict[str, FitEstimate]]:
    """Which families to tune, on which grid points, within the budgets: ({name: grid}, {name: why
    skipped}, {name: the estimate each decision was made on}).

    A family whose one fit needs more than `memory_budget` bytes is skipped (EASE past ~12k items on
    16 GB). The tuning time is shared evenly among the families: one whose grid would take longer than
    its share tunes on its compact grid instead, then on the compact grid's first point, and is
    skipped when even one fit would. Every decision is logged with its numbers."""
    families = [n for n in names if n != "hybrid"]
    share = time_budget_s / max(1, len(families))
    chosen: dict[str, list[dict[str, Any]]] = {}
    skipped: dict[str, str] = {}
    estimates: dict[str, FitEstimate] = {}
    for name in families:
        estimate = estimates[name] = estimate_fit(name, X, hp=(grids.get(name) or [{}])[0],
                                                  top_neighbours=top_neighbours, eval_users=eval_users)
        if estimate.peak_bytes > memory_budget:
            skipped[name] = (f"one fit needs ~{estimate.peak_bytes / 2**30:.1f} GiB, over the memory budget of "
                             f"{memory_budget / 2**30:.1f} GiB ({X.shape[1]:,} items)")
            log.warning("%s skipped: %s", name, skipped[name])
            continue
        for label, grid in (("full", grids[name]), ("compact", compact[name]), ("one point", compact[name][:1])):
            if estimate.seconds * len(grid) <= share:
                chosen[name] = list(grid)
                if label != "full":
                    log.warning("%s tunes on its %s grid (%d points): the full grid would take ~%.0f s, over its "
                                "share %.0f s of the time budget", name, label, len(grid),
                                estimate.seconds * len(grids[name]), share)
                break
        else:
            skipped[name] = (f"one fit takes ~{estimate.seconds:.0f} s, over its share {share:.0f} s of the time "
                             f"budget ({X.shape[1]:,} items)")
            log.warning("%s skipped: %s", name, skipped[name])
    if "hybrid" in names:
        chosen["hybrid"] = list(grids["hybrid"])
    return chosen, skipped, estimates


# Grids searched on the validation split; the first entry is the default.
GRIDS: dict[str, list[dict[str, Any]]] = {
    "popularity": [{}],
    "itemknn": [{"shrink": s} for s in (0.0, 10.0, 50.0)],
    "rp3beta": [{"alpha": a, "beta": b} for a in (0.6, 1.0) for b in (0.0, 0.3, 0.5, 0.7)],
    "ease": [{"lambda": lam, "dropout": p, "item_power": g, "value_beta": b}
             for lam in (250.0, 500.0, 1000.0) for p in (0.0, 0.25) for g in (0.0, 0.2) for b in (0.0, 0.35, None)],
    # λ up to 30: on MovieLens λ 30 / alpha 2 scores 0.491 where the earlier grid's best (λ 1) gave 0.447
    # (measured beside Spark's ALS, whose regularization grows with each customer's ratings: `make spark-als`)
    "als": [{"factors": f, "regularization": r, "alpha": a, "value_beta": b}
            for f in (32, 64) for r in (1.0, 10.0, 30.0) for a in (1.0, 2.0) for b in (0.0, None)],
    "hybrid": [{"content_weight": w} for w in (0.0, 0.02, 0.05, 0.1, 0.2)],  # 0.0: content does not help
}
# A quick subset for demos and CI: the settings the full grids chose on MovieLens and the embedded store.
COMPACT_GRIDS: dict[str, list[dict[str, Any]]] = {
    "popularity": [{}],
    "itemknn": [{"shrink": 10.0}],
    "rp3beta": [{"alpha": 1.0, "beta": 0.3}],
    "ease": [{"lambda": lam, "dropout": 0.0, "item_power": 0.2, "value_beta": b}
             for lam in (250.0, 500.0, 1000.0) for b in (0.35, None)],
    "als": [{"factors": 32, "regularization": r, "alpha": a, "value_beta": None} for r, a in ((1.0, 1.0), (30.0, 2.0))],
    "hybrid": [{"content_weight": w} for w in (0.0, 0.05)],
}
MODEL_CLASSES = {"popularity": PopularityModel, "itemknn": ItemKNNModel, "rp3beta": RP3betaModel,
                 "ease": EASEModel, "als": ALSModel}


def available_models(names: Sequence[str]) -> list[str]:
    """`names` without ALS when the `implicit` package is not installed (logged, not silent)."""
    if "als" in names:
        try:
            import implicit  # noqa: F401
        except ImportError:
            log.warning("implicit is not installed (pip install -r requirements/dev.txt): ALS is skipped")
            return [n for n in names if n != "als"]
    return list(names)


def make_model(name: str, hp: Mapping[str, Any], *, top_neighbours: int = 200,
               base: Model | None = None) -> Model:
    if name == "hybrid":
        if base is None:
            raise ValueError("hybrid needs a base model")
        return HybridModel(base, **hp)
    cls = MODEL_CLASSES[name]
    return cls(top_neighbours=top_neighbours, **hp) if cls.form == "neighbours" else cls(**hp)


# --------------------------------------------------------------------------- repeat purchases
def repurchase_stats(purchases: Interactions, products: Mapping[str, Product]) -> dict[str, dict[str, Any]]:
    """Per category, from purchase events: (customer, item) pairs and buyers, the share of pairs bought
    on more than one day, and the days between one purchase of an item and the same customer's next
    (median and quartiles over every interval of a day or more; None when there is none)."""
    buys: dict[tuple[str, str], list[float]] = {}
    for user, item, ts in zip(purchases.users, purchases.items, purchases.timestamp):
        buys.setdefault((str(user), str(item)), []).append(float(ts))
    by_category: dict[str, dict[str, Any]] = {}
    for (user, item), times in buys.items():
        product = products.get(item)
        entry = by_category.setdefault(product.category if product is not None else "unknown",
                                       {"pairs": 0, "rebought": 0, "buyers": set(), "gaps": []})
        times.sort()
        gaps = [(b - a) / 86400.0 for a, b in zip(times, times[1:]) if b - a >= 86400.0]
        entry["pairs"] += 1
        entry["rebought"] += bool(gaps)
        entry["buyers"].add(user)
        entry["gaps"] += gaps
    out: dict[str, dict[str, Any]] = {}
    for category, e in sorted(by_category.items()):
        q = np.percentile(e["gaps"], [25, 50, 75]) if e["gaps"] else (None, None, None)
        out[category] = {"pairs": e["pairs"], "buyers": len(e["buyers"]), "rebuy_share": round(e["rebought"] / e["pairs"], 4),
                         "intervals": len(e["gaps"]),
                         **{f"{name}_days": None if v is None else round(float(v), 1)
                            for name, v in zip(("p25", "median", "p75"), q)}}
    return out


REBUY_LIFT = 2.0  # a repeatable category is rebought at least this many times as often as the median category
MAX_INTERVAL_SPREAD = 1.0  # ... at a regular rhythm: (p75 − p25) / median interval at most this


def learn_repurchase(purchases: Interactions, products: Mapping[str, Product], *, min_rebuy_share: float = 0.10,
                     min_pairs: int = 30, min_intervals: int = 10) -> RepurchaseTable:
    """The repeatable categories (nudge.recommend.repurchase): enough pairs and intervals to judge; rebought
    by at least `min_rebuy_share` of the pairs and, given 5 categories or more to compare with, REBUY_LIFT ×
    the median category's share (a customer who buys from a small range again and again rebuys some items
    by chance: measured on small generated stores, 15-27% of a vase's or clock's pairs); and at a regular rhythm (interquartile range of the
    intervals at most MAX_INTERVAL_SPREAD × the median: a consumable's reorders come after a typical time,
    chance rebuys at any time, measured 0.6-1.0 against 1.1-2.7)."""
    stats = repurchase_stats(purchases, products)
    shares = [s["rebuy_share"] for s in stats.values() if s["pairs"] >= min_pairs]
    # the lift needs a baseline: at least 5 categories to take a median of (else the share alone)
    floor = max(min_rebuy_share, REBUY_LIFT * float(np.median(shares))) if len(shares) >= 5 else min_rebuy_share
    chosen = {c: CategoryRepurchase(s["rebuy_share"], s["median_days"], s["p25_days"], s["p75_days"], s["intervals"],
                                    s["pairs"])
              for c, s in stats.items()
              if s["pairs"] >= min_pairs and s["rebuy_share"] >= floor and s["intervals"] >= min_intervals
              and s["p75_days"] - s["p25_days"] <= MAX_INTERVAL_SPREAD * s["median_days"]}
    return RepurchaseTable(chosen, min_rebuy_share, min_pairs, min_intervals, round(floor, 4), MAX_INTERVAL_SPREAD)


def due_front(purchases: Interactions, products: Mapping[str, Product], table: RepurchaseTable,
              u_index: Mapping[str, int], i_index: Mapping[str, int], *, as_of: date, limit: int = 1
              ) -> dict[int, list[int]]:
    """User row -> the item columns the runtime would show first as due reorders (as of `as_of`), from
    each customer's last purchase day of each item: what `evaluate(front=...)` puts ahead of the model."""
    last: dict[tuple[str, str], float] = {}
    for user, item, ts in zip(purchases.users, purchases.items, purchases.timestamp):
        key = (str(user), str(item))
        last[key] = max(last.get(key, 0.0), float(ts))
    by_user: dict[str, list[tuple[float, str]]] = {}
    for (user, item), ts in last.items():
        by_user.setdefault(user, []).append((ts, item))
    front: dict[int, list[int]] = {}
    for user, bought in by_user.items():
        bought.sort(reverse=True)  # most recent first, as a profile's list
        due = due_repurchases([i for _, i in bought],
                              [datetime.fromtimestamp(ts, tz=timezone.utc).date() for ts, _ in bought],
                              lambda pid: products[pid].category if pid in products else None, table,
                              as_of=as_of, limit=limit)
        cols = [i_index[d.product_id] for d in due if d.product_id in i_index]
        if cols and user in u_index:
            front[u_index[user]] = cols
    return front


# --------------------------------------------------------------------------- evaluation helpers
def top_k(scores: np.ndarray, seen: sp.csr_matrix | None, k: int) -> np.ndarray:
    """(n, k) item indices of the best items per row of `scores`, the `seen` ones excluded (None: none)."""
    scores = scores.astype(np.float32, copy=True)
    if seen is not None:
        rows = np.repeat(np.arange(seen.shape[0]), np.diff(seen.indptr))
        scores[rows, seen.indices] = -np.inf
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def evaluate(model: Model, X_train: sp.csr_matrix, relevant: Mapping[int, set[int]], *, k: int = 10,
             batch: int = 0, exclude_seen: bool = True, rebuy_boost: float = 0.0,
             front: Mapping[int, Sequence[int]] | None = None) -> dict[str, float]:
    """Metrics of a fitted model: users are rows of X_train (their history as the model's input, with
    the recency the runtime applies; its items are excluded), relevant their held-out item indices.
    `front`: per user row, items shown ahead of the model's list (due reorders, as the runtime shows them).
    Users are scored `batch` at a time (default: as many as keep one dense score block near 256 MB)."""
    batch = batch or max(16, min(2048, EVAL_BLOCK_CELLS // max(1, X_train.shape[1])))
    users = np.array(sorted(u for u, items in relevant.items() if items), dtype=np.int64)
    recommended: dict[int, list[int]] = {}
    for start in range(0, len(users), batch):
        chunk = users[start:start + batch]
        rows = X_train[chunk]
        scores = model.scores(rows)
        if rebuy_boost:  # the customer's own items first, by strength, the model's order after them
            top = np.abs(scores).max(axis=1, keepdims=True) + 1e-9
            scores = scores / top + rebuy_boost * np.asarray(rows.todense())
        best = top_k(scores, rows if exclude_seen else None, k)
        for j, u in enumerate(chunk):
            first = list((front or {}).get(int(u), ()))[:k]
            recommended[int(u)] = first + [i for i in best[j].tolist() if i not in first][:k - len(first)]
    return ranking_metrics(recommended, relevant, k=k, n_items=X_train.shape[1])


EVAL_BLOCK_CELLS = 2**26  # scores × items per evaluation block: 256 MB of float32, ~3x that with top_k's copies


def sample_users(relevant: Mapping[int, set[int]], limit: int, seed: int) -> dict[int, set[int]]:
    """At most `limit` of the users with held-out items, drawn with `seed` (all of them when fewer):
    on a catalog of 200k items and 400k customers, scoring every validation customer for every grid
    point would take longer than the fits."""
    if limit <= 0 or len(relevant) <= limit:
        return dict(relevant)
    users = sorted(relevant)
    keep = np.random.default_rng(seed).choice(len(users), size=limit, replace=False)
    return {users[i]: relevant[users[i]] for i in sorted(keep.tolist())}


def relevant_sets(test: sp.csr_matrix) -> dict[int, set[int]]:
    return {u: set(test.indices[test.indptr[u]:test.indptr[u + 1]].tolist())
            for u in range(test.shape[0]) if test.indptr[u + 1] > test.indptr[u]}


MIN_VALIDATION_REBUY_SHARE = 0.01  # rebuys among held-out pairs below which selection judges new items only
RECENCY_GRID = (None, 10.0, 25.0)  # position half-lives (events) tried for the request-time fold-in


@dataclass
class Fold:
    """One validation split: the matrix to fit on, the same history with each candidate recency as
    request-time input ({position_half_life: matrix}), and the held-out items per user row."""

    X_fit: sp.csr_matrix
    inputs: dict[float | None, sp.csr_matrix]
    relevant: Mapping[int, set[int]]
    # repeat purchases: every held-out purchase per user row (rebuys included) and the due reorders the
    # runtime would show first; None where the data has too few rebuys to judge them
    repeat_relevant: Mapping[int, set[int]] | None = None
    front: Mapping[int, Sequence[int]] | None = None

    def score(self, model: Model, X_in: sp.csr_matrix, *, k: int, repeat_weight: float) -> tuple[float, float | None]:
        """(new-items nDCG@k, due-first all-purchases nDCG@k or None): the second as a campaign that shows
        due reorders first and excludes the rest of what was bought (loyalty's rules) would see it."""
        new = evaluate(model, X_in, self.relevant, k=k)[f"ndcg@{k}"]
        if self.repeat_relevant is None or repeat_weight <= 0:
            return new, None
        return new, evaluate(model, X_in, self.repeat_relevant, k=k, front=self.front)[f"ndcg@{k}"]


def tune(
    names: Sequence[str],
    folds: Sequence[Fold],
    *,
    content: np.ndarray | None,
    k: int = 10,
    top_neighbours: int = 200,
    seed: int = 42,
    grids: Mapping[str, list[dict[str, Any]]] = GRIDS,
    progress: bool = True,
    repeat_weight: float = 0.0,
) -> dict[str, dict[str, Any]]:
    """Grid search per model family and request-time recency; each point is scored by nDCG@k averaged
    over the folds. Returns {name: {"hp", "recency", "ndcg", "score"} (+ "ndcg_due_first"; "base",
    "base_hp" for hybrid)}.

    `score` chooses: the new-items nDCG, or where the folds carry repeat purchases, (1 − repeat_weight) ×
    new-items + repeat_weight × due-first nDCG (the share of campaigns that show due reorders).
    The hybrid family wraps the best non-popularity family and tunes only its content weight.
    """
    found: dict[str, dict[str, Any]] = {}
    context = {"content": content, "seed": seed}
    names = available_models(names)
    jobs = [(n, hp) for n in names if n != "hybrid" for hp in grids[n]]
    bar = tqdm(jobs, desc="tune", disable=not progress, leave=False)

    def consider(name: str, hp: dict[str, Any], per_recency: dict[Any, list[tuple[float, float | None]]],
                 **extra: Any) -> None:
        for recency, values in per_recency.items():
            ndcg = float(np.mean([new for new, _ in values]))
            due = [d for _, d in values if d is not None]
            due_first = float(np.mean(due)) if due else None
            score = ndcg if due_first is None else (1 - repeat_weight) * ndcg + repeat_weight * due_first
            if name not in found or score > found[name]["score"] + 1e-12:
                found[name] = {"hp": dict(hp), "recency": recency, "ndcg": ndcg, "score": score, **extra,
                               **({"ndcg_due_first": due_first} if due_first is not None else {})}

    seconds: dict[str, float] = {}
    for name, hp in bar:
        per_recency: dict[Any, list[float]] = {}
        point_started = time.perf_counter()
        for fold in folds:
            model = make_model(name, hp, top_neighbours=top_neighbours).fit(fold.X_fit, **context)
            for recency, X_in in fold.inputs.items():
                per_recency.setdefault(recency, []).append(fold.score(model, X_in, k=k, repeat_weight=repeat_weight))
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - point_started
        consider(name, hp, per_recency)
        bar.set_postfix_str(f"{name} {found[name]['ndcg']:.4f}")
    for name, total in seconds.items():  # measured beside estimate_fit's figure (the training benchmark)
        found[name]["seconds_per_point"] = round(total / sum(1 for n, _ in jobs if n == name), 2)
    if "hybrid" in names and content is not None and found:
        base_name = max((n for n in found if n != "popularity"), key=lambda n: found[n]["score"])
        base_hp, recency = found[base_name]["hp"], found[base_name]["recency"]
        bases = [make_model(base_name, base_hp, top_neighbours=top_neighbours).fit(f.X_fit, **context) for f in folds]
        for hp in grids["hybrid"]:
            scores = []
            for base, fold in zip(bases, folds):
                model = HybridModel(base, **hp)
                model.popularity, model.content = base.popularity, content
                scores.append(fold.score(model, fold.inputs[recency], k=k, repeat_weight=repeat_weight))
            consider("hybrid", hp, {recency: scores}, base=base_name, base_hp=base_hp)
    return found


def fit_tuned(name: str, tuned: Mapping[str, Any], X: sp.csr_matrix, *, content: np.ndarray | None,
              top_neighbours: int = 200, seed: int = 42) -> Model:
    context = {"content": content, "seed": seed}
    if name == "hybrid":
        base = make_model(tuned["base"], tuned["base_hp"], top_neighbours=top_neighbours)
        model: Model = HybridModel(base, **tuned["hp"]).fit(X, **context)
    else:
        model = make_model(name, tuned["hp"], top_neighbours=top_neighbours).fit(X, **context)
    model.recency = tuned.get("recency")
    return model


# --------------------------------------------------------------------------- splits
def last_fraction_split(data: Interactions, fraction: float) -> np.ndarray:
    """Boolean mask of the held-out rows: each user's last `fraction` of events by time."""
    order = np.lexsort((data.timestamp, data.users.astype(str)))
    users_sorted = data.users[order].astype(str)
    starts = np.flatnonzero(np.r_[True, users_sorted[1:] != users_sorted[:-1]])
    counts = np.diff(np.r_[starts, len(order)])
    position = np.arange(len(order)) - np.repeat(starts, counts)
    n_test = np.floor(np.repeat(counts, counts) * fraction + 1e-9).astype(int)
    held = position >= np.repeat(counts, counts) - n_test
    mask = np.zeros(len(order), dtype=bool)
    mask[order] = held
    return mask


def last_days_split(data: Interactions, days: int) -> np.ndarray:
    """Held-out rows: events in the last `days` days before the newest event."""
    cut = data.timestamp.max() - days * 86400.0
    return data.timestamp > cut


# --------------------------------------------------------------------------- catalog & export
def with_social_proof(data: Interactions) -> tuple[dict[str, Product], dict[str, Any] | None]:
    """The products with their rating, review count and quote from the store's reviews (scripts/social_proof.py:
    spaCy's NER removes names and contacts from quotes), and that step's counts; the products unchanged and
    None when the source has no review events (MovieLens, Online Retail)."""
    if not data.reviews or not data.products:
        return dict(data.products), None
    try:  # imported as scripts.<name> (tests, the demo) or run as a script (scripts/ on sys.path)
        from scripts.social_proof import apply, load_nlp, summarize
    except ImportError:
        from social_proof import apply, load_nlp, summarize
    from nudge.render.compose import MIN_REVIEWS_FOR_RATING

    store = SimpleNamespace(products=data.products, events=data.reviews)
    summaries, report = summarize(store, load_nlp(), min_reviews=MIN_REVIEWS_FOR_RATING)
    log.info("social proof: %d products rated, %d quotes (%.1f s)", len(summaries), report["quotes_chosen"], report["seconds"])
    return apply(dict(data.products), summaries), {k: v for k, v in report.items() if k != "config"}


def catalog_for(item_ids: Sequence[str], products: Mapping[str, Product]) -> Catalog:
    """A Catalog aligned to item_ids; items without a product record get a placeholder (no image)."""
    filled = {}
    for pid in item_ids:
        filled[pid] = products.get(pid) or Product(pid, pid, "", "unknown", Decimal("0"), "GBP", 0, "",
                                                   date(1970, 1, 1))
    return Catalog.from_products(filled)


def check_export(model: Model, exported: Recommender, X: sp.csr_matrix, *, users: int, tolerance: float,
                 seed: int = 42, order: np.ndarray | None = None) -> float:
    """Runtime scores (Recommender.score_items on the loaded artifact) vs trained-model scores.

    Returns the worst relative difference; raises ExportParityError above `tolerance`. For a hybrid the
    collaborative part is compared (the content part is computed by the same runtime code at request
    time from the catalog, which the round-trip test covers).
    """
    reference = model.base if isinstance(model, HybridModel) else model
    active = np.flatnonzero(np.diff(X.indptr) > 0)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(active, size=min(users, len(active)), replace=False) if len(active) else active
    worst = 0.0
    position = None  # exported row r is trained item order[r]: position[j] is trained item j's row
    if order is not None:
        position = np.empty(len(order), dtype=np.int64)
        position[order] = np.arange(len(order))
    for u in chosen:
        row = X[int(u)]
        want = reference.scores(row)[0]
        if position is None:
            got = exported.score_items(row.indices.tolist(), row.data.tolist())
        else:
            got = exported.score_items(position[row.indices].tolist(), row.data.tolist())[position]
        diff = float(np.abs(got - want).max() / max(1e-9, float(np.abs(want).max())))
        worst = max(worst, diff)
        if diff > tolerance:
            raise ExportParityError(
                f"{reference.name}: runtime scores differ from the trained model for user row {int(u)}: "
                f"relative max |diff| {diff:.2e} > tolerance {tolerance:.0e}")
    return worst


def main(config: TrainConfig, data: Interactions | None = None) -> dict[str, Any]:
    """Train every candidate that fits, choose by validation nDCG@k, export the winner; returns
    meta.json. `data` given (the training benchmark's synthetic catalogs) replaces reading `source`."""
    started = time.perf_counter()
    source = Path(config.source)
    if data is None:
        data = load_store_interactions(source) if source.is_dir() else load_csv_interactions(source)
    if len(data) == 0:
        raise ValidationError(f"{source}: no interactions to train on")
    as_of_ts = (datetime.combine(data.as_of, datetime.min.time(), tzinfo=timezone.utc).timestamp()
                if data.as_of else float(data.timestamp.max()))
    item_ids = list(data.products) if data.products else sorted(set(data.items.tolist()))
    known_ids = set(item_ids)
    unknown = int(sum(1 for i in data.items if i not in known_ids))
    if unknown:
        log.warning("%d events name products the catalog does not hold; they are skipped", unknown)
    user_ids = sorted(set(data.users.tolist()))
    u_index = {u: i for i, u in enumerate(user_ids)}
    i_index = {p: i for i, p in enumerate(item_ids)}
    products, social_proof = with_social_proof(data) if config.social_proof else (data.products, None)
    catalog = catalog_for(item_ids, products)
    content = catalog.content

    # 1. tune and choose on a validation split carved out of the history
    held = last_days_split(data, config.validation_days) if data.as_of else last_fraction_split(
        data, config.validation_fraction)
    if held.all() or not held.any():
        held = last_fraction_split(data, config.validation_fraction)
    fit_part = data.subset(~held)
    fit_ts = float(fit_part.timestamp.max())
    X_fit = build_matrix(fit_part, u_index, i_index, as_of_ts=fit_ts, half_life_days=config.half_life_days)
    inputs = {h: build_matrix(fit_part, u_index, i_index, as_of_ts=fit_ts, half_life_days=config.half_life_days,
                              position_half_life=h) for h in RECENCY_GRID}
    val = build_matrix(data.subset(held), u_index, i_index, binary=True)
    val = val - val.multiply(X_fit > 0)  # judge only new items, as the campaigns exclude purchases
    val.eliminate_zeros()
    relevant = sample_users(relevant_sets(val), max(2000, min(config.max_validation_users,
                                                               int(config.max_validation_cells // len(item_ids)))),
                            config.seed)
    grids = {"full": GRIDS, "compact": COMPACT_GRIDS}.get(config.grid)
    if grids is None:
        raise ValidationError(f"grid: expected 'full' or 'compact', got {config.grid!r}")
    memory_budget = int(config.memory_budget_gb * 2**30) or int(0.6 * physical_memory_bytes())
    planned, skipped, estimates = plan_fits(available_models(config.models), X_fit, grids, COMPACT_GRIDS,
                                 memory_budget=memory_budget, time_budget_s=config.time_budget_minutes * 60,
                                 top_neighbours=config.top_neighbours, eval_users=len(relevant))
    if config.model != "auto" and config.model in skipped:
        raise TrainingBudgetError(f"model {config.model!r} does not fit: {skipped[config.model]}")
    if not set(planned) - {"hybrid"}:
        raise TrainingBudgetError("no candidate model fits: " + "; ".join(f"{n}: {why}" for n, why in skipped.items()))
    fold, selection = Fold(X_fit, inputs, relevant), {"by": "new items only"}
    repeat_weight = sum(c.pool.due_repurchases > 0 for c in load_campaigns().values()) / len(load_campaigns())
    fit_buys = fit_part.purchases()
    fit_table = learn_repurchase(fit_buys, data.products, min_rebuy_share=config.min_rebuy_share,
                                 min_pairs=config.min_rebuy_pairs)
    held_buys = build_matrix(data.subset(held).purchases(), u_index, i_index, binary=True)
    rebuys = held_buys.multiply(build_matrix(fit_buys, u_index, i_index, binary=True) > 0).tocsr()
    rebuy_share = rebuys.nnz / max(1, rebuys.nnz + val.nnz)
    if fit_table.categories and repeat_weight > 0 and rebuy_share >= MIN_VALIDATION_REBUY_SHARE:
        # the campaigns that show due reorders are judged on every held-out purchase, due items first
        repeat_relevant = {u: relevant.get(u, set()) | set(rebuys.indices[rebuys.indptr[u]:rebuys.indptr[u + 1]].tolist())
                           for u in relevant}
        front = due_front(fit_buys, data.products, fit_table, u_index, i_index,
                          as_of=datetime.fromtimestamp(fit_ts, tz=timezone.utc).date())  # the fit part's last day
        fold = Fold(X_fit, inputs, relevant, repeat_relevant, front)
        selection = {"by": f"{1 - repeat_weight:.2f} × new items + {repeat_weight:.2f} × due reorders first "
                           "(the share of campaigns that show due reorders)"}
    selection.update({"validation_rebuy_share": round(rebuy_share, 4),
                      "repeatable_categories": len(fit_table.categories)})
    tuned = tune(list(planned), [fold], content=content, k=config.k, grids=planned,
                 top_neighbours=config.top_neighbours, seed=config.seed,
                 repeat_weight=repeat_weight if fold.repeat_relevant is not None else 0.0)
    chosen = config.model if config.model != "auto" else max(tuned, key=lambda n: tuned[n]["score"])
    if chosen not in tuned:
        raise ValidationError(f"model {chosen!r}: expected one of {sorted(tuned)}")
    log.info("validation nDCG@%d: %s; chosen %s (%s)", config.k,
             {n: round(t["ndcg"], 4) for n, t in tuned.items()}, chosen, selection["by"])

    # 2. refit the winner on all history and export
    X = build_matrix(data, u_index, i_index, as_of_ts=as_of_ts, half_life_days=config.half_life_days)
    fit_started = time.perf_counter()
    model = fit_tuned(chosen, tuned[chosen], X, content=content, top_neighbours=config.top_neighbours,
                      seed=config.seed)
    fit_seconds = time.perf_counter() - fit_started
    popularity = _recent_popularity(data, i_index, as_of_ts, config.half_life_days)
    model.popularity = popularity
    if isinstance(model, HybridModel):
        model.base.popularity = popularity
    by_locale, trending = _locale_and_trending(data, i_index, as_of_ts, config.half_life_days)
    repurchase = learn_repurchase(data.purchases(), data.products, min_rebuy_share=config.min_rebuy_share,
                                  min_pairs=config.min_rebuy_pairs)
    exported = model.export(item_ids, popularity_by_locale=by_locale, trending=trending, repurchase=repurchase)
    order = None
    if exported.ivf_assign is not None:  # items cluster by cluster, the catalog in the same order
        exported, order = exported.in_cluster_order()
        catalog = catalog.reordered(order)
    out = Path(config.out_dir)
    meta = exported.save(out, meta={
        "model": chosen,
        "hyperparameters": {**tuned[chosen]["hp"], "position_half_life": tuned[chosen].get("recency"),
                            **({"base": tuned[chosen]["base"], **tuned[chosen]["base_hp"]}
                               if chosen == "hybrid" else {})},
        "training_config": asdict(config),
        "data_source": {"path": data.source, "sha256": data.sha256, "events": len(data),
                        "users": len(user_ids), "unknown_product_events": unknown,
                        "as_of": data.as_of.isoformat() if data.as_of else None},
        "selection": selection,
        "repurchase": {"repeatable_categories": sorted(repurchase.categories)},
        "metrics": {"validation": {n: {f"ndcg@{config.k}": t["ndcg"], "score": t["score"],
                                       **({f"ndcg@{config.k}_due_first": t["ndcg_due_first"]}
                                          if "ndcg_due_first" in t else {}),
                                       "hp": t["hp"], "recency": t.get("recency"),
                                       "seconds_per_point": t.get("seconds_per_point")}
                                   for n, t in tuned.items()},
                    "fit_seconds": fit_seconds},
        "fit_plan": {"memory_budget_gib": round(memory_budget / 2**30, 2), "time_budget_minutes": config.time_budget_minutes,
                     "items": len(item_ids), "validation_users": len(relevant),
                     "grid_points": {n: len(g) for n, g in planned.items()}, "skipped": skipped,
                     "estimates": {n: e.to_dict() for n, e in estimates.items()}},
        "social_proof": social_proof,  # counts only: reviews seen and rejected, products rated, quotes, PII dropped
    })
    # the catalog goes where the generate function's Engine reads it (artifacts/catalog/), or beside the
    # model when there is no such place: one copy, so a cold start downloads it once
    catalog.save(config.catalog_dir or out / "catalog")

    # 3. the export checks itself through the runtime loader
    reloaded = Recommender.load(out, verify_checksums=True)
    worst = check_export(model, reloaded, X, users=config.parity_users, tolerance=config.parity_tolerance,
                         seed=config.seed, order=order)
    meta["parity_max_relative_diff"] = worst
    meta["train_seconds"] = round(time.perf_counter() - started, 2)
    (out / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True), encoding="utf-8")
    return meta


def _recent_popularity(data: Interactions, i_index: Mapping[str, int], as_of_ts: float,
                       half_life_days: float) -> np.ndarray:
    cols = np.array([i_index.get(i, -1) for i in data.items], dtype=np.int64)
    age = np.maximum(0.0, (as_of_ts - data.timestamp) / 86400.0)
    w = data.weight * 0.5 ** (age / half_life_days)
    keep = cols >= 0
    return np.bincount(cols[keep], weights=w[keep], minlength=len(i_index)).astype(np.float32)


def _locale_and_trending(data: Interactions, i_index: Mapping[str, int], as_of_ts: float,
                         half_life_days: float, *, trending_days: int = 7, top: int = 1000
                         ) -> tuple[dict[str, dict[str, float]], list[str]]:
    ids = list(i_index)
    by_locale: dict[str, dict[str, float]] = {}
    if data.customers:
        locales = np.array([getattr(data.customers.get(u), "locale", "") for u in data.users], dtype=object)
        for locale in sorted(set(locales.tolist()) - {""}):
            scores = _recent_popularity(data.subset(locales == locale), i_index, as_of_ts, half_life_days)
            best = np.argsort(-scores, kind="stable")[:top]
            by_locale[locale] = {ids[i]: round(float(scores[i]), 4) for i in best if scores[i] > 0}
    recent = data.subset(data.timestamp >= as_of_ts - trending_days * 86400.0)
    short = _recent_popularity(recent, i_index, as_of_ts, half_life_days)
    long = _recent_popularity(data, i_index, as_of_ts, half_life_days)
    lift = (short + 1.0) / (long + 5.0) * (short > 0)
    trending = [ids[i] for i in np.argsort(-lift, kind="stable")[:100] if short[i] > 0]
    return by_locale, trending


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=defaults.source, help="store dir or interactions CSV")
    parser.add_argument("--out", dest="out_dir", default=defaults.out_dir)
    parser.add_argument("--catalog-dir", default=defaults.catalog_dir, help='"" to skip the Engine copy')
    parser.add_argument("--model", default=defaults.model, help="auto or one of " + ", ".join(defaults.models))
    parser.add_argument("--models", default=",".join(defaults.models), help="comma-separated candidates")
    parser.add_argument("--half-life-days", type=float, default=defaults.half_life_days)
    parser.add_argument("--validation-days", type=int, default=defaults.validation_days)
    parser.add_argument("--top-neighbours", type=int, default=defaults.top_neighbours)
    parser.add_argument("--grid", default=defaults.grid, choices=("full", "compact"))
    parser.add_argument("--memory-budget-gb", type=float, default=defaults.memory_budget_gb,
                        help="largest fit allowed (0 = 60%% of this machine's memory)")
    parser.add_argument("--time-budget-minutes", type=float, default=defaults.time_budget_minutes)
    args = parser.parse_args()
    cfg = TrainConfig(source=args.source, out_dir=args.out_dir, catalog_dir=args.catalog_dir, model=args.model,
                      models=tuple(args.models.split(",")), half_life_days=args.half_life_days,
                      validation_days=args.validation_days, top_neighbours=args.top_neighbours, grid=args.grid,
                      memory_budget_gb=args.memory_budget_gb, time_budget_minutes=args.time_budget_minutes)
    result = main(cfg)
    print(json.dumps({"model": result["model"], "validation": result["metrics"]["validation"],
                      "parity_max_relative_diff": result["parity_max_relative_diff"],
                      "out": cfg.out_dir}, indent=2))
