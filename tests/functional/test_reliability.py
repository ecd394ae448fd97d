"""Reliability: faults, redelivery, redrive and erasure, through moto."""

from __future__ import annotations

import json

import boto3

from nudge_local.esm import EventSourceMapping, LambdaContext, queue_depth
from nudge_local.faults import FaultInjector
from nudge_local.redrive import redrive
from tests.functional.test_generate_function import email_objects, job_body, sqs_event

CONSENTING = ["c001", "c002", "c004", "c005", "c006"]
CAMPAIGNS = ["new_arrivals", "clearance", "loyalty", "win_back"]


def test_injected_faults_lose_nothing_and_duplicate_nothing(generate_app, stack):
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
    # THEN faults were injected, and every job produced exactly one version of each object
    assert s3_faults.injected > 0 and ddb_faults.injected > 0
    versions = boto3.client("s3").list_object_versions(Bucket=stack.bucket, Prefix="emails/").get("Versions", [])
    keys = [v["Key"] for v in versions]
    assert len([k for k in keys if k.endswith(".eml")]) == 20
    assert len(keys) == len(set(keys)) == 60
    assert queue_depth(sqs, stack.queue_url) == 0 and queue_depth(sqs, stack.dlq_url) == 0


def test_redrive_moves_dead_letters_back(stack):
    sqs = boto3.client("sqs")
    for i in range(13):
        sqs.send_message(QueueUrl=stack.dlq_url, MessageBody=json.dumps({"n": i}))
    assert redrive(sqs, dlq_url=stack.dlq_url, queue_url=stack.queue_url) == 13
    assert queue_depth(sqs, stack.dlq_url) == 0
    assert queue_depth(sqs, stack.queue_url) == 13


def test_delete_customer_removes_profile_and_every_email(generate_app, stack):
    from nudge.config import Settings
    from nudge.identity import pseudonymize
    from nudge.service import erase_customer
    from nudge.storage import ProfileStore

    # GIVEN two emails for c001 and one for c002
    event = sqs_event([job_body("c001", "new_arrivals"), job_body("c001", "loyalty"), job_body("c002", "loyalty")])
    assert generate_app.handler(event, LambdaContext()) == {"batchItemFailures": []}
    # WHEN c001 is erased
    result = erase_customer("c001", settings=Settings.from_env())
    # THEN c001's profile and six objects are gone, c002's email stays
    assert result["email_object_versions_deleted"] == 6
    assert ProfileStore(stack.table).get_profile("c001") is None
    # AND the way back from c001's links (its pseudonym item) is gone, c002's stays
    assert ProfileStore(stack.table).customer_for_pseudonym(result["customer"]) is None
    c002 = pseudonymize("c002", key=b"test-pseudonym-key-0123456789abcdef")  # the key tests/functional/conftest.py sets
    assert ProfileStore(stack.table).customer_for_pseudonym(c002) == "c002"
    assert len(email_objects(stack.bucket)) == 3
    assert "c001" not in json.dumps(result)
