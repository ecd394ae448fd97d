"""Benchmark: audience planning over 1,000,000 synthetic customers → build/reports/bench_planner.json.

Measures the planner core (consent, suppression, audience rule, frequency cap, keyed-hash
holdout, job construction) on one thread, per campaign, as customers per second (median of
repeats), and the job-body serialization that SendMessageBatch needs. The DynamoDB scan and
SQS sends are not in this number: at scale they run in parallel scan segments and batches of 10,
and their throughput is the account's, not the code's.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class BenchPlannerConfig:
    customers: int = 1_000_000
    repeats: int = 3
    campaigns: tuple[str, ...] = ("new_arrivals", "win_back", "abandoned_cart", "birthday_holiday")
    report: Path = ROOT / "build" / "reports" / "bench_planner.json"
    seed: int = 5


def synthetic_profiles(n: int, seed: int):
    from nudge.types import Customer, Profile

    rng = random.Random(seed)
    now = datetime(2026, 11, 20, tzinfo=timezone.utc)
    tiers = ("none", "bronze", "silver", "gold", "platinum")
    for i in range(n):
        has_cart = rng.random() < 0.05
        yield Profile(
            customer=Customer(
                customer_id=f"c{i:07d}", first_name="A", email="a@example.com", locale="en_GB", timezone="Europe/London",
                birthday=date(1990, rng.randint(1, 12), rng.randint(1, 28)), consent=rng.random() < 0.85,
                loyalty_tier=tiers[min(4, int(rng.expovariate(1.0)))],
            ),
            purchased=["p1"] if rng.random() < 0.8 else [],
            viewed=["p2"],
            carted=["p3"] if has_cart else [],
            cart_updated_at=now - timedelta(hours=rng.uniform(0, 100)) if has_cart else None,
            last_order_at=now - timedelta(days=rng.uniform(0, 400)),
            suppressed=rng.random() < 0.02,
            last_marketing_sent_at=now - timedelta(days=rng.uniform(0, 30)) if rng.random() < 0.3 else None,
        )


def main(config: BenchPlannerConfig) -> dict:
    from nudge.campaigns import get_campaign
    from nudge.planner import PlanOptions, plan_campaign

    profiles = list(synthetic_profiles(config.customers, config.seed))
    options = PlanOptions(holdout_share=0.1, frequency_cap_days=7, holdout_key=b"bench-key-0123456789")
    results = {}
    for campaign_type in config.campaigns:
        campaign = get_campaign(campaign_type)
        timings, enqueued = [], 0
        for _ in range(config.repeats):
            started = time.perf_counter()
            enqueued = 0
            for _, _, job in plan_campaign(profiles, campaign, campaign_id="bench", send_date=date(2026, 11, 20), options=options):
                if job is not None:
                    job.to_body()  # what SendMessageBatch sends
                    enqueued += 1
            timings.append(time.perf_counter() - started)
        median = statistics.median(timings)
        results[campaign_type] = {
            "customers": config.customers, "enqueued": enqueued, "median_seconds": round(median, 3),
            "customers_per_second": round(config.customers / median), "repeats": config.repeats,
        }
        print(f"{campaign_type:<18} {config.customers:>9} customers  {enqueued:>8} jobs  "
              f"{median:7.2f} s  {config.customers / median:>10,.0f} customers/s", flush=True)
    config.report.parent.mkdir(parents=True, exist_ok=True)
    config.report.write_text(json.dumps({"planner": results}, indent=2), encoding="utf-8")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=BenchPlannerConfig.customers)
    parser.add_argument("--repeats", type=int, default=BenchPlannerConfig.repeats)
    args = parser.parse_args()
    main(BenchPlannerConfig(customers=args.customers, repeats=args.repeats))
