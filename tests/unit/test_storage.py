"""The storage adapter: partial SendMessageBatch failures are retried; profiles round-trip."""

from __future__ import annotations

import json
from datetime import date

from nudge.jobs import Job
from nudge.storage import JobQueue, ProfileStore


class FlakySqs:
    """Fails the first entry of every batch once (a throttled entry), then accepts it."""

    def __init__(self):
        self.calls, self.failed_once = [], set()

    def send_message_batch(self, QueueUrl, Entries):
        self.calls.append([e["Id"] for e in Entries])
        ok, failed = [], []
        for entry in Entries:
            key = entry["MessageBody"]
            if key not in self.failed_once and entry is Entries[0]:
                self.failed_once.add(key)
                failed.append({"Id": entry["Id"], "SenderFault": False, "Code": "ThrottlingException", "Message": "slow down"})
            else:
                ok.append({"Id": entry["Id"]})
        return {"Successful": ok, "Failed": failed}


def jobs(n):
    return [Job(campaign_id="c", campaign_type="loyalty", customer_id=f"c{i}", send_date=date(2026, 11, 20)) for i in range(n)]


def test_partial_batch_failures_are_retried_until_sent(monkeypatch):
    monkeypatch.setattr("nudge.storage.time.sleep", lambda s: None)
    # GIVEN a queue that throttles one entry per batch once
    sqs = FlakySqs()
    queue = JobQueue("https://sqs.local/q", sqs=sqs)
    # WHEN 25 jobs are sent
    sent = queue.send(jobs(25))
    # THEN all 25 arrive, in batches of at most 10, the throttled entries on a second call
    assert sent == 25 and queue.failed == []
    assert all(len(call) <= 10 for call in sqs.calls)
    assert len(sqs.calls) == 6  # 3 batches, each retried once for its throttled entry


def test_sender_fault_is_reported_not_retried(monkeypatch):
    monkeypatch.setattr("nudge.storage.time.sleep", lambda s: None)

    class BadSqs:
        def send_message_batch(self, QueueUrl, Entries):
            return {"Successful": [], "Failed": [{"Id": e["Id"], "SenderFault": True, "Code": "InvalidMessageContents", "Message": "bad"} for e in Entries]}

    queue = JobQueue("https://sqs.local/q", sqs=BadSqs())
    assert queue.send(jobs(3)) == 0
    assert len(queue.failed) == 3 and "InvalidMessageContents" in queue.failed[0]


def test_profiles_round_trip_through_dynamodb(aws, tiny_profiles):
    from nudge_local.stack import create_stack

    stack = create_stack()
    store = ProfileStore(stack.table)
    store.put_profiles(tiny_profiles.values())
    loaded = store.get_profiles(list(tiny_profiles))
    assert loaded == tiny_profiles
    assert sorted(p.customer.customer_id for p in store.scan_profiles(page_size=2)) == sorted(tiny_profiles)


def test_claim_send_is_once_per_campaign_and_customer(aws, tiny_profiles):
    from datetime import datetime, timedelta, timezone

    from nudge_local.stack import create_stack

    store = ProfileStore(create_stack().table)
    store.put_profiles(tiny_profiles.values())
    now = datetime(2026, 11, 20, tzinfo=timezone.utc)
    assert store.claim_send("c001", "camp", now=now, token="a") == "claimed"
    assert store.claim_send("c001", "camp", now=now, token="a") == "claimed"  # our own lost response
    assert store.claim_send("c001", "camp", now=now, token="b") == "busy"  # in progress elsewhere
    assert store.claim_send("c001", "camp", now=now + timedelta(hours=1), token="b") == "claimed"  # lease expired
    assert store.mark_sent("c001", "camp", now=now, token="a") is False  # fenced: "a" lost the claim to "b"
    assert store.release_send("c001", "camp", token="a") is False  # ... and cannot give it back either
    assert store.mark_sent("c001", "camp", now=now, token="b") is True
    assert store.claim_send("c001", "camp", now=now + timedelta(days=2), token="c") == "done"  # never again
    # AND the profile item is not rewritten per email: the planner's Scan (and the sweep's read) take
    # the latest claim's time from the customer's CAP item (b's claim, an hour later)
    assert store.get_profile("c001").last_marketing_sent_at is None
    scanned = {p.customer.customer_id: p for p in store.scan_profiles()}
    assert scanned["c001"].last_marketing_sent_at == now + timedelta(hours=1)
    assert store.get_profiles(["c001"], with_caps=True)["c001"].last_marketing_sent_at == now + timedelta(hours=1)


def test_every_scan_page_size_gives_each_profile_its_cap_time(aws, tiny_profiles):
    from datetime import datetime, timedelta, timezone

    from nudge_local.stack import create_stack

    # GIVEN customers with CAP items (claims) and other items between them (sends, holdouts)
    store = ProfileStore(create_stack().table)
    store.put_profiles(tiny_profiles.values())
    now = datetime(2026, 11, 20, tzinfo=timezone.utc)
    claimed = {}
    for n, cid in enumerate(sorted(tiny_profiles)[::2]):
        at = now + timedelta(hours=n)
        assert store.claim_send(cid, f"camp{n}", now=at, token=f"t{n}", cap_days=7) == "claimed"
        claimed[cid] = at
    store.record_holdout("other", sorted(tiny_profiles)[1::2], now=now)
    # WHEN the table is scanned with every page size, so pages start and end between a CAP and its profile
    for page_size in range(1, 8):
        scanned = {p.customer.customer_id: p.last_marketing_sent_at for p in store.scan_profiles(page_size=page_size)}
        # THEN every profile comes once, with its own claim's time (None when never claimed)
        assert scanned == {cid: claimed.get(cid) for cid in tiny_profiles}, page_size


def test_the_frequency_cap_is_taken_at_claim_time_across_campaigns(aws, tiny_profiles):
    from datetime import datetime, timedelta, timezone

    from nudge_local.stack import create_stack

    # GIVEN c001's email for campaign "a" claimed (a 7-day cap)
    store = ProfileStore(create_stack().table)
    store.put_profiles(tiny_profiles.values())
    now = datetime(2026, 11, 20, tzinfo=timezone.utc)
    assert store.claim_send("c001", "a", now=now, token="a1", cap_days=7) == "claimed"
    # WHEN campaign "b" (or a cart reminder) claims c001 inside the cap THEN it is refused, and its SEND# claim given back
    assert store.claim_send("c001", "b", now=now + timedelta(days=3), token="b1", cap_days=7) == "frequency_cap"
    assert store.send_record("c001", "b") is None
    # AND campaign "a" itself may still retry (its own claim), and "b" may once the cap has passed
    assert store.claim_send("c001", "a", now=now + timedelta(hours=1), token="a2", cap_days=7) == "claimed"
    assert store.claim_send("c001", "b", now=now + timedelta(days=8), token="b2", cap_days=7) == "claimed"
    # AND a released claim frees the cap for another campaign at once
    assert store.release_send("c001", "b", token="b2") is True
    assert store.claim_send("c001", "c", now=now + timedelta(days=8), token="c1", cap_days=7) == "claimed"


def test_send_records_expire_and_carry_the_compressed_audit_record(aws, tiny_profiles):
    from datetime import datetime, timezone

    from nudge_local.stack import create_stack

    store = ProfileStore(create_stack().table, record_days=30)
    store.put_profiles(tiny_profiles.values())
    now = datetime(2026, 11, 20, tzinfo=timezone.utc)
    record = {"copy": {"subject": "Hello " * 200, "source": "model"}, "items": [{"product_id": "p001"}]}
    assert store.claim_send("c001", "camp", now=now, token="t", cap_days=7) == "claimed"
    assert store.mark_sent("c001", "camp", now=now, token="t", record=record, eml_sha256="ab" * 32, eml_version="v1")
    store.record_holdout("camp", ["c002"], now=now)
    store.put_pseudonym("p_x", "c001", now=now, keep_days=401)
    # THEN every bookkeeping item carries expires_at (DynamoDB TTL), and the record round-trips
    items = {(i["pk"]["S"], i["sk"]["S"]): i for i in store.dynamodb.scan(TableName=store.table)["Items"]}
    day = 86_400
    assert int(items[("CUST#c001", "SEND#camp")]["expires_at"]["N"]) == int(now.timestamp()) + 30 * day
    assert int(items[("CUST#c002", "HOLDOUT#camp")]["expires_at"]["N"]) == int(now.timestamp()) + 30 * day
    assert int(items[("CUST#c001", "CAP")]["expires_at"]["N"]) == int(now.timestamp()) + 8 * day
    assert int(items[("PSEUDO#p_x", "CUSTOMER")]["expires_at"]["N"]) == int(now.timestamp()) + 401 * day
    assert len(items[("CUST#c001", "SEND#camp")]["record_z"]["B"]) < 300  # 1.2 KB of JSON, compressed
    sent = store.send_record("c001", "camp")
    assert sent["record"] == record and (sent["status"], sent["eml_version"]) == ("done", "v1")


def test_records_compress_with_the_preset_dictionary_and_older_records_still_decode():
    import zlib

    from nudge.storage import decode_record, encode_record

    # GIVEN a typical record (two products, model copy, the usual keys)
    record = {
        "schema_version": 1, "customer": "p_0123456789abcdef01234567",
        "campaign": {"id": "win-back-2026-11-20", "type": "win_back", "send_date": "2026-11-20"},
        "tone": {"chosen": "caring", "reason": "campaign tone caring; recent review rated 4/5, text +0.62: not unhappy"},
        "items": [{"product_id": "p00012", "name": "Walnut Desk Frame", "score": 0.912345, "reason": "Because you viewed Oak Frame"},
                  {"product_id": "p00345", "name": "Linen Throw", "score": 0.812345, "reason": "Because you bought Wool Throw"}],
        "copy": {"subject": "Ada, we kept a Walnut Desk Frame for you", "preheader": "Ada, a few picks since your last visit",
                 "intro": "Hi Ada, it has been a while. We picked these with you in mind.", "source": "model", "rejected_reasons": []},
        "message_id": "<9198bc7ee6fd51fa136f743b5e40346a.nudge@shop.example.com>",
        "language": {"requested": "en_GB", "used": "en", "fallback": False},
        "model_versions": {"copywriter": "copywriter-1b8abf0034ca", "nudge": "0.1.0", "recommender": "ease-2026-12-01-bbba94a6"},
        "timings_ms": {"rank_ms": 1.23, "copy_ms": 45.6, "render_ms": 7.89},
        "objects": {"eml": "emails/win-back-2026-11-20/p_0123456789abcdef01234567/email.eml"},
    }
    plain = zlib.compress(json.dumps(record, sort_keys=True, separators=(",", ":")).encode("utf-8"), 9)
    # WHEN it is encoded
    blob = encode_record(record)
    # THEN it round-trips, is markedly smaller than plain zlib, and a plain-zlib record (written before
    # the dictionary) still decodes
    assert decode_record(blob) == record
    assert len(blob) < 0.85 * len(plain)
    assert decode_record(plain) == record


def test_opt_outs_are_set_in_place_idempotently_and_round_trip(aws, tiny_profiles):
    from datetime import datetime, timedelta, timezone

    from nudge_local.stack import create_stack

    # GIVEN the tiny store's profiles in the table
    store = ProfileStore(create_stack().table)
    store.put_profiles(tiny_profiles.values())
    first, later = datetime(2026, 11, 20, 10, tzinfo=timezone.utc), datetime(2026, 11, 22, 9, tzinfo=timezone.utc)
    # WHEN c001 opts out of clearance twice (a replayed request), then of loyalty, then of everything twice
    assert store.opt_out("c001", now=first, campaign_type="clearance") == first.isoformat()
    assert store.opt_out("c001", now=later, campaign_type="clearance") == first.isoformat()  # the first time, kept
    assert store.opt_out("c001", now=later, campaign_type="loyalty") == later.isoformat()
    assert store.opt_out("c001", now=first + timedelta(hours=1), campaign_type=None) == (first + timedelta(hours=1)).isoformat()
    assert store.opt_out("c001", now=later, campaign_type=None) == (first + timedelta(hours=1)).isoformat()
    # THEN the profile says so (a string set, no duplicate), and the rest of it is untouched
    profile = store.get_profile("c001")
    assert profile.opted_out is True and profile.opted_out_campaigns == ["clearance", "loyalty"]
    assert profile.opted_out_of("win_back") and profile.purchased == tiny_profiles["c001"].purchased
    # AND a customer without a profile (erased) is never re-created
    assert store.opt_out("c999", now=first) is None and store.get_profile("c999") is None
    # AND the fields round-trip through put_profiles / get_profiles
    store.put_profiles([profile])
    assert store.get_profile("c001") == profile


def test_republishing_profiles_never_resubscribes_anyone(aws, tiny_profiles):
    from datetime import datetime, timezone

    from nudge_local.stack import create_stack

    # GIVEN published profiles, then c001 unsubscribed, c002 stopped clearance and c004 was suppressed
    store = ProfileStore(create_stack().table)
    store.put_profiles(tiny_profiles.values())
    now = datetime(2026, 11, 21, tzinfo=timezone.utc)
    store.opt_out("c001", now=now)
    store.opt_out("c002", now=now, campaign_type="clearance")
    store.set_suppressed("c004", "complaint")
    # WHEN the store's profiles are published again (its view knows nothing of that)
    store.put_profiles(tiny_profiles.values())
    # THEN every opt-out and suppression is still there, and the rest is the store's view
    loaded = store.get_profiles(list(tiny_profiles))
    assert loaded["c001"].opted_out and loaded["c002"].opted_out_campaigns == ["clearance"] and loaded["c004"].suppressed
    assert not loaded["c005"].opted_out and not loaded["c005"].suppressed
    assert loaded["c001"].purchased == tiny_profiles["c001"].purchased
    # AND a later opt-out still finds its first time kept
    assert store.opt_out("c001", now=datetime(2026, 12, 1, tzinfo=timezone.utc)) == now.isoformat()


def test_suppressing_an_erased_customer_writes_nothing(aws, tiny_profiles):
    from nudge_local.stack import create_stack

    # GIVEN a published customer who was then erased on request
    store = ProfileStore(create_stack().table)
    store.put_profiles(tiny_profiles.values())
    store.delete_customer("c004")
    # WHEN a late complaint for them arrives THEN nothing is written (no stub profile) and it says so
    assert store.set_suppressed("c004", "complaint") is False
    assert store.get_profile("c004") is None
    # AND a customer still there is suppressed
    assert store.set_suppressed("c005", "complaint") is True and store.get_profile("c005").suppressed


def test_publishing_with_the_key_records_each_pseudonym_once(aws, tiny_profiles):
    from nudge.identity import pseudonymize
    from nudge_local.stack import create_stack

    # GIVEN profiles published with the stack's pseudonym key
    store = ProfileStore(create_stack().table)
    key = b"publish-test-pseudonym-key-0123456789"
    store.put_profiles(tiny_profiles.values(), pseudonym_key=key)
    # THEN every customer's mapping exists, and the profile says so (the generate step writes none)
    for cid in tiny_profiles:
        assert store.customer_for_pseudonym(pseudonymize(cid, key=key)) == cid
    assert all(p.pseudonym_recorded for p in store.get_profiles(list(tiny_profiles)).values())
    # WHEN the store republishes (its own view has no mark) THEN the mark is kept and no mapping is written again
    writes = []
    original = store._write_all
    store._write_all = lambda requests: (lambda r: writes.extend(r) or original(r))(list(requests))
    store.put_profiles(tiny_profiles.values(), pseudonym_key=key)
    assert not [w for w in writes if w["PutRequest"]["Item"]["pk"]["S"].startswith("PSEUDO#")]
    assert all(p.pseudonym_recorded for p in store.get_profiles(list(tiny_profiles)).values())


def test_artifacts_download_once_and_a_too_small_tmp_fails_naming_the_parameter(aws, tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    import boto3
    import pytest

    from nudge.storage import StorageError, download_prefix

    # GIVEN artifacts under s3://art/artifacts/ (catalog/ and recommender/)
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="art")
    for key in ("artifacts/catalog/catalog.json", "artifacts/recommender/meta.json", "artifacts/recommender/item_factors.npy"):
        s3.put_object(Bucket="art", Key=key, Body=b"x" * 100)
    # WHEN downloaded THEN every object lands under dest with its relative path
    dest = download_prefix("s3://art/artifacts/", tmp_path / "a")
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == [
        "catalog/catalog.json", "recommender/item_factors.npy", "recommender/meta.json"]
    # AND a file an earlier download left there (another catalog's array) is removed: dest mirrors the prefix
    (dest / "catalog" / "arrays").mkdir()
    (dest / "catalog" / "arrays" / "price.npy").write_bytes(b"stale")
    download_prefix("s3://art/artifacts/", dest)
    assert not (dest / "catalog" / "arrays" / "price.npy").exists()
    # WHEN /tmp has less free space than the artifacts need THEN it fails before downloading, saying what to raise
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 150, 150))
    with pytest.raises(StorageError, match=r"need 0 MB, .* GenerateEphemeralStorageMB"):
        download_prefix("s3://art/artifacts/", tmp_path / "b")
    # AND files already there at their size are not counted again (a warm retry after a partial cold start)
    assert download_prefix("s3://art/artifacts/", tmp_path / "a") == tmp_path / "a"
