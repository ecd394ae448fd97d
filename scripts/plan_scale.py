"""Plan a campaign for a million customers in parallel Scan segments, through moto; then plan it again.

Inputs: none (synthetic profiles, written into an in-process moto DynamoDB with BatchWriteItem).
Output: build/reports/plan_scale.json (time per segment, total, customers/s, enqueued, holdouts,
the re-run's enqueued count, and the queue checked for duplicates), and a table on stdout.

What runs is the deployed code path: the plan handler (functions/plan/app.py) in its "start",
"segment" and "finish" modes, driven by nudge_local.plan_map as template.yaml's PlanStateMachine
drives it (a Map over segments, each looping until "done"), against moto's DynamoDB, SQS and S3.

Two of moto's emulations are linear in the size of the table or queue for every call, which makes a
million-customer run quadratic (measured at 50,000 items: 2-4 s per Scan page, and SendMessageBatch
slowing with every message queued); a third costs ~25 ms per item returned. All three are patched
here, and only here, by `fast_moto()`:

- Scan: moto sorts the whole table and walks it from the start on every page. The patch keeps a
  per-segment sorted index, built on the first page, and bisects to ExclusiveStartKey: the same
  items, order, Limit, 1 MB cut and LastEvaluatedKey (tests/unit/test_plan_scale.py compares it
  page by page with moto's own), but a snapshot: items written after a segment's first page are not
  seen by it, which real DynamoDB does not promise either (a Scan is not a snapshot, nor isolated).
- SQS: every SendMessage computes the queue's attributes, counting visible, in-flight and delayed
  messages by walking all of them. The patch counts without walking (nothing is received or delayed
  while the benchmark runs, so the counts are the same).
- DynamoDB responses: moto serializes every item through botocore's output shape, ~25 ms an item
  (profiled), more than nudge's whole work per customer. The patch writes a page's items with
  json.dumps (the same JSON) and the rest of the response with moto's serializer.

Real DynamoDB and SQS have none of these costs; what is measured is nudge's own work per page (decode,
decide, log, record holdouts, send, checkpoint) plus moto's per-call overhead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from bisect import bisect_right
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class ScaleConfig:
    customers: int = 1_000_000  # profiles written and planned
    segments: int = 16  # Scan segments (the state machine's Map items; PlanSegments in template.yaml)
    max_concurrency: int = 4  # segments at a time (the Map's MaxConcurrency; threads here, sharing one GIL)
    holdout_share: float = 0.1  # NUDGE_HOLDOUT_SHARE
    campaign_type: str = "new_arrivals"
    send_date: str = "2026-11-20"
    out: Path = ROOT / "build" / "reports" / "plan_scale.json"
    profiles_through_api: bool = False  # load profiles with BatchWriteItem (slow in moto) instead of into moto's table model


# ------------------------------------------------------------------------------------------------
# moto, made linear (see the module docstring)
# ------------------------------------------------------------------------------------------------
def fast_moto() -> Callable[[], None]:
    """Patch moto's DynamoDB Scan and SQS attribute counts; returns the function that undoes it."""
    import copy

    from moto.dynamodb.models import table as ddb_table
    from moto.utilities.utils import md5_hash
    from moto.sqs import models as sqs_models

    original_scan = ddb_table.Table.scan
    lock = threading.Lock()

    def _segment_index(table: Any, total: int) -> list[tuple[list[tuple[str, str]], list[Any]]]:
        """Every segment's items in moto's order (hash key, range key), in one pass over the table."""
        by_segment: list[list[Any]] = [[] for _ in range(total)]
        for hash_set in table.items.values():
            for item in hash_set.values():
                # moto's Item.is_within_segment: the first byte of the hash key's MD5, modulo the segments
                by_segment[md5_hash(item.hash_key.value.encode("utf8")).digest()[0] % total].append(item)
        index = []
        for members in by_segment:
            members.sort(key=lambda item: (item.hash_key.value, item.range_key.value))
            index.append(([(item.hash_key.value, item.range_key.value) for item in members], members))
        return index

    def indexed_scan(self, filters, limit, exclusive_start_key, filter_expression=None, index_name=None,
                     consistent_read=False, projection_expression=None, segments=(None, None)):
        if index_name or filters or self.range_key_attr is None or segments == (None, None):
            return original_scan(self, filters, limit, exclusive_start_key, filter_expression, index_name,
                                 consistent_read, projection_expression, segments)
        segment, total = segments
        with lock:  # the Map's segments scan from several threads at once: one of them builds the index
            indexes = self.__dict__.setdefault("_nudge_segment_index", {})
            if total not in indexes:
                indexes[total] = _segment_index(self, total)
        keys, members = indexes[total][segment]
        start = 0
        if exclusive_start_key is not None:
            start = bisect_right(keys, (exclusive_start_key[self.hash_key_attr]["S"], exclusive_start_key[self.range_key_attr]["S"]))
        results, size, last_key = [], 0, None
        for item in (members[index] for index in range(start, len(members))):
            if len(results) == limit or size + item.size() > ddb_table.RESULT_SIZE_LIMIT:
                last_key = self._get_last_evaluated_key(results[-1], index_name)
                break
            results.append(copy.deepcopy(item))
            size += item.size()
        scanned = len(results)
        if filter_expression is not None:
            results = [item for item in results if filter_expression.expr(item)]
        if projection_expression:
            results = [r.project(projection_expression) for r in results]
        return results, scanned, last_key

    from moto.dynamodb.responses import DynamoResult

    original_result = DynamoResult.execute_result

    def plain_items_result(self, context):
        """A Scan page's items written as JSON directly: moto's model-driven serializer spends ~25 ms
        on each item (measured), the whole cost of a page. Everything else goes through moto's own."""
        result = self.result
        if not (isinstance(result, dict) and result.get("Items")):
            return original_result(self, context)
        try:
            items = json.dumps(result["Items"])
        except TypeError:  # binary values: moto's serializer knows them
            return original_result(self, context)
        self._result = {k: v for k, v in result.items() if k != "Items"}
        try:
            status, headers, body = original_result(self, context)
        finally:
            self._result = result
        rest = json.loads(body)
        return status, headers, json.dumps(rest)[:-1] + (", " if rest else "") + f'"Items": {items}}}'

    DynamoResult.execute_result = plain_items_result
    counts = ("approximate_number_of_messages", "approximate_number_of_messages_not_visible",
              "approximate_number_of_messages_delayed")
    saved = {name: getattr(sqs_models.Queue, name) for name in counts}
    ddb_table.Table.scan = indexed_scan
    sqs_models.Queue.approximate_number_of_messages = property(lambda self: len(self._messages))
    sqs_models.Queue.approximate_number_of_messages_not_visible = property(lambda self: 0)
    sqs_models.Queue.approximate_number_of_messages_delayed = property(lambda self: 0)

    def undo() -> None:
        ddb_table.Table.scan = original_scan
        DynamoResult.execute_result = original_result
        for name, value in saved.items():
            setattr(sqs_models.Queue, name, value)

    return undo


# ------------------------------------------------------------------------------------------------
# The store: synthetic profiles, written 25 per BatchWriteItem
# ------------------------------------------------------------------------------------------------
def profile_item(i: int) -> dict[str, Any]:
    """Customer i as a DynamoDB item: 1 in 20 without consent, 1 in 13 emailed two days before the
    send date (frequency-capped), 1 in 50 with no history (not in new_arrivals' audience)."""
    cid = f"c{i:08d}"
    item: dict[str, Any] = {
        "pk": {"S": f"CUST#{cid}"}, "sk": {"S": "PROFILE"}, "customer_id": {"S": cid}, "first_name": {"S": "Ada"},
        "email": {"S": f"{cid}@example.com"}, "locale": {"S": "en_GB"}, "timezone": {"S": "Europe/London"},
        "consent": {"BOOL": i % 20 != 0}, "loyalty_tier": {"S": "none"},
        "top_categories": {"L": [{"S": "home"}]},
    }
    if i % 50 != 1:
        item["purchased"] = {"L": [{"S": f"p{i % 997:04d}"}]}
        item["viewed"] = {"L": [{"S": f"p{(i * 7) % 997:04d}"}, {"S": f"p{(i * 13) % 997:04d}"}]}
    if i % 13 == 2:
        item["last_marketing_sent_at"] = {"S": "2026-11-18T09:00:00+00:00"}
    return item


def write_profiles(table: str, count: int, *, progress: Any = None, through_api: bool = False) -> float:
    """Load the synthetic profiles. By default straight into moto's table model (Table.put_item, the
    call moto's own BatchWriteItem ends in): the store's loading is not what is measured, and through
    the API moto spends ~6 ms per item on request parsing and response shaping (175 items/s measured
    at 150,000), which would make loading a million profiles take longer than planning them.
    `through_api` writes 25 per BatchWriteItem instead, as a store's loader would."""
    started = time.perf_counter()
    if not through_api:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        model = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ.get("AWS_DEFAULT_REGION", "us-east-1")].get_table(table)
        for i in range(count):
            model.put_item(profile_item(i))
            if progress is not None and i % 1000 == 999:
                progress.update(1000)
        if progress is not None:
            progress.update(count % 1000)
        return time.perf_counter() - started
    from nudge.storage import client

    ddb = client("dynamodb")
    for start in range(0, count, 25):
        requests = [{"PutRequest": {"Item": profile_item(i)}} for i in range(start, min(count, start + 25))]
        pending = {table: requests}
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        if progress is not None:
            progress.update(len(requests))
    return time.perf_counter() - started


def queued_customers(queue_name: str) -> list[str]:
    """The customer ids of every message on a moto queue (read from moto's state: receiving a
    million messages through the API would walk the queue once per call)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sqs.models import sqs_backends

    queue = sqs_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].queues[queue_name]
    return [json.loads(message.body)["customer_id"] for message in queue._messages]


def _progress(queue_name: str, customers: int, every_s: float = 60.0) -> threading.Event:
    """Print the jobs queued so far every `every_s` seconds while the first plan runs (a plan
    invocation runs until 60 s before its 15-minute timeout, so nothing else reports in between)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sqs.models import sqs_backends

    stop, began = threading.Event(), time.perf_counter()

    def report() -> None:
        while not stop.wait(every_s):
            queued = len(sqs_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].queues[queue_name]._messages)
            print(f"  planning: {queued:,} jobs queued ({customers:,} customers), {time.perf_counter() - began:.0f} s",
                  file=sys.stderr, flush=True)

    threading.Thread(target=report, daemon=True, name="plan-progress").start()
    return stop


def main(config: ScaleConfig) -> dict[str, Any]:
    from moto import mock_aws

    from nudge_local.stack import LOCAL_ENV, StackNames, create_stack, function_env

    os.environ.update(LOCAL_ENV)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # no log line per invocation on the console
    fast_moto()
    with mock_aws():
        from nudge.types import StoreInfo

        names = StackNames()
        stack = create_stack(names)
        try:
            from tqdm import tqdm

            bar = tqdm(total=config.customers, unit="profile", desc="writing profiles", file=sys.stderr)
        except ImportError:  # pragma: no cover - tqdm is in requirements/dev.txt
            bar = None
        load_seconds = write_profiles(stack.table, config.customers, progress=bar, through_api=config.profiles_through_api)
        if bar is not None:
            bar.close()
        os.environ.update(function_env(
            stack, store=StoreInfo(name="scale", postal_address="1 Example Street", base_url="https://shop.example.com",
                                   sender="scale <news@shop.example.com>"),
            model_dir="", pseudonym_key="plan-scale-pseudonym-key-0123456789", link_key="plan-scale-link-key-0123456789",
            NUDGE_HOLDOUT_SHARE=str(config.holdout_share), NUDGE_FREQUENCY_CAP_DAYS="7",
        ))
        import importlib

        from nudge_local.plan_map import run_plan_state_machine

        plan_app = importlib.import_module("plan.app")
        plan_app._service = None
        request = {"campaign_type": config.campaign_type, "campaign_id": "scale-1", "send_date": config.send_date}
        print(f"planning {config.customers:,} customers in {config.segments} segments, {config.max_concurrency} at a time",
              file=sys.stderr)
        stop_progress = _progress(names.queue, config.customers)
        first = run_plan_state_machine(plan_app.handler, request, default_segments=config.segments,
                                       max_concurrency=config.max_concurrency)
        stop_progress.set()
        queued = queued_customers(names.queue)
        again = run_plan_state_machine(plan_app.handler, request, default_segments=config.segments,
                                       max_concurrency=config.max_concurrency)
        queued_after = len(queued_customers(names.queue))

    summary = first.summary
    report = {
        "what": "one campaign planned by the plan state machine's steps (nudge_local.plan_map) through moto, then re-run",
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()},
        "customers": config.customers,
        "profiles_write_seconds": round(load_seconds, 1),
        "profiles_written": "BatchWriteItem through moto" if config.profiles_through_api else "into moto's table model (Table.put_item), not timed as part of the plan",
        "plan_seconds": round(first.seconds, 1),
        "customers_per_second": round(config.customers / first.seconds, 1),
        "segments": [s.to_dict() for s in first.segments],
        "segment_seconds": {"min": round(min(s.seconds for s in first.segments), 1),
                            "max": round(max(s.seconds for s in first.segments), 1),
                            "mean": round(sum(s.seconds for s in first.segments) / len(first.segments), 1)},
        "considered": summary["considered"],
        "enqueued": summary["enqueued"],
        "holdouts": summary["excluded"]["holdout"],
        "excluded": summary["excluded"],
        "send_failures": summary["send_failures"],
        "queue": {"messages": len(queued), "distinct_customers": len(set(queued))},
        "rerun": {"seconds": round(again.seconds, 2), "enqueued": again.enqueued_this_run,
                  "messages_added": queued_after - len(queued), "summary_unchanged": again.summary == summary},
        "moto_patches": ["DynamoDB Scan: per-segment sorted index instead of a sort and walk of the table per page",
                         "DynamoDB responses with Items: the items written with json.dumps instead of moto's model-driven serializer",
                         "SQS: queue attribute counts without walking every message on each send"],
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
    }
    config.out.parent.mkdir(parents=True, exist_ok=True)
    config.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"customers {report['customers']:,}  plan {report['plan_seconds']} s  {report['customers_per_second']:,} customers/s  "
          f"segments {report['segment_seconds']}")
    print(f"enqueued {report['enqueued']:,}  holdouts {report['holdouts']:,}  queue {report['queue']}  "
          f"re-run enqueued {report['rerun']['enqueued']} in {report['rerun']['seconds']} s")
    print(f"wrote {config.out}")
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=ScaleConfig.customers)
    parser.add_argument("--segments", type=int, default=ScaleConfig.segments)
    parser.add_argument("--max-concurrency", type=int, default=ScaleConfig.max_concurrency)
    parser.add_argument("--out", type=Path, default=ScaleConfig.out)
    parser.add_argument("--profiles-through-api", action="store_true", help="load profiles with BatchWriteItem (moto: ~175/s)")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the run here")
    args = parser.parse_args()
    config = ScaleConfig(customers=args.customers, segments=args.segments, max_concurrency=args.max_concurrency,
                         out=args.out, profiles_through_api=args.profiles_through_api)
    if args.profile:
        import cProfile

        cProfile.run("main(config)", str(args.profile))
    else:
        main(config)
