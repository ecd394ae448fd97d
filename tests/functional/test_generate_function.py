"""The generate function end to end against moto: SQS records → emails in S3."""

from __future__ import annotations

import email
import json
from email import policy

import boto3

from nudge.jobs import Job
from nudge_local.esm import EventSourceMapping, LambdaContext, queue_depth
from tests.conftest import EVENTS

GOOD = [
    ("c001", "new_arrivals"), ("c002", "clearance"), ("c004", "win_back"), ("c005", "abandoned_cart"),
    ("c006", "new_arrivals"), ("c001", "birthday_holiday"), ("c002", "loyalty"), ("c004", "clearance"),
    ("c005", "new_arrivals"),
]


def job_body(customer_id: str, campaign_type: str, **context) -> str:
    return Job(campaign_id=f"{campaign_type.replace('_', '-')}-test", campaign_type=campaign_type,
               customer_id=customer_id, send_date="2026-11-20", context=context).to_body()


def sqs_event(bodies: list[str]) -> dict:
    template = json.loads((EVENTS / "sqs_batch.json").read_text())["Records"][0]
    return {"Records": [{**template, "messageId": f"m{i}", "receiptHandle": f"rh{i}", "body": b} for i, b in enumerate(bodies)]}


def email_objects(bucket: str) -> list[str]:
    s3 = boto3.client("s3")
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="emails/").get("Contents", []))


def test_named_event_writes_json_html_and_eml(generate_app, stack):
    # GIVEN the named SQS event for one clearance job
    event = json.loads((EVENTS / "sqs_batch.json").read_text())
    # WHEN the handler runs
    response = generate_app.handler(event, LambdaContext())
    # THEN no failure, and three objects under the campaign's prefix with a pseudonymous id
    assert response == {"batchItemFailures": []}
    keys = email_objects(stack.bucket)
    assert len(keys) == 3 and all(k.startswith("emails/clearance-2026-11-20/p_") for k in keys)
    assert "c002" not in "".join(keys)
    record = json.loads(boto3.client("s3").get_object(Bucket=stack.bucket, Key=[k for k in keys if k.endswith(".json")][0])["Body"].read())
    assert record["campaign"]["type"] == "clearance"
    assert record["items"], "a clearance email shows at least one product"
    assert {i["product_id"] for i in record["items"]} <= {"p006"}, "clearance ranks only clearance stock"
    assert record["copy"]["source"] in {"model", "fallback"}
    assert set(record["timings_ms"]) == {"rank_ms", "copy_ms", "render_ms"}


def test_one_malformed_message_fails_alone(generate_app, stack):
    # GIVEN a batch of nine good jobs and one malformed body
    bodies = [job_body(c, t) for c, t in GOOD]
    bodies.insert(4, '{"campaign_type": "clearance", "customer_id": ')
    # WHEN the handler runs
    response = generate_app.handler(sqs_event(bodies), LambdaContext())
    # THEN exactly the malformed record is reported, and nine emails are written
    assert response == {"batchItemFailures": [{"itemIdentifier": "m4"}]}
    assert len([k for k in email_objects(stack.bucket) if k.endswith(".eml")]) == 9


def test_malformed_message_reaches_the_dlq_after_the_third_receive(generate_app, stack):
    # GIVEN the jobs queue with one malformed and one good message
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=stack.queue_url, MessageBody="{broken")
    sqs.send_message(QueueUrl=stack.queue_url, MessageBody=job_body("c002", "loyalty"))
    # WHEN the event source mapping drains the queue with the real handler
    stats = EventSourceMapping(sqs, stack.queue_url, generate_app.handler).drain()
    # THEN the good one is done once, the bad one was tried three times and is in the DLQ
    assert stats.succeeded == 1
    assert stats.failed_attempts == stack.max_receive_count == 3
    assert queue_depth(sqs, stack.queue_url) == 0
    dead = sqs.receive_message(QueueUrl=stack.dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in dead] == ["{broken"]


def test_same_message_twice_leaves_one_object_per_key(generate_app, stack):
    # GIVEN one job delivered three times (SQS is at-least-once)
    event = sqs_event([job_body("c004", "win_back")])
    # WHEN the handler processes every delivery
    for _ in range(3):
        assert generate_app.handler(event, LambdaContext()) == {"batchItemFailures": []}
    # THEN each key holds exactly one version: the email was written once
    s3 = boto3.client("s3")
    versions = s3.list_object_versions(Bucket=stack.bucket, Prefix="emails/").get("Versions", [])
    keys = [v["Key"] for v in versions]
    assert len(keys) == 3 and len(set(keys)) == 3


def test_abandoned_cart_puts_the_cart_first(generate_app, stack):
    event = sqs_event([(EVENTS / "job_abandoned_cart.json").read_text()])
    assert generate_app.handler(event, LambdaContext()) == {"batchItemFailures": []}
    key = [k for k in email_objects(stack.bucket) if k.endswith(".json")][0]
    record = json.loads(boto3.client("s3").get_object(Bucket=stack.bucket, Key=key)["Body"].read())
    assert record["items"][0]["product_id"] == "p011"


def test_eml_is_a_sendable_message(generate_app, stack):
    generate_app.handler(sqs_event([job_body("c001", "new_arrivals")]), LambdaContext())
    key = [k for k in email_objects(stack.bucket) if k.endswith(".eml")][0]
    raw = boto3.client("s3").get_object(Bucket=stack.bucket, Key=key)["Body"].read()
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"]
    assert {part.get_content_type() for part in message.walk()} >= {"text/plain", "text/html"}


def test_customer_without_consent_gets_no_email(generate_app, stack):
    # GIVEN a job for c003, who withdrew consent (e.g. after planning)
    response = generate_app.handler(sqs_event([job_body("c003", "win_back")]), LambdaContext())
    # THEN the record succeeds (nothing to retry) and nothing is written
    assert response == {"batchItemFailures": []}
    assert email_objects(stack.bucket) == []


def test_unknown_customer_fails_the_record(generate_app, stack):
    response = generate_app.handler(sqs_event([job_body("c999", "win_back")]), LambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": "m0"}]}


# Per campaign, the products an email may show in the tiny store (see its README): p003 is out of
# stock and p008 has no image, so neither ever appears; purchased items are excluded except in
# win-back; p009 is the only new arrival and p006 the only clearance item.
POOLS = {
    ("c001", "new_arrivals"): {"p009"},
    ("c002", "clearance"): {"p006"},
    ("c002", "loyalty"): {"p001", "p002", "p006", "p007", "p009", "p010", "p011", "p012"},
    ("c004", "win_back"): {"p001", "p002", "p004", "p005", "p006", "p007", "p009", "p010", "p011", "p012"},
    ("c001", "birthday_holiday"): {"p001", "p002", "p004", "p005", "p006", "p009", "p010", "p011", "p012"},
    ("c005", "abandoned_cart"): {"p001", "p002", "p004", "p005", "p006", "p007", "p009", "p010", "p011", "p012"},
}


def test_every_campaign_shows_products_from_its_own_pool(generate_app, stack, tiny_profiles):
    # GIVEN one eligible customer per campaign
    bodies = [job_body(customer, campaign) for customer, campaign in POOLS]
    # WHEN their jobs run in one batch
    assert generate_app.handler(sqs_event(bodies), LambdaContext()) == {"batchItemFailures": []}
    # THEN each email shows products, all from that campaign's pool, none already bought (but win-back)
    s3 = boto3.client("s3")
    for key in [k for k in email_objects(stack.bucket) if k.endswith(".json")]:
        record = json.loads(s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read())
        campaign = record["campaign"]["type"]
        customer = next(c for c, t in POOLS if t == campaign)
        shown = [item["product_id"] for item in record["items"]]
        assert shown and set(shown) <= POOLS[(customer, campaign)], (campaign, shown)
        if campaign != "win_back":
            assert not set(shown) & set(tiny_profiles[customer].purchased), (campaign, shown)
