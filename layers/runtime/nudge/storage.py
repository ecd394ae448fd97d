"""The only module that talks to AWS (boto3). Everything else in nudge is plain Python.

Clients are built lazily, once per container, with botocore's standard retry mode (exponential
backoff with jitter on throttling and 5xx). The endpoint comes from botocore's own
`AWS_ENDPOINT_URL` variable, which the local runner points at a moto server on loopback.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from nudge.errors import NudgeError
from nudge.jobs import Job
from nudge.profiles import profile_from_item, profile_to_item
from nudge.types import Profile

RETRY_CONFIG = {"retries": {"mode": "standard", "max_attempts": 5}, "connect_timeout": 5, "read_timeout": 30}


class StorageError(NudgeError, RuntimeError):
    """An AWS call failed after retries (the record fails and SQS redelivers it)."""


_LOADER: Any = None  # botocore's loader of service models, shared by every session this process makes


def client(service: str) -> Any:
    """A boto3 client on a fresh session (credentials, region and endpoint read now), sharing one loader of
    botocore's service models: reading them again for each session was ~0.25 s a client (measured in tests,
    which make a stack per test; a Lambda container makes its clients once)."""
    import boto3
    import botocore.loaders
    import botocore.session
    from botocore.config import Config

    global _LOADER
    if _LOADER is None:
        _LOADER = botocore.loaders.create_loader()
    core = botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    session = boto3.session.Session(botocore_session=core)
    _LOADER.search_paths[:] = list(dict.fromkeys(_LOADER.search_paths))  # boto3 appends its data folder per session
    return session.client(service, config=Config(**RETRY_CONFIG))


def _error_code(exc: Exception) -> str:
    """The AWS error code of a botocore ClientError ("" for anything else)."""
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def _backoff(attempt: int) -> None:
    """Sleep before retrying what a batch call left unprocessed (50 ms doubling, at most 2 s)."""
    time.sleep(min(2.0, 0.05 * 2**attempt))


def _profile_key(customer_id: str) -> dict[str, str]:
    return {"pk": f"CUST#{customer_id}", "sk": "PROFILE"}


DAY = 86_400  # seconds
CLAIM_LEASE_SECONDS = 300  # default lease of a claim (NUDGE_CLAIM_LEASE_SECONDS); longer than any function timeout


def _epoch(moment: datetime) -> int:
    """Whole epoch seconds: what the lease conditions compare and DynamoDB TTL reads (expires_at)."""
    return int(moment.timestamp())


# A preset dictionary for the records' zlib streams: the record's fixed JSON (keys in sort_keys
# order, and the values every record repeats) that a 1 KB record would otherwise spend its first
# few hundred bytes teaching the compressor. Measured on 200 demo records: median item 1,022 bytes
# (half of the completing writes cost 2 write units) without it, 776 with it (max 912: one unit).
# A stream written with it names it by its Adler-32, so this text must NEVER change: records written
# with it would no longer decode. A better dictionary is a new constant and a new `record_z` format.
RECORD_ZDICT_V1 = (
    '{"campaign":{"id":"new-arrivals-2026-11-20","send_date":"2026-11-20","type":"new_arrivals"},'
    '"copy":{"intro":"","preheader":"","rejected_reasons":[],"source":"model","subject":""},"customer":"p_",'
    '"items":[{"name":"","product_id":"p","reason":"Because you viewed ","score":0.},'
    '{"name":"","product_id":"p","reason":"Because you bought ","score":0.},'
    '{"name":"","product_id":"p","reason":"Still in your cart","score":0.}],'
    '"language":{"fallback":false,"requested":"en_GB","used":"en"},"message_id":"<.nudge@shop.example.com>",'
    '"model_versions":{"copywriter":"copywriter-","nudge":"0.1.0","recommender":"ease-"},'
    '"objects":{"eml":"emails//email.eml"},"schema_version":1,"timings_ms":{"copy_ms":,"rank_ms":,"render_ms":},'
    '"tone":{"chosen":"warm","reason":"campaign tone ; recent review rated /5, text : not unhappy"}}'
).encode("utf-8")


def encode_record(record: Mapping[str, Any]) -> bytes:
    """An email's audit record as stored on its SEND# item: compact JSON, zlib-compressed with the
    preset dictionary RECORD_ZDICT_V1 (about a quarter of its size, so the completing write stays
    at one write unit for a typical email)."""
    import zlib

    compressor = zlib.compressobj(9, zdict=RECORD_ZDICT_V1)
    data = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return compressor.compress(data) + compressor.flush()


def decode_record(blob: Any) -> dict[str, Any]:
    """The audit record back from encode_record's bytes (a boto3 Binary or bytes). Streams written
    before the dictionary (plain zlib.compress) decode too: zlib asks for a dictionary only when
    the stream's header says it was written with one."""
    import zlib

    decompressor = zlib.decompressobj(zdict=RECORD_ZDICT_V1)
    data = decompressor.decompress(bytes(getattr(blob, "value", blob))) + decompressor.flush()
    return json.loads(data.decode("utf-8"))


def with_record(item: dict[str, Any]) -> dict[str, Any]:
    """A SEND# item with its compressed audit record decoded as "record" (when it has one)."""
    if "record_z" in item:
        item = {**item, "record": decode_record(item.pop("record_z"))}
    return item


def _with_cap(profile_item: dict[str, Any], cap_item: Mapping[str, Any] | None) -> dict[str, Any]:
    """A profile item whose `last_marketing_sent_at` is the later of its own and its CAP item's
    claim time (at_epoch; a tombstone has none)."""
    if not cap_item or cap_item.get("at_epoch") is None:
        return profile_item
    from datetime import timezone

    claimed = datetime.fromtimestamp(int(cap_item["at_epoch"]), tz=timezone.utc)
    own = profile_item.get("last_marketing_sent_at")
    if own and datetime.fromisoformat(str(own)) >= claimed:
        return profile_item
    return {**profile_item, "last_marketing_sent_at": claimed.isoformat()}


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _serializer():
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


@dataclass
class ProfileStore:
    """Profiles, sends and suppressions in one DynamoDB table keyed by pk/sk."""

    table: str
    dynamodb: Any = None
    record_days: int = 90  # TTL of send, delivery and holdout records (NUDGE_RECORD_RETENTION_DAYS)

    def __post_init__(self) -> None:
        self.dynamodb = self.dynamodb or client("dynamodb")
        self._ser, self._de = _serializer()

    def _to_ddb(self, item: dict[str, Any]) -> dict[str, Any]:
        return {k: self._ser.serialize(v) for k, v in item.items()}

    def _from_ddb(self, item: dict[str, Any]) -> dict[str, Any]:
        return {k: self._de.deserialize(v) for k, v in item.items()}

    def put_profiles(self, profiles: Iterable[Profile], *, pseudonym_key: bytes | None = None) -> int:
        """Write profiles 25 per BatchWriteItem, retrying unprocessed items with backoff.

        A republish replaces each profile with the store's view, but keeps what the customer (or
        SES) said since: opt-outs and suppressions already on the stored item are read (100 keys
        per BatchGetItem) and carried into the new one, so republishing never re-subscribes
        anyone. An opt-out landing in the milliseconds between that read and the write of the
        same item is the one that can be lost (docs/LOOP.md).

        With `pseudonym_key` (the stack's secret), each customer's PSEUDO#<pid> -> customer id
        mapping (what the email links and SES events are resolved through) is written once, for
        every profile not yet marked `pseudonym_recorded`, before the profile that carries the
        mark: one write unit per customer at publish, instead of one per email at generate time.
        Returns the profiles written.
        """
        from nudge.identity import pseudonymize

        written = 0
        for chunk in _chunks(self._keeping_opt_outs(profile_to_item(p) for p in profiles), 100):
            if pseudonym_key:
                fresh = [item for item in chunk if not item.get("pseudonym_recorded")]
                self._write_all(
                    {"PutRequest": {"Item": self._to_ddb({"pk": f"PSEUDO#{pseudonymize(str(item['customer_id']), key=pseudonym_key)}",
                                                          "sk": "CUSTOMER", "customer_id": str(item["customer_id"])})}}
                    for item in fresh
                )
                for item in fresh:
                    item["pseudonym_recorded"] = True  # only after its mapping is written
            written += self._write_all({"PutRequest": {"Item": self._to_ddb(item)}} for item in chunk)
        return written

    def _keeping_opt_outs(self, items: Iterable[dict[str, Any]], chunk: int = 100) -> Iterator[dict[str, Any]]:
        from nudge.types import CAMPAIGN_TYPES

        kept = ("suppressed", "suppression_reason", "opted_out", "opted_out_at", "opted_out_campaigns",
                *(f"opted_out_at_{t}" for t in CAMPAIGN_TYPES), "pseudonym_recorded")
        names = {f"#a{i}": name for i, name in enumerate(("pk", *kept))}
        batch: list[dict[str, Any]] = []
        for item in [*items, None]:
            if item is not None:
                batch.append(item)
            if batch and (item is None or len(batch) == chunk):
                stored = self._batch_get([{"pk": i["pk"], "sk": i["sk"]} for i in batch],
                                         projection=", ".join(names), names=names)
                for new in batch:
                    old = stored.get(new["pk"], {})
                    if old.get("suppressed"):
                        new["suppressed"] = True
                        if "suppression_reason" in old:
                            new.setdefault("suppression_reason", old["suppression_reason"])
                    if old.get("opted_out"):
                        new["opted_out"] = True
                    types = set(new.get("opted_out_campaigns") or ()) | set(old.get("opted_out_campaigns") or ())
                    if types:
                        new["opted_out_campaigns"] = types
                    for name in kept:
                        if name.startswith("opted_out_at") and name in old:
                            new[name] = old[name]
                    if old.get("pseudonym_recorded"):
                        new["pseudonym_recorded"] = True
                    yield new
                batch = []

    def _batch_get(self, keys: list[dict[str, str]], *, projection: str = "",
                   names: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
        """BatchGetItem of up to 100 keys (unprocessed keys retried): pk -> the item (projected when asked)."""
        return {str(item["pk"]): item for item in self._batch_get_items(keys, projection=projection, names=names)}

    def _write_all(self, requests: Iterable[dict[str, Any]]) -> int:
        """BatchWriteItem over any number of put/delete requests, 25 per call (streamed)."""
        written = 0
        batch: list[dict[str, Any]] = []
        for request in requests:
            batch.append(request)
            if len(batch) == 25:
                written += self._write_batch(batch)
                batch = []
        if batch:
            written += self._write_batch(batch)
        return written

    def _write_batch(self, requests: list[dict[str, Any]]) -> int:
        pending, attempt = requests, 0
        while pending:
            response = self.dynamodb.batch_write_item(RequestItems={self.table: pending})
            pending = response.get("UnprocessedItems", {}).get(self.table, [])
            attempt += 1
            if pending and attempt > 8:
                raise StorageError(f"{len(pending)} profile writes still unprocessed after {attempt} attempts")
            if pending:
                _backoff(attempt)
        return len(requests)

    def get_profile(self, customer_id: str) -> Profile | None:
        response = self.dynamodb.get_item(
            TableName=self.table, Key=self._to_ddb(_profile_key(customer_id)), ConsistentRead=True
        )
        item = response.get("Item")
        return profile_from_item(self._from_ddb(item)) if item else None

    def get_profiles(self, customer_ids: Sequence[str], *, with_caps: bool = False) -> dict[str, Profile]:
        """BatchGetItem, 100 keys per call, unprocessed keys retried. With `with_caps`, each
        customer's CAP item is read in the same calls (50 customers per call) and its claim time
        becomes the profile's `last_marketing_sent_at` when later (the sweep's cap pre-filter)."""
        found: dict[str, Profile] = {}
        unique = list(dict.fromkeys(customer_ids))
        step = 50 if with_caps else 100
        for start in range(0, len(unique), step):
            chunk = unique[start : start + step]
            keys = [_profile_key(cid) for cid in chunk]
            if with_caps:
                keys += [{"pk": f"CUST#{cid}", "sk": "CAP"} for cid in chunk]
            items = self._batch_get_items(keys)
            caps = {str(i["pk"]): i for i in items if i["sk"] == "CAP"}
            for item in items:
                if item["sk"] == "PROFILE":
                    profile = profile_from_item(_with_cap(item, caps.get(str(item["pk"]))))
                    found[profile.customer.customer_id] = profile
        return found

    def _batch_get_items(self, keys: list[dict[str, str]], *, projection: str = "",
                         names: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """BatchGetItem of up to 100 keys of any sort key (unprocessed keys retried): the items found
        (projected when asked)."""
        found: list[dict[str, Any]] = []
        wanted: dict[str, Any] = {"Keys": [self._to_ddb(k) for k in keys], "ConsistentRead": True}
        if projection:
            wanted.update(ProjectionExpression=projection, ExpressionAttributeNames=names or {})
        request: dict[str, Any] = {self.table: wanted}
        attempt = 0
        while request:
            response = self.dynamodb.batch_get_item(RequestItems=request)
            found += [self._from_ddb(raw) for raw in response.get("Responses", {}).get(self.table, [])]
            request = response.get("UnprocessedKeys") or {}
            attempt += 1
            if request and attempt > 8:
                raise StorageError("profile reads still unprocessed after 8 attempts")
            if request:
                _backoff(attempt)
        return found

    def scan_profiles(self, *, segment: int = 0, total_segments: int = 1, page_size: int = 500) -> Iterator[Profile]:
        """All profiles, page by page (parallel scans split by segment), each with its CAP item's
        claim time as `last_marketing_sent_at` (see scan_profile_page)."""
        start_key: dict[str, Any] | None = None
        while True:
            profiles, start_key = self.scan_profile_page(segment=segment, total_segments=total_segments,
                                                         start_key=start_key, page_size=page_size)
            yield from profiles
            if start_key is None:
                return

    def record_holdout(self, campaign_id: str, customer_ids: Sequence[str], *, now: datetime) -> int:
        """Holdout members are recorded (for uplift measurement), never emailed; the items expire
        `record_days` after `now` (DynamoDB TTL on expires_at), as every send record does."""
        expires_at = _epoch(now) + self.record_days * DAY
        return self._write_all(
            {"PutRequest": {"Item": self._to_ddb({"pk": f"CUST#{cid}", "sk": f"HOLDOUT#{campaign_id}", "at": now.isoformat(),
                                                  "expires_at": expires_at})}}
            for cid in customer_ids
        )

    # --- The write path (docs/ARCHITECTURE.md, "Exactly once"): per (campaign, customer) a SEND#
    # claim with a lease and a fencing token; per customer a CAP item holding the frequency cap.
    def claim_send(
        self, customer_id: str, campaign_id: str, *, now: datetime, token: str, lease_seconds: int = CLAIM_LEASE_SECONDS,
        cap_days: int = 0,
    ) -> str:
        """Claim one email before composing it. Returns:

        - "claimed": this attempt (identified by `token`) may write it, until `now + lease_seconds`;
        - "done": it was already written (a redelivered message);
        - "busy": another attempt holds a live lease (the record is retried later);
        - "frequency_cap": another campaign's email to this customer was claimed within `cap_days`;
        - "erased": the customer was erased on request (no claim may be taken any more).

        Two conditional single-item writes, in this order: the SEND#<campaign> item (absent, or an
        in-progress claim whose lease expired), then the customer's CAP item (not erased, and no
        other campaign's claim in the last `cap_days`, whatever campaign or trigger it came from).
        The CAP write is the atomic cap check; a cap refusal gives the SEND# claim back. A crash
        between the two leaves a leased SEND# claim that the retry takes over. A retry whose
        first request was applied but whose response was lost finds its own token and goes on.
        """
        key = {"pk": f"CUST#{customer_id}", "sk": f"SEND#{campaign_id}"}
        claim = self._claim(key, active="in_progress", finished="done", now=now, token=token, lease_seconds=lease_seconds)
        if claim != "claimed":
            return claim
        cap = self._hold_cap(customer_id, campaign_id, now=now, token=token, cap_days=cap_days)
        if cap != "held":
            self._delete_if_token(key, token=token, active="in_progress")
        return "claimed" if cap == "held" else cap

    def _hold_cap(self, customer_id: str, campaign_id: str, *, now: datetime, token: str, cap_days: int) -> str:
        """Take the customer's CAP item for `campaign_id`: "held", "frequency_cap" or "erased"."""
        from botocore.exceptions import ClientError

        moment = _epoch(now)
        try:
            self.dynamodb.update_item(
                TableName=self.table, Key=self._to_ddb({"pk": f"CUST#{customer_id}", "sk": "CAP"}),
                UpdateExpression="SET campaign = :c, #t = :t, #a = :at, at_epoch = :now, expires_at = :exp",
                ConditionExpression=("attribute_not_exists(erased) AND (attribute_not_exists(at_epoch)"
                                     " OR at_epoch <= :window OR campaign = :c)"),
                ExpressionAttributeNames={"#t": "token", "#a": "at"},
                ExpressionAttributeValues=self._to_ddb({
                    ":c": campaign_id, ":t": token, ":at": now.isoformat(), ":now": moment,
                    ":window": moment - max(0, cap_days) * DAY,  # cap 0: every earlier claim is outside it
                    ":exp": moment + (max(0, cap_days) + 1) * DAY,  # TTL only after the window: never decides
                }),
            )
            return "held"
        except ClientError as exc:
            if _error_code(exc) != "ConditionalCheckFailedException":
                raise
        current = self.dynamodb.get_item(
            TableName=self.table, Key=self._to_ddb({"pk": f"CUST#{customer_id}", "sk": "CAP"}), ConsistentRead=True,
        ).get("Item")
        return "erased" if current and "erased" in current else "frequency_cap"

    def _claim(self, key: dict[str, str], *, active: str, finished: str, now: datetime, token: str, lease_seconds: int) -> str:
        """A leased, token-carrying claim on one item: "claimed", "done" or "busy" (see claim_send)."""
        from botocore.exceptions import ClientError

        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item=self._to_ddb({**key, "status": active, "token": token, "claimed_at": now.isoformat(),
                                   "lease_expires": _epoch(now) + lease_seconds,
                                   "expires_at": _epoch(now) + self.record_days * DAY}),
                ConditionExpression="attribute_not_exists(pk) OR (#s = :active AND lease_expires < :now)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":active": {"S": active}, ":now": {"N": str(_epoch(now))}},
            )
            return "claimed"
        except ClientError as exc:
            if _error_code(exc) != "ConditionalCheckFailedException":
                raise
        current = self.dynamodb.get_item(TableName=self.table, Key=self._to_ddb(key), ConsistentRead=True).get("Item")
        current = self._from_ddb(current) if current else {}
        if current.get("status") == finished:
            return "done"
        if current.get("token") == token:
            return "claimed"  # our own first try was applied; its response was lost
        return "busy"

    def release_send(self, customer_id: str, campaign_id: str, *, token: str) -> bool:
        """Give back this attempt's claim after it failed, so the retry (or another campaign) need
        not wait for the lease. Fenced: only the claim holding `token` is given back; False when a
        newer attempt holds it (this attempt is stale) or it is no longer in progress."""
        self._delete_if_token({"pk": f"CUST#{customer_id}", "sk": "CAP"}, token=token)
        return self._delete_if_token({"pk": f"CUST#{customer_id}", "sk": f"SEND#{campaign_id}"}, token=token, active="in_progress")

    def _delete_if_token(self, key: dict[str, str], *, token: str, active: str = "") -> bool:
        """Delete a claim only while it still carries `token` (and, given `active`, is in that state)."""
        from botocore.exceptions import ClientError

        condition, names, values = "#t = :t", {"#t": "token"}, {":t": {"S": token}}
        if active:
            condition += " AND #s = :active"
            names["#s"], values[":active"] = "status", {"S": active}
        try:
            self.dynamodb.delete_item(TableName=self.table, Key=self._to_ddb(key), ConditionExpression=condition,
                                      ExpressionAttributeNames=names, ExpressionAttributeValues=values)
            return True
        except ClientError as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise

    def mark_sent(
        self, customer_id: str, campaign_id: str, *, now: datetime, token: str, campaign_type: str = "",
        record: Mapping[str, Any] | None = None, eml_sha256: str = "", eml_version: str = "",
    ) -> bool:
        """Complete this attempt's SEND# claim, with the email's audit record (what the copy came
        from, products, model versions, timings: nudge.pipeline; stored zlib-compressed) and the
        SHA-256 and S3 version of the .eml it wrote. Fenced: the update is conditional on the
        claim still carrying `token` and being in progress, so a stale attempt (its lease expired
        and a newer one took over, or the customer was erased: the erasure deletes the item only
        after every lease has ended) completes nothing, re-creates nothing, and gets False.

        The profile is not stamped: the planner's and the sweep's cap pre-filter read the
        customer's CAP item (taken at claim time) beside the profile (scan_profile_page,
        get_profiles(with_caps=True)), which saved a write of the whole profile (several KB, so
        several write units) per email.
        """
        values: dict[str, Any] = {":done": "done", ":active": "in_progress", ":t": token, ":at": now.isoformat(),
                                  ":exp": _epoch(now) + self.record_days * DAY}
        sets = ["#s = :done", "#a = :at", "expires_at = :exp"]
        for name, value in (("campaign_type", campaign_type), ("eml_sha256", eml_sha256), ("eml_version", eml_version)):
            if value:
                sets.append(f"{name} = :{name}")
                values[f":{name}"] = value
        if record is not None:
            sets.append("record_z = :record")
            values[":record"] = encode_record(record)
        return self._update_if(
            Key=self._to_ddb({"pk": f"CUST#{customer_id}", "sk": f"SEND#{campaign_id}"}),
            # the lease, token and claim time mean nothing once done (a done claim is never taken
            # over or released): removing them keeps the item, record included, near one write unit
            UpdateExpression="SET " + ", ".join(sets) + " REMOVE lease_expires, #t, claimed_at",
            ConditionExpression="#t = :t AND #s = :active",
            ExpressionAttributeNames={"#s": "status", "#a": "at", "#t": "token"},
            ExpressionAttributeValues=self._to_ddb(values),
        )

    def completed_sends(self) -> Iterator[dict[str, Any]]:
        """Every completed SEND# item with its audit record decoded ("record"), page by page: a
        whole-table Scan, for local tools (the demo's export) and checks, never the functions."""
        for page in self.dynamodb.get_paginator("scan").paginate(
            TableName=self.table, FilterExpression="begins_with(sk, :send) AND #s = :done",
            ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":send": {"S": "SEND#"}, ":done": {"S": "done"}},
        ):
            for raw in page.get("Items", []):
                yield with_record(self._from_ddb(raw))

    # --- Pseudonymous id -> customer: what comes back (a link token, an SES event) names the customer
    # only by pseudonymous id, which nobody can invert; the generate step records the way back.
    def put_pseudonym(self, pseudonymous_id: str, customer_id: str, *, now: datetime | None = None, keep_days: int = 0) -> None:
        """Record that `pseudonymous_id` is `customer_id` (idempotent: the same pair each time). With
        `keep_days`, the item expires that long after `now` (rewritten by every email, so it lives as
        long as the links of the customer's latest email)."""
        item: dict[str, Any] = {"pk": f"PSEUDO#{pseudonymous_id}", "sk": "CUSTOMER", "customer_id": customer_id}
        if now is not None and keep_days:
            item["expires_at"] = _epoch(now) + keep_days * DAY
        self.dynamodb.put_item(TableName=self.table, Item=self._to_ddb(item))

    def customer_for_pseudonym(self, pseudonymous_id: str) -> str | None:
        """The customer id behind a pseudonymous id, or None when none was recorded (or it was erased)."""
        item = self.dynamodb.get_item(
            TableName=self.table, Key=self._to_ddb({"pk": f"PSEUDO#{pseudonymous_id}", "sk": "CUSTOMER"}), ConsistentRead=True,
        ).get("Item")
        return str(self._from_ddb(item)["customer_id"]) if item else None

    def delete_pseudonym(self, pseudonymous_id: str) -> None:
        self.dynamodb.delete_item(TableName=self.table, Key=self._to_ddb({"pk": f"PSEUDO#{pseudonymous_id}", "sk": "CUSTOMER"}))

    # --- Erasure on request (nudge.service.erase_customer): tombstone, wait out live claims, delete.
    def mark_erased(self, customer_id: str, *, now: datetime, keep_days: int) -> None:
        """Replace the customer's CAP item with a tombstone, so every later claim fails ("erased");
        it expires after `keep_days` (longer than any job for the customer can wait in the queues)."""
        self.dynamodb.put_item(TableName=self.table, Item=self._to_ddb({
            "pk": f"CUST#{customer_id}", "sk": "CAP", "erased": True, "at": now.isoformat(),
            "expires_at": _epoch(now) + keep_days * DAY}))

    def live_claims_until(self, customer_id: str, *, now: datetime) -> int:
        """The latest lease end (epoch s) among the customer's claims still in progress, or 0."""
        latest = 0
        for item in self._customer_items(customer_id, projection="lease_expires, #s", names={"#s": "status"}):
            if item.get("status") in ("in_progress", "sending") and int(item.get("lease_expires", 0)) > _epoch(now):
                latest = max(latest, int(item["lease_expires"]))
        return latest

    def _customer_items(self, customer_id: str, *, projection: str = "", names: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
        pages = self.dynamodb.get_paginator("query").paginate(
            TableName=self.table, KeyConditionExpression="pk = :pk", ConsistentRead=True,
            ExpressionAttributeValues={":pk": {"S": f"CUST#{customer_id}"}}, ProjectionExpression=f"pk, sk, {projection}".rstrip(", "),
            **({"ExpressionAttributeNames": names} if names else {}),
        )
        for page in pages:
            for raw in page.get("Items", []):
                yield self._from_ddb(raw)

    def delete_customer(self, customer_id: str, *, keep_tombstone: bool = False) -> int:
        """Delete every item of one customer (profile, sends, deliveries, holdouts, cap): erasure on
        request. With `keep_tombstone`, the CAP tombstone (mark_erased) stays until its TTL."""
        return self._write_all(
            {"DeleteRequest": {"Key": self._to_ddb({"pk": item["pk"], "sk": item["sk"]})}}
            for item in list(self._customer_items(customer_id, projection=""))
            if not (keep_tombstone and item["sk"] == "CAP")
        )

    def opt_out(self, customer_id: str, *, now: datetime, campaign_type: str | None = None) -> str | None:
        """Opt a customer out of every marketing email (campaign_type None: one-click unsubscribe,
        RFC 8058) or of one campaign type, in place and idempotently: SET a flag, or ADD the type to
        a string set, and keep the time it first took effect (if_not_exists).

        Returns that first time (ISO 8601), the same on every replay, so an event logged at it has
        the same key however often the link is followed; None when the customer has no profile
        (erased: never re-created).
        """
        from botocore.exceptions import ClientError

        from nudge.types import CAMPAIGN_TYPES

        if campaign_type is None:
            update, names, values = "SET opted_out = :t, #at = if_not_exists(#at, :now)", {"#at": "opted_out_at"}, {":t": True}
        elif campaign_type in CAMPAIGN_TYPES:
            update, names = "ADD opted_out_campaigns :types SET #at = if_not_exists(#at, :now)", {"#at": f"opted_out_at_{campaign_type}"}
            values = {":types": {campaign_type}}
        else:
            raise ValueError(f"campaign_type must be one of {CAMPAIGN_TYPES} or None, got {campaign_type!r}")
        try:
            response = self.dynamodb.update_item(
                TableName=self.table,
                Key=self._to_ddb(_profile_key(customer_id)),
                UpdateExpression=update,
                ConditionExpression="attribute_exists(pk)",  # never re-create an erased customer
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=self._to_ddb({**values, ":now": now.isoformat()}),
                # ALL_NEW, not UPDATED_NEW: an if_not_exists that keeps the old value is not "updated"
                # everywhere (moto leaves it out), and the first time is what the caller needs
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                return None
            raise
        return str(self._from_ddb(response.get("Attributes", {})).get(names["#at"], now.isoformat()))

    def _update_if(self, **request: Any) -> bool:
        """UpdateItem with a ConditionExpression: True when applied, False when the condition refused it."""
        from botocore.exceptions import ClientError

        try:
            self.dynamodb.update_item(TableName=self.table, **request)
            return True
        except ClientError as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise

    def set_suppressed(self, customer_id: str, reason: str) -> bool:
        """Suppress a customer's address (a permanent bounce, a complaint). False, and no write, when the
        customer has no profile: an erased customer is never re-created as a stub by a late SES event."""
        return self._update_if(
            Key=self._to_ddb(_profile_key(customer_id)),
            UpdateExpression="SET suppressed = :t, suppression_reason = :r",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":t": {"BOOL": True}, ":r": {"S": reason}},
        )

    # --- Abandoned-cart trigger (nudge.triggers): the profile's cart and due-time items ---------
    def update_cart(self, customer_id: str, *, items: list[str], at: str) -> bool:
        """Set the profile's cart to `items` as of `at` (UTC ISO string). False, and no write, when
        the customer has no profile or the profile holds a newer cart (events arrive out of order)."""
        return self._update_if(
            Key=self._to_ddb(_profile_key(customer_id)),
            UpdateExpression="SET carted = :items, cart_updated_at = :at",
            ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(cart_updated_at) OR cart_updated_at <= :at)",
            ExpressionAttributeValues=self._to_ddb({":items": items, ":at": at}),
        )

    def record_order(
        self, customer_id: str, *, carted: list[str], purchased: list[str], purchased_on: list[str],
        last_order_at: str, cart_updated_at_seen: str | None
    ) -> bool:
        """Write an order's effect on the profile, provided the cart is still the version read
        (`cart_updated_at_seen`, None: no cart yet). False when a cart update came in between.
        `purchased_on`: ISO days parallel to `purchased` ("" where unknown)."""
        seen = "attribute_not_exists(cart_updated_at)" if cart_updated_at_seen is None else "cart_updated_at = :seen"
        values: dict[str, Any] = {":carted": carted, ":purchased": purchased, ":purchased_on": purchased_on,
                                  ":ordered": last_order_at}
        if cart_updated_at_seen is not None:
            values[":seen"] = cart_updated_at_seen
        return self._update_if(
            Key=self._to_ddb(_profile_key(customer_id)),
            UpdateExpression="SET carted = :carted, purchased = :purchased, purchased_on = :purchased_on, "
                             "last_order_at = :ordered",
            ConditionExpression=f"attribute_exists(pk) AND {seen}",
            ExpressionAttributeValues=self._to_ddb(values),
        )

    def put_due(self, bucket: str, sort_key: str, *, customer_id: str, version: str, due_at: str, expires_at: int) -> None:
        """Record a due-time item (pk = bucket "DUE#<yyyy-mm-ddTHH:MM>"); TTL on expires_at (epoch s).
        Rewriting the same (bucket, sort key) is harmless: a redelivered event records nothing new."""
        self.dynamodb.put_item(
            TableName=self.table,
            Item=self._to_ddb({"pk": bucket, "sk": sort_key, "customer_id": customer_id, "version": version,
                               "due_at": due_at, "expires_at": expires_at}),
        )

    def query_due(self, bucket: str) -> Iterator[dict[str, Any]]:
        """Every due item in one bucket, page by page (plain dicts)."""
        for page in self.dynamodb.get_paginator("query").paginate(
            TableName=self.table, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": bucket}},
            ConsistentRead=True,
        ):
            for raw in page.get("Items", []):
                yield self._from_ddb(raw)

    def delete_due(self, bucket: str, sort_key: str) -> None:
        self.dynamodb.delete_item(TableName=self.table, Key=self._to_ddb({"pk": bucket, "sk": sort_key}))

    # --- Optional sending (nudge.sending): SEND# status and a SENT# claim per (campaign, customer)
    def send_status(self, customer_id: str, campaign_id: str) -> str | None:
        """The status of the generate function's SEND#<campaign> item ("done" once the email is written)."""
        record = self.send_record(customer_id, campaign_id)
        return str(record.get("status")) if record else None

    def send_record(self, customer_id: str, campaign_id: str) -> dict[str, Any] | None:
        """The generate function's SEND#<campaign> item (status, at, campaign_type, eml_sha256,
        eml_version and the decoded audit "record" once done), or None."""
        item = self.dynamodb.get_item(
            TableName=self.table, Key=self._to_ddb({"pk": f"CUST#{customer_id}", "sk": f"SEND#{campaign_id}"}),
            ConsistentRead=True,
        ).get("Item")
        return with_record(self._from_ddb(item)) if item else None

    def claim_delivery(
        self, customer_id: str, campaign_id: str, *, now: datetime, token: str, lease_seconds: int = CLAIM_LEASE_SECONDS,
    ) -> str:
        """Claim the SENT#<campaign> item before handing an email to SES, as claim_send does for
        writing: "claimed", "done" (already sent) or "busy" (another attempt holds a live lease)."""
        return self._claim(
            {"pk": f"CUST#{customer_id}", "sk": f"SENT#{campaign_id}"},
            active="sending", finished="sent", now=now, token=token, lease_seconds=lease_seconds,
        )

    def complete_delivery(self, customer_id: str, campaign_id: str, *, now: datetime, message_id: str, token: str) -> bool:
        """Record SES's message id on this attempt's SENT# claim. Fenced on `token` (a conditional
        PutItem): False when the claim is no longer this attempt's (its lease expired and a newer
        attempt took over)."""
        from botocore.exceptions import ClientError

        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item=self._to_ddb({"pk": f"CUST#{customer_id}", "sk": f"SENT#{campaign_id}", "status": "sent", "token": token,
                                   "at": now.isoformat(), "ses_message_id": message_id,
                                   "expires_at": _epoch(now) + self.record_days * DAY}),
                ConditionExpression="#t = :t AND #s = :active",
                ExpressionAttributeNames={"#t": "token", "#s": "status"},
                ExpressionAttributeValues={":t": {"S": token}, ":active": {"S": "sending"}},
            )
            return True
        except ClientError as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise

    def release_delivery(self, customer_id: str, campaign_id: str, *, token: str) -> bool:
        """Drop this attempt's "sending" claim after SES refused, so the retry need not wait for the
        lease; False (nothing done) when a newer attempt holds it."""
        return self._delete_if_token({"pk": f"CUST#{customer_id}", "sk": f"SENT#{campaign_id}"}, token=token, active="sending")

    # --- Segmented plans (nudge.service.PlanService; the plan state machine, docs/ARCHITECTURE.md
    # "Planning at scale"): one Scan page at a time, and per campaign a PLAN#<campaign> partition
    # holding the plan's META item and one checkpoint item per segment (SEG#<total>#<segment>).
    def scan_profile_page(
        self, *, segment: int, total_segments: int, start_key: Mapping[str, Any] | None = None, page_size: int = 1000,
    ) -> tuple[list[Profile], dict[str, Any] | None]:
        """One page of a parallel Scan: (profiles, LastEvaluatedKey, None at the segment's end).

        `page_size` is the Scan's Limit: items evaluated, before the filter keeps profiles and CAP
        items (a page is also cut at 1 MB). The key stays in DynamoDB's typed JSON form
        ({"pk": {"S": ...}, ...}), so a checkpoint can store it and a later invocation pass it back
        as ExclusiveStartKey.

        Each profile comes with its customer's latest marketing email as `last_marketing_sent_at`:
        the later of the profile's own field and its CAP item's claim time (the frequency cap the
        generate function enforces; nudge.planner.decide's pre-filter). A Scan is billed by the
        bytes it reads, not by what its filter returns, so returning the CAP items costs nothing
        more. A customer's items are read in sort-key order ("CAP" before "PROFILE"); a page that
        starts inside a customer's items before their profile reads that customer's CAP item once.
        """
        request: dict[str, Any] = {
            "TableName": self.table, "Segment": segment, "TotalSegments": total_segments, "Limit": page_size,
            "FilterExpression": "sk IN (:profile, :cap)",
            "ExpressionAttributeValues": {":profile": {"S": "PROFILE"}, ":cap": {"S": "CAP"}},
        }
        caps: dict[str, dict[str, Any]] = {}
        if start_key:
            request["ExclusiveStartKey"] = dict(start_key)
            pk, sk = str(start_key.get("pk", {}).get("S", "")), str(start_key.get("sk", {}).get("S", ""))
            if pk.startswith("CUST#") and "CAP" <= sk < "PROFILE":  # the page resumes between this customer's CAP and profile
                cap = self.dynamodb.get_item(TableName=self.table, Key=self._to_ddb({"pk": pk, "sk": "CAP"})).get("Item")
                if cap:
                    caps[pk] = self._from_ddb(cap)
        response = self.dynamodb.scan(**request)
        items = [self._from_ddb(raw) for raw in response.get("Items", [])]
        caps.update({str(item["pk"]): item for item in items if item["sk"] == "CAP"})
        profiles = [profile_from_item(_with_cap(item, caps.get(str(item["pk"])))) for item in items if item["sk"] == "PROFILE"]
        return profiles, response.get("LastEvaluatedKey") or None

    def start_plan(self, campaign_id: str, *, meta: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        """Record a plan's META item unless the campaign id already has one; returns the stored item
        (a re-run gets the first run's segment count and start time back)."""
        from botocore.exceptions import ClientError

        key = {"pk": f"PLAN#{campaign_id}", "sk": "META"}
        item = {**key, **{k: v for k, v in meta.items() if v is not None}, "status": "running",
                "expires_at": _epoch(now) + self.record_days * DAY}
        try:
            self.dynamodb.put_item(TableName=self.table, Item=self._to_ddb(item), ConditionExpression="attribute_not_exists(pk)")
            return {k: v for k, v in item.items() if k not in key}
        except ClientError as exc:
            if _error_code(exc) != "ConditionalCheckFailedException":
                raise
        stored = self.dynamodb.get_item(TableName=self.table, Key=self._to_ddb(key), ConsistentRead=True)["Item"]
        return {k: v for k, v in self._from_ddb(stored).items() if k not in key}

    def finish_plan(self, campaign_id: str, *, summary: Mapping[str, Any]) -> None:
        """Mark a plan's META item done, with its totals."""
        self.dynamodb.update_item(
            TableName=self.table, Key=self._to_ddb({"pk": f"PLAN#{campaign_id}", "sk": "META"}),
            UpdateExpression="SET #s = :done, summary = :summary", ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=self._to_ddb({":done": "done", ":summary": json.dumps(dict(summary), sort_keys=True)}),
        )

    def plan_checkpoint(self, campaign_id: str, *, segment: int, total_segments: int) -> dict[str, Any] | None:
        """A segment's checkpoint: pages done, the Scan key to go on from, counts so far, done."""
        item = self.dynamodb.get_item(
            TableName=self.table, Key=self._to_ddb(_checkpoint_key(campaign_id, segment, total_segments)), ConsistentRead=True,
        ).get("Item")
        return _checkpoint_from_item(self._from_ddb(item)) if item else None

    def save_plan_checkpoint(
        self, campaign_id: str, *, segment: int, total_segments: int, pages: int, start_key: Mapping[str, Any] | None,
        counts: Mapping[str, int], done: bool, now: datetime,
    ) -> None:
        """Move a segment's checkpoint from page `pages - 1` to `pages`, only if it still says
        `pages - 1`: a stale invocation (one Step Functions gave up on while it ran) fails with
        StorageError instead of moving the checkpoint back."""
        from botocore.exceptions import ClientError

        item = {**_checkpoint_key(campaign_id, segment, total_segments), "pages": pages, "done": done,
                "start_key": json.dumps(dict(start_key), sort_keys=True) if start_key else None,
                "counts": {k: int(v) for k, v in counts.items() if v}, "at": now.isoformat(),
                "expires_at": _epoch(now) + self.record_days * DAY}
        condition = "attribute_not_exists(pk)" if pages == 1 else "pages = :previous"
        try:
            self.dynamodb.put_item(
                TableName=self.table, Item=self._to_ddb({k: v for k, v in item.items() if v is not None}),
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": {":previous": {"N": str(pages - 1)}}} if pages > 1 else {}),
            )
        except ClientError as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                raise StorageError(f"plan {campaign_id} segment {segment}: checkpoint moved by another invocation") from None
            raise

    def plan_checkpoints(self, campaign_id: str) -> list[dict[str, Any]]:
        """Every segment checkpoint of a plan (one Query of its PLAN# partition)."""
        found = []
        for page in self.dynamodb.get_paginator("query").paginate(
            TableName=self.table, KeyConditionExpression="pk = :pk AND begins_with(sk, :seg)", ConsistentRead=True,
            ExpressionAttributeValues={":pk": {"S": f"PLAN#{campaign_id}"}, ":seg": {"S": "SEG#"}},
        ):
            found += [_checkpoint_from_item(self._from_ddb(raw)) for raw in page.get("Items", [])]
        return found


def _checkpoint_key(campaign_id: str, segment: int, total_segments: int) -> dict[str, str]:
    # The segment count is part of the key: a checkpoint of segment 3 of 16 means nothing to segment 3 of 8.
    return {"pk": f"PLAN#{campaign_id}", "sk": f"SEG#{total_segments:04d}#{segment:04d}"}


def _checkpoint_from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    _, total, segment = str(item["sk"]).split("#")
    return {
        "segment": int(segment), "total_segments": int(total), "pages": int(item.get("pages", 0)),
        "start_key": json.loads(item["start_key"]) if item.get("start_key") else None,
        "counts": {str(k): int(v) for k, v in (item.get("counts") or {}).items()}, "done": bool(item.get("done", False)),
    }


@dataclass
class EmailStore:
    """Writes generated emails to S3 under deterministic keys."""

    bucket: str
    s3: Any = None

    def __post_init__(self) -> None:
        self.s3 = self.s3 or client("s3")

    def put_once(self, key: str, body: bytes, *, content_type: str) -> bool:
        """Create the object unless it exists (S3 conditional write, If-None-Match: *).

        True when written now, False when an earlier attempt already wrote it: a retried job
        never adds a second version of an email.
        """
        from botocore.exceptions import ClientError

        try:
            self.s3.put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentType=content_type,
                ServerSideEncryption="AES256", IfNoneMatch="*",
            )
            return True
        except ClientError as exc:
            if _error_code(exc) in {"PreconditionFailed", "412"}:
                return False
            raise

    def put(self, key: str, body: bytes, *, content_type: str) -> str:
        """Write (or overwrite) an object; returns its S3 version id ("" on an unversioned bucket).
        The generate function writes an email's one object this way, only while it holds the
        email's claim, and records the version id with the claim's completion."""
        response = self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, ServerSideEncryption="AES256")
        version = response.get("VersionId") or ""
        return "" if version == "null" else str(version)

    def delete_prefix(self, prefix: str) -> int:
        """Delete every version of every object under a prefix (erasure on request)."""
        deleted = 0
        for page in self.s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=prefix):
            doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            for start in range(0, len(doomed), 1000):
                self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": doomed[start : start + 1000], "Quiet": True})
                deleted += len(doomed[start : start + 1000])
        return deleted

    def campaign_prefixes(self, root: str = "emails/") -> list[str]:
        prefixes: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=root, Delimiter="/"):
            prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        return prefixes

    def get(self, key: str, *, version_id: str = "") -> bytes | None:
        """An object's bytes (a given version of it, with `version_id`), or None when there is none
        (expired, or erased on request)."""
        from botocore.exceptions import ClientError

        try:
            extra = {"VersionId": version_id} if version_id else {}
            return self.s3.get_object(Bucket=self.bucket, Key=key, **extra)["Body"].read()
        except ClientError as exc:
            if _error_code(exc) in {"NoSuchKey", "NoSuchVersion", "404"}:
                return None
            raise


@dataclass
class EventLog:
    """Writes nudge.eventlog events to S3, one conditional object each: a replayed event is not written
    twice (put returns False), so every consumer of the log may count an event id once."""

    bucket: str
    s3: Any = None
    written: int = 0
    replayed: int = 0

    def __post_init__(self) -> None:
        self.s3 = self.s3 or client("s3")
        self._objects = EmailStore(self.bucket, s3=self.s3)

    def put(self, event: Any) -> bool:
        """True when `event` (a nudge.eventlog.Event) is new, False when its event_id was already logged."""
        from nudge.eventlog import event_key, to_json_line

        fresh = self._objects.put_once(event_key(event), to_json_line(event).encode("utf-8"), content_type="application/x-ndjson")
        if fresh:
            self.written += 1
        else:
            self.replayed += 1
        return fresh

    def put_many(self, events: Sequence[Any], *, per_object: int = 1000) -> int:
        """Write many events (nudge.eventlog.Event) as few objects: one JSON Lines object per type,
        day and chunk of `per_object` events, each conditional on its key (nudge.eventlog.batch_key),
        so the same batch written twice is written once. Returns the objects newly written."""
        from nudge.eventlog import batch_key, batches, to_json_lines

        fresh = 0
        for chunk in batches(events, per_object=per_object):
            if self._objects.put_once(batch_key(chunk), to_json_lines(chunk).encode("utf-8"),
                                      content_type="application/x-ndjson"):
                fresh += 1
                self.written += len(chunk)
            else:
                self.replayed += len(chunk)
        return fresh

    def exists(self, event: Any) -> bool:
        """True when `event`'s event_id was already logged (one HEAD on its key)."""
        from botocore.exceptions import ClientError

        from nudge.eventlog import event_key

        try:
            self.s3.head_object(Bucket=self.bucket, Key=event_key(event))
            return True
        except ClientError as exc:
            if _error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise

    def keys(self, prefix: str = "events/") -> Iterator[str]:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"]


@dataclass
class JobQueue:
    """Sends job messages 10 per SendMessageBatch, retrying the entries that failed."""

    queue_url: str
    sqs: Any = None
    max_attempts: int = 5
    sent: int = 0
    failed: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sqs = self.sqs or client("sqs")

    def send(self, jobs: Sequence[Job]) -> int:
        for start in range(0, len(jobs), 10):
            self._send_batch(jobs[start : start + 10])
        return self.sent

    def send_parallel(self, jobs: Sequence[Job], *, threads: int = 8) -> int:
        """send(), with up to `threads` SendMessageBatch calls in flight at once (the planner's
        segments: a call is ~10-30 ms of network wait, so one thread would spend a page mostly
        waiting). Counts are added up in the calling thread. Returns the jobs sent by this call."""
        chunks = [jobs[start : start + 10] for start in range(0, len(jobs), 10)]
        if threads <= 1 or len(chunks) <= 1:
            before = self.sent
            self.send(jobs)
            return self.sent - before
        from concurrent.futures import ThreadPoolExecutor

        sent = 0
        with ThreadPoolExecutor(max_workers=min(threads, len(chunks)), thread_name_prefix="sqs-send") as pool:
            for ok, failures in pool.map(self._try_batch, chunks):
                sent += ok
                self.failed.extend(failures)
        self.sent += sent
        return sent

    def _send_batch(self, jobs: Sequence[Job]) -> None:
        sent, failures = self._try_batch(jobs)
        self.sent += sent
        self.failed.extend(failures)

    def _try_batch(self, jobs: Sequence[Job]) -> tuple[int, list[str]]:
        """One SendMessageBatch of up to 10 jobs, retrying failed entries: (sent, failure messages).
        Touches no shared state, so threads may run it side by side."""
        entries = {str(i): {"Id": str(i), "MessageBody": job.to_body()} for i, job in enumerate(jobs)}
        sent, failures = 0, []
        for attempt in range(1, self.max_attempts + 1):
            response = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=list(entries.values()))
            for ok in response.get("Successful", []):
                entries.pop(ok["Id"], None)
                sent += 1
            retryable = {f["Id"] for f in response.get("Failed", []) if not f.get("SenderFault")}
            for failure in response.get("Failed", []):
                if failure["Id"] not in retryable:  # a sender fault will not heal on retry
                    failures.append(f"{failure.get('Code')}: {failure.get('Message')}")
                    entries.pop(failure["Id"], None)
            if not entries:
                return sent, failures
            _backoff(attempt)
        return sent, failures + [f"unsent after {self.max_attempts} attempts" for _ in entries]


def download_prefix(uri: str, dest: Path, *, s3: Any = None) -> Path:
    """Copy s3://bucket/prefix/ to a local directory (artifacts at cold start), which then holds
    exactly the prefix's files (any other file there is removed). A local path is returned unchanged."""
    if not uri.startswith("s3://"):
        return Path(uri)
    import shutil

    s3 = s3 or client("s3")
    bucket, _, prefix = uri[5:].partition("/")
    dest.mkdir(parents=True, exist_ok=True)
    wanted = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            relative = obj["Key"][len(prefix) :].lstrip("/")
            if relative and ".." not in Path(relative).parts:
                wanted.append((obj["Key"], dest / relative, int(obj.get("Size", 0))))
    if not wanted:
        raise StorageError(f"no artifacts found under {uri}")
    # a large catalog's artifacts can outgrow /tmp (Lambda's ephemeral storage, 512 MB unless the
    # template's GenerateEphemeralStorageMB raises it): say so before a download dies half way
    needed = sum(size for _, target, size in wanted if not (target.is_file() and target.stat().st_size == size))
    free = shutil.disk_usage(dest).free
    if needed > free:
        raise StorageError(f"artifacts under {uri} need {needed / 2**20:.0f} MB, {dest} has {free / 2**20:.0f} MB free: "
                           "raise the function's ephemeral storage (template.yaml GenerateEphemeralStorageMB; "
                           "docs/RECOMMENDER.md sizes it per catalog)")
    for key, target, _ in wanted:
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, key, str(target))
    # dest mirrors the prefix: a file left by an earlier download (another catalog, an older artifact
    # format) would otherwise be read beside the new ones
    keep = {target for _, target, _ in wanted}
    for stale in [path for path in dest.rglob("*") if path.is_file() and path not in keep]:
        stale.unlink(missing_ok=True)
    return dest


def upload_dir(src: Path, uri: str, *, s3: Any = None) -> int:
    s3 = s3 or client("s3")
    bucket, _, prefix = uri[5:].partition("/")
    count = 0
    for path in sorted(p for p in src.rglob("*") if p.is_file()):
        key = f"{prefix.rstrip('/')}/{path.relative_to(src).as_posix()}".lstrip("/")
        s3.upload_file(str(path), bucket, key, ExtraArgs={"ServerSideEncryption": "AES256"})
        count += 1
    return count


def load_secret_keys(secret_arn: str) -> dict[str, str]:
    """{"pseudonym_key": ..., "link_key": ...} from Secrets Manager."""
    response = client("secretsmanager").get_secret_value(SecretId=secret_arn)
    data = json.loads(response["SecretString"])
    return {k: str(v) for k, v in data.items()}


@dataclass
class RawEmailSender:
    """Hands a finished MIME message (.eml bytes) to Amazon SES, as it is (SendRawEmail)."""

    ses: Any = None
    configuration_set: str = ""  # SES configuration set whose event destination feeds the events function

    def __post_init__(self) -> None:
        self.ses = self.ses or client("ses")

    def send(self, eml: bytes, *, tags: Mapping[str, str] | None = None) -> str:
        """Send one raw message; SES reads sender and recipients from its headers. Returns SES's
        message id. With a configuration set, SES publishes the message's events (delivery, bounce,
        complaint, open, click) with `tags` (names and values already in SES's alphabet:
        nudge.ses_events.message_tags), which is how an event finds its campaign and customer.
        A refusal is re-raised as StorageError with SES's error code only: SES's own message can
        name the recipient's address, which must never reach a log."""
        from botocore.exceptions import ClientError

        request: dict[str, Any] = {"RawMessage": {"Data": eml}}
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        if tags:
            request["Tags"] = [{"Name": name, "Value": value} for name, value in tags.items()]
        try:
            return str(self.ses.send_raw_email(**request)["MessageId"])
        except ClientError as exc:
            code = _error_code(exc) or "unknown"
            raise StorageError(f"SES refused the message ({code}); see the SES console or sending statistics") from None
