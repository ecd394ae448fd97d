"""Cost per million emails, from a real run through the local runner → build/reports/cost.json.

Inputs: the embedded store (build/store) and recommender artifacts (build/artifacts), made on
demand as `make load` does; the shipped copywriter (layers/model/copywriter); template.yaml (each
function's MemorySize and Architectures); data/prices/aws_us_east_1.json (public on-demand prices,
with their date and source). Outputs: build/reports/cost.json and a printed table.

The run: a moto server on loopback with the stack's resources; the plan function for each of the
six campaigns (at most `jobs / 6` jobs each), the jobs queue drained into the real generate handler
(real copy model) through the local event source mapping; then the sending path, as with
EnableSending=true: every completed SEND# item as a keys-only stream record into the send function
(SES in moto), SES's "send" and "delivery" events for each email into the events queue (what the
EventBridge rule's SQS target sends) and drained into the events function.

Every AWS request is counted from outside, through botocore's event hooks on the clients
(nudge_local/metering.py): by function, service and operation, S3 request classes, SQS 64 KB
chunks, and DynamoDB read and write units computed from item sizes. Lambda GB-seconds come from
each handler's measured wall time per invocation times the template's memory. Prices × counts give
dollars per million emails per service; SES's own price is shown apart; the bar (requests and
compute, SES excluded) is $10 per million.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import logging
import math
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
CAMPAIGNS = ("abandoned_cart", "birthday_holiday", "win_back", "loyalty", "clearance", "new_arrivals")


@dataclass
class CostConfig:
    jobs: int = 600  # jobs planned over the six campaigns (each plan capped at jobs / 6); `make cost` passes COST_JOBS
    store_dir: Path = ROOT / "build" / "store"
    artifacts_dir: Path = ROOT / "build" / "artifacts"
    model_dir: Path = ROOT / "layers" / "model" / "copywriter"  # the real copywriter: its time is billed
    prices: Path = ROOT / "data" / "prices" / "aws_us_east_1.json"
    template: Path = ROOT / "template.yaml"
    report: Path = ROOT / "build" / "reports" / "cost.json"
    bar_per_million: float = 10.0  # requests + compute, SES excluded (issue 13)
    sending: bool = True  # also run the send function and the SES events loop (EnableSending=true)
    cold_starts_per_million: int = 100  # containers started per million emails and function (10 concurrent × 10 recycles)
    send_date: str = "2026-11-20"
    reprice: bool = False  # price the last report's raw counts again (no run): after a price or attribution change


# Which function each metered scope is, and which emails it is paid for ("core": every email
# written; "sending": only with EnableSending=true).
SCOPES = {
    "plan": ("PlanFunction", "core"),
    "jobs_poller": (None, "core"),  # Lambda's SQS pollers: ReceiveMessage and DeleteMessageBatch on the jobs queue
    "generate": ("GenerateFunction", "core"),
    "send": ("SendFunction", "sending"),
    "ses_events_target": (None, "sending"),  # the EventBridge rule's SQS target: one SendMessage per SES event
    "events_poller": (None, "sending"),
    "events": ("EventsFunction", "sending"),
}
# Paid per Scan page, for the whole audience a plan reads, not per job enqueued: the Scan, the
# holdouts' BatchWriteItem (the holdout is a share of the audience; a plan's `limit` caps only the
# jobs) and the "assigned" events' S3 objects (one per type and page).
# The same goes for each page's checkpoint (PutItem) and reads (GetItem: the checkpoint, a resumed
# page's CAP item).
PER_AUDIENCE = {("plan", "dynamodb.Scan"), ("plan", "dynamodb.BatchWriteItem"), ("plan", "s3.PutObject"),
                ("plan", "dynamodb.PutItem"), ("plan", "dynamodb.GetItem")}


# --------------------------------------------------------------------------------------------
# Template: memory and architecture of each function
# --------------------------------------------------------------------------------------------

def function_settings(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{logical id: {"memory_mb", "architecture"}} of every AWS::Serverless::Function, with Globals and
    parameter defaults resolved (a `!Ref Param` memory takes the parameter's default)."""
    globals_ = (template.get("Globals") or {}).get("Function") or {}
    parameters = template.get("Parameters") or {}

    def resolve(value: Any) -> Any:
        if isinstance(value, dict) and "Ref" in value:
            return parameters.get(value["Ref"], {}).get("Default")
        return value

    settings = {}
    for name, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties") or {}
        memory = resolve(props.get("MemorySize", globals_.get("MemorySize", 128)))
        architectures = resolve(props.get("Architectures", globals_.get("Architectures", ["x86_64"])))
        settings[name] = {"memory_mb": int(memory), "architecture": (architectures or ["x86_64"])[0]}
    return settings


# --------------------------------------------------------------------------------------------
# Prices × counts (plain arithmetic, tested on tiny known answers)
# --------------------------------------------------------------------------------------------

def request_dollars(key: str, counts: dict[str, float], prices: dict[str, Any]) -> tuple[str, float]:
    """(price line, dollars) of one "service.Operation" entry's counts (calls, billable, read_units,
    write_units). Unknown services come back as ("unpriced", 0.0) so the report can list them.

    >>> request_dollars("s3.PutObject", {"calls": 3, "billable": 3}, {"s3": {"tier1_per_1000": 0.005}})
    ('s3', 1.5e-05)
    """
    from nudge_local.metering import S3_FREE, S3_TIER1

    service, operation = key.split(".")[:2]
    if service == "s3":
        if operation in S3_FREE:
            return "s3", 0.0
        per_1000 = prices["s3"]["tier1_per_1000" if operation in S3_TIER1 else "tier2_per_1000"]
        return "s3", counts["billable"] * per_1000 / 1000
    if service == "dynamodb":
        ddb = prices["dynamodb"]
        return "dynamodb", (counts.get("read_units", 0) * ddb["read_request_units_per_million"]
                            + counts.get("write_units", 0) * ddb["write_request_units_per_million"]) / 1e6
    if service == "sqs":
        return "sqs", counts["billable"] * prices["sqs"]["standard_requests_per_million"] / 1e6
    if service in ("ses", "sesv2"):
        if operation.startswith("Send"):
            return "ses", counts["calls"] * prices["ses"]["outbound_emails_per_1000"] / 1000
        return "ses", 0.0
    if service == "secretsmanager":
        return "secrets_manager", counts["calls"] * prices["secrets_manager"]["api_calls_per_10000"] / 10_000
    if service == "kms":
        return "kms", counts["calls"] * prices["kms"]["requests_per_10000"] / 10_000
    if service == "events":
        return "eventbridge", counts["calls"] * prices["eventbridge"]["custom_events_per_million"] / 1e6
    if service == "stepfunctions" and operation in ("StartExecution", "StartSyncExecution"):
        return "step_functions", counts["calls"] * prices["step_functions"]["express_requests_per_million"] / 1e6
    return "unpriced", 0.0


def lambda_dollars(use: dict[str, float], function: dict[str, Any], prices: dict[str, Any]) -> dict[str, float]:
    """Dollars of `use` (invocations, seconds of billed duration, log_bytes) of one function:
    requests, GB-seconds at its memory and architecture, log ingestion (the function's own lines
    plus Lambda's START/END/REPORT lines per invocation) and X-Ray traces (sampled share).

    >>> lambda_dollars({"invocations": 1, "seconds": 1.0, "log_bytes": 0}, {"memory_mb": 1024, "architecture": "arm64"},
    ...                {"lambda": {"requests_per_million": 0.2, "gb_second": {"arm64": 0.0000133334}},
    ...                 "cloudwatch_logs": {"ingestion_per_gb": 0.5, "lambda_platform_bytes_per_invocation": 0},
    ...                 "xray": {"traces_recorded_per_million": 5.0, "sampled_share": 0.0}})["lambda_compute"]
    1.33334e-05
    """
    lam, logs, xray = prices["lambda"], prices["cloudwatch_logs"], prices["xray"]
    gb_seconds = use["seconds"] * function["memory_mb"] / 1024
    log_bytes = use.get("log_bytes", 0) + use["invocations"] * logs["lambda_platform_bytes_per_invocation"]
    return {
        "lambda_requests": use["invocations"] * lam["requests_per_million"] / 1e6,
        "lambda_compute": gb_seconds * lam["gb_second"][function["architecture"]],
        "cloudwatch_logs": log_bytes / 1024**3 * logs["ingestion_per_gb"],
        "xray": use["invocations"] * xray["sampled_share"] * xray["traces_recorded_per_million"] / 1e6,
    }


def per_million(measured: dict[str, Any], prices: dict[str, Any], functions: dict[str, dict[str, Any]],
                *, bar: float = 10.0) -> dict[str, Any]:
    """Dollars per million emails by path ("core", "sending") and by price line, from `measured`:

    - "scopes": {scope: {"service.Operation": counts}} (nudge_local.metering snapshot);
    - "lambda": {scope: {"invocations", "seconds", "log_bytes"}};
    - "emails": emails written; "sent": emails sent; "enqueued" and "audience": jobs the plans
      enqueued and the audience their Scans served (enqueued + over their limit).

    A scope's costs are divided by the emails it served (written for core, sent for sending);
    a plan's Scan by the audience it read for. SES's own price is kept out of the totals.
    """
    lines: dict[str, dict[str, float]] = {"core": {}, "sending": {}}
    ses = 0.0
    unpriced: list[str] = []

    def add(path: str, line: str, dollars: float) -> None:
        lines[path][line] = lines[path].get(line, 0.0) + dollars * 1e6

    for scope, operations in measured["scopes"].items():
        if scope not in SCOPES:
            continue  # setup and harness checks ("unmetered")
        _, path = SCOPES[scope]
        per = measured["emails"] if path == "core" else measured["sent"]
        for key, counts in operations.items():
            if key.endswith(".empty"):
                continue  # empty polls: the poller's idle cost, not per email
            line, dollars = request_dollars(key, counts, prices)
            if line == "unpriced":
                unpriced.append(f"{scope}:{key}")
                continue
            denominator = measured["audience"] if (scope, key) in PER_AUDIENCE else (
                measured["enqueued"] if scope == "plan" else per)
            if line == "ses":
                ses += dollars / max(1, denominator) * 1e6
                continue
            add(path, line, dollars / max(1, denominator))
    for scope, use in measured["lambda"].items():
        function, path = SCOPES[scope]
        # a plan's time is its Scan's: shared by the audience it read for, as the Scan's units are
        per = measured["audience"] if scope == "plan" else measured["emails"] if path == "core" else measured["sent"]
        for line, dollars in lambda_dollars(use, functions[function], prices).items():
            add(path, line, dollars / max(1, per))
    core = round(sum(lines["core"].values()), 4)
    sending = round(sum(lines["sending"].values()), 4)
    return {
        "core": {k: round(v, 4) for k, v in sorted(lines["core"].items(), key=lambda kv: -kv[1])},
        "sending": {k: round(v, 4) for k, v in sorted(lines["sending"].items(), key=lambda kv: -kv[1])},
        "total_core": core,
        "total_with_sending": round(core + sending, 4),
        "ses": round(ses, 2),
        "bar": bar,
        "pass_core": core <= bar,
        "pass_with_sending": core + sending <= bar,
        "unpriced": sorted(set(unpriced)),
    }


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------

class _CountingStream(io.TextIOBase):
    """Where the functions' log lines and EMF metric lines go during a run: counted (bytes that
    CloudWatch Logs would ingest, per function scope), then dropped."""

    def __init__(self) -> None:
        self.bytes: dict[str, int] = {}
        self.scope: str | None = None
        self.failures: list[str] = []

    def write(self, text: str) -> int:
        if self.scope:
            self.bytes[self.scope] = self.bytes.get(self.scope, 0) + len(text.encode("utf-8"))
        if ("record failed" in text or '"level":"ERROR"' in text or "Traceback" in text) and len(self.failures) < 5:
            # shown on the console: a run that fails records (or invocations) says why
            try:
                entry = json.loads(text)
                self.failures.append(f"{entry.get('error') or entry.get('message')}: {entry.get('detail') or entry.get('exception', '')[-600:]}")
            except ValueError:
                self.failures.append(text.strip()[-400:])
        return len(text)


@dataclass
class _Functions:
    meter: Any
    logs: _CountingStream
    use: dict[str, dict[str, float]] = field(default_factory=dict)

    def invoke(self, scope: str, handler: Callable, event: Any, context: Any) -> Any:
        """Call a handler as Lambda would, billing its requests, time and log bytes to `scope`.

        The billed time is the handler's own CPU (this process's, all threads: the moto server runs
        in another process, and the meter's own work is subtracted) plus the AWS round trips it
        waited for, at the assumed latencies of the price file (`latency_ms`): calls on the
        handler's thread one after another, calls on its I/O pool's threads overlapping (their sum
        divided by the pool threads used). The wall time is recorded too (this machine, loaded)."""
        use = self.use.setdefault(scope, {"invocations": 0, "seconds": 0.0, "first_seconds": 0.0, "log_bytes": 0,
                                          "wall_seconds": 0.0, "cpu_seconds": 0.0, "wait_seconds": 0.0})
        self.logs.scope = scope
        meter = self.meter
        meter.pool_threads = set()
        started, overhead = time.perf_counter(), meter.overhead_seconds
        cpu, overhead_cpu = time.process_time(), meter.overhead_cpu_seconds
        serial, pooled = meter.wait_serial_seconds, meter.wait_pooled_seconds
        try:
            with meter.scope(scope), contextlib.redirect_stdout(self.logs):
                return handler(event, context)
        finally:
            # the meter's own item-size reads are not the function's time
            wall = time.perf_counter() - started  # informational; includes the meter's own reads
            own_cpu = max(0.0, time.process_time() - cpu - (meter.overhead_cpu_seconds - overhead_cpu))
            wait = (meter.wait_serial_seconds - serial) + (meter.wait_pooled_seconds - pooled) / max(1, len(meter.pool_threads))
            elapsed = own_cpu + wait
            self.logs.scope = None
            if use["invocations"] == 0:
                use["first_seconds"] = elapsed  # the cold start (services are built on the first call)
            use["invocations"] += 1
            use["seconds"] += elapsed
            use["wall_seconds"] += wall
            use["cpu_seconds"] += own_cpu
            use["wait_seconds"] += wait

    def handler(self, scope: str, handler: Callable) -> Callable:
        return lambda event, context: self.invoke(scope, handler, event, context)


class _Enough(Exception):
    """Stops a drain once the wanted number of messages is through (raised from on_batch)."""


def measure(config: CostConfig) -> dict[str, Any]:
    """Run the stack locally with every request metered; returns the `measured` dict of per_million."""
    import importlib

    from nudge.profiles import build_profiles
    from nudge.storage import ProfileStore, client, upload_dir
    from nudge.store import load_store
    from nudge_local.esm import EventSourceMapping, LambdaContext
    from nudge_local.metering import RequestMeter, metered_clients
    from nudge_local.stack import create_stack, function_env, moto_server

    _ensure_inputs(config)
    store = load_store(config.store_dir)
    profiles = build_profiles(store.customers, store.events, store.products)
    prices = json.loads(config.prices.read_text(encoding="utf-8"))
    meter, logs = RequestMeter(latency_ms={k: v for k, v in prices["latency_ms"].items() if not k.startswith("_")}), _CountingStream()
    functions = _Functions(meter, logs)
    started = time.perf_counter()
    with moto_server(separate_process=True):  # its CPU is not the functions' (see _Functions.invoke)
        stack = create_stack()
        pseudonym_key = "cost-run-pseudonym-key-0123456789"
        # published as scripts/publish.py does with the stack's key: each customer's PSEUDO# mapping once, here
        ProfileStore(stack.table).put_profiles(profiles.values(), pseudonym_key=pseudonym_key.encode())
        upload_dir(config.artifacts_dir, f"s3://{stack.bucket}/artifacts/")
        sender_domain = store.info.sender.rsplit("@", 1)[-1].strip(">").strip()
        client("ses").verify_domain_identity(Domain=sender_domain)  # moto refuses an unverified From
        events_queue = client("sqs").create_queue(QueueName="nudge-local-email-events")["QueueUrl"]
        os.environ.update(function_env(
            stack, store=store.info, model_dir=str(config.model_dir),
            pseudonym_key=pseudonym_key, link_key="cost-run-link-key-0123456789abcdef",
            POWERTOOLS_LOG_LEVEL="INFO",  # the template's LogLevel default: these lines are what CloudWatch ingests
            POWERTOOLS_METRICS_FUNCTION_NAME="nudge-local",
        ))
        with metered_clients(meter):
            apps = {name: importlib.import_module(f"{name}.app") for name in ("plan", "generate", "send", "events")}
            for app in apps.values():
                app._service = None  # a cold start: clients built now carry the meter
            _route_logs(logs)
            sqs = client("sqs")
            jobs = EventSourceMapping(sqs, stack.queue_url, functions.handler("generate", apps["generate"].handler))
            limit = math.ceil(config.jobs / len(CAMPAIGNS))
            plans = []
            for campaign_type in CAMPAIGNS:
                request = {"campaign_type": campaign_type, "send_date": config.send_date, "limit": limit}
                plan = functions.invoke("plan", apps["plan"].handler, request, LambdaContext(function_name="nudge-local-plan"))
                plans.append(plan)
                with meter.scope("jobs_poller"):
                    stats = jobs.drain()
                print(f"  {campaign_type:<17} planned {plan['enqueued']:>5} (audience {plan['enqueued'] + plan['excluded'].get('over_limit', 0):>5}),"
                      f" generated {stats.succeeded:>5}, {time.perf_counter() - started:.0f} s", flush=True)
                for line in logs.failures:
                    print(f"    failed record: {line}", flush=True)
                for line in stats.crash_errors:
                    print(f"    crashed invocation: {line}", flush=True)
                logs.failures.clear()
            emails = _count_emails(stack.bucket)
            sent = ses_events = 0
            if config.sending:
                sent = _send_all(stack, functions, apps["send"].handler)
                ses_events = _ses_events(events_queue, sent, meter, functions, apps["events"].handler, sqs)
                print(f"  sending: {sent} sent, {ses_events} SES events logged, {time.perf_counter() - started:.0f} s", flush=True)
    for scope, use in functions.use.items():
        use["log_bytes"] = logs.bytes.get(scope, 0)
    return {
        "emails": emails,
        "enqueued": sum(p["enqueued"] for p in plans),
        "audience": sum(p["enqueued"] + p["excluded"].get("over_limit", 0) for p in plans),
        "considered": sum(p["considered"] for p in plans),
        "sent": sent,
        "ses_events": ses_events,
        "plans": plans,
        "scopes": {k: v for k, v in meter.snapshot().items()},
        "lambda": functions.use,
        "seconds": round(time.perf_counter() - started, 1),
        "customers": len(profiles),
    }


def _ensure_inputs(config: CostConfig) -> None:
    from scripts.demo import ensure_inputs

    ensure_inputs(config.store_dir, config.artifacts_dir, log_name="nudge_cost")


def _route_logs(stream: _CountingStream) -> None:
    """Point the functions' Powertools loggers (logger "nudge", a stdout handler made at import) at the counter."""
    for handler in logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "nudge")).handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            handler.setStream(stream)


def _count_emails(bucket: str) -> int:
    import boto3

    s3, count = boto3.client("s3"), 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="emails/"):
        count += sum(1 for item in page.get("Contents", []) if item["Key"].endswith(".eml"))
    return count


def _send_keys(table: str) -> list[tuple[str, str]]:
    """(pk, sk) of every SEND# item: what the keys-only stream hands the send function (read unmetered)."""
    import boto3

    keys = []
    for page in boto3.client("dynamodb").get_paginator("scan").paginate(
            TableName=table, FilterExpression="begins_with(sk, :s)", ExpressionAttributeValues={":s": {"S": "SEND#"}},
            ProjectionExpression="pk, sk"):
        keys += [(item["pk"]["S"], item["sk"]["S"]) for item in page.get("Items", [])]
    return sorted(keys)


def _send_all(stack: Any, functions: _Functions, handler: Callable) -> int:
    """Every completed send, ten stream records a batch (the template's BatchSize), through the send function."""
    from nudge_local.esm import LambdaContext

    keys, sent = _send_keys(stack.table), 0
    arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/{stack.table}/stream/2026-11-20T00:00:00.000"
    for start in range(0, len(keys), 10):
        chunk = keys[start : start + 10]
        event = {"Records": [
            {"eventID": f"{start + n}", "eventName": "MODIFY", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
             "eventSourceARN": arn,
             "dynamodb": {"Keys": {"pk": {"S": pk}, "sk": {"S": sk}}, "SequenceNumber": f"{1000 + start + n}",
                          "SizeBytes": 60, "StreamViewType": "KEYS_ONLY"}}
            for n, (pk, sk) in enumerate(chunk)]}
        response = functions.invoke("send", handler, event, LambdaContext(function_name="nudge-local-send"))
        sent += len(chunk) - len(response.get("batchItemFailures", []))
    import boto3

    return int(boto3.client("ses").get_send_quota()["SentLast24Hours"]) or sent


def _ses_events(queue_url: str, sent: int, meter: Any, functions: _Functions, handler: Callable, sqs: Any) -> int:
    """SES's send and delivery events for each sent email, as the EventBridge rule's SQS target
    delivers them, drained into the events function. Opens and clicks are left out (they depend on
    the customers)."""
    from nudge_local.esm import EventSourceMapping

    templates = [json.loads((ROOT / "tests" / "events" / f"{name}.json").read_text()) for name in ("ses_send", "ses_delivery")]
    count = 0
    for start in range(0, sent, 250):  # waves keep moto's queue shallow (see scripts/load_test.py)
        with meter.scope("ses_events_target"):
            for _ in range(start, min(sent, start + 250)):
                message_id = f"0100019{uuid.uuid4().hex[:10]}-{uuid.uuid4()}-000000"
                for template in templates:
                    event = copy.deepcopy(template)
                    event["id"] = str(uuid.uuid4())
                    event["detail"]["mail"]["messageId"] = message_id
                    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(event))
                    count += 1
        with meter.scope("events_poller"):
            EventSourceMapping(sqs, queue_url, functions.handler("events", handler)).drain()
    return count


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------

def per_email_requests(measured: dict[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
    """Requests per email by scope and operation (calls, billable requests, DynamoDB units)."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for scope, operations in measured["scopes"].items():
        if scope not in SCOPES:
            continue
        per = measured["emails"] if SCOPES[scope][1] == "core" else max(1, measured["sent"])
        out[scope] = {}
        for key, counts in operations.items():
            denominator = measured["audience"] if (scope, key) in PER_AUDIENCE else (
                measured["enqueued"] if scope == "plan" else per)
            out[scope][key] = {name: round(counts[name] / max(1, denominator), 4)
                               for name in ("calls", "billable", "read_units", "write_units") if counts.get(name)}
    return out


def main(config: CostConfig) -> dict[str, Any]:
    from nudge_local.stack import load_template

    prices = json.loads(config.prices.read_text(encoding="utf-8"))
    functions = function_settings(load_template(config.template))
    print(f"cost run: {config.jobs} jobs over {len(CAMPAIGNS)} campaigns, real copy model, sending {'on' if config.sending else 'off'} ...", flush=True)
    if config.reprice:  # the last run's raw counts again, with today's prices and attribution rules
        old = json.loads(config.report.read_text(encoding="utf-8"))
        measured = {**{k: v for k, v in old["run"].items()}, "plans": old["plans"], **old["raw"],
                    "repriced_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        for use in measured["lambda"].values():
            if use.get("wall_seconds", 0) < 0:
                use["wall_seconds"] = None  # an older run subtracted the meter's overlapping reads: not meaningful
    else:
        measured = measure(config)
    dollars = per_million(measured, prices, functions, bar=config.bar_per_million)
    lambda_per_email = {
        scope: {"invocations": round(use["invocations"] / max(1, measured["sent"] if SCOPES[scope][1] == "sending" else measured["emails"]), 4),
                "ms_per_email": round(1000 * use["seconds"] / max(1, measured["sent"] if SCOPES[scope][1] == "sending" else measured["emails"]), 1),
                **{f"{part}_ms_per_email": (None if use.get(f"{part}_seconds") is None else
                                            round(1000 * use[f"{part}_seconds"] / max(1, measured["sent"] if SCOPES[scope][1] == "sending" else measured["emails"]), 1))
                   for part in ("cpu", "wait", "wall")},
                "ms_per_invocation": round(1000 * use["seconds"] / max(1, use["invocations"]), 1),
                "cold_invocation_ms": round(1000 * use["first_seconds"], 1),
                "log_bytes_per_email": round(use["log_bytes"] / max(1, measured["sent"] if SCOPES[scope][1] == "sending" else measured["emails"]), 1),
                **functions[SCOPES[scope][0]]}
        for scope, use in measured["lambda"].items()
    }
    if "plan" in lambda_per_email:  # the plan's per-email figures are per job enqueued
        use = measured["lambda"]["plan"]
        lambda_per_email["plan"]["ms_per_email"] = round(1000 * use["seconds"] / max(1, measured["enqueued"]), 2)
        for part in ("cpu", "wait", "wall"):
            if use.get(f"{part}_seconds") is not None:
                lambda_per_email["plan"][f"{part}_ms_per_email"] = round(1000 * use[f"{part}_seconds"] / max(1, measured["enqueued"]), 2)
    report = {
        "what": "US dollars per million emails: AWS requests and compute measured in a local run (moto), priced at public on-demand list prices",
        "command": "make cost",
        "prices": {k: prices[k] for k in ("region", "as_of", "written", "how")},
        "run": {**{k: measured[k] for k in ("emails", "enqueued", "audience", "considered", "sent", "ses_events", "seconds")},
                "jobs_asked": config.jobs, "customers": measured.get("customers")},
        "per_million": dollars,
        "requests_per_email": per_email_requests(measured),
        "lambda": lambda_per_email,
        "method": {
            "dynamodb_units": "computed from item sizes (DynamoDB's rules: writes per 1 KB of the larger of before and after, reads per 4 KB, eventually consistent half); moto's ConsumedCapacity is a constant",
            "lambda_duration": ("billed seconds = the handler's own CPU time (time.process_time of this process, every thread: the copy "
                                "model's, botocore's; the moto server runs in a separate process and the meter's own work is subtracted) "
                                "+ the AWS round trips it waited for at the ASSUMED latencies of the price file's latency_ms (calls on the "
                                "handler's thread in series; calls on its I/O pool's threads overlapping, their sum divided by the pool "
                                "threads used); billed at the template's MemorySize and Architectures. The copy model runs one ONNX thread, "
                                "so its CPU time is its time on Lambda's 1 vCPU at 1,769 MB. Wall time on this (loaded, shared) machine "
                                "is recorded beside it (wall_ms_per_email) and not billed: other jobs' CPU and moto's own time inflate it"),
            "plan": ("a plan's Scan, per-page checkpoint writes and reads, holdout writes, 'assigned' event objects and Lambda time are divided by its audience (enqueued + "
                     "over its limit: what it would enqueue without the test `limit`), the rest by jobs enqueued"),
            "not_in_bar": "SES's own price (shown as ses), S3 and DynamoDB storage, idle SQS polling, CloudWatch custom metrics (per metric-month), KMS and Secrets Manager at cold start",
        },
        "plans": measured["plans"],
        **({"repriced_at": measured["repriced_at"]} if "repriced_at" in measured else {}),
        "raw": {"scopes": measured["scopes"], "lambda": measured["lambda"]},
    }
    config.report.parent.mkdir(parents=True, exist_ok=True)
    config.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_table(report)
    print(f"wrote {config.report}")
    return report


def print_table(report: dict[str, Any], out: Any = None) -> None:
    out = out or sys.stdout
    dollars = report["per_million"]
    run = report["run"]
    print(f"\n{run['emails']} emails written, {run['sent']} sent; prices as of {report['prices']['as_of']} (not fetched live)", file=out)
    print(f"{'per million emails':<28}{'core (plan+generate)':>22}{'+ sending':>12}", file=out)
    lines = sorted(set(dollars["core"]) | set(dollars["sending"]), key=lambda k: -(dollars["core"].get(k, 0) + dollars["sending"].get(k, 0)))
    for line in lines:
        print(f"{line:<28}{dollars['core'].get(line, 0):>22.2f}{dollars['sending'].get(line, 0):>12.2f}", file=out)
    print(f"{'total (requests + compute)':<28}{dollars['total_core']:>22.2f}{dollars['total_with_sending']:>12.2f}", file=out)
    print(f"{'bar':<28}{dollars['bar']:>22.2f}{dollars['bar']:>12.2f}", file=out)
    print(f"{'pass':<28}{str(dollars['pass_core']):>22}{str(dollars['pass_with_sending']):>12}", file=out)
    print(f"{'SES itself (apart)':<28}{'':>22}{dollars['ses']:>12.2f}", file=out)
    if dollars["unpriced"]:
        print(f"unpriced operations: {', '.join(dollars['unpriced'])}", file=out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=CostConfig.jobs, help="jobs planned over the six campaigns")
    parser.add_argument("--no-sending", action="store_true", help="skip the send function and the SES events loop")
    parser.add_argument("--reprice", action="store_true", help="no run: price the last cost.json's raw counts again")
    args = parser.parse_args()
    result = main(CostConfig(jobs=args.jobs, sending=not args.no_sending, reprice=args.reprice))
    raise SystemExit(0 if result["per_million"]["pass_core"] else 1)
