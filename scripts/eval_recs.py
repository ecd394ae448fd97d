"""Evaluate every recommender model side by side on every dataset and protocol.

Inputs → outputs:
  ../shared/data/movielens-100k/u.data (+ u.item)   (or --download-movielens from GroupLens)
  build/store/                                      (scripts/make_store.py; history → held-out future)
  ../shared/data/online-retail-uci-first20k/online_retail.csv
    → build/reports/recommender.json   {dataset/protocol: {model: {ndcg@10, precision@10, recall@10,
                                        map, coverage, fit_seconds}, "chosen": name}}
    → build/reports/recommender.md     the same as tables
    → build/reports/recommender.png    nDCG@10 per model and dataset

Every model family is tuned on a validation split carved out of the *training* part only (the same
procedure as scripts/train_recommender.py); "chosen" is the family with the best validation nDCG@10,
i.e. what the training script would export. Test data are never used to choose.

Stores whose purchases recur (the embedded store, Online Retail) get two more blocks: "all future
purchases" (truth every held-out purchase, rebuys included, and nothing removed from the lists;
each model as is and with the customer's own items first) beside the main "new items only" figures,
and the share of rebought items and the median interval between purchases, per category.

    python scripts/eval_recs.py            # all datasets found; missing ones are skipped with a reason
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import os
import sys
import time
import urllib.request
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np
import scipy.sparse as sp
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT / "layers" / "runtime", ROOT / "scripts"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from nudge.recommend.metrics import ranking_metrics  # noqa: E402
from nudge.types import Product  # noqa: E402
from train_recommender import (  # noqa: E402
    GRIDS,
    RECENCY_GRID,
    Fold,
    Interactions,
    build_matrix,
    catalog_for,
    due_front,
    evaluate,
    fit_tuned,
    last_fraction_split,
    learn_repurchase,
    load_store_interactions,
    relevant_sets,
    repurchase_stats,
    tune,
)

log = logging.getLogger("eval_recs")
MOVIELENS_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"


@dataclass
class EvalConfig:
    movielens_dir: str = "../shared/data/movielens-100k"  # u.data, u.item
    download_movielens: bool = False  # fetch ml-100k from GroupLens into movielens_dir when absent
    store_dir: str = "build/store"  # scripts/make_store.py output (history + held-out future)
    online_retail_csv: str = "../shared/data/online-retail-uci-first20k/online_retail.csv"
    out_dir: str = "build/reports"
    models: tuple[str, ...] = ("popularity", "itemknn", "rp3beta", "ease", "als", "hybrid")
    k: int = 10
    top_neighbours: int = 200  # as exported: neighbour models are evaluated in their truncated form
    half_life_days: float = 120.0  # recency decay for the store and retail protocols
    seed: int = 42
    quick: bool = False  # smaller grids (smoke runs)
    only: tuple[str, ...] = ()  # protocol names to run (default: every one whose data is found)
    validation_folds: int = 5  # stratified protocol: validation splits averaged when tuning (seeds 43, 44, ...)
    validation_holdout: float = 0.1  # ... each holding out 10% of training: the fit stays close to the refit's
    # size (with 25% held out, validation preferred λ=500-1000 for EASE; with 10%, λ=250-350, as the refit does)


# --------------------------------------------------------------------------- splits and loaders
def python_stratified_split(users: np.ndarray, items: np.ndarray, *, ratio: float = 0.75, seed: int = 42,
                            filter_by: str = "item") -> np.ndarray:
    """Microsoft Recommenders' python_stratified_split(filter_by=...): True for training rows.

    Same arithmetic: np.random.seed(seed); one uniform per row in file order; sort by (item, random)
    (or (user, random) with filter_by="user"); the first round(ratio · count) rows of each item (each
    user) train (numpy round, half to even). By item, every item keeps 75% of its ratings in training;
    by user, every user does (the per-user protocol of most MovieLens papers).
    """
    if filter_by not in ("item", "user"):
        raise ValueError(f"filter_by: expected 'item' or 'user', got {filter_by!r}")
    groups = items if filter_by == "item" else users
    rng = np.random.RandomState(seed)
    random = rng.rand(len(groups))
    order = np.lexsort((random, groups))
    sorted_items = groups[order]
    starts = np.flatnonzero(np.r_[True, sorted_items[1:] != sorted_items[:-1]])
    counts = np.diff(np.r_[starts, len(order)])
    rank = np.arange(len(order)) - np.repeat(starts, counts) + 1
    train_sorted = rank <= np.round(ratio * np.repeat(counts, counts))
    train = np.zeros(len(items), dtype=bool)
    train[order] = train_sorted
    return train


def load_movielens(directory: str | Path, *, download: bool = False) -> tuple[Interactions, dict[str, Product]]:
    """ML-100k ratings as implicit interactions (weight = rating) plus movies as products (title, genres)."""
    directory = Path(directory)
    if not (directory / "u.data").is_file():
        if not download:
            raise FileNotFoundError(f"{directory}/u.data not found (pass --download-movielens to fetch it)")
        directory.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(MOVIELENS_URL, timeout=60) as response:  # noqa: S310 (fixed https URL)
            archive = zipfile.ZipFile(io.BytesIO(response.read()))
        for name in ("u.data", "u.item", "u.genre"):
            (directory / name).write_bytes(archive.read(f"ml-100k/{name}"))
    raw = np.loadtxt(directory / "u.data", dtype=np.int64)
    genres = [line.split("|")[0] for line in (directory / "u.genre").read_text(encoding="latin-1").splitlines()
              if line.strip()] if (directory / "u.genre").is_file() else [f"g{i}" for i in range(19)]
    products: dict[str, Product] = {}
    if (directory / "u.item").is_file():
        for line in (directory / "u.item").read_text(encoding="latin-1").splitlines():
            parts = line.split("|")
            if len(parts) < 24:
                continue
            flags = [genres[i] for i, flag in enumerate(parts[5:24]) if flag == "1"]
            products[parts[0]] = Product(parts[0], parts[1], " ".join(flags), flags[0] if flags else "unknown",
                                         Decimal("0"), "USD", 1, "x", date(1998, 1, 1))
    data = Interactions(users=raw[:, 0].astype(str).astype(object), items=raw[:, 1].astype(str).astype(object),
                        weight=raw[:, 2].astype(np.float32), timestamp=raw[:, 3].astype(np.float64),
                        source=str(directory))
    return data, products


def load_online_retail(path: str | Path) -> tuple[Interactions, dict[str, Product]]:
    """UCI Online Retail rows → purchases (cancellations and non-positive quantities dropped)."""
    try:  # the store package's loader, when present, owns the parsing rules
        from nudge.store.online_retail import load_online_retail as store_loader  # type: ignore

        store = store_loader(path)
        products = dict(store.products)
        events = list(store.events) + list(getattr(store, "heldout_events", []))
        return Interactions(
            users=np.array([e.customer_id for e in events], dtype=object),
            items=np.array([e.product_id for e in events], dtype=object),
            weight=np.ones(len(events), dtype=np.float32),
            timestamp=np.array([e.timestamp.timestamp() for e in events]), source=str(path)), products
    except ImportError:
        pass
    users, items, times, products = [], [], [], {}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["InvoiceNo"].startswith("C") or int(float(row["Quantity"])) <= 0 or not row["CustomerID"]:
                continue
            ts = datetime.fromisoformat(row["InvoiceDate"]).replace(tzinfo=timezone.utc).timestamp()
            users.append(row["CustomerID"])
            items.append(row["StockCode"])
            times.append(ts)
            if row["StockCode"] not in products:
                name = row["Description"].replace("_", " ").title()
                products[row["StockCode"]] = Product(row["StockCode"], name, name, name.split()[-1] if name else "x",
                                                     Decimal(row["UnitPrice"]), "GBP", 1, "x", date(2010, 12, 1))
    data = Interactions(np.array(users, dtype=object), np.array(items, dtype=object),
                        np.ones(len(users), dtype=np.float32), np.array(times), source=str(path))
    return data, products


# --------------------------------------------------------------------------- one protocol
@dataclass
class Protocol:
    name: str
    train: Interactions
    test: Interactions
    products: dict[str, Product]
    binary: bool  # training matrix of 1/0 instead of log1p strengths (truth is always binary)
    validation: str  # "stratified" (by item) or "last_fraction" (per user) or "last_days"
    note: str
    half_life_days: float | None = None  # recency decay of training strengths (None: none)
    customers: dict[str, Any] | None = None  # store protocols: also score through Recommender.rank()
    as_of: date | None = None
    repeat: bool = False  # purchases that can recur: also report "all future purchases" and rebuy statistics


def run_protocol(p: Protocol, config: EvalConfig) -> dict[str, Any]:
    """Tune on a validation split of p.train, refit on all of p.train, score on p.test."""
    users = sorted(set(p.train.users.tolist()))
    items = sorted(set(p.train.items.tolist()) | set(p.products))
    u_index = {u: i for i, u in enumerate(users)}
    i_index = {v: i for i, v in enumerate(items)}
    catalog = catalog_for(items, p.products)
    content = catalog.content
    as_of_ts = float(p.train.timestamp.max())

    def matrix(data: Interactions, *, binary: bool | None = None, recency: float | None = None) -> sp.csr_matrix:
        b = p.binary if binary is None else binary
        return build_matrix(data, u_index, i_index, binary=b, as_of_ts=as_of_ts,
                            half_life_days=p.half_life_days, position_half_life=recency)

    # validation folds carved out of training only
    folds = []
    if p.validation in ("stratified", "stratified_user"):  # validation split the way the test split is
        masks = [python_stratified_split(p.train.users, p.train.items, ratio=1.0 - config.validation_holdout,
                                         seed=config.seed + 1 + f,
                                         filter_by="user" if p.validation == "stratified_user" else "item")
                 for f in range(config.validation_folds)]
    else:
        masks = [~last_fraction_split(p.train, 0.2)]
    for keep in masks:
        part = p.train.subset(keep)
        X_fit = matrix(part)
        val = matrix(p.train.subset(~keep), binary=True)
        val = val - val.multiply(X_fit > 0)
        val.eliminate_zeros()
        folds.append(Fold(X_fit, {h: matrix(part, recency=h) for h in RECENCY_GRID}, relevant_sets(val)))
    grids = GRIDS if not config.quick else {n: g[:2] for n, g in GRIDS.items()}
    tuned = tune(config.models, folds, content=content, k=config.k,
                 top_neighbours=config.top_neighbours, seed=config.seed, grids=grids, progress=False)
    chosen = max(tuned, key=lambda n: tuned[n]["score"])

    X = matrix(p.train)
    test = matrix(p.test, binary=True)
    test = test - test.multiply(X > 0)  # seen items are removed from recommendations, so from truth too
    test.eliminate_zeros()
    relevant = relevant_sets(test)
    result: dict[str, Any] = {"note": p.note, "users_scored": 0, "n_items": len(items),
                              "train_rows": len(p.train), "test_rows": len(p.test), "validation": {}}
    fitted: dict[str, tuple[Any, sp.csr_matrix]] = {}  # name -> (model refitted on all of p.train, its input rows)
    for name in tqdm(config.models, desc=p.name, leave=False):
        if name not in tuned:
            continue
        started = time.perf_counter()
        model = fit_tuned(name, tuned[name], X, content=content, top_neighbours=config.top_neighbours,
                          seed=config.seed)
        fit_seconds = time.perf_counter() - started
        X_in = matrix(p.train, recency=tuned[name].get("recency"))  # the history as the runtime folds it in
        fitted[name] = (model, X_in)
        metrics = evaluate(model, X_in, relevant, k=config.k)
        result["users_scored"] = metrics.pop("users")
        result[name] = {key: round(float(v), 4) for key, v in metrics.items()}
        result[name]["fit_seconds"] = round(fit_seconds, 3)
        result["validation"][name] = {"ndcg@10": round(tuned[name]["ndcg"], 4), "hp": tuned[name]["hp"],
                                      "recency": tuned[name].get("recency"),
                                      **({"base": tuned[name]["base"], "base_hp": tuned[name]["base_hp"]}
                                         if name == "hybrid" else {})}
    result["chosen"] = chosen
    if p.repeat:  # what a campaign that may show bought items again would see (issue #16: repeat purchases)
        result["all_future_purchases"] = all_future_purchases(p, config, fitted, matrix, u_index, i_index)
        result["repurchase_by_category"] = {c: s for c, s in repurchase_stats(p.train.purchases(), p.products).items()
                                            if s["buyers"] >= 5}  # fewer buyers: too few to say
    if p.customers:  # the contract: the exported runtime, fed Profiles, ranks as well as the offline model
        result["runtime_path"] = runtime_metrics(fitted[chosen][0], items, catalog, p, relevant, users, k=config.k)
    return result


def all_future_purchases(p: Protocol, config: EvalConfig, fitted: dict[str, tuple[Any, sp.csr_matrix]],
                         matrix: Any, u_index: dict[str, int], i_index: dict[str, int]) -> dict[str, Any]:
    """nDCG@k against EVERY held-out item (bought before or not), with nothing excluded from the
    lists: each model as is; each with the customer's own items first ("+ rebuy", their strengths in
    front of the model's normalised scores); and each behind the due reorders the runtime would show
    (the repurchase table learned from p.train, at most one per customer, as loyalty and win-back
    campaigns do); plus the share of held-out pairs that are rebuys. The block beside it (the
    protocol's main figures) is "new items only"."""
    test = matrix(p.test.purchases(), binary=True)
    relevant = relevant_sets(test)
    rebuys = test.multiply(matrix(p.train.purchases(), binary=True) > 0)
    table = learn_repurchase(p.train.purchases(), p.products)
    as_of = p.as_of or datetime.fromtimestamp(float(p.train.timestamp.max()), tz=timezone.utc).date()
    front = due_front(p.train.purchases(), p.products, table, u_index, i_index, as_of=as_of)
    out: dict[str, Any] = {"note": "truth: every held-out purchase (customer, item), rebuys of items bought in "
                                   "training included; lists keep bought items",
                           "rebuy_share_of_heldout_pairs": round(float(rebuys.nnz) / max(1, test.nnz), 4),
                           "repeatable_categories": sorted(table.categories),
                           "customers_with_a_due_reorder": len(front)}
    for name, (model, X_in) in fitted.items():  # the protocol's own refitted models and input rows
        plain = evaluate(model, X_in, relevant, k=config.k, exclude_seen=False)[f"ndcg@{config.k}"]
        rebuy = evaluate(model, X_in, relevant, k=config.k, exclude_seen=False, rebuy_boost=1.0)[f"ndcg@{config.k}"]
        due = evaluate(model, X_in, relevant, k=config.k, exclude_seen=False, front=front)[f"ndcg@{config.k}"]
        out[name] = {f"ndcg@{config.k}": round(float(plain), 4), f"ndcg@{config.k}_rebuy_first": round(float(rebuy), 4),
                     f"ndcg@{config.k}_due_first": round(float(due), 4)}
    return out


def runtime_metrics(model: Any, items: list[str], catalog: Any, p: Protocol, relevant: dict[int, set[int]],
                    users: list[str], *, k: int) -> dict[str, Any]:
    """Score the held-out users through the numpy runtime (export → Profile → Recommender.rank()).

    Rules: everything eligible (no stock/image/diversity filters, purchases excluded, as campaigns do);
    viewed and carted items, which a campaign may show again, are dropped from the list afterwards so
    that the figure compares with the offline path (which removes the whole history).
    """
    from nudge.campaigns import PoolRules
    from nudge.types import Profile

    exported = model.export(items)
    rules = PoolRules(in_stock=False, require_image=False, max_per_category=k, exclude_purchased=True)
    lists: dict[str, dict[str, list[str]]] = {}
    order = np.argsort(-p.train.timestamp, kind="stable")  # newest first
    kinds = {4.0: "purchased", 2.0: "carted", 1.0: "viewed"}
    for j in order:
        kind = kinds.get(float(p.train.weight[j]), "viewed")
        bucket = lists.setdefault(p.train.users[j], {"purchased": [], "carted": [], "viewed": []})[kind]
        if p.train.items[j] not in bucket:
            bucket.append(p.train.items[j])
    recommended: dict[int, list[int]] = {}
    item_pos = {pid: i for i, pid in enumerate(items)}
    started = time.perf_counter()
    for u in relevant:
        customer = p.customers.get(users[u])
        if customer is None:
            continue
        history = lists.get(users[u], {"purchased": [], "carted": [], "viewed": []})
        profile = Profile(customer=customer, **history)
        seen = set(history["carted"]) | set(history["viewed"])
        ranked = exported.rank(profile, rules, k=k + len(seen), catalog=catalog, as_of=p.as_of or date.today())
        # like the offline path, judge only items outside the history (a campaign may re-show viewed ones)
        recommended[u] = [item_pos[r.product_id] for r in ranked if r.product_id not in seen][:k]
    seconds = time.perf_counter() - started
    metrics = ranking_metrics(recommended, relevant, k=k, n_items=len(items))
    out = {key: round(float(v), 4) for key, v in metrics.items() if key != "users"}
    out.update({"users": metrics["users"], "rank_ms_mean": round(1000 * seconds / max(1, len(recommended)), 3),
                "note": "chosen model exported, customers folded in from Profiles and ranked through "
                        "nudge.recommend.Recommender.rank(); history items dropped from the list as offline"})
    return out


def protocols(config: EvalConfig) -> tuple[list[Protocol], dict[str, str]]:
    found: list[Protocol] = []
    skipped: dict[str, str] = {}
    try:
        ml, movies = load_movielens(config.movielens_dir, download=config.download_movielens)
        train = python_stratified_split(ml.users, ml.items, ratio=0.75, seed=config.seed)
        found.append(Protocol("movielens100k_microsoft", ml.subset(train), ml.subset(~train), movies, False,
                              "stratified", "Microsoft Recommenders: stratified BY ITEM 75/25 seed 42 (each "
                              "item keeps 75% of its ratings in training); every test rating relevant (binary "
                              "gain); training strength log1p(rating)"))
        train = python_stratified_split(ml.users, ml.items, ratio=0.75, seed=config.seed, filter_by="user")
        found.append(Protocol("movielens100k_per_user", ml.subset(train), ml.subset(~train), movies, False,
                              "stratified_user", "stratified BY USER 75/25 seed 42 (each user keeps 75% of "
                              "their ratings in training: the split most MovieLens papers describe); every "
                              "test rating relevant (binary gain); training strength log1p(rating)"))
        held = last_fraction_split(ml, 0.2)
        found.append(Protocol("movielens100k_temporal", ml.subset(~held), ml.subset(held), movies, False,
                              "last_fraction", "each user's last 20% of ratings by time; binary gain; "
                              "training strength log1p(rating)"))
    except FileNotFoundError as exc:
        skipped["movielens100k"] = str(exc)
    store = Path(config.store_dir)
    if (store / "store.json").is_file():
        history = load_store_interactions(store)
        future = load_store_interactions(store, heldout=True)
        if len(future):
            found.append(Protocol("store_heldout", history, future, history.products, False, "last_fraction",
                                  f"{store}: history before as_of → held-out future events (any type)",
                                  half_life_days=config.half_life_days, customers=history.customers,
                                  as_of=history.as_of, repeat=True))
        else:
            skipped["store_heldout"] = f"{store} has no held-out events"
    else:
        skipped["store_heldout"] = f"{store}/store.json not found (run scripts/make_store.py)"
    retail = Path(config.online_retail_csv)
    if retail.is_file():
        data, products = load_online_retail(retail)
        cut = np.quantile(data.timestamp, 0.8)
        found.append(Protocol("online_retail_temporal", data.subset(data.timestamp < cut),
                              data.subset(data.timestamp >= cut), products, False, "last_fraction",
                              "UCI Online Retail first 20k rows: purchases before/after the 80% time quantile",
                              half_life_days=config.half_life_days, repeat=True))
    else:
        skipped["online_retail_temporal"] = f"{retail} not found"
    return found, skipped


# --------------------------------------------------------------------------- reports
METRICS = ("ndcg@10", "precision@10", "recall@10", "map", "coverage", "fit_seconds")


def write_reports(results: dict[str, Any], out_dir: Path, models: Sequence[str]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "recommender.json").write_text(json.dumps(results, indent=2, sort_keys=True), encoding="utf-8")
    lines = ["# Recommender evaluation", "", f"Generated {results['created']} by scripts/eval_recs.py. "
             "Metrics: Microsoft Recommenders definitions, k = 10; chosen = best validation nDCG@10 "
             "(validation carved out of training data).", ""]
    for dataset, res in results["datasets"].items():
        lines += [f"## {dataset}", "", res["note"] + f" — users scored {res['users_scored']}, items {res['n_items']}, "
                  f"chosen **{res['chosen']}**", "", "| model | " + " | ".join(METRICS) + " |",
                  "|---|" + "---|" * len(METRICS)]
        for name in models:
            if name in res:
                mark = " (chosen)" if name == res["chosen"] else ""
                lines.append(f"| {name}{mark} | " + " | ".join(f"{res[name][m]:.4f}" for m in METRICS) + " |")
        if "runtime_path" in res:
            rt = res["runtime_path"]
            lines.append(f"| {res['chosen']} via runtime rank() | " + " | ".join(
                f"{rt[m]:.4f}" if m in rt else "—" for m in METRICS) + " |")
            lines += ["", f"Runtime row: {rt['note']}; mean {rt['rank_ms_mean']} ms per customer."]
        if "all_future_purchases" in res:
            future = res["all_future_purchases"]
            lines += ["", f"All future purchases ({future['note']}; {future['rebuy_share_of_heldout_pairs']:.1%} of "
                      "held-out pairs are rebuys). The table above is new items only.", "",
                      f"Due reorders: the repurchase table learned from training ({len(future['repeatable_categories'])} "
                      f"repeatable categories), at most one per customer first, as loyalty and win-back show them "
                      f"({future['customers_with_a_due_reorder']} customers have one).", "",
                      "| model | nDCG@10 | nDCG@10, own items first | nDCG@10, due reorders first |", "|---|---|---|---|"]
            lines += [f"| {name} | {future[name]['ndcg@10']:.4f} | {future[name]['ndcg@10_rebuy_first']:.4f} | "
                      f"{future[name]['ndcg@10_due_first']:.4f} |" for name in models if name in future]
            repurchase = res.get("repurchase_by_category") or {}
            lines += ["", "Repurchase by category (training purchases): " + "; ".join(
                f"{c} {r['rebuy_share']:.1%} rebought, median {r['median_days']} days"
                for c, r in sorted(repurchase.items(), key=lambda kv: -kv[1]["pairs"])[:8])]
        lines.append("")
    if results.get("skipped"):
        lines += ["## Skipped", ""] + [f"- {k}: {v}" for k, v in results["skipped"].items()] + [""]
    (out_dir / "recommender.md").write_text("\n".join(lines), encoding="utf-8")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # the plot is a convenience; JSON and markdown carry the numbers
        log.warning("matplotlib missing: no plot")
        return
    datasets = list(results["datasets"])
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / max(1, len(models))
    for j, name in enumerate(models):
        values = [results["datasets"][d].get(name, {}).get("ndcg@10", 0.0) for d in datasets]
        ax.bar(np.arange(len(datasets)) + j * width, values, width, label=name)
    ax.set_xticks(np.arange(len(datasets)) + width * (len(models) - 1) / 2)
    ax.set_xticklabels(datasets, fontsize=8)
    ax.set_ylabel("nDCG@10")
    ax.set_title("nudge recommender: nDCG@10 per model and protocol")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "recommender.png", dpi=120)
    plt.close(fig)


def main(config: EvalConfig) -> dict[str, Any]:
    found, skipped = protocols(config)
    if config.only:
        skipped.update({p.name: "not in --only" for p in found if p.name not in config.only})
        found = [p for p in found if p.name in config.only]
    results: dict[str, Any] = {"created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                               "k": config.k, "datasets": {}, "skipped": skipped}
    for protocol in found:
        started = time.perf_counter()
        results["datasets"][protocol.name] = run_protocol(protocol, config)
        results["datasets"][protocol.name]["eval_seconds"] = round(time.perf_counter() - started, 1)
        log.info("%s: chosen %s, nDCG@10 %s", protocol.name, results["datasets"][protocol.name]["chosen"],
                 {m: results["datasets"][protocol.name][m]["ndcg@10"] for m in config.models
                  if m in results["datasets"][protocol.name]})
    write_reports(results, Path(config.out_dir), config.models)
    return results


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    d = EvalConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movielens-dir", default=d.movielens_dir)
    parser.add_argument("--download-movielens", action="store_true")
    parser.add_argument("--store-dir", default=d.store_dir)
    parser.add_argument("--online-retail-csv", default=d.online_retail_csv)
    parser.add_argument("--out", dest="out_dir", default=d.out_dir)
    parser.add_argument("--models", default=",".join(d.models))
    parser.add_argument("--quick", action="store_true", help="two grid points per model (smoke run)")
    parser.add_argument("--only", default="", help="comma-separated protocols, e.g. movielens100k_per_user")
    a = parser.parse_args()
    cfg = EvalConfig(movielens_dir=a.movielens_dir, download_movielens=a.download_movielens, store_dir=a.store_dir,
                     online_retail_csv=a.online_retail_csv, out_dir=a.out_dir, models=tuple(a.models.split(",")),
                     quick=a.quick, only=tuple(x for x in a.only.split(",") if x))
    res = main(cfg)
    for name, r in res["datasets"].items():
        print(f"{name:28s} chosen={r['chosen']:10s} " + " ".join(
            f"{m}={r[m]['ndcg@10']:.4f}" for m in cfg.models if m in r))
