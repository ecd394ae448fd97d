"""`make bench`: every benchmark in one run → build/reports/bench.json and a printed table.

Runs, each side by side with its baseline in the same process run: the recommender ranking
(scripts/bench_recommender.py), the copywriter (scripts/bench_copywriter.py: ONNX vs transformers
PyTorch on the same weights, when torch is installed), audience planning over a million
customers (scripts/bench_planner.py), and reads the package size written by `make package`.
Medians over repeats; machines are shared and noisy, so ratios matter more than absolutes.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHES = {
    "recommender": ("scripts.bench_recommender", "BenchConfig"),
    "copywriter": ("scripts.bench_copywriter", "BenchConfig"),
    "planner": ("scripts.bench_planner", "BenchPlannerConfig"),
}


@dataclass
class BenchAllConfig:
    only: tuple[str, ...] = tuple(BENCHES)
    report: Path = ROOT / "build" / "reports" / "bench.json"


def main(config: BenchAllConfig) -> dict:
    results: dict = {"machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine()}}
    for name in config.only:
        module_name, config_name = BENCHES[name]
        print(f"\n== {name} ==", flush=True)
        started = time.perf_counter()
        try:
            module = importlib.import_module(module_name)
            results[name] = module.main(getattr(module, config_name)())
        except Exception as exc:  # noqa: BLE001 - one failing bench is reported; the others still run
            traceback.print_exc()
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        results.setdefault("seconds", {})[name] = round(time.perf_counter() - started, 1)
    package = ROOT / "build" / "reports" / "package_size.json"
    results["package_size"] = json.loads(package.read_text()) if package.exists() else {"note": "run make package first"}
    config.report.parent.mkdir(parents=True, exist_ok=True)
    config.report.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(f"\nwrote {config.report}")
    failed = [n for n in config.only if isinstance(results.get(n), dict) and "error" in results[n]]
    if failed:
        print(f"benchmarks that failed: {failed}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(BENCHES))
    args = parser.parse_args()
    main(BenchAllConfig(only=tuple(args.only.split(","))))
