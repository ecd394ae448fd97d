"""Load and fault runs through the local runner → build/reports/reliability.json.

Inputs: the embedded store (build/store) and recommender artifacts (build/artifacts), made by
`make demo` or on demand here. Outputs: build/reports/reliability.json and a printed table with,
per run, messages_in, emails_out, dead_letters, duplicates, lost, injected_fault_rate,
emails_per_second.

Each run starts a fresh moto server on loopback and the stack's resources, loads the profiles,
enqueues N jobs (distinct campaign and customer pairs among consenting customers), drains the
queue with the real generate handler through the event source mapping, redrives the DLQ once
and drains again. Faults are injected into the function's S3 and DynamoDB clients at the
requested rate (before botocore's retries, so most are absorbed by backoff and the rest fail
their record and are redelivered). Copy comes from the reviewed fallback here: the run measures
the plumbing, not the language model (see make bench for that).

The crash runs (`CrashRun`) drain through several consumer processes instead
(nudge_local.consumers): SIGKILL after a claim and between writing an .eml and completing its
claim, invocations hung past the function timeout and killed, leases and visibility timeouts of
seconds so that redelivery after expiry really happens, and (overlap_cap_sweep) four campaigns
plus the cart sweep for the same customers at once under a 7-day cap. Every run is audited by
reading everything back (nudge_local.consumers.audit): emails_out, duplicates (completions beyond
one per job), lost, cap_violations, record_mismatches (a completed record whose .eml does not
have its SHA-256), dead_letters; the bar is 0 for all but emails_out.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CAMPAIGNS = ("new_arrivals", "clearance", "loyalty", "win_back", "birthday_holiday", "abandoned_cart")


@dataclass
class Run:
    name: str
    jobs: int  # messages in
    fault_rate: float  # share of S3 and DynamoDB calls that fail before retries


@dataclass
class CrashRun:
    """A run through several consumer processes with real SIGKILLs (nudge_local.consumers)."""

    name: str
    customers: int  # distinct customers, each with a job in every campaign of `campaigns`
    campaigns: tuple[str, ...]
    kills: tuple[tuple[str, int], ...] = ()  # (point, SIGKILLs at it): "claimed" or "written"
    stalls: tuple[tuple[str, int], ...] = ()  # (point, invocations hung there until the timeout kills them)
    cap_days: int = 0
    carts: int = 0  # customers whose abandoned carts the sweep turns into reminders mid-run
    workers: int = 3
    # function timeout (watchdog) < lease < visibility timeout, as in template.yaml. Sized for 2 shared,
    # busy cores: at 8/10/12 s with a load average of ~4, cold workers' first batches of 10 ran past 8 s
    # and every invocation was killed (no record finished). 30 s is several times the slowest healthy
    # batch measured (the report's observed.invocation_seconds; watchdog kills of healthy batches are
    # counted apart, timeouts_by_cause.slow); the lease leaves 15 s for the watchdog's loop (which
    # also runs the cart sweep) to deliver the kill; redelivery comes 50 s after a receive.
    timeout_s: float = 30.0
    lease_s: int = 45
    visibility_s: int = 50
    arm_every_s: float = 5.0
    max_seconds: float = 900.0  # give up (reported as gave_up) after this long


@dataclass
class LoadConfig:
    store_dir: Path = ROOT / "build" / "store"
    artifacts_dir: Path = ROOT / "build" / "artifacts"
    report: Path = ROOT / "build" / "reports" / "reliability.json"
    runs: tuple[Run, ...] = (Run("load_10k", 10_000, 0.0), Run("faults_2k_20pct", 2_000, 0.2))
    crash_runs: tuple["CrashRun", ...] = (
        # SIGKILL just after claims and between writing an .eml and completing its claim, plus
        # invocations hung past the function timeout (the watchdog kills them); seconds-long leases
        # and visibility timeouts, so every killed attempt's jobs come back after its lease expired.
        CrashRun("kill_lease_expiry", customers=150, campaigns=("new_arrivals", "loyalty", "win_back", "birthday_holiday"),
                 kills=(("claimed", 4), ("written", 4)), stalls=(("written", 3),), cap_days=0),
        # Four campaigns for the same customers queued at once, and the cart sweep enqueuing
        # reminders for some of them meanwhile: the 7-day cap must hold at claim time; kills too.
        CrashRun("overlap_cap_sweep", customers=150, campaigns=("new_arrivals", "loyalty", "win_back", "clearance"),
                 kills=(("written", 2), ("claimed", 2)), stalls=(("claimed", 1),), cap_days=7, carts=60),
    )
    seed: int = 11
    wave: int = 500  # jobs enqueued at a time (see one_run)
    backoff_scale: float = 0.02  # fault runs: botocore's retry sleeps × this (same retries, less waiting)
    only: tuple[str, ...] = ()  # run names to (re)run; the report keeps the other runs' last results


def _scale_backoff(scale: float) -> None:
    """Shrink botocore's standard-mode retry sleeps for local fault runs: the number and order of
    retries stay botocore's own, only the waiting is compressed (recorded in the report)."""
    from botocore.retries import standard

    if getattr(standard.ExponentialBackoff, "_nudge_scaled", None) == scale:
        return
    original = standard.ExponentialBackoff.delay_amount

    def delay_amount(self, context):  # noqa: ANN001 - botocore's signature
        return original(self, context) * scale

    standard.ExponentialBackoff.delay_amount = delay_amount
    standard.ExponentialBackoff._nudge_scaled = scale


def one_run(run: Run, config: LoadConfig, profiles: dict) -> dict:
    import boto3

    from nudge.jobs import Job
    from nudge.storage import JobQueue, ProfileStore, upload_dir
    from nudge_local.esm import DrainStats, EventSourceMapping, queue_depth
    from nudge_local.faults import FaultInjector
    from nudge_local.redrive import redrive
    from nudge.types import StoreInfo
    from nudge_local.stack import create_stack, function_env, moto_server

    consenting = sorted(cid for cid, p in profiles.items() if p.customer.consent)
    pairs = [(consenting[i % len(consenting)], CAMPAIGNS[i // len(consenting)]) for i in range(run.jobs)]
    if run.jobs > len(consenting) * len(CAMPAIGNS):
        raise ValueError(f"{run.jobs} jobs need more than {len(consenting)} customers × {len(CAMPAIGNS)} campaigns")
    with moto_server():
        stack = create_stack()
        ProfileStore(stack.table).put_profiles(profiles.values())
        upload_dir(config.artifacts_dir, f"s3://{stack.bucket}/artifacts/")
        store = StoreInfo(name="nudge load test", postal_address="1 Example Street, London",
                          base_url="https://shop.example.com", sender="nudge <news@shop.example.com>")
        os.environ.update(function_env(
            stack, store=store, model_dir="",  # reviewed copy: this run measures the plumbing
            pseudonym_key="load-test-pseudonym-key-0123456789", link_key="load-test-link-key-0123456789abc",
            POWERTOOLS_LOG_LEVEL="WARNING", POWERTOOLS_METRICS_DISABLED="true",
            NUDGE_FREQUENCY_CAP_DAYS="0",  # four campaigns per customer here: the plumbing, not the cap (see the overlap run)
        ))
        outcomes = _logged_outcomes()
        app = importlib.import_module("generate.app")
        app._service = None  # a cold start against this run's stack
        service = app.service()
        injectors = []
        if run.fault_rate > 0:
            _scale_backoff(config.backoff_scale)
            injectors = [FaultInjector(rate=run.fault_rate, seed=config.seed), FaultInjector(rate=run.fault_rate, seed=config.seed + 1)]
            injectors[0].attach(service.emails.s3)
            injectors[1].attach(service.profiles.dynamodb)
        sqs = boto3.client("sqs")
        jobs = [Job(campaign_id=f"load-{campaign}", campaign_type=campaign, customer_id=cid, send_date="2026-11-20") for cid, campaign in pairs]
        esm = EventSourceMapping(sqs, stack.queue_url, app.handler)
        started = time.perf_counter()
        # Waves: moto's ReceiveMessage walks the whole queue (2.2 s per call at 5,000 messages
        # deep, 0.03 s at 100), so the producer keeps the queue shallow. Real SQS does not care.
        first = DrainStats()
        for start in range(0, len(jobs), config.wave):
            JobQueue(stack.queue_url, sqs=sqs).send(jobs[start : start + config.wave])
            stats = esm.drain()
            first.succeeded += stats.succeeded
            first.failed_attempts += stats.failed_attempts
            print(f"  {min(start + config.wave, len(jobs))}/{len(jobs)} jobs through, {time.perf_counter() - started:.0f} s", flush=True)
        dead_before_redrive = queue_depth(sqs, stack.dlq_url)
        redriven = redrive(sqs, dlq_url=stack.dlq_url, queue_url=stack.queue_url)
        second = esm.drain()
        seconds = time.perf_counter() - started
        from nudge_local.consumers import audit

        dead = []
        for message in _drain_messages(sqs, stack.dlq_url):
            body = json.loads(message["Body"])
            dead.append((body.get("campaign_id"), body.get("customer_id")))
        result = audit(s3=boto3.client("s3"), bucket=stack.bucket, profiles=ProfileStore(stack.table),
                       jobs=[(j.campaign_id, j.customer_id) for j in jobs], outcomes=outcomes, dead_jobs=dead, cap_days=0)
        emails_out = result["emails_out"]
        calls = sum(i.calls for i in injectors)
        return {
            **result,
            "injected_fault_rate": run.fault_rate,
            "faults_injected": sum(i.injected for i in injectors),
            "measured_fault_rate": round(sum(i.injected for i in injectors) / calls, 4) if calls else 0.0,
            "failed_attempts": first.failed_attempts + second.failed_attempts,
            "dead_letters_before_redrive": dead_before_redrive,
            "redriven": redriven,
            "seconds": round(seconds, 1),
            "emails_per_second": round(emails_out / seconds, 2) if seconds else 0.0,
        }


def _logged_outcomes() -> list[dict]:
    """Record every record outcome of the in-process generate handler (what audit() counts)."""
    from nudge import service as service_module

    outcomes: list[dict] = []
    finish = getattr(service_module.PreparedBatch.finish, "_nudge_original", service_module.PreparedBatch.finish)

    def logged(self, record):  # noqa: ANN001 - PreparedBatch.finish's signature
        body = json.loads(record.body if hasattr(record, "body") else record["body"])
        job = {"campaign_id": body.get("campaign_id"), "customer_id": body.get("customer_id")}
        try:
            outcome = finish(self, record)
        except Exception:
            outcomes.append({**job, "outcome": "failed"})
            raise
        outcomes.append({**job, "outcome": outcome})
        return outcome

    logged._nudge_original = finish
    service_module.PreparedBatch.finish = logged
    return outcomes


def _drain_messages(sqs, queue_url: str) -> list[dict]:
    messages = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=300).get("Messages", [])
        if not batch:
            return messages
        messages += batch


def crash_run(run: "CrashRun", config: LoadConfig, profiles: dict) -> dict:
    """One run through several consumer processes killed for real (nudge_local.consumers)."""
    import random
    import tempfile

    from nudge.types import StoreInfo
    from nudge_local.consumers import ChaosConfig, Scenario, run_scenario

    consenting = sorted(cid for cid, p in profiles.items() if p.customer.consent)
    customers = random.Random(config.seed).sample(consenting, run.customers)
    jobs = [(c, t) for t in run.campaigns for c in customers]  # campaign after campaign, all queued at once
    carts = customers[: run.carts]
    scenario = Scenario(run.name, jobs, ChaosConfig(workers=run.workers, batch_size=10, timeout_s=run.timeout_s, kills=dict(run.kills),
                                                    stalls=dict(run.stalls), arm_every_s=run.arm_every_s, max_seconds=run.max_seconds),
                        lease_s=run.lease_s, visibility_s=run.visibility_s, cap_days=run.cap_days, carts=carts, sweep_after_s=2.0)
    store = StoreInfo(name="nudge load test", postal_address="1 Example Street, London",
                      base_url="https://shop.example.com", sender="nudge <news@shop.example.com>")
    with tempfile.TemporaryDirectory() as run_dir:
        result = run_scenario(scenario, profiles=profiles, artifacts_dir=config.artifacts_dir, run_dir=Path(run_dir), store=store)
    result["emails_per_second"] = round(result["emails_out"] / result["seconds"], 2) if result["seconds"] else 0.0
    result["exact"] = all(result[k] == 0 for k in ("lost", "duplicates", "cap_violations", "record_mismatches", "dead_letters",
                                                   "orphan_objects")) and not result["gave_up"]
    return result


def main(config: LoadConfig) -> dict:
    from nudge.profiles import build_profiles
    from nudge.store import load_store

    from scripts.demo import ensure_inputs

    ensure_inputs(config.store_dir, config.artifacts_dir, log_name="nudge_load")
    store = load_store(config.store_dir)
    profiles = build_profiles(store.customers, store.events, store.products)
    config.report.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(config.report.read_text())["runs"] if config.report.exists() else {}
    results = {name: row for name, row in previous.items() if name in {r.name for r in config.runs}}
    results.update({name: row for name, row in previous.items() if name in {r.name for r in config.crash_runs}})
    for run in config.runs:
        if config.only and run.name not in config.only:
            continue
        print(f"run {run.name}: {run.jobs} jobs, fault rate {run.fault_rate:.0%} ...", flush=True)
        results[run.name] = one_run(run, config, profiles)
        if run.fault_rate > 0:
            results[run.name]["backoff_scale"] = config.backoff_scale
        report = {"runs": results, "config": {"seed": config.seed, "wave": config.wave}}
        config.report.write_text(json.dumps(report, indent=2), encoding="utf-8")  # after each run: nothing lost
    for run in config.crash_runs:
        if config.only and run.name not in config.only:
            continue
        print(f"run {run.name}: {run.customers} customers x {len(run.campaigns)} campaigns, {run.workers} consumer processes, "
              f"kills {run.kills}, stalls {run.stalls} ...", flush=True)
        results[run.name] = crash_run(run, config, profiles)
        report = {"runs": results, "config": {"seed": config.seed, "wave": config.wave}}
        config.report.write_text(json.dumps(report, indent=2), encoding="utf-8")  # after each run: nothing lost
    columns = ["messages_in", "emails_out", "dead_letters", "duplicates", "lost", "cap_violations", "record_mismatches",
               "emails_per_second"]
    print(f"{'run':<20}" + "".join(f"{c:>18}" for c in columns))
    for name, row in results.items():
        print(f"{name:<20}" + "".join(f"{row.get(c, ''):>18}" for c in columns))
    print(f"wrote {config.report}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, help="one load run of this many jobs (and the fault run scaled to 20%% of it)")
    parser.add_argument("--only", default="", help="comma-separated run names to (re)run, e.g. faults_2k_20pct")
    args = parser.parse_args()
    config = LoadConfig(only=tuple(filter(None, args.only.split(","))))
    if args.jobs:
        config = LoadConfig(runs=(Run(f"load_{args.jobs}", args.jobs, 0.0), Run(f"faults_{max(10, args.jobs // 5)}_20pct", max(10, args.jobs // 5), 0.2)))
    results = main(config)
    exact = ("lost", "duplicates", "cap_violations", "record_mismatches")
    raise SystemExit(0 if all(r.get(k, 0) == 0 for r in results.values() for k in exact) else 1)
