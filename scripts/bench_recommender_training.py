"""Benchmark recommender training at catalog scale: 10k, 50k and 200k synthetic items.

Inputs → outputs: none (synthetic interactions, fixed seed) →
  a table on stdout and build/reports/bench_recommender_training.json with, per catalog size:
  events, customers, wall time of the whole training (scripts/train_recommender.main: tune what
  fits, choose, refit, export, reload and parity-check), peak RSS of the process, the model chosen,
  the families skipped and why, and per family the fit plan's estimate (memory, seconds per grid
  point) beside the measured seconds per grid point.

Each size runs in its own process (`--one N`), so its peak RSS (getrusage's ru_maxrss) is its own.

The synthetic store has a realistic popularity skew: 2 customers per item, history lengths from a
geometric distribution (mean ~12, capped at 300), items in categories of ~200 with Zipf popularity
inside each (s = 1.0) and across categories; 75% of a customer's events fall in one favourite
category, so collaborative filtering has something to find. Events are views, carts and purchases
over 180 days, weighted as the store's events are (nudge.recommend.EVENT_WEIGHTS).

    python scripts/bench_recommender_training.py                       # 10k, 50k, 200k
    python scripts/bench_recommender_training.py --sizes 10000 --time-budget-minutes 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT / "layers" / "runtime", ROOT / "scripts"):  # train_recommender as a plain module, as eval_recs
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
OUT = ROOT / "build" / "reports" / "bench_recommender_training.json"
SIZES = (10_000, 50_000, 200_000)
BARS = {"items": 200_000, "peak_gib": 16.0, "minutes": 30.0}  # issue #16: at 200k items, on 2 cores


def synthetic_interactions(n_items: int, *, seed: int = 7, users_per_item: float = 2.0):
    """A skewed synthetic store as train_recommender.Interactions (see the module docstring)."""
    from train_recommender import Interactions, event_weight

    rng = np.random.default_rng(seed)
    n_users = int(n_items * users_per_item)
    n_categories = max(1, n_items // 200)
    category = rng.integers(0, n_categories, size=n_items)
    # Zipf popularity overall; within a category, items keep their global order
    popularity = 1.0 / (np.arange(1, n_items + 1) + 5.0)
    rng.shuffle(popularity)
    members = [np.flatnonzero(category == c) for c in range(n_categories)]
    within = [popularity[m] / popularity[m].sum() for m in members]
    category_weight = np.array([popularity[m].sum() for m in members])
    category_weight /= category_weight.sum()
    lengths = np.minimum(300, rng.geometric(1 / 12, size=n_users))
    favourite = rng.choice(n_categories, size=n_users, p=category_weight)
    total = int(lengths.sum())
    users = np.repeat(np.arange(n_users), lengths)
    from_favourite = rng.random(total) < 0.75
    items = np.empty(total, dtype=np.int64)
    overall = rng.choice(n_items, size=total, p=popularity / popularity.sum())
    items[~from_favourite] = overall[~from_favourite]
    fav_of_event = favourite[users]
    for c in np.unique(fav_of_event[from_favourite]):  # per favourite category, draw its events at once
        where = np.flatnonzero(from_favourite & (fav_of_event == c))
        items[where] = members[c][rng.choice(len(members[c]), size=len(where), p=within[c])]
    kinds = ("view", "add_to_cart", "purchase")
    weight = np.array([event_weight(k) for k in kinds], dtype=np.float32)[rng.choice(3, size=total, p=[0.7, 0.2, 0.1])]
    as_of = date(2026, 11, 20)
    end = datetime.combine(as_of, datetime.min.time(), tzinfo=timezone.utc).timestamp()
    timestamp = rng.uniform(end - 180 * 86400, end, size=total)
    return Interactions(
        users=np.array([f"u{u:07d}" for u in users], dtype=object),
        items=np.array([f"i{i:07d}" for i in items], dtype=object),
        weight=weight, timestamp=timestamp,
        as_of=as_of, source=f"synthetic:{n_items}:{seed}", sha256="",
    )


def run_one(n_items: int, *, time_budget_minutes: float, memory_budget_gb: float, seed: int) -> dict[str, Any]:
    """Generate, train and measure one catalog size (in this process)."""
    import train_recommender as tr

    started = time.perf_counter()
    data = synthetic_interactions(n_items, seed=seed)
    generate_seconds = time.perf_counter() - started
    rss_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with tempfile.TemporaryDirectory() as tmp:
        config = tr.TrainConfig(source="(synthetic)", out_dir=str(Path(tmp) / "recommender"), catalog_dir="",
                                time_budget_minutes=time_budget_minutes, memory_budget_gb=memory_budget_gb,
                                seed=seed)
        started = time.perf_counter()
        meta = tr.main(config, data=data)
        seconds = time.perf_counter() - started
        artifact_bytes = sum(p.stat().st_size for p in Path(config.out_dir).rglob("*") if p.is_file())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    plan = meta["fit_plan"]
    families = {}
    for name, estimate in plan["estimates"].items():
        validation = meta["metrics"]["validation"].get(name, {})
        families[name] = {"estimate_peak_gib": estimate["peak_gib"], "estimate_seconds_per_point": estimate["seconds"],
                          "measured_seconds_per_point": validation.get("seconds_per_point"),
                          "grid_points": plan["grid_points"].get(name, 0), "skipped": plan["skipped"].get(name),
                          "validation_ndcg@10": round(validation["ndcg@10"], 4) if "ndcg@10" in validation else None}
    return {
        "items": n_items, "customers": meta["data_source"]["users"], "events": meta["data_source"]["events"],
        "generate_seconds": round(generate_seconds, 1), "train_seconds": round(seconds, 1),
        "train_minutes": round(seconds / 60, 2), "peak_rss_gib": round(peak / 2**30, 2),
        "rss_after_data_gib": round(rss_data / 2**30, 2), "chosen": meta["model"],
        "fit_seconds_chosen": round(meta["metrics"]["fit_seconds"], 1), "artifact_mib": round(artifact_bytes / 2**20, 1),
        "validation_users": plan["validation_users"], "memory_budget_gib": plan["memory_budget_gib"],
        "time_budget_minutes": plan["time_budget_minutes"], "families": families,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--time-budget-minutes", type=float, default=20.0,
                        help="train_recommender's tuning budget (the refit and export come on top)")
    parser.add_argument("--memory-budget-gb", type=float, default=12.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child: one size, JSON on stdout
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if args.one:
        result = run_one(args.one, time_budget_minutes=args.time_budget_minutes,
                         memory_budget_gb=args.memory_budget_gb, seed=args.seed)
        print("RESULT " + json.dumps(result))
        return 0
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"training on {size:,} synthetic items ...", file=sys.stderr, flush=True)
        child = subprocess.run(
            [sys.executable, __file__, "--one", str(size), "--time-budget-minutes", str(args.time_budget_minutes),
             "--memory-budget-gb", str(args.memory_budget_gb), "--seed", str(args.seed)],
            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(
                [str(ROOT), str(ROOT / "layers" / "runtime"), os.environ.get("PYTHONPATH", "")])},
        )
        lines = [line for line in child.stdout.splitlines() if line.startswith("RESULT ")]
        if child.returncode != 0 or not lines:
            sys.stderr.write(child.stderr[-4000:])
            results.append({"items": size, "error": (child.stderr.strip().splitlines() or ["no output"])[-1]})
            continue
        results.append(json.loads(lines[-1][len("RESULT "):]))
    at_bar = next((r for r in results if r.get("items") == BARS["items"] and "error" not in r), None)
    report = {
        "what": "scripts/train_recommender.main on synthetic skewed catalogs, one process per size",
        "bars": BARS,
        "pass": (at_bar is not None and at_bar["peak_rss_gib"] <= BARS["peak_gib"]
                 and at_bar["train_minutes"] <= BARS["minutes"]),
        "results": results,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"{'items':>8} {'events':>10} {'minutes':>8} {'peak GiB':>9} {'chosen':>10}  skipped")
    for r in results:
        if "error" in r:
            print(f"{r['items']:>8,} error: {r['error']}")
            continue
        skipped = ", ".join(f"{n}" for n, f in r["families"].items() if f["skipped"]) or "-"
        print(f"{r['items']:>8,} {r['events']:>10,} {r['train_minutes']:>8} {r['peak_rss_gib']:>9} {r['chosen']:>10}  {skipped}")
        for name, f in r["families"].items():
            print(f"{'':>10}{name:>10}: est {f['estimate_seconds_per_point']} s/point, measured "
                  f"{f['measured_seconds_per_point']} s/point, {f['grid_points']} points, est {f['estimate_peak_gib']} GiB")
    verdict = "not run" if at_bar is None else ("pass" if report["pass"] else "FAIL")
    print(f"bar (200k items: <= {BARS['peak_gib']} GiB, <= {BARS['minutes']} min): {verdict}")
    print(f"wrote {args.out}")
    return 0 if report["pass"] or BARS["items"] not in [r.get("items") for r in results] else 1


if __name__ == "__main__":
    sys.exit(main())
