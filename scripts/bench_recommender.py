"""Benchmark request-time ranking: one customer over 10k, 100k and 1M synthetic items, one thread.

Inputs → outputs: none (synthetic catalogs and models, fixed seed) →
  a table on stdout and build/reports/bench_recommender.json with, per size and form:
  rank latency p50 / p99 (ms, `Recommender.rank` with the loyalty campaign's rules, k=4),
  array memory (MB), cold load time (s: Recommender.load + Catalog.load + the first rank).

    OMP_NUM_THREADS=1 python scripts/bench_recommender.py            # all sizes
    python scripts/bench_recommender.py --sizes 10000,100000 --repeats 100
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one thread: what one Lambda request gets

import argparse
import json
import platform
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(ROOT / "layers" / "runtime") not in sys.path:
    sys.path.insert(0, str(ROOT / "layers" / "runtime"))

from nudge.campaigns import get_campaign  # noqa: E402
from nudge.recommend import Catalog, Recommender  # noqa: E402
from nudge.recommend.content import CONTENT_DIMS  # noqa: E402
from nudge.types import Customer, Profile  # noqa: E402
from scripts.recommender_index import IVF_MIN_ITEMS, build_ivf, choose_probe, ivf_recall  # noqa: E402

AS_OF = date(2026, 11, 20)


@dataclass
class BenchConfig:
    sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)  # catalog sizes (items)
    forms: tuple[str, ...] = ("embeddings", "neighbours")  # runtime artifact forms to time
    dims: int = 64  # embedding dims (float32)
    neighbours: int = 100  # neighbours kept per item (neighbours form)
    max_neighbour_items: int = 100_000  # neighbours form above this size is skipped (memory: n·M·8 bytes)
    history: int = 50  # distinct items in the customer's history (20 bought, 30 viewed)
    repeats: int = 200  # timed rank() calls per size (fewer at 1M, see main)
    campaign: str = "loyalty"
    out: str = "build/reports/bench_recommender.json"
    seed: int = 7


def synthetic_catalog(n: int, rng: np.random.Generator) -> Catalog:
    """Arrays only (no product records): 200 categories, 90% in stock, 95% with an image."""
    content = rng.standard_normal((n, CONTENT_DIMS), dtype=np.float32)
    content /= np.linalg.norm(content, axis=1, keepdims=True)
    return Catalog(
        ids=[f"p{i}" for i in range(n)],
        categories=[f"c{i}" for i in range(200)],
        category_codes=rng.integers(0, 200, n, dtype=np.int32),
        price=rng.uniform(2, 200, n),
        in_stock=rng.random(n) < 0.9,
        has_image=rng.random(n) < 0.95,
        arrival=(AS_OF.toordinal() - rng.integers(0, 720, n)).astype(np.int32),
        clearance=rng.random(n) < 0.05,
        giftable=rng.random(n) < 0.3,
        content=content,
    )


def synthetic_factors(catalog: Catalog, dims: int, rng: np.random.Generator) -> np.ndarray:
    """Item embeddings with the structure trained ones have: each item near its category's centre
    (a centre per category, N(0, 0.1²) per dimension, plus item noise as large, N(0, 0.1²): categories
    overlap), not uniform noise."""
    centres = rng.standard_normal((len(catalog.categories), dims), dtype=np.float32) * 0.1
    noise = rng.standard_normal((len(catalog), dims), dtype=np.float32) * 0.1
    return (centres[catalog.category_codes] + noise).astype(np.float32)


def synthetic_users(rec: Recommender, catalog: Catalog, rng: np.random.Generator, count: int = 200,
                    history: int = 50) -> np.ndarray:
    """Customer vectors folded in (the runtime's own solve) from histories spread over three categories."""
    users = []
    for _ in range(count):
        liked = rng.choice(len(catalog.categories), size=3, replace=False)
        candidates = np.flatnonzero(np.isin(catalog.category_codes, liked))
        items = rng.choice(candidates, size=min(history, len(candidates)), replace=False)
        users.append(rec._fold_in(np.asarray(rec.factors[items]), np.ones(len(items), dtype=np.float32)))
    return np.array(users, dtype=np.float32)


def synthetic_model(form: str, catalog: Catalog, config: BenchConfig, rng: np.random.Generator
                    ) -> tuple[Recommender, np.ndarray | None]:
    """The model, and when it was reordered cluster by cluster (embeddings with an IVF index, as
    train_recommender exports them) the order, for the catalog to follow (row r is old row order[r])."""
    n = len(catalog)
    popularity = rng.pareto(1.5, n).astype(np.float32)
    if form == "embeddings":
        factors = synthetic_factors(catalog, config.dims, rng)
        model = dict(item_ids=catalog.ids, form="embeddings", popularity=popularity, factors=factors,
                     regularization=0.05, alpha=2.0, content_weight=0.05)
        rec = Recommender(**model)
        if n < IVF_MIN_ITEMS:
            return rec, None
        # as train_recommender exports it: an IVF index, its probe chosen by recall on folded-in customers
        centroids, assign = build_ivf(factors, seed=config.seed)
        probe, recall = choose_probe(factors, centroids, assign, synthetic_users(rec, catalog, rng))
        return Recommender(**model, gram=rec.gram, ivf_centroids=centroids, ivf_assign=assign,
                           meta={"ivf_probe": probe, "ivf_recall_at_100": round(recall, 4)}).in_cluster_order()
    index = rng.integers(0, n, (n, config.neighbours), dtype=np.int32)
    weight = rng.random((n, config.neighbours), dtype=np.float32)
    return Recommender(item_ids=catalog.ids, form="neighbours", popularity=popularity, neighbour_index=index,
                       neighbour_weight=weight, content_weight=0.05), None


def array_megabytes(rec: Recommender, catalog: Catalog) -> dict[str, float]:
    model = sum(a.nbytes for a in (rec.popularity, rec.factors, rec.gram, rec.neighbour_index,
                                   rec.neighbour_weight) if a is not None)
    cat = sum(getattr(catalog, name).nbytes for name in Catalog.ARRAYS)
    return {"model_arrays_mb": round(model / 2**20, 1), "catalog_arrays_mb": round(cat / 2**20, 1),
            "item_embeddings_mb": round(rec.factors.nbytes / 2**20, 1) if rec.factors is not None else 0.0}


def compare_scoring(rec: Recommender, out_dir: Path, rng: np.random.Generator, *, repeats: int) -> dict[str, Any]:
    """The scoring step (one history of 50 items -> a score per item) through the numpy runtime
    (Recommender.score_items) and through its ONNX export (scripts/recommender_onnx.py), one thread
    each, same inputs, p50 over `repeats` after one warm-up; and their parity."""
    try:
        from scripts.recommender_onnx import check_parity, export_scoring, onnx_scores, session
        import onnx  # noqa: F401 - the export needs it (requirements/train.txt; make bench runs there)
    except ImportError as exc:
        return {"scoring_onnx": f"skipped: {exc}"}
    sess = session(export_scoring(rec, out_dir))
    parity = check_parity(sess, rec)
    items = rng.choice(len(rec.item_ids), size=50, replace=False)
    strengths = rng.uniform(0.5, 2.0, 50).astype(np.float32)
    timings: dict[str, list[float]] = {"numpy": [], "onnx": []}
    for name, call in (("numpy", lambda: rec.score_items(items, strengths)),
                       ("onnx", lambda: onnx_scores(sess, rec, items, strengths))):
        call()
        for _ in range(repeats):
            started = time.perf_counter()
            call()
            timings[name].append((time.perf_counter() - started) * 1000)
    numpy_ms, onnx_ms = (float(np.median(timings[k])) for k in ("numpy", "onnx"))
    return {"scoring_numpy_p50_ms": round(numpy_ms, 3), "scoring_onnx_p50_ms": round(onnx_ms, 3),
            "scoring_onnx_vs_numpy": round(numpy_ms / onnx_ms, 2), "scoring_onnx_parity": float(f"{parity:.2e}"),
            "scoring_onnx_mb": round(sum(f.stat().st_size for f in out_dir.iterdir()) / 2**20, 1)}


def bench_one(form: str, n: int, config: BenchConfig) -> dict[str, Any]:
    rng = np.random.default_rng(config.seed)
    catalog = synthetic_catalog(n, rng)
    started = time.perf_counter()
    rec, order = synthetic_model(form, catalog, config, rng)
    index_s = time.perf_counter() - started
    if order is not None:  # reordered cluster by cluster: the catalog in the same order
        catalog = catalog.reordered(order)
    ivf: dict[str, Any] = {}
    if rec.ivf_assign is not None:  # recall on customers the probe was not chosen on
        held_out = synthetic_users(rec, catalog, np.random.default_rng(config.seed + 1))
        ivf = {"ivf_clusters": len(rec.ivf_centroids), "ivf_probe": rec.ivf_probe,
               "ivf_recall_at_100": round(ivf_recall(np.asarray(rec.factors), rec.ivf_centroids, rec.ivf_assign,
                                                     held_out, rec.ivf_probe), 4),
               "ivf_build_s": round(index_s, 1)}
    # the customer: 50 items from three categories (a taste, as the recall customers have)
    liked = rng.choice(len(catalog.categories), size=3, replace=False)
    history = [f"p{i}" for i in rng.choice(np.flatnonzero(np.isin(catalog.category_codes, liked)), config.history,
                                          replace=False)]
    customer = Customer("c1", "Ada", "ada@example.com", "en_GB", "Europe/London", None, True)
    profile = Profile(customer=customer, purchased=history[:20], viewed=history[20:])
    rules = get_campaign(config.campaign).pool
    with tempfile.TemporaryDirectory() as tmp:
        rec.save(Path(tmp) / "rec")
        catalog.save(Path(tmp) / "catalog")
        started = time.perf_counter()
        loaded = Recommender.load(Path(tmp) / "rec")
        loaded_catalog = Catalog.load(Path(tmp) / "catalog")
        loaded.rank(profile, rules, k=4, catalog=loaded_catalog, as_of=AS_OF)
        cold_load_s = time.perf_counter() - started
        repeats = config.repeats if n <= 100_000 else max(20, config.repeats // 5)
        times = []
        for _ in range(repeats):  # inside: the arrays are mapped from, and product lines read from, these files
            t0 = time.perf_counter()
            loaded.rank(profile, rules, k=4, catalog=loaded_catalog, as_of=AS_OF)
            times.append((time.perf_counter() - t0) * 1000)
        sizes = array_megabytes(loaded, loaded_catalog)
        scoring = compare_scoring(loaded, Path(tmp) / "onnx", rng, repeats=max(10, repeats // 2))
        # what a cold start downloads to /tmp (GenerateEphemeralStorageMB); real catalogs add their product lines
        sizes["artifact_disk_mb"] = round(sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file()) / 2**20, 1)
    times_arr = np.array(times)
    return {"form": form, "items": n, "repeats": repeats,
            "p50_ms": round(float(np.percentile(times_arr, 50)), 3),
            "p99_ms": round(float(np.percentile(times_arr, 99)), 3),
            "cold_load_s": round(cold_load_s, 3), **sizes, **ivf, **scoring,
            "ivf_requests": int(loaded.stats["ivf"]), "ivf_fallbacks": int(loaded.stats["ivf_fallback"])}


def main(config: BenchConfig) -> dict[str, Any]:
    rows = []
    for n in config.sizes:
        for form in config.forms:
            if form == "neighbours" and n > config.max_neighbour_items:
                continue
            rows.append(bench_one(form, n, config))
            r = rows[-1]
            print(f"{r['form']:10s} {r['items']:>9,d} items  p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  "
                  f"model {r['model_arrays_mb']:7.1f} MB  catalog {r['catalog_arrays_mb']:7.1f} MB  "
                  f"cold load {r['cold_load_s']:6.2f} s"
                  + (f"  IVF {r['ivf_clusters']} clusters, probe {r['ivf_probe']}, recall@100 {r['ivf_recall_at_100']}"
                     if "ivf_probe" in r else "")
                  + (f"\n{'':21s}scoring (history -> every item): numpy {r['scoring_numpy_p50_ms']} ms, ONNX "
                     f"{r['scoring_onnx_p50_ms']} ms (numpy/ONNX {r['scoring_onnx_vs_numpy']}, parity {r['scoring_onnx_parity']})"
                     if "scoring_numpy_p50_ms" in r else ""), flush=True)
    result = {"config": asdict(config), "machine": {"python": platform.python_version(), "numpy": np.__version__,
                                                     "processor": platform.processor() or platform.machine(),
                                                     "threads": 1},
              "results": rows}
    out = Path(config.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


if __name__ == "__main__":
    d = BenchConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in d.sizes))
    parser.add_argument("--forms", default=",".join(d.forms))
    parser.add_argument("--repeats", type=int, default=d.repeats)
    parser.add_argument("--out", default=d.out)
    a = parser.parse_args()
    main(BenchConfig(sizes=tuple(int(s) for s in a.sizes.split(",")), forms=tuple(a.forms.split(",")),
                     repeats=a.repeats, out=a.out))
