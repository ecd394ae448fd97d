"""`make bench`: every benchmark in one run → build/reports/bench.json and a printed table.

Runs, each side by side with its baseline in the same process run: the recommender ranking
(scripts/bench_recommender.py), the copywriter (scripts/bench_copywriter.py: ONNX vs the same fp32 student
in transformers generate() and in a PyTorch KV-cache loop in fp32 and int8, and vs the teacher, when torch is
installed), audience planning over a million
customers (scripts/bench_planner.py), and reads the package size written by `make package`.
Medians over repeats; machines are shared and noisy, so ratios matter more than absolutes.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHES = {
    "recommender": ("scripts.bench_recommender", "BenchConfig"),
    "copywriter": ("scripts.bench_copywriter", "BenchConfig"),
    "planner": ("scripts.bench_planner", "BenchPlannerConfig"),
}


MARK = "NUDGE_BENCH_RESULT "
RUNNER = (
    "import importlib, json, sys\n"
    "module = importlib.import_module(sys.argv[1])\n"
    "result = module.main(getattr(module, sys.argv[2])())\n"
    f"print({MARK!r} + json.dumps(result, default=str))\n"
)


# the copywriter's baselines (scripts/bench_copywriter.py "baselines"): (key, what it is, after its precision)
COPY_BASELINES = (
    ("transformers_generate", "transformers generate()", ", same student, paired; bar 10"),
    ("torch_loop_fp32", "PyTorch KV-cache loop fp32", ", same student, paired"),
    ("torch_loop_int8", "PyTorch KV-cache loop int8", ", same student, paired"),
    ("teacher", "the teacher (SmolLM2)", ", transformers, 32 greedy tokens forced, unpaired"),
)


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
        # Each benchmark in its own process: cold starts and peak RSS are then its own.
        completed = subprocess.run([sys.executable, "-c", RUNNER, module_name, config_name], cwd=ROOT, capture_output=False,
                                   stdout=subprocess.PIPE, text=True)
        lines = completed.stdout.splitlines()
        print("\n".join(line for line in lines if not line.startswith(MARK)), flush=True)
        payload = [line[len(MARK):] for line in lines if line.startswith(MARK)]
        if completed.returncode != 0 or not payload:
            results[name] = {"error": f"exit {completed.returncode}"}
        else:
            results[name] = json.loads(payload[-1])
        results.setdefault("seconds", {})[name] = round(time.perf_counter() - started, 1)
    package = ROOT / "build" / "reports" / "package_size.json"
    results["package_size"] = json.loads(package.read_text()) if package.exists() else {"note": "run make package first"}
    config.report.parent.mkdir(parents=True, exist_ok=True)
    config.report.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print_summary(results)
    print(f"\nwrote {config.report}")
    failed = [n for n in config.only if isinstance(results.get(n), dict) and "error" in results[n]]
    if failed:
        print(f"benchmarks that failed: {failed}")
    return results


def print_summary(results: dict) -> None:
    """One table of the headline numbers, each next to its baseline or budget."""
    rows: list[tuple[str, str, str]] = []
    copy = results.get("copywriter", {})
    if "batch_10" in copy:
        rows.append(("copy: ms per email, batch 10, 1 thread", f"{copy['batch_10']['ms_per_email_p50']}", "budget 100"))
        rows.append(("copy: ONNX runtime (the speedups' numerator)", "", f"{copy.get('onnx_precision')}"))
        baselines = copy.get("baselines", {})
        for name, label, note in COPY_BASELINES:
            baseline = baselines.get(name, {})
            described = f"{baseline.get('precision', '?')}{note}"
            if baseline.get("speedup") is None:  # say why instead of printing None
                rows.append((f"copy: speedup vs {label}", "n/a",
                             f"{described}; {baseline.get('status', 'missing')}: {baseline.get('reason', 'not measured')}"))
                continue
            spread = baseline.get("speedup_range")
            rows.append((f"copy: speedup vs {label}",
                         f"{baseline['speedup']:.1f}" + (f" ({spread[0]:.1f}-{spread[1]:.1f})" if spread else ""), described))
            if "speedup_first_run" in baseline:  # the same pairs, each side's first timed run alone
                first = baseline["speedup_first_run_range"]
                rows.append((f"copy:   first timed run only (of {baseline['timed_runs']})",
                             f"{baseline['speedup_first_run']:.1f} ({first[0]:.1f}-{first[1]:.1f})",
                             "the headline counts each side's median run"))
            if "identical_share" in baseline:
                rows.append((f"copy:   same tokens as ONNX, {baseline['precision'].split()[0]} loop, same seeds",
                             f"{baseline['identical_share']:.0%}",
                             f"tokens sampled {sum(baseline['tokens'])}, ONNX {sum(baseline['onnx_tokens'])}"))
        rows.append(("copy: cold start s", f"{copy.get('cold_start_s')}", "budget 1.5"))
        rows.append(("copy: peak RSS MB", f"{copy.get('peak_rss_mb')}", "-"))
        for language, b in copy.get("languages", {}).items():  # one student per language, English timed in the same rounds
            if language != "missing":
                rows.append((f"copy {language}: ms per email, batch 10", f"{b['ms_per_email_p50']}",
                             f"{b['vs_english']}x English; {b['bytes'] / 1e6:.2f} MB, vocabulary {b['vocab_size']}"))
        multi = copy.get("multilingual_alternative", {})
        if multi.get("status") == "ok":
            rows.append(("copy: one multilingual student instead, decode step", f"{multi['step_ratio']}x",
                         f"vocabulary {multi['vocab_multilingual']}, int8 "
                         f"{multi['decode_step']['multilingual_vocab']['int8_bytes'] / 1e6:.1f} MB vs English's; random weights"))
    planner = results.get("planner", {})
    for campaign, row in planner.items() if isinstance(planner, dict) and "error" not in planner else []:
        rows.append((f"plan {campaign}: customers/s ({row['customers']:,})", f"{row['customers_per_second']:,}", "-"))
    package = results.get("package_size", {})
    for fn in package.get("functions", []):
        rows.append((f"package {fn['function']} MB unzipped", f"{fn['total_mb']}", f"limit {fn['limit_mb']}"))
    width = max((len(r[0]) for r in rows), default=10)
    print(f"\n{'measure':<{width}}  {'value':>12}  baseline / budget")
    for name, value, base in rows:
        print(f"{name:<{width}}  {value:>12}  {base}")
    print("(recommender ranking table above; full numbers in the JSON)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(BENCHES))
    args = parser.parse_args()
    main(BenchAllConfig(only=tuple(args.only.split(","))))
