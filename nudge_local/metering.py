"""Every AWS request the functions make, counted from outside through botocore's event hooks.

`RequestMeter` registers on each client that `nudge.storage.client` builds (the only place the
functions get clients from) and records, per scope (which function, or the event source that
feeds it) and per (service, operation):

- calls: API calls (botocore's retries of one call are one call here; `attempts` counts HTTP sends);
- S3: the price class of each request (PUT/COPY/POST/LIST or GET/other; DELETE is free);
- SQS: billable requests, one per 64 KB chunk of payload (request and response bodies);
- DynamoDB: read and write request units, computed from item sizes by DynamoDB's published rules
  (moto's ConsumedCapacity is a constant, so ReturnConsumedCapacity would tell nothing here). The
  sizes come from the items themselves: a write's item before (read with an unmetered client) and
  after, a Scan or Query's page read again without its filter and projection (DynamoDB bills the
  items it reads, not the ones it returns).

Nothing here changes what the functions send: the unmetered reads happen on a separate client.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterator

KB = 1024
SQS_CHUNK = 64 * KB  # one billable SQS request per 64 KB chunk of payload

# S3 request price classes (https://aws.amazon.com/s3/pricing/, "Requests & data retrievals").
S3_TIER1 = {"PutObject", "CopyObject", "PostObject", "ListObjects", "ListObjectsV2", "ListObjectVersions",
            "ListBuckets", "CreateMultipartUpload", "UploadPart", "UploadPartCopy", "CompleteMultipartUpload",
            "RestoreObject", "PutObjectTagging", "PutObjectRetention", "PutObjectLegalHold"}
S3_FREE = {"DeleteObject", "DeleteObjects", "AbortMultipartUpload"}  # DELETE and CANCEL requests are free

_SIZES_LOCK = threading.Lock()
POOL_THREAD_PREFIX = "nudge-io"  # thread names of a function's I/O pool (nudge.service): their waits overlap

DDB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
DDB_READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}


# --------------------------------------------------------------------------------------------
# DynamoDB item size and request units (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/
# CapacityUnitCalculations.html): a write unit per 1 KB of item (the larger of before and after), a
# strongly consistent read unit per 4 KB (half for eventually consistent), transactions twice that.
# --------------------------------------------------------------------------------------------

def _number_size(text: str) -> int:
    """Bytes DynamoDB stores for a number: about one per two significant digits, plus one."""
    digits = text.lstrip("-").replace(".", "").lstrip("0").rstrip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def attribute_size(value: dict[str, Any]) -> int:
    """Size in bytes of one typed attribute value ({"S": "..."}, {"N": "1"}, {"M": {...}}, ...)."""
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        return _number_size(inner)
    if kind == "B":
        return len(inner) if isinstance(inner, (bytes, bytearray)) else len(str(inner).encode())
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in inner)
    if kind == "NS":
        return sum(_number_size(n) for n in inner)
    if kind == "BS":
        return sum(len(b) for b in inner)
    if kind == "L":
        return 3 + sum(1 + attribute_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + attribute_size(v) for k, v in inner.items())
    raise ValueError(f"unknown DynamoDB attribute type {kind!r}")


def item_size(item: dict[str, Any] | None) -> int:
    """Size in bytes of a typed item: attribute names plus values (0 for a missing item)."""
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + attribute_size(value) for name, value in item.items())


def write_units(*sizes: int, transactional: bool = False) -> int:
    """Write request units of one item write: the larger of its sizes before and after, per 1 KB, at least 1.

    >>> write_units(1500, 300)
    2
    """
    units = max(1, math.ceil(max(sizes or (0,)) / KB))
    return units * (2 if transactional else 1)


def read_units(size: int, *, consistent: bool = False, transactional: bool = False) -> float:
    """Read request units of reading `size` bytes in one item read (or one Query/Scan page): per 4 KB, at
    least one; eventually consistent reads cost half, transactional twice.

    >>> read_units(5000), read_units(5000, consistent=True)
    (1.0, 2)
    """
    units = max(1, math.ceil(size / (4 * KB)))
    if transactional:
        return units * 2
    return units if consistent else units / 2


# --------------------------------------------------------------------------------------------
# The meter
# --------------------------------------------------------------------------------------------

@dataclass
class OperationCount:
    calls: int = 0
    attempts: int = 0  # HTTP sends, retries included
    errors: int = 0  # calls that ended in an AWS error (still billed by S3, SQS and DynamoDB)
    billable: float = 0.0  # SQS: 64 KB chunks; S3: requests; others: calls
    read_units: float = 0.0  # DynamoDB RRU
    write_units: float = 0.0  # DynamoDB WRU
    request_bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@dataclass
class RequestMeter:
    """Counts requests per scope and per "service.Operation". Use `scope(name)` around the code whose
    requests should be billed to `name`; requests outside any scope (stack setup, the harness's own
    checks) go to scope None and are reported apart."""

    sizes_client: Any = None  # an unmetered DynamoDB client for item sizes; made on first use
    counts: dict[str | None, dict[str, OperationCount]] = field(default_factory=lambda: defaultdict(dict))
    current: str | None = None
    overhead_seconds: float = 0.0  # time spent in the meter's own size reads (subtract it from timed handlers)
    overhead_cpu_seconds: float = 0.0  # CPU the meter's hooks spent, in whatever thread (subtract it from handler CPU)
    latency_ms: dict[str, float] = field(default_factory=dict)  # assumed AWS round trip per "service.Operation" (or service, or "default")
    wait_serial_seconds: float = 0.0  # modelled AWS wait of calls made on a function's own thread
    wait_pooled_seconds: float = 0.0  # ... of calls made on its I/O pool's threads (POOL_THREAD_PREFIX), overlapping
    pool_threads: set = field(default_factory=set)  # names of the pool threads seen (their count is the overlap)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextlib.contextmanager
    def scope(self, name: str | None) -> Iterator[None]:
        """Bill requests made inside to `name` (a process-wide setting: threads a function starts share it)."""
        saved, self.current = self.current, name
        try:
            yield
        finally:
            self.current = saved

    def attach(self, client: Any) -> Any:
        """Register the meter's hooks on one boto3 client; returns the client."""
        events = client.meta.events
        events.register("before-parameter-build", self._before_parameters)
        events.register("before-send", self._before_send)
        events.register("after-call", self._after_call)
        return client

    def _entry(self, scope: str | None, key: str) -> OperationCount:
        table = self.counts[scope]
        if key not in table:
            table[key] = OperationCount()
        return table[key]

    # -- hooks -------------------------------------------------------------------------------
    def _before_parameters(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        started = time.thread_time()
        context["nudge_meter"] = {"params": copy.deepcopy(params), "scope": self.current, "attempts": 0}
        if model.service_model.service_name == "dynamodb" and model.name in DDB_WRITES:
            context["nudge_meter"]["before"] = self._sizes_before_write(model.name, params)
        self._add_overhead_cpu(time.thread_time() - started)

    def _add_overhead_cpu(self, seconds: float) -> None:
        with self._lock:
            self.overhead_cpu_seconds += seconds

    def latency(self, service: str, operation: str) -> float:
        """The assumed round trip of one call, in seconds (0 when no latency table was given)."""
        table = self.latency_ms
        ms = table.get(f"{service}.{operation}", table.get(service, table.get("default", 0.0)))
        return float(ms) / 1000

    def _add_wait(self, service: str, operation: str) -> None:
        thread = threading.current_thread().name
        seconds = self.latency(service, operation)
        with self._lock:
            if thread.startswith(POOL_THREAD_PREFIX):
                self.wait_pooled_seconds += seconds
                self.pool_threads.add(thread)
            else:
                self.wait_serial_seconds += seconds

    def _before_send(self, request: Any = None, **kwargs: Any) -> None:
        context = getattr(request, "context", None) or {}
        meter = context.get("nudge_meter")
        if meter is not None:
            meter["attempts"] += 1
            body = getattr(request, "body", b"") or b""
            meter["request_bytes"] = len(body) if isinstance(body, (bytes, bytearray, str)) else 0

    def _after_call(self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        meter = context.get("nudge_meter")
        if meter is None:
            return
        started = time.thread_time()
        try:
            self._count(http_response, parsed, model, meter)
        finally:
            self._add_overhead_cpu(time.thread_time() - started)
        if meter["scope"] is not None:
            self._add_wait(model.service_model.service_name, model.name)

    def _count(self, http_response: Any, parsed: dict[str, Any], model: Any, meter: dict[str, Any]) -> None:
        service, operation = model.service_model.service_name, model.name
        failed = "Error" in parsed and bool(parsed["Error"].get("Code"))
        key = f"{service}.{operation}"
        if service == "sqs" and operation == "ReceiveMessage" and not parsed.get("Messages"):
            key += ".empty"  # an empty poll: the event source's idle cost, not a per-email one
        billable, rru, wru = 1.0, 0.0, 0.0
        if service == "sqs":
            size = max(meter.get("request_bytes", 0), _response_bytes(http_response))
            billable = float(max(1, math.ceil(size / SQS_CHUNK)))
        elif service == "s3" and operation in S3_FREE:
            billable = 0.0
        elif service == "dynamodb":
            rru, wru = self._units(operation, meter, parsed, failed)
        with self._lock:
            entry = self._entry(meter["scope"], key)
            entry.calls += 1
            entry.attempts += max(1, meter["attempts"])
            entry.errors += int(failed)
            entry.billable += billable
            entry.read_units += rru
            entry.write_units += wru
            entry.request_bytes += meter.get("request_bytes", 0)

    # -- DynamoDB units ------------------------------------------------------------------------
    def _sizes(self) -> Any:
        with _SIZES_LOCK:  # a function's I/O threads may ask first at once; building a client is not thread-safe
            if self.sizes_client is None:
                from nudge.storage import client as plain_client  # the unpatched builder (see metered_clients)

                self.sizes_client = getattr(plain_client, "__wrapped__", plain_client)("dynamodb")
        return self.sizes_client

    @contextlib.contextmanager
    def _overhead(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            with self._lock:
                self.overhead_seconds += time.perf_counter() - started

    def _stored_size(self, table: str, key: dict[str, Any]) -> int:
        with self._overhead():
            item = self._sizes().get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        return item_size(item)

    def _write_targets(self, operation: str, params: dict[str, Any]) -> list[tuple[str, dict, dict | None, bool]]:
        """(table, key, new item or None, transactional) for each item a write touches."""
        targets = []
        if operation == "PutItem":
            item = params["Item"]
            targets.append((params["TableName"], _key_of(item), item, False))
        elif operation in ("UpdateItem", "DeleteItem"):
            targets.append((params["TableName"], params["Key"], None, False))
        elif operation == "BatchWriteItem":
            for table, requests in params.get("RequestItems", {}).items():
                for request in requests:
                    if "PutRequest" in request:
                        item = request["PutRequest"]["Item"]
                        targets.append((table, _key_of(item), item, False))
                    else:
                        targets.append((table, request["DeleteRequest"]["Key"], None, False))
        elif operation == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                (kind, body), = entry.items()
                if kind == "Put":
                    targets.append((body["TableName"], _key_of(body["Item"]), body["Item"], True))
                else:  # Update, Delete, ConditionCheck
                    targets.append((body["TableName"], body["Key"], None, True))
        return targets

    def _sizes_before_write(self, operation: str, params: dict[str, Any]) -> list[int]:
        return [self._stored_size(table, key) for table, key, _, _ in self._write_targets(operation, params)]

    def _units(self, operation: str, meter: dict[str, Any], parsed: dict[str, Any], failed: bool) -> tuple[float, float]:
        params = meter["params"]
        if operation in DDB_WRITES:
            wru = 0.0
            targets = self._write_targets(operation, params)
            unprocessed = _unprocessed_keys(parsed) if operation == "BatchWriteItem" else set()
            for (table, key, new_item, transactional), before in zip(targets, meter.get("before", [])):
                if (table, _freeze(key)) in unprocessed:
                    continue  # not written this call (retried and counted in a later call)
                if new_item is not None:
                    after = item_size(new_item)
                elif operation == "DeleteItem" or failed:
                    after = 0
                else:
                    after = self._stored_size(table, key)
                wru += write_units(before, after, transactional=transactional)
            return 0.0, wru
        if operation == "GetItem":
            size = self._stored_size(params["TableName"], params["Key"]) if "ProjectionExpression" in params else item_size(parsed.get("Item"))
            return read_units(size, consistent=bool(params.get("ConsistentRead"))), 0.0
        if operation == "BatchGetItem":
            rru = 0.0
            for table, request in params.get("RequestItems", {}).items():
                consistent = bool(request.get("ConsistentRead"))
                unprocessed = {_freeze(k) for k in parsed.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])}
                for key in request["Keys"]:
                    if _freeze(key) not in unprocessed:  # each key read is billed alone, found or not
                        rru += read_units(self._stored_size(table, key), consistent=consistent)
            return rru, 0.0
        if operation in ("Query", "Scan"):
            # What DynamoDB read for this page: the same page again, without filter or projection.
            again = {k: v for k, v in params.items() if k not in (
                "FilterExpression", "ProjectionExpression", "Select", "ReturnConsumedCapacity")}
            returned = parsed.get("Items", [])
            if "ProjectionExpression" not in params and params.get("Select") != "COUNT" and returned:
                # Full items came back: the ones the filter dropped are counted at this page's average
                # size (a re-read of every Scan page costs more than the run; over-counts small items).
                size = sum(item_size(i) for i in returned)
                size += (parsed.get("ScannedCount", len(returned)) - len(returned)) * size / len(returned)
                return read_units(int(size), consistent=bool(params.get("ConsistentRead"))), 0.0
            if "FilterExpression" in params or "ProjectionExpression" in params or params.get("Select") == "COUNT":
                names = _names_used(again)
                if "ExpressionAttributeNames" in again:
                    again["ExpressionAttributeNames"] = {k: v for k, v in again["ExpressionAttributeNames"].items() if k in names}
                    if not again["ExpressionAttributeNames"]:
                        del again["ExpressionAttributeNames"]
                if "ExpressionAttributeValues" in again:
                    again["ExpressionAttributeValues"] = {k: v for k, v in again["ExpressionAttributeValues"].items() if k in names}
                    if not again["ExpressionAttributeValues"]:
                        del again["ExpressionAttributeValues"]
                read_again = self._sizes().query if operation == "Query" else self._sizes().scan
                with self._overhead():
                    items = read_again(**again).get("Items", [])
            else:
                items = parsed.get("Items", [])
            size = sum(item_size(i) for i in items)
            return read_units(size, consistent=bool(params.get("ConsistentRead"))), 0.0
        if operation == "TransactGetItems":
            rru = 0.0
            for entry in params.get("TransactItems", []):
                body = entry["Get"]
                rru += read_units(self._stored_size(body["TableName"], body["Key"]), transactional=True)
            return rru, 0.0
        return 0.0, 0.0

    # -- results -------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, dict[str, dict[str, Any]]]:
        """{scope: {"service.Operation": counts}} (scope None reported as "unmetered")."""
        with self._lock:
            return {("unmetered" if scope is None else scope): {k: v.to_dict() for k, v in sorted(ops.items())}
                    for scope, ops in self.counts.items()}


def _key_of(item: dict[str, Any]) -> dict[str, Any]:
    """The pk/sk key of a profile-table item (the only key schema nudge uses)."""
    return {name: item[name] for name in ("pk", "sk") if name in item}


def _freeze(key: dict[str, Any]) -> str:
    return json.dumps(key, sort_keys=True, default=str)


def _unprocessed_keys(parsed: dict[str, Any]) -> set[tuple[str, str]]:
    keys = set()
    for table, requests in (parsed.get("UnprocessedItems") or {}).items():
        for request in requests:
            key = _key_of(request["PutRequest"]["Item"]) if "PutRequest" in request else request["DeleteRequest"]["Key"]
            keys.add((table, _freeze(key)))
    return keys


def _names_used(params: dict[str, Any]) -> set[str]:
    """Placeholders (#name, :value) still used by a Query or Scan's remaining expressions."""
    import re

    text = " ".join(str(params.get(k, "")) for k in ("KeyConditionExpression",))
    return set(re.findall(r"[#:][A-Za-z0-9_]+", text))


def _response_bytes(http_response: Any) -> int:
    try:
        return len(http_response.content or b"")
    except Exception:  # noqa: BLE001 - a streamed body (S3 GetObject) is not read here; only SQS asks
        return 0


@contextlib.contextmanager
def metered_clients(meter: RequestMeter) -> Iterator[RequestMeter]:
    """While open, every client `nudge.storage.client` builds carries `meter`'s hooks. Services built
    before this opened keep unmetered clients, so build (cold-start) functions inside it."""
    import nudge.storage as storage

    original = storage.client

    def client(service: str) -> Any:
        return meter.attach(original(service))

    client.__wrapped__ = original  # the meter's own size reads go around it
    storage.client = client
    try:
        yield meter
    finally:
        storage.client = original
