"""Runtime ranking: fold a customer in from their history, score, apply the campaign's rules.

Numpy only (no scipy, no implicit): this module runs inside Lambda. Three artifact forms share one
`rank()`:

- ``neighbours``: item-to-item weights kept as the top-M neighbours of each item (EASE, item-kNN,
  RP3beta). A customer's scores are the weighted sum of their history items' neighbour rows.
- ``embeddings``: item factors (ALS, hybrid). A customer vector is solved from their history at
  request time (the implicit-ALS fold-in), so no per-customer vector is ever stored or loaded.
- ``popularity``: no personal signal; the fallback and the cold-start path of every form.

>>> rec = PopularityRecommender.from_events(events, catalog=catalog, as_of=as_of)  # doctest: +SKIP
>>> rec.rank(profile, get_campaign("clearance").pool, k=4, catalog=catalog, as_of=as_of)  # doctest: +SKIP
[RankedItem(product_id='p7', score=0.93, reason='Popular in Kitchen'), ...]
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from nudge.campaigns import PoolRules
from nudge.errors import ArtifactMismatchError
from nudge.recommend.catalog import Catalog
from nudge.recommend.ivf import cluster_lists, members, nearest_centroid
from nudge.recommend.reasons import explain
from nudge.recommend.repurchase import RepurchaseTable, due_repurchases
from nudge.types import Customer, Event, Profile, RankedItem

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
ARTIFACT_KIND = "nudge.recommender"
FORMS = ("popularity", "neighbours", "embeddings")

# Implicit feedback weights, shared by training (events) and the request-time fold-in (profiles):
# a view says less than a cart, a cart less than a purchase.
EVENT_WEIGHTS = {"view": 1.0, "add_to_cart": 2.0, "purchase": 4.0, "review": 3.0}
PROFILE_WEIGHTS = {"purchased": EVENT_WEIGHTS["purchase"], "carted": EVENT_WEIGHTS["add_to_cart"],
                   "viewed": EVENT_WEIGHTS["view"]}
CART_SEED_WEIGHT = 4.0  # a cart item as history: like a purchase ...
CART_SEED_BOOST = 3.0  # ... then weighed 3x after the value transform, so the cart drives the complements
CART_HISTORY_SHARE = 0.25  # the rest of the history's weight in an abandoned-cart email
POSITION_DECAY = 0.97  # recency in a profile: each step back in a most-recent-first list weighs 3% less
MAX_HISTORY = 100
NEW_ARRIVAL_DAYS = 30  # an item this many days old or younger is explained as "New in <category>"  # fold in at most this many distinct history items (bounds request latency)
_KIND_RANK = {"cart": 3, "purchased": 2, "carted": 1, "viewed": 0}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Recommender:
    """Scores items for one customer and shapes the list with a campaign's `PoolRules`.

    Build it with `Recommender.load(artifact_dir)` (what `scripts/train_recommender.py` exports) or
    `PopularityRecommender.from_events(...)`. `stats` counts request-time oddities (history items
    the catalog does not hold, cold starts) for metrics; none of them is an error.
    """

    def __init__(
        self,
        *,
        item_ids: Sequence[str],
        form: str,
        popularity: np.ndarray,
        neighbour_index: np.ndarray | None = None,
        neighbour_weight: np.ndarray | None = None,
        factors: np.ndarray | None = None,
        gram: np.ndarray | None = None,
        content_to_factors: np.ndarray | None = None,
        ivf_centroids: np.ndarray | None = None,
        ivf_assign: np.ndarray | None = None,
        regularization: float = 0.01,
        alpha: float = 1.0,
        value_beta: float | None = None,
        value_mean: float = 0.0,
        position_half_life: float | None = None,
        content_weight: float = 0.0,
        popularity_by_locale: Mapping[str, Mapping[str, float]] | None = None,
        trending: Sequence[str] = (),
        repurchase: RepurchaseTable | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        if form not in FORMS:
            raise ArtifactMismatchError(f"form: expected one of {FORMS}, got {form!r}")
        self.item_ids = list(item_ids)
        self._item_index: dict[str, int] | None = None  # built on first use (a million ids: ~0.2 s)
        self.form = form
        self.popularity = np.asarray(popularity, dtype=np.float32)  # (n_items,) >= 0
        self.neighbour_index = neighbour_index  # (n_items, M) int32, -1 pads
        self.neighbour_weight = neighbour_weight  # (n_items, M) float32
        self.factors = factors  # (n_items, d) float32
        self.gram = gram  # (d, d) float64: factors.T @ factors, precomputed for the fold-in
        self.content_to_factors = content_to_factors  # (CONTENT_DIMS, d): cold item factors from text
        # an inverted-file index over the factors (embeddings form, large catalogs): k-means centroids
        # (C, d) and each item's cluster (n_items,) int32; rank() scores the items of the clusters
        # whose centroids score best (`ivf_probe` of them, from meta) instead of every item
        self.ivf_centroids = ivf_centroids
        self.ivf_assign = ivf_assign
        self.regularization = float(regularization)
        self.alpha = float(alpha)
        self.value_beta = None if value_beta is None else float(value_beta)  # see values()
        self.value_mean = float(value_mean)
        # recency of the request-time fold-in: an item `position` steps back in a most-recent-first
        # history list weighs 0.5^(position / position_half_life); tuned offline (None: POSITION_DECAY)
        self.position_half_life = None if position_half_life is None else float(position_half_life)
        self.position_decay = POSITION_DECAY if position_half_life is None else 0.5 ** (1.0 / position_half_life)
        self.content_weight = float(content_weight)
        self.popularity_by_locale = {k: dict(v) for k, v in (popularity_by_locale or {}).items()}
        self.trending = list(trending)
        self.repurchase = repurchase or RepurchaseTable()  # repeatable categories (learned offline)
        self.meta = dict(meta or {})
        self.ivf_probe = int(self.meta.get("ivf_probe", 0) or 0)
        self.stats: Counter[str] = Counter()
        self._aligned: tuple[Catalog, dict[str, Any]] | None = None
        if len(self.popularity) != len(self.item_ids):
            raise ArtifactMismatchError(
                f"popularity: expected {len(self.item_ids)} rows, got {len(self.popularity)}")
        if form == "neighbours" and (neighbour_index is None or neighbour_weight is None
                                     or neighbour_index.shape != neighbour_weight.shape
                                     or len(neighbour_index) != len(self.item_ids)):
            raise ArtifactMismatchError("neighbours: expected index and weight arrays of shape (n_items, M)")
        if form == "embeddings":
            if factors is None or len(factors) != len(self.item_ids):
                raise ArtifactMismatchError(f"factors: expected ({len(self.item_ids)}, d), got "
                                            f"{None if factors is None else factors.shape}")
            if self.gram is None:
                self.gram = factors.astype(np.float64).T @ factors.astype(np.float64)
        if (ivf_centroids is None) != (ivf_assign is None) or (ivf_assign is not None and (
                form != "embeddings" or len(ivf_assign) != len(self.item_ids)
                or ivf_centroids.shape[1] != factors.shape[1])):
            raise ArtifactMismatchError("ivf: expected centroids (C, d) and an assignment per item, with embeddings")

    # ------------------------------------------------------------------ persistence
    ARRAY_FILES = {
        "popularity": "popularity.npy",
        "neighbour_index": "neighbours_index.npy",
        "neighbour_weight": "neighbours_weight.npy",
        "factors": "item_factors.npy",
        "gram": "gram.npy",
        "content_to_factors": "content_to_factors.npy",
        "ivf_centroids": "ivf_centroids.npy",
        "ivf_assign": "ivf_assign.npy",
    }

    @property
    def version(self) -> str:
        """`<model>-<created>-<data hash[:8]>`, for logs and the email record."""
        source = str(self.meta.get("data_source", {}).get("sha256", ""))[:8] if isinstance(
            self.meta.get("data_source"), dict) else ""
        return "-".join(x for x in (str(self.meta.get("model", self.form)), str(self.meta.get("created", "")), source) if x)

    def in_cluster_order(self) -> tuple[Recommender, np.ndarray]:
        """The same model with its items reordered cluster by cluster (embeddings with an IVF index),
        and the order (new row r is old row order[r]). A probed cluster is then a run of adjacent rows
        in the memory-mapped factors, read in one sweep, instead of rows scattered over the whole
        table (measured at a million items: ~4 ms to gather 15,000 scattered rows). Export the catalog
        in the same order, so that it lines up with the model without a lookup per item."""
        if self.ivf_assign is None:
            raise ValueError("in_cluster_order needs an IVF index (embeddings form)")
        order, _ = cluster_lists(self.ivf_assign, len(self.ivf_centroids))
        reordered = Recommender(
            item_ids=[self.item_ids[i] for i in order], form=self.form, popularity=np.asarray(self.popularity)[order],
            factors=np.ascontiguousarray(np.asarray(self.factors)[order]), gram=self.gram,
            content_to_factors=self.content_to_factors, ivf_centroids=self.ivf_centroids,
            ivf_assign=np.asarray(self.ivf_assign)[order], regularization=self.regularization, alpha=self.alpha,
            value_beta=self.value_beta, value_mean=self.value_mean, position_half_life=self.position_half_life,
            content_weight=self.content_weight, popularity_by_locale=self.popularity_by_locale,
            trending=self.trending, repurchase=self.repurchase, meta=self.meta,
        )
        return reordered, order

    @property
    def item_index(self) -> dict[str, int]:
        """Item id -> row of the model's arrays."""
        if self._item_index is None:
            self._item_index = {pid: i for i, pid in enumerate(self.item_ids)}
        return self._item_index

    @property
    def dims(self) -> int:
        if self.form == "neighbours":
            return int(self.neighbour_index.shape[1])
        if self.form == "embeddings":
            return int(self.factors.shape[1])
        return 0

    def save(self, artifact_dir: str | Path, *, meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Write the arrays (.npy), ids and lists (JSON) and meta.json; returns the meta written."""
        out = Path(artifact_dir)
        out.mkdir(parents=True, exist_ok=True)
        files: dict[str, str] = {}
        for attr, filename in self.ARRAY_FILES.items():
            value = getattr(self, attr)
            if value is not None:
                np.save(out / filename, np.ascontiguousarray(value), allow_pickle=False)
                files[filename] = _sha256(out / filename)
        (out / "item_ids.json").write_text(json.dumps(self.item_ids), encoding="utf-8")
        (out / "popularity_by_locale.json").write_text(json.dumps(self.popularity_by_locale), encoding="utf-8")
        (out / "trending.json").write_text(json.dumps(self.trending), encoding="utf-8")
        (out / "repurchase.json").write_text(json.dumps(self.repurchase.to_dict(), indent=1), encoding="utf-8")
        for name in ("item_ids.json", "popularity_by_locale.json", "trending.json", "repurchase.json"):
            files[name] = _sha256(out / name)
        full = dict(self.meta)
        full.update(meta or {})
        full.update({
            "schema_version": SCHEMA_VERSION,
            "kind": ARTIFACT_KIND,
            "form": self.form,
            "n_items": len(self.item_ids),
            "dims": self.dims,
            "regularization": self.regularization,
            "alpha": self.alpha,
            "value_beta": self.value_beta,
            "value_mean": self.value_mean,
            "position_half_life": self.position_half_life,
            "content_weight": self.content_weight,
            "event_weights": EVENT_WEIGHTS,
            "files": files,
        })
        full.setdefault("model", self.form)
        full.setdefault("created", datetime.now(timezone.utc).isoformat(timespec="seconds"))
        (out / "meta.json").write_text(json.dumps(full, indent=2, sort_keys=True), encoding="utf-8")
        self.meta = full
        return full

    @classmethod
    def load(cls, artifact_dir: str | Path, *, verify_checksums: bool = False) -> Recommender:
        """Load an exported recommender; raises ArtifactMismatchError naming what does not match.

        >>> rec = Recommender.load("build/recommender")  # doctest: +SKIP
        """
        src = Path(artifact_dir)
        meta_path = src / "meta.json"
        if not meta_path.is_file():
            raise ArtifactMismatchError(f"meta.json: expected a file at {meta_path}, found none")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("kind") != ARTIFACT_KIND:
            raise ArtifactMismatchError(f"kind: expected {ARTIFACT_KIND!r}, got {meta.get('kind')!r}")
        if meta.get("schema_version") != SCHEMA_VERSION:
            raise ArtifactMismatchError(
                f"schema_version: expected {SCHEMA_VERSION}, got {meta.get('schema_version')!r}")
        form = meta.get("form")
        if form not in FORMS:
            raise ArtifactMismatchError(f"form: expected one of {FORMS}, got {form!r}")
        if verify_checksums:
            for name, expected in meta.get("files", {}).items():
                got = _sha256(src / name)
                if got != expected:
                    raise ArtifactMismatchError(f"{name}: expected sha256 {expected}, got {got}")
        arrays = {}
        for attr, filename in cls.ARRAY_FILES.items():
            if (src / filename).is_file():
                # memory-mapped, read-only: a cold start maps the files instead of copying them (the
                # page cache holds them once, and only the pages a request touches are read)
                # (a plain ndarray over the mapping: the memmap subclass slows every fancy index ~5x)
                arrays[attr] = np.asarray(np.load(src / filename, allow_pickle=False, mmap_mode="r"))
        item_ids = json.loads((src / "item_ids.json").read_text(encoding="utf-8"))
        if len(item_ids) != meta.get("n_items"):
            raise ArtifactMismatchError(f"n_items: meta says {meta.get('n_items')}, item_ids.json has {len(item_ids)}")
        rec = cls(
            item_ids=item_ids,
            form=form,
            regularization=meta.get("regularization", 0.01),
            alpha=meta.get("alpha", 1.0),
            value_beta=meta.get("value_beta"),
            value_mean=meta.get("value_mean", 0.0),
            position_half_life=meta.get("position_half_life"),
            content_weight=meta.get("content_weight", 0.0),
            popularity_by_locale=_read_json(src / "popularity_by_locale.json", {}),
            trending=_read_json(src / "trending.json", []),
            repurchase=RepurchaseTable.from_dict(_read_json(src / "repurchase.json", {})),  # none before it existed
            meta=meta,
            **arrays,
        )
        if rec.dims != meta.get("dims", rec.dims):
            raise ArtifactMismatchError(f"dims: meta says {meta.get('dims')}, arrays have {rec.dims}")
        return rec

    # ------------------------------------------------------------------ scoring
    def values(self, strength: np.ndarray) -> np.ndarray:
        """Interaction strength (log1p of summed, decayed event weights: the training matrix's values)
        → the model's input: as is (value_beta None), 1.0 (value_beta 0: binary), or
        1 + value_beta·(strength − mean strength in training), floored at 0.05."""
        strength = np.asarray(strength, dtype=np.float32)
        if self.value_beta is None:
            return strength
        if self.value_beta == 0.0:
            return np.ones_like(strength)
        return np.maximum(0.05, 1.0 + self.value_beta * (strength - self.value_mean)).astype(np.float32)

    def score_items(self, item_indices: Sequence[int], strengths: Sequence[float]) -> np.ndarray:
        """Scores over the model's own items for one history: model item indices and their interaction
        strengths (the training matrix's values, log1p of decayed event weights).

        The reference the export self-check compares against; shape (n_items,), float32.
        """
        idx = np.asarray(item_indices, dtype=np.int64)
        w = self.values(np.asarray(strengths, dtype=np.float32))
        n = len(self.item_ids)
        if len(idx) == 0 or self.form == "popularity":
            return self.popularity.copy()
        if self.form == "neighbours":
            cols = self.neighbour_index[idx]  # (H, M)
            vals = self.neighbour_weight[idx] * w[:, None]  # (H, M)
            keep = cols >= 0
            return np.bincount(cols[keep], weights=vals[keep], minlength=n).astype(np.float32)
        return (self.factors @ self._fold_in(self.factors[idx], w)).astype(np.float32)

    def _fold_in(self, history_factors: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """The implicit-ALS user solve: (YᵀY + λI + Σ(c−1)yyᵀ) u = Σ c y with c = alpha·weight."""
        y = history_factors.astype(np.float64)
        c = self.alpha * weights.astype(np.float64)
        a = self.gram + self.regularization * np.eye(y.shape[1]) + (y.T * (c - 1.0)) @ y
        b = y.T @ c
        return np.linalg.solve(a, b).astype(np.float32)

    def _alignment(self, catalog: Catalog) -> dict[str, Any]:
        """Map the request catalog onto the model's items once per catalog (cached)."""
        if self._aligned is not None and self._aligned[0] is catalog:
            return self._aligned[1]
        if catalog.ids == self.item_ids:  # the catalog exported with the model: no lookups needed
            to_model = np.arange(len(catalog.ids), dtype=np.int64)
        else:
            to_model = np.array([self.item_index.get(pid, -1) for pid in catalog.ids], dtype=np.int64)
        warm = to_model >= 0
        safe = np.where(warm, to_model, 0)
        pop = np.where(warm, self.popularity[safe], 0.0).astype(np.float32)
        top = float(pop.max()) if len(pop) else 0.0
        identity = len(to_model) == len(self.item_ids) and bool((to_model == np.arange(len(to_model))).all())
        info: dict[str, Any] = {"to_model": to_model, "warm": warm, "safe": safe, "identity": identity,
                                "popularity": pop / top if top > 0 else pop, "masks": {}, "mask_counts": {},
                                "locale": {}}
        if self.form == "embeddings":
            if identity:  # the catalog is the model's own: its (memory-mapped) factors, not a copy
                info["factors"] = self.factors
            else:
                cat_factors = self.factors[safe].copy()
                if self.content_to_factors is not None and (~warm).any():
                    cat_factors[~warm] = catalog.content[~warm] @ self.content_to_factors
                elif (~warm).any():
                    cat_factors[~warm] = 0.0
                info["factors"] = np.ascontiguousarray(cat_factors, dtype=np.float32)
            if self.ivf_assign is not None and self.ivf_probe > 0:
                info["ivf"] = self._ivf_lists(info, warm, safe)
        self._aligned = (catalog, info)
        return info

    def _ivf_lists(self, info: dict[str, Any], warm: np.ndarray, safe: np.ndarray) -> dict[str, np.ndarray]:
        """The catalog's items grouped by IVF cluster: `order` (catalog indices, cluster by cluster) and
        `offsets` (cluster c is order[offsets[c]:offsets[c + 1]]). A catalog item the model does not
        know joins the cluster whose centroid is nearest its content-mapped factors."""
        centroids = np.asarray(self.ivf_centroids, dtype=np.float32)
        cluster = np.where(warm, np.asarray(self.ivf_assign)[safe], 0).astype(np.int32)
        cold = np.flatnonzero(~warm)
        if len(cold):
            cluster[cold] = nearest_centroid(info["factors"][cold], centroids)
        order, offsets = cluster_lists(cluster, len(centroids))
        return {"order": order, "offsets": offsets, "centroids": centroids}

    def _locale_popularity(self, info: dict[str, Any], catalog: Catalog, locale: str) -> np.ndarray:
        table = self.popularity_by_locale.get(locale)
        if not table:
            return info["popularity"]
        cached = info["locale"].get(locale)
        if cached is None:
            cached = np.zeros(len(catalog), dtype=np.float32)
            for pid, score in table.items():
                i = catalog.index.get(pid)
                if i is not None:
                    cached[i] = score
            top = float(cached.max()) if len(cached) else 0.0
            # locale figures first, global popularity as the tie-breaker among the rest
            cached = (cached / top if top > 0 else cached) + 0.01 * info["popularity"]
            info["locale"][locale] = cached
        return cached

    @staticmethod
    def _static_key(rules: PoolRules) -> tuple[Any, ...]:
        """The rules that make a campaign's static mask (per catalog: cached under this key)."""
        return (rules.in_stock, rules.require_image, rules.only_clearance, rules.giftable, rules.min_price,
                rules.max_price)

    def _static_mask(self, info: dict[str, Any], catalog: Catalog, rules: PoolRules) -> np.ndarray:
        key = self._static_key(rules)
        mask = info["masks"].get(key)
        if mask is None:
            mask = np.ones(len(catalog), dtype=bool)
            if rules.in_stock:
                mask &= catalog.in_stock
            if rules.require_image:
                mask &= catalog.has_image
            if rules.only_clearance:
                mask &= catalog.clearance
            if rules.giftable:
                mask &= catalog.giftable
            if rules.min_price is not None:
                mask &= catalog.price >= rules.min_price
            if rules.max_price is not None:
                mask &= catalog.price <= rules.max_price
            info["masks"][key] = mask
        return mask

    def _history(self, profile: Profile, catalog: Catalog) -> dict[int, tuple[float, str]]:
        """Catalog index -> (weight, strongest kind) for the profile's history; unknown ids counted."""
        history: dict[int, tuple[float, str]] = {}
        for kind in ("purchased", "carted", "viewed"):
            for position, pid in enumerate(getattr(profile, kind)):
                i = catalog.index.get(pid)
                if i is None:
                    self.stats["unknown_history_items"] += 1
                    continue
                weight = PROFILE_WEIGHTS[kind] * self.position_decay**position
                old_weight, old_kind = history.get(i, (0.0, kind))
                best = kind if _KIND_RANK[kind] > _KIND_RANK[old_kind] else old_kind
                history[i] = (old_weight + weight, best)
        if len(history) > MAX_HISTORY:
            history = dict(sorted(history.items(), key=lambda kv: -kv[1][0])[:MAX_HISTORY])
        return history

    @staticmethod
    def _warm_seeds(info: dict[str, Any], seeds: dict[int, tuple[float, str]]) -> tuple[np.ndarray, np.ndarray] | None:
        """The seeds the model knows: (model item rows int64, their input values float32), or None."""
        warm = [(int(info["to_model"][i]), w) for i, (w, _) in seeds.items() if info["warm"][i]]
        if not warm:
            return None
        return np.array([m for m, _ in warm], dtype=np.int64), np.array([w for _, w in warm], dtype=np.float32)

    def _personal_scores(self, info: dict[str, Any], seeds: dict[int, tuple[float, str]], pool: np.ndarray,
                         user: np.ndarray | None = None) -> np.ndarray | None:
        """Collaborative scores of the pool items (catalog indices) from the warm seed items, float32,
        scaled to max |score| 1; None when no seed is warm (cold start). `user`: the customer already
        folded in (embeddings form), when the IVF index needed it first."""
        warm_seeds = self._warm_seeds(info, seeds)
        if warm_seeds is None or self.form == "popularity":
            return None
        model_idx, weights = warm_seeds
        if self.form == "neighbours":
            cols = self.neighbour_index[model_idx]  # (H, M)
            vals = self.neighbour_weight[model_idx] * weights[:, None]
            keep = cols >= 0
            model_scores = np.bincount(cols[keep], weights=vals[keep], minlength=len(self.item_ids))
            if info["identity"]:
                scores = model_scores[pool].astype(np.float32)
            else:
                scores = np.where(info["warm"][pool], model_scores[info["safe"][pool]], 0.0).astype(np.float32)
        else:
            if user is None:
                user = self._fold_in(self.factors[model_idx], weights)
            if len(pool) * 4 < len(info["warm"]):  # a small pool (clearance, new): score only its rows
                scores = info["factors"][pool] @ user
            else:  # one pass over the (n, d) float32 matrix beats gathering most of its rows
                scores = (info["factors"] @ user)[pool]
        top = float(np.abs(scores).max()) if len(scores) else 0.0
        return scores / top if top > 0 else scores

    # ------------------------------------------------------------------ ranking
    def rank(
        self,
        profile: Profile,
        rules: PoolRules,
        *,
        k: int,
        catalog: Catalog,
        as_of: date,
        cart: tuple[str, ...] = (),
    ) -> list[RankedItem]:
        """The campaign's top-k products for one customer, best first, each with a reason.

        Never raises for an unknown customer, an empty history or ids the catalog lacks: those take
        the cold-start path (popular in the customer's locale and categories of interest) and are
        counted in `self.stats`.

        >>> rec.rank(profile, get_campaign("abandoned_cart").pool, k=4, catalog=cat,
        ...          as_of=date(2026, 5, 1), cart=("p3",))  # doctest: +SKIP
        [RankedItem(product_id='p3', score=1.0, reason='Still in your basket'), ...]
        """
        if k <= 0 or len(catalog) == 0:
            return []
        info = self._alignment(catalog)
        history = self._history(profile, catalog)
        interests = Counter(catalog.category_of(i) for i in history)
        for name in getattr(profile, "top_categories", None) or ():  # interests the profile store derived
            if name in catalog.categories:
                interests[name] += 1

        # The trigger's cart: shown first (in cart order) when the campaign asks for it.
        cart_idx: list[int] = []
        for pid in cart:
            i = catalog.index.get(pid)
            if i is None:
                self.stats["unknown_cart_items"] += 1
            elif i not in cart_idx:
                cart_idx.append(i)
        raw = dict(history)
        if rules.cart_first:
            for i in cart_idx:
                raw[i] = (raw.get(i, (0.0, "cart"))[0] + CART_SEED_WEIGHT, "cart")
        # seeds: catalog index -> (model input value, kind), in the training matrix's value space
        inputs = self.values(np.log1p(np.array([w for w, _ in raw.values()], dtype=np.float32)))
        cart_led = rules.cart_first and bool(cart_idx)  # complements follow the cart, history only nudges
        seeds = {i: (float(v) * (CART_SEED_BOOST if kind == "cart" else (CART_HISTORY_SHARE if cart_led else 1.0)),
                     kind) for (i, (_, kind)), v in zip(raw.items(), inputs)}

        # 1. The pool: the campaign's rules as boolean masks (static parts cached per catalog), over
        # every catalog item, or over the probed clusters' items when an IVF index serves this request.
        shown_cart: list[int] = []
        if rules.cart_first:
            basic = self._static_mask(info, catalog, PoolRules(only_new_days=None))  # stock + image only
            shown_cart = [i for i in cart_idx if basic[i]][:k]
        excluded = set(cart_idx)  # a cart item is either shown first or not at all
        shown_due = self._due(profile, catalog, info, rules, as_of, excluded, k - len(shown_cart))
        excluded.update(i for i, _ in shown_due)
        if rules.exclude_purchased:
            excluded.update(i for i in (catalog.index.get(pid) for pid in profile.purchased) if i is not None)
        universe, user = self._ivf_universe(info, catalog, rules, seeds)
        pool = self._pool(info, catalog, rules, as_of, excluded, universe)
        if universe is not None and len(pool) < self.IVF_MIN_PROBED // 4:  # the rules left too few of the probed
            self.stats["ivf_fallback"] += 1
            pool = self._pool(info, catalog, rules, as_of, excluded, None)

        # 2. Scores of the pool: collaborative (or popularity on cold start) ...
        base_pop = self._locale_popularity(info, catalog, profile.customer.locale)[pool]
        personal = self._personal_scores(info, seeds, pool, user)
        if personal is None:
            self.stats["cold_start"] += 1
            scores = base_pop
            if interests:  # categories of interest lift their popular items
                total = sum(interests.values())
                lift = np.zeros(len(catalog.categories), dtype=np.float32)
                for name, count in interests.items():
                    lift[catalog.categories.index(name)] = count / total
                scores = scores + 0.5 * lift[catalog.category_codes[pool]]
        else:
            scores = personal + 1e-3 * base_pop  # popularity only breaks ties among unscored items
        # ... then content similarity on the best CANDIDATES and every cold pool item (new arrivals).
        want = k - len(shown_cart) - len(shown_due)
        content_weight = self.content_weight or (0.5 if rules.only_new_days is not None else 0.0)
        use_content = bool(seeds) and content_weight > 0 and len(pool) > 0
        candidates = self._candidates(scores, want, rules, wide=use_content)  # positions in pool
        final = scores[candidates]
        if use_content:
            cold = np.flatnonzero(~info["warm"][pool])
            if len(cold):
                candidates = np.union1d(candidates, cold)
                final = scores[candidates]
            rows = np.fromiter(seeds.keys(), dtype=np.int64)
            w = np.array([v[0] for v in seeds.values()], dtype=np.float32)
            taste = w @ catalog.content[rows]
            norm = float(np.linalg.norm(taste))
            if norm > 0:
                final = final + content_weight * (catalog.content[pool[candidates]] @ (taste / norm))
        order = np.argsort(-final, kind="stable")
        ordered = pool[candidates[order]]
        ordered_scores = final[order]

        # 3. Shape: diversity within the first window, then reasons.
        picked = self._diverse(ordered, catalog, rules, want, shown_cart + [i for i, _ in shown_due])
        chosen = [int(ordered[j]) for j in picked]
        result = [RankedItem(catalog.ids[i], 1.0, *explain("in_cart")) for i in shown_cart]
        result += [RankedItem(catalog.ids[i], 1.0, *(explain("reorder", weeks=str(days // 7)) if days >= 14
                                                      else explain("reorder_soon")))
                   for i, days in shown_due]
        reasons = self._reasons(chosen, info, catalog, seeds, interests, rules, personal is not None,
                                as_of.toordinal())
        result += [RankedItem(catalog.ids[i], float(ordered_scores[j]), *r) for i, j, r in zip(chosen, picked, reasons)]
        return result

    def _due(self, profile: Profile, catalog: Catalog, info: dict[str, Any], rules: PoolRules, as_of: date,
             excluded: set[int], room: int) -> list[tuple[int, int]]:
        """(catalog index, days since bought) of the customer's purchases due to be bought again that the
        campaign's rules allow (stock, image, price...), at most `rules.due_repurchases` and `room`."""
        limit = min(rules.due_repurchases, room)
        if limit <= 0 or not self.repurchase.categories or not profile.purchased_on:
            return []

        def category_of(product_id: str) -> str | None:
            i = catalog.index.get(product_id)
            return None if i is None else catalog.category_of(i)

        static = self._static_mask(info, catalog, rules)
        shown: list[tuple[int, int]] = []
        for due in due_repurchases(profile.purchased, profile.purchased_on, category_of, self.repurchase,
                                   as_of=as_of, limit=len(profile.purchased)):
            i = catalog.index[due.product_id]
            if static[i] and i not in excluded:
                shown.append((i, due.days_since))
                if len(shown) == limit:
                    break
        self.stats["due_repurchases"] += len(shown)
        return shown

    CANDIDATES = 2000  # content similarity is added on this many collaborative candidates (+ cold items)
    IVF_MIN_POOL = 16 * CANDIDATES  # below this many eligible items, exact scoring is as cheap as the index
    IVF_MIN_PROBED = 4 * CANDIDATES  # items the probed clusters hold at least (more clusters when they hold fewer)

    def _pool(self, info: dict[str, Any], catalog: Catalog, rules: PoolRules, as_of: date, excluded: set[int],
              universe: np.ndarray | None) -> np.ndarray:
        """Catalog indices (ascending) of the items the campaign's rules allow, among `universe` (all when None)."""
        static = self._static_mask(info, catalog, rules)
        keep = static.copy() if universe is None else static[universe]
        if rules.only_new_days is not None:
            today = as_of.toordinal()
            arrival = catalog.arrival if universe is None else catalog.arrival[universe]
            keep &= (arrival >= today - rules.only_new_days) & (arrival <= today)
        if excluded:
            out = np.fromiter(excluded, dtype=np.int64)
            if universe is None:
                keep[out] = False
            else:
                keep &= ~np.isin(universe, out)
        return np.flatnonzero(keep) if universe is None else universe[keep]

    def _ivf_universe(self, info: dict[str, Any], catalog: Catalog, rules: PoolRules,
                      seeds: dict[int, tuple[float, str]]) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(the items of the `ivf_probe` clusters whose centroids score best for this customer, as sorted
        catalog indices, and the customer folded in), or (None, None) for exact scoring: no index, no
        warm history (cold start ranks by popularity), or a pool small enough (clearance, new arrivals)
        that scoring all of it is cheap."""
        ivf = info.get("ivf")
        if ivf is None or rules.only_new_days is not None:
            return None, None
        key = self._static_key(rules)
        count = info["mask_counts"].get(key)
        if count is None:
            count = info["mask_counts"][key] = int(self._static_mask(info, catalog, rules).sum())
        warm_seeds = self._warm_seeds(info, seeds)
        if count < self.IVF_MIN_POOL or warm_seeds is None:
            return None, None
        model_idx, weights = warm_seeds
        user = self._fold_in(np.asarray(self.factors[model_idx]), weights)
        offsets = ivf["offsets"]
        best = np.argsort(-(ivf["centroids"] @ user), kind="stable")
        # the `ivf_probe` best clusters, and more while they hold fewer than IVF_MIN_PROBED items (small
        # catalogs have small clusters; the candidates for diversity and the content re-score come from these)
        sizes = np.cumsum(np.diff(offsets)[best])
        probe = max(self.ivf_probe, int(np.searchsorted(sizes, self.IVF_MIN_PROBED)) + 1)
        universe = members(ivf["order"], offsets, best[:probe])
        universe.sort()
        self.stats["ivf"] += 1
        return universe, user

    def _candidates(self, scores: np.ndarray, k: int, rules: PoolRules, *, wide: bool) -> np.ndarray:
        """Positions of the best-scoring pool items: enough for diversity, or CANDIDATES when `wide`
        (the content re-score may lift an item from below the collaborative top few)."""
        want = min(len(scores), max(self.CANDIDATES if wide else 0, 4 * k + 4 * rules.diversity_window))
        if want <= 0:
            return np.zeros(0, dtype=np.int64)
        if want < len(scores):
            return np.sort(np.argpartition(-scores, want - 1)[:want])
        return np.arange(len(scores))

    @staticmethod
    def _diverse(ordered: np.ndarray, catalog: Catalog, rules: PoolRules, k: int, already: list[int]) -> list[int]:
        """Positions in `ordered` (best first) of the top k, with at most max_per_category of one category
        within the first diversity_window (counting the `already` placed cart items)."""
        if k <= 0:
            return []
        counts = Counter(int(catalog.category_codes[i]) for i in already[: rules.diversity_window])
        chosen: list[int] = []
        deferred: list[int] = []
        codes = catalog.category_codes
        for j in range(len(ordered)):
            position = len(already) + len(chosen)
            code = int(codes[ordered[j]])
            if position < rules.diversity_window:
                if counts[code] >= rules.max_per_category:
                    deferred.append(j)
                    continue
                counts[code] += 1
            chosen.append(j)
            if len(chosen) == k:
                return chosen
        return chosen + deferred[: k - len(chosen)]  # too few categories: fill rather than send fewer

    def _reasons(self, chosen: list[int], info: dict[str, Any], catalog: Catalog,
                 seeds: dict[int, tuple[float, str]], interests: Counter, rules: PoolRules,
                 personal: bool, as_of_ordinal: int) -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
        """(English text, key, arguments) per chosen item (nudge.recommend.reasons)."""
        reasons = []
        contributions = self._contributions(chosen, info, catalog, seeds) if personal else None
        seed_rows = list(seeds)
        for n, i in enumerate(chosen):
            category = catalog.category_of(i)
            if rules.only_new_days is not None:
                reasons.append(explain("new_in_liked" if category in interests else "new_in", category=category))
                continue
            if contributions is not None and contributions[n].max() > 0:
                source = seed_rows[int(np.argmax(contributions[n]))]
                name = catalog.name(catalog.ids[source])
                kind = seeds[source][1]
                key = {"cart": "goes_with", "purchased": "bought", "carted": "added", "viewed": "viewed"}[kind]
                reasons.append(explain(key, product=name))
            elif 0 <= as_of_ordinal - int(catalog.arrival[i]) <= NEW_ARRIVAL_DAYS:
                reasons.append(explain("new_in_liked" if category in interests else "new_in", category=category))
            elif category in interests:
                reasons.append(explain("popular_liked", category=category))
            else:
                reasons.append(explain("popular", category=category))
        return reasons

    def _contributions(self, chosen: list[int], info: dict[str, Any], catalog: Catalog,
                       seeds: dict[int, tuple[float, str]]) -> np.ndarray:
        """(len(chosen), len(seeds)) share of each seed item in each chosen item's score."""
        out = np.zeros((len(chosen), len(seeds)), dtype=np.float32)
        rows = np.fromiter(seeds.keys(), dtype=np.int64)
        weights = np.array([v[0] for v in seeds.values()], dtype=np.float32)
        warm = info["warm"][rows]
        if not warm.any() or not chosen:
            return out
        if self.form == "embeddings":
            seed_factors = self.factors[info["to_model"][rows[warm]]]  # (H_warm, d)
            out[:, warm] = (info["factors"][chosen] @ seed_factors.T) * weights[warm]
            return out
        targets = info["to_model"][chosen]  # model index of each chosen item (-1 cold)
        for s, i in enumerate(rows):
            if warm[s]:
                m = int(info["to_model"][i])
                hit = self.neighbour_index[m][:, None] == targets[None, :]  # (M, len(chosen))
                out[:, s] = weights[s] * (self.neighbour_weight[m][:, None] * hit).sum(axis=0)
        return out


class PopularityRecommender(Recommender):
    """Popularity from events, weighted by event type and recency; needs no trained artifact.

    `report` says how many events named products the catalog does not hold (counted, not fatal).

    >>> rec = PopularityRecommender.from_events(events, catalog=catalog, as_of=date(2026, 5, 1))  # doctest: +SKIP
    >>> rec.report["unknown_product_events"]  # doctest: +SKIP
    0
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs["form"] = "popularity"
        super().__init__(**kwargs)
        self.report: dict[str, Any] = {}

    @classmethod
    def from_events(
        cls,
        events: Iterable[Event],
        *,
        catalog: Catalog | None = None,
        customers: Mapping[str, Customer] | None = None,
        as_of: date | None = None,
        half_life_days: float = 30.0,
        trending_days: int = 7,
    ) -> PopularityRecommender:
        """Popularity = Σ event weight · 0.5^(age / half_life_days); per locale when customers are given."""
        events = list(events)
        if as_of is None:
            as_of = max((e.timestamp.date() for e in events), default=date.today())
        ids = list(catalog.ids) if catalog is not None else sorted({e.product_id for e in events})
        index = {pid: i for i, pid in enumerate(ids)}
        score = np.zeros(len(ids), dtype=np.float64)
        recent = np.zeros(len(ids), dtype=np.float64)
        by_locale: dict[str, Counter] = {}
        unknown: Counter[str] = Counter()
        for e in events:
            i = index.get(e.product_id)
            if i is None:
                unknown[e.product_id] += 1
                continue
            age = max(0, (as_of - e.timestamp.date()).days)
            w = EVENT_WEIGHTS.get(e.event_type, 1.0) * 0.5 ** (age / half_life_days)
            score[i] += w
            if age <= trending_days:
                recent[i] += w
            if customers is not None and e.customer_id in customers:
                by_locale.setdefault(customers[e.customer_id].locale, Counter())[e.product_id] += w
        if unknown:
            log.warning("popularity: %d events name %d products the catalog does not hold",
                        sum(unknown.values()), len(unknown))
        # trending: recent share well above the long-run share
        lift = (recent + 1.0) / (score + 5.0)
        trending = [ids[i] for i in np.argsort(-lift * (recent > 0), kind="stable")[:100] if recent[i] > 0]
        rec = cls(
            item_ids=ids,
            popularity=score.astype(np.float32),
            popularity_by_locale={loc: dict(c.most_common(1000)) for loc, c in by_locale.items()},
            trending=trending,
            meta={"model": "popularity", "half_life_days": half_life_days},
        )
        rec.report = {
            "events": len(events),
            "unknown_product_events": sum(unknown.values()),
            "unknown_products": sorted(unknown)[:20],
        }
        return rec


def _read_json(path: Path, default: Any) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else default
