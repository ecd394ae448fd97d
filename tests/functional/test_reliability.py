"""Reliability: faults, redelivery, redrive and erasure, through moto."""

from __future__ import annotations

import json

import boto3

from nudge_local.esm import EventSourceMapping, LambdaContext, queue_depth
from nudge_local.faults import FaultInjector
from nudge_local.redrive import redrive
from tests.functional.test_generate_function import email_objects, email_records, job_body, sqs_event

CONSENTING = ["c001", "c002", "c004", "c005", "c006"]
CAMPAIGNS = ["new_arrivals", "clearance", "loyalty", "win_back"]


def test_injected_faults_lose_nothing_and_duplicate_nothing(generate_app, stack, monkeypatch):
    monkeypatch.setenv("NUDGE_FREQUENCY_CAP_DAYS", "0")  # four campaigns per customer here
    # one I/O thread: the seeded faults then fall on the same calls every run (with a batch's calls on
    # several threads, which call draws which fault depends on scheduling, and a fault on a release
    # leaves a claim leased past this test's patience: a job waits out its 300 s lease in the DLQ)
    monkeypatch.setattr("nudge.service.IO_THREADS", 1)
    # botocore's retry sleeps × 0.02, as make load's fault runs: the same retries, in their order, less waiting
    from botocore.retries import standard

    original_delay = standard.ExponentialBackoff.delay_amount
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: original_delay(self, context) * 0.02)
    # GIVEN 20 jobs and S3 + DynamoDB clients that fail 30% of calls (before retries)
    sqs = boto3.client("sqs")
    for customer in CONSENTING:
        for campaign in CAMPAIGNS:
            sqs.send_message(QueueUrl=stack.queue_url, MessageBody=job_body(customer, campaign))
    service = generate_app.service()
    s3_faults = FaultInjector(rate=0.3, seed=3)
    ddb_faults = FaultInjector(rate=0.3, seed=4)
    s3_faults.attach(service.emails.s3)
    ddb_faults.attach(service.profiles.dynamodb)
    # WHEN the queue is drained, the DLQ redriven, and drained again
    EventSourceMapping(sqs, stack.queue_url, generate_app.handler).drain()
    redrive(sqs, dlq_url=stack.dlq_url, queue_url=stack.queue_url)
    EventSourceMapping(sqs, stack.queue_url, generate_app.handler).drain()
    # THEN faults were injected, every job produced one email (one key) whose completed record
    # describes exactly the .eml there (a retry after a failed completion rewrote it, a new version)
    assert s3_faults.injected > 0 and ddb_faults.injected > 0
    versions = boto3.client("s3").list_object_versions(Bucket=stack.bucket, Prefix="emails/").get("Versions", [])
    assert len({v["Key"] for v in versions}) == 20 and all(v["Key"].endswith("/email.eml") for v in versions)
    assert len(email_records(stack.table)) == 20
    assert queue_depth(sqs, stack.queue_url) == 0 and queue_depth(sqs, stack.dlq_url) == 0


def test_redrive_moves_dead_letters_back(stack):
    sqs = boto3.client("sqs")
    for i in range(13):
        sqs.send_message(QueueUrl=stack.dlq_url, MessageBody=json.dumps({"n": i}))
    assert redrive(sqs, dlq_url=stack.dlq_url, queue_url=stack.queue_url) == 13
    assert queue_depth(sqs, stack.dlq_url) == 0
    assert queue_depth(sqs, stack.queue_url) == 13


def test_delete_customer_removes_profile_and_every_email(generate_app, stack, monkeypatch, caplog):
    from nudge.config import Settings
    from nudge.identity import pseudonymize
    from nudge.service import erase_customer
    from nudge.storage import ProfileStore

    monkeypatch.setenv("NUDGE_FREQUENCY_CAP_DAYS", "0")
    # GIVEN two emails for c001 and one for c002
    event = sqs_event([job_body("c001", "new_arrivals"), job_body("c001", "loyalty"), job_body("c002", "loyalty")])
    assert generate_app.handler(event, LambdaContext()) == {"batchItemFailures": []}, [
        (getattr(r, "error", ""), getattr(r, "detail", "")) for r in caplog.records if r.getMessage() == "record failed"]
    # WHEN c001 is erased
    result = erase_customer("c001", settings=Settings.from_env())
    # THEN c001's profile and both objects are gone, c002's email stays
    assert result["email_object_versions_deleted"] == 2 and result["waited_for_claims_s"] == 0
    assert ProfileStore(stack.table).get_profile("c001") is None
    # AND the way back from c001's links (its pseudonym item) is gone, c002's stays
    assert ProfileStore(stack.table).customer_for_pseudonym(result["customer"]) is None
    c002 = pseudonymize("c002", key=b"test-pseudonym-key-0123456789abcdef")  # the key tests/functional/conftest.py sets
    assert ProfileStore(stack.table).customer_for_pseudonym(c002) == "c002"
    assert len(email_objects(stack.bucket)) == 1
    assert "c001" not in json.dumps(result)
    # AND a job for c001 still in a queue is skipped, and no claim can be taken for c001 any more
    batch = generate_app.service().prepare([{"messageId": "m0", "body": job_body("c001", "win_back")}])
    assert batch.finish({"messageId": "m0"}) == "unknown_customer"
    from datetime import datetime, timezone

    assert ProfileStore(stack.table).claim_send("c001", "later", now=datetime.now(timezone.utc), token="x") == "erased"


def test_erasure_waits_out_a_racing_write_and_then_deletes_it(generate_app, stack):
    from nudge.config import Settings
    from nudge.service import erase_customer
    from nudge.storage import ProfileStore

    # GIVEN an attempt that has claimed c004's email (composed, not yet written)
    batch = generate_app.service().prepare([{"messageId": "m0", "body": job_body("c004", "win_back")}])
    waits = []

    def attempt_writes_while_erasure_waits(seconds):
        # the racing attempt writes its .eml and completes while erasure waits for its lease
        waits.append(seconds)
        assert batch.finish({"messageId": "m0"}) == "written"

    # WHEN c004 is erased meanwhile
    result = erase_customer("c004", settings=Settings.from_env(), sleep=attempt_writes_while_erasure_waits)
    # THEN erasure waited for the live claim's lease (at most the lease), and the racing write did not survive it
    assert len(waits) == 1 and 0 < waits[0] <= Settings.from_env().claim_lease_seconds + 1
    assert result["email_object_versions_deleted"] == 1 and email_objects(stack.bucket) == []
    assert list(ProfileStore(stack.table).completed_sends()) == []
