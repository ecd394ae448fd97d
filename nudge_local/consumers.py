"""Several consumer processes against the moto server, killed for real: the reliability runs of
`make load` (scripts/load_test.py) and their fast versions in tests/functional/test_crashes.py.

Each worker is a separate process playing one Lambda container behind the SQS event source: it
cold-starts the real generate handler, receives batches, invokes the handler, deletes what
succeeded and leaves the failures to come back when the queue's visibility timeout ends (no
shortcut: redelivery after a crash waits for the timeout, as in SQS). The parent process is the
platform:

- **kills**: an armed kill point (a file `arm-kill-<point>-<n>` in the run's folder) is taken by the
  first worker that reaches that point of the write path (`claimed`: just after a claim is taken,
  before composing; `written`: just after the .eml is written, before the claim is completed). The
  worker writes a handshake file and waits; the parent sends it SIGKILL. Nothing in the worker
  runs after that point: no release, no completion, no exception handler.
- **timeouts**: an armed stall point makes the worker hang there; the parent kills (SIGKILL) any
  invocation that runs past the function timeout, as Lambda does.
- a killed worker is replaced by a fresh process (a cold start).

Leases and visibility timeouts are short (seconds) in these runs, so a killed attempt's messages
really come back after the visibility timeout and find its lease expired.

`audit` then reads everything back: per job, its completed SEND# record and the .eml it names.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

POINTS = ("claimed", "written")  # where a worker can be stopped: after a claim; after the .eml, before completion


@dataclass
class ChaosConfig:
    workers: int = 3
    batch_size: int = 10
    timeout_s: float = 4.0  # the function timeout the watchdog enforces (and the handler's context reports)
    kills: dict[str, int] = field(default_factory=dict)  # point -> SIGKILLs to deliver there (handshake)
    stalls: dict[str, int] = field(default_factory=dict)  # point -> invocations to hang there until the timeout kills them
    arm_every_s: float = 1.0  # spread the faults out: at most one armed per point at a time, re-armed after this
    max_seconds: float = 600.0  # give up (and report) after this long


def _worker(run_dir: str, worker_id: int, batch_size: int, timeout_ms: int, queue_urls: list[str]) -> None:
    """One consumer process (a Lambda container): the real handler, with stop points patched in."""
    import importlib

    import boto3

    from nudge import service as service_module
    from nudge_local.esm import LambdaContext, to_lambda_record

    folder = Path(run_dir)
    scratch = folder / f"tmp-{os.getpid()}"  # this container's own /tmp (artifacts are downloaded there)
    scratch.mkdir(exist_ok=True)
    os.environ["TMPDIR"] = str(scratch)
    log = open(folder / f"outcomes-{os.getpid()}.jsonl", "a", encoding="utf-8", buffering=1)  # line-buffered: survives SIGKILL
    takeovers = open(folder / f"takeovers-{os.getpid()}.jsonl", "a", encoding="utf-8", buffering=1)  # claims taken over after their lease
    invocations = open(folder / f"invocations-{os.getpid()}.jsonl", "a", encoding="utf-8", buffering=1)  # completed invocations
    app = importlib.import_module("generate.app")
    service = app.service()

    import threading

    faulted = threading.Lock()  # one fault per container: a batch's writes run on several threads (nudge.service.IO_THREADS)

    def stop_point(point: str) -> None:
        for kind in ("kill", "stall"):
            for armed in sorted(folder.glob(f"arm-{kind}-{point}-*")):
                if not faulted.acquire(blocking=False):
                    return  # another thread of this container already took a fault; it dies with it
                try:
                    os.remove(armed)  # atomic: exactly one worker takes an armed point
                except FileNotFoundError:
                    faulted.release()
                    continue
                if kind == "kill":
                    (folder / f"stop-{os.getpid()}").write_text(point)
                else:  # the watchdog tells an injected hang from a slow invocation by this file
                    (folder / f"stalled-{os.getpid()}").write_text(point)
                time.sleep(3600)  # killed here (handshake), or by the watchdog at the timeout

    claim_send, put = service.profiles.claim_send, service.emails.put

    def claiming(*args: Any, **kwargs: Any) -> str:
        # What was there before (a diagnostic read, the harness only): an in-progress claim of
        # another attempt whose lease had run out, which this claim then takes over.
        customer_id, campaign_id = args[0], args[1]
        before = service.profiles.dynamodb.get_item(
            TableName=service.profiles.table, ConsistentRead=True,
            Key={"pk": {"S": f"CUST#{customer_id}"}, "sk": {"S": f"SEND#{campaign_id}"}}).get("Item") or {}
        outcome = claim_send(*args, **kwargs)
        if (outcome == "claimed" and before.get("status", {}).get("S") == "in_progress"
                and before.get("token", {}).get("S") != kwargs.get("token")):
            takeovers.write(json.dumps({"campaign_id": campaign_id, "customer_id": customer_id,
                                        "expired_s": round(time.time() - int(before["lease_expires"]["N"]), 1)}) + "\n")
        if outcome == "claimed":
            stop_point("claimed")
        return outcome

    def writing(*args: Any, **kwargs: Any) -> str:
        version = put(*args, **kwargs)
        stop_point("written")
        return version

    service.profiles.claim_send, service.emails.put = claiming, writing
    finish = service_module.PreparedBatch.finish

    def logged_finish(self: Any, record: Any) -> str:
        body = json.loads(record.body if hasattr(record, "body") else record["body"])
        job = {"campaign_id": body.get("campaign_id"), "customer_id": body.get("customer_id")}
        try:
            outcome = finish(self, record)
        except Exception as exc:
            log.write(json.dumps({**job, "outcome": "failed", "error": type(exc).__name__}) + "\n")
            raise
        log.write(json.dumps({**job, "outcome": outcome}) + "\n")
        return outcome

    service_module.PreparedBatch.finish = logged_finish
    sqs = boto3.client("sqs")
    arns = {url: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"] for url in queue_urls}
    busy = folder / f"invocation-{os.getpid()}"
    (folder / f"ready-{os.getpid()}").write_text(str(worker_id))
    while not (folder / "done").exists():
        for queue_url in queue_urls:  # one event source mapping per queue (the jobs and the trigger queue)
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=batch_size, AttributeNames=["All"],
                                           WaitTimeSeconds=0).get("Messages", [])
            if messages:
                break
        if not messages:
            time.sleep(0.05)
            continue
        arn = arns[queue_url]
        began = time.time()
        busy.write_text(str(began))
        try:
            response = app.handler({"Records": [to_lambda_record(m, arn) for m in messages]},
                                   LambdaContext(timeout_ms=timeout_ms))
            failed = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])}
        except Exception:  # noqa: BLE001 - a crashed invocation fails its whole batch, as in Lambda
            failed = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
        busy.unlink(missing_ok=True)
        invocations.write(json.dumps({"seconds": round(time.time() - began, 3), "records": len(messages), "failed": len(failed),
                                      "redelivered": sum(1 for m in messages if int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1")) > 1)}) + "\n")


@dataclass
class ChaosStats:
    kills: Counter = field(default_factory=Counter)  # point -> SIGKILLs delivered at a handshake
    timeouts: int = 0  # invocations killed by the watchdog
    stall_timeouts: int = 0  # ... of them, hung at an armed stall point (injected)
    slow_timeouts: int = 0  # ... of them, still working when the timeout came (a slow, healthy batch)
    workers_started: int = 0
    seconds: float = 0.0
    gave_up: bool = False


def drain_with_workers(
    queue_urls: list[str], run_dir: Path, config: ChaosConfig, *, depth: Callable[[], int],
    on_tick: Callable[[float], None] | None = None,
) -> ChaosStats:
    """Run `config.workers` consumer processes until the queue is empty and every worker idle,
    delivering the configured kills and timeouts. The environment (AWS_ENDPOINT_URL, the
    function's variables) is inherited by the workers. `on_tick(elapsed)` runs every loop (the
    caller may enqueue more work meanwhile, e.g. a cart sweep)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    context = multiprocessing.get_context("spawn")
    stats, started = ChaosStats(), time.monotonic()
    workers: dict[int, Any] = {}
    remaining = {("kill", p): n for p, n in config.kills.items()} | {("stall", p): n for p, n in config.stalls.items()}
    armed_at: dict[tuple[str, str], float] = {}
    serial = 0

    def spawn() -> None:
        nonlocal serial
        serial += 1
        process = context.Process(target=_worker, args=(str(run_dir), serial, config.batch_size, int(config.timeout_s * 1000), list(queue_urls)),
                                  daemon=True)
        process.start()
        workers[process.pid] = process
        stats.workers_started += 1

    def kill(pid: int) -> None:
        os.kill(pid, signal.SIGKILL)
        workers.pop(pid).join(timeout=10)
        (run_dir / f"invocation-{pid}").unlink(missing_ok=True)

    for _ in range(config.workers):
        spawn()
    idle_checks = 0
    while True:
        elapsed = time.monotonic() - started
        if on_tick:
            on_tick(elapsed)
        for (kind, point), left in remaining.items():  # arm the next fault of each kind once the last was taken
            if left > 0 and not list(run_dir.glob(f"arm-{kind}-{point}-*")) and elapsed - armed_at.get((kind, point), -1e9) >= config.arm_every_s:
                (run_dir / f"arm-{kind}-{point}-{left}").write_text("")
                remaining[(kind, point)] = left - 1
                armed_at[(kind, point)] = elapsed
        for handshake in run_dir.glob("stop-*"):
            pid = int(handshake.name.split("-")[1])
            point = handshake.read_text() or "?"
            handshake.unlink()
            if pid in workers:
                kill(pid)
                stats.kills[point] += 1
                spawn()
        now = time.time()
        for pid in list(workers):
            marker = run_dir / f"invocation-{pid}"
            try:
                began = float(marker.read_text() or now)
            except (FileNotFoundError, ValueError):
                continue
            if now - began > config.timeout_s:  # Lambda kills an invocation at its timeout
                stalled = (run_dir / f"stalled-{pid}").exists()
                kill(pid)
                stats.timeouts += 1
                stats.stall_timeouts += stalled
                stats.slow_timeouts += not stalled
                spawn()
        for pid, process in list(workers.items()):  # a worker that died on its own is replaced too
            if not process.is_alive():
                workers.pop(pid)
                spawn()
        busy = any((run_dir / f"invocation-{pid}").exists() for pid in workers)
        pending = any(n > 0 for n in remaining.values()) or any(run_dir.glob("arm-*"))
        if not busy and depth() == 0:
            idle_checks += 1
            if idle_checks >= 3 and not (pending and elapsed < config.max_seconds / 2):
                break
        else:
            idle_checks = 0
        if elapsed > config.max_seconds:
            stats.gave_up = True
            break
        time.sleep(0.1)
    (run_dir / "done").write_text("")
    for pid, process in list(workers.items()):
        process.join(timeout=5)
        if process.is_alive():
            os.kill(pid, signal.SIGKILL)
            process.join(timeout=5)
    for armed in run_dir.glob("arm-*"):
        armed.unlink()
    stats.seconds = time.monotonic() - started
    return stats


def read_outcomes(run_dir: Path, kind: str = "outcomes") -> list[dict[str, Any]]:
    """Every record outcome the workers logged (a killed worker's last, unfinished one is absent);
    with `kind` "invocations" or "takeovers", the workers' other logs (see _worker)."""
    rows = []
    for path in sorted(run_dir.glob(f"{kind}-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    pass  # a line cut by SIGKILL
    return rows


def audit(
    *, s3: Any, bucket: str, profiles: Any, jobs: list[tuple[str, str]], outcomes: list[dict[str, Any]],
    dead_jobs: list[tuple[str, str]], cap_days: int,
) -> dict[str, Any]:
    """Read everything back and count what exactly-once means, per (campaign, customer) job:

    - emails_out: jobs with a completed SEND# record;
    - duplicates: completions beyond one per job (outcomes "written" logged more than once);
    - lost: jobs with no completed record, no counted skip and no dead letter;
    - cap_violations: customers with two completed emails less than `cap_days` apart;
    - record_mismatches: completed records whose .eml (the recorded S3 version, and the key's
      latest version) does not have the recorded SHA-256;
    - orphan_objects: .eml objects no completed record names (never sent: the sender needs one);
    - eml_rewrites: extra versions of an .eml (a retry after a crash between write and completion).
    """
    from datetime import datetime

    written = Counter((o["campaign_id"], o["customer_id"]) for o in outcomes if o["outcome"] == "written")
    skipped: dict[tuple[str, str], str] = {}
    for o in outcomes:
        if o["outcome"] not in ("written", "failed", "stale"):
            skipped.setdefault((o["campaign_id"], o["customer_id"]), o["outcome"])
    completed: dict[tuple[str, str], dict[str, Any]] = {}
    for item in profiles.completed_sends():
        completed[(str(item["sk"])[len("SEND#"):], str(item["pk"])[len("CUST#"):])] = item
    mismatches, keys = 0, set()
    for item in completed.values():
        key = item["record"]["objects"]["eml"]
        keys.add(key)
        recorded = s3.get_object(Bucket=bucket, Key=key, VersionId=item["eml_version"])["Body"].read()
        latest = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        if not hashlib.sha256(recorded).hexdigest() == hashlib.sha256(latest).hexdigest() == item.get("eml_sha256"):
            mismatches += 1
    versions: Counter[str] = Counter()
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix="emails/"):
        for version in page.get("Versions", []):
            versions[version["Key"]] += 1
    by_customer: dict[str, list[datetime]] = {}
    for (_, customer), item in completed.items():
        by_customer.setdefault(customer, []).append(datetime.fromisoformat(str(item["at"])))
    violations = 0
    for times in by_customer.values():
        times.sort()
        violations += sum(1 for a, b in zip(times, times[1:]) if cap_days > 0 and (b - a).total_seconds() < cap_days * 86_400)
    job_set = set(jobs)
    dead = set(dead_jobs)
    lost = [j for j in job_set if j not in completed and j not in skipped and j not in dead]
    reasons = Counter(skipped[j] for j in job_set if j in skipped and j not in completed)
    return {
        "messages_in": len(jobs),
        "emails_out": sum(1 for j in job_set if j in completed),
        "skipped": dict(sorted(reasons.items())),
        "dead_letters": len(dead & job_set),
        "duplicates": sum(n - 1 for n in written.values() if n > 1),
        "lost": len(lost),
        "cap_violations": violations,
        "record_mismatches": mismatches,
        "orphan_objects": len(set(versions) - keys),
        "eml_rewrites": sum(n - 1 for n in versions.values()),
    }


@dataclass
class Scenario:
    """One reliability run through several killed consumers (see the module docstring)."""

    name: str
    jobs: list[tuple[str, str]]  # (customer_id, campaign_type), all enqueued at the start
    chaos: ChaosConfig
    lease_s: int = 5  # NUDGE_CLAIM_LEASE_SECONDS: more than the timeout, at most the visibility timeout
    visibility_s: int = 6  # the jobs queue's visibility timeout
    cap_days: int = 0  # NUDGE_FREQUENCY_CAP_DAYS
    carts: list[str] = field(default_factory=list)  # customers whose abandoned carts the sweep turns into jobs mid-run
    sweep_after_s: float = 1.0  # when the cart sweep runs (the batch campaigns are draining by then)
    send_date: str = "2026-11-20"


def run_scenario(scenario: Scenario, *, profiles: dict, artifacts_dir: Path, run_dir: Path, store: Any,
                 model_dir: str = "", keys: tuple[str, str] = ("chaos-pseudonym-key-0123456789abcd", "chaos-link-key-0123456789abcdef")) -> dict[str, Any]:
    """Start a moto server and the stack, load `profiles`, enqueue the jobs, drain them with killed
    consumers (and, with `carts`, record abandoned carts and run the cart sweep while they drain),
    then audit. Returns the audit plus what was done to the consumers."""
    import importlib
    from datetime import datetime, timedelta, timezone

    import boto3

    from nudge.jobs import Job
    from nudge.storage import JobQueue, ProfileStore, upload_dir
    from nudge_local.esm import queue_depth
    from nudge_local.redrive import redrive
    from nudge_local.stack import create_stack, function_env, moto_server

    saved = dict(os.environ)
    try:
        with moto_server():
            stack = create_stack(visibility_timeout=scenario.visibility_s)
            table = ProfileStore(stack.table)
            table.put_profiles(profiles.values())
            upload_dir(artifacts_dir, f"s3://{stack.bucket}/artifacts/")
            os.environ.update(function_env(
                stack, store=store, model_dir=model_dir, pseudonym_key=keys[0], link_key=keys[1],
                NUDGE_CLAIM_LEASE_SECONDS=str(scenario.lease_s), NUDGE_FREQUENCY_CAP_DAYS=str(scenario.cap_days),
                NUDGE_HOLDOUT_SHARE="0", POWERTOOLS_LOG_LEVEL="ERROR", POWERTOOLS_METRICS_DISABLED="true",
            ))
            sqs = boto3.client("sqs")
            jobs = [Job(campaign_id=f"{t.replace('_', '-')}-{scenario.send_date}", campaign_type=t, customer_id=c,
                        send_date=scenario.send_date) for c, t in scenario.jobs]
            JobQueue(stack.queue_url, sqs=sqs).send(jobs)
            swept: dict[str, Any] = {}
            cart_jobs: list[tuple[str, str]] = []
            now = datetime.now(timezone.utc).replace(microsecond=0)

            def sweep_carts(elapsed: float) -> None:
                if not scenario.carts or swept or elapsed < scenario.sweep_after_s:
                    return
                cart_app, sweep_app = importlib.import_module("cart.app"), importlib.import_module("sweep.app")
                cart_app._service = sweep_app._service = None
                for customer in scenario.carts:
                    items = profiles[customer].viewed[:2] or profiles[customer].purchased[:1]
                    event = {"detail-type": "CartUpdated", "source": "store", "detail": {
                        "customer_id": customer, "items": items, "at": (now - timedelta(hours=3)).isoformat()}}
                    cart_app.service().apply(event, now=now - timedelta(hours=3))
                sweeper = sweep_app.service()
                send = sweeper.queue.send

                def sending(batch: list) -> int:  # the reminders the sweep enqueued become jobs of this run
                    cart_jobs.extend((job.campaign_id, job.customer_id) for job in batch)
                    return send(batch)

                sweeper.queue.send = sending
                swept.update(sweeper.sweep(now=now))

            queues = [u for u in (stack.queue_url, getattr(stack, "triggers_queue_url", "")) if u]
            depth = lambda: sum(queue_depth(sqs, u) for u in queues)  # noqa: E731
            stats = drain_with_workers(queues, run_dir, scenario.chaos, on_tick=sweep_carts, depth=depth)
            # Dead letters (a message in three killed batches) are moved back once and drained again, as an
            # operator would after an incident; the run reports how many there were.
            dead_before = queue_depth(sqs, stack.dlq_url)
            redriven = redrive(sqs, dlq_url=stack.dlq_url, queue_url=stack.queue_url) if dead_before else 0
            if redriven:
                calm = ChaosConfig(workers=scenario.chaos.workers, batch_size=scenario.chaos.batch_size,
                                   timeout_s=scenario.chaos.timeout_s, max_seconds=scenario.chaos.max_seconds)
                (run_dir / "done").unlink(missing_ok=True)
                after = drain_with_workers(queues, run_dir, calm, depth=depth)
                stats.gave_up |= after.gave_up
                stats.workers_started += after.workers_started
                stats.timeouts += after.timeouts
                stats.slow_timeouts += after.slow_timeouts
                stats.seconds += after.seconds
            dead = []
            while True:
                batch = sqs.receive_message(QueueUrl=stack.dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
                if not batch:
                    break
                dead += [(json.loads(m["Body"]).get("campaign_id"), json.loads(m["Body"]).get("customer_id")) for m in batch]
            result = audit(s3=boto3.client("s3"), bucket=stack.bucket, profiles=table,
                           jobs=[(j.campaign_id, j.customer_id) for j in jobs] + cart_jobs, outcomes=read_outcomes(run_dir),
                           dead_jobs=dead, cap_days=scenario.cap_days)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    invocations = read_outcomes(run_dir, "invocations")
    seconds = sorted(i["seconds"] for i in invocations)
    attempts = Counter(o["outcome"] if o["outcome"] != "failed" else f"failed_{o.get('error', '')}" for o in read_outcomes(run_dir))
    result["observed"] = {
        "invocations_completed": len(invocations),  # killed ones (SIGKILL, watchdog) never log
        "invocation_seconds": {"p50": seconds[len(seconds) // 2], "p95": seconds[int(len(seconds) * 0.95)], "max": seconds[-1]} if seconds else {},
        "redelivered_records": sum(i["redelivered"] for i in invocations),  # records received again (ApproximateReceiveCount > 1)
        "lease_takeovers": len(read_outcomes(run_dir, "takeovers")),  # claims taken over from an attempt whose lease had expired
        "record_outcomes": dict(sorted(attempts.items())),  # every logged record outcome, failures by error
    }
    return {**result, "kills": dict(stats.kills), "timeouts": stats.timeouts,
            "timeouts_by_cause": {"stalled": stats.stall_timeouts, "slow": stats.slow_timeouts}, "workers": scenario.chaos.workers,
            "workers_started": stats.workers_started, "lease_s": scenario.lease_s, "visibility_timeout_s": scenario.visibility_s,
            "function_timeout_s": scenario.chaos.timeout_s, "frequency_cap_days": scenario.cap_days,
            "cart_sweep": dict(swept), "dead_letters_before_redrive": dead_before, "redriven": redriven,
            "gave_up": stats.gave_up, "seconds": round(stats.seconds, 1)}
