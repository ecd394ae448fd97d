"""The generate function end to end against moto: SQS records → emails in S3."""

from __future__ import annotations

import dataclasses
import email
import hashlib
import json
from email import policy

import boto3
import pytest

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


def email_records(table: str) -> list[dict]:
    """The audit records of every completed email (on its SEND# item), each checked against the
    .eml it describes: the recorded S3 version and the key's latest hold bytes with its SHA-256."""
    from nudge.storage import ProfileStore

    s3, records = boto3.client("s3"), []
    for item in ProfileStore(table).completed_sends():
        key = item["record"]["objects"]["eml"]
        recorded = s3.get_object(Bucket=stack_bucket(), Key=key, VersionId=item["eml_version"])["Body"].read()
        latest = s3.get_object(Bucket=stack_bucket(), Key=key)["Body"].read()
        assert hashlib.sha256(recorded).hexdigest() == hashlib.sha256(latest).hexdigest() == item["eml_sha256"], key
        records.append(item["record"])
    return records


def stack_bucket() -> str:
    from nudge_local.stack import StackNames

    return StackNames().bucket


def test_named_event_writes_one_eml_and_its_record(generate_app, stack):
    # GIVEN the named SQS event for one clearance job
    event = json.loads((EVENTS / "sqs_batch.json").read_text())
    # WHEN the handler runs
    response = generate_app.handler(event, LambdaContext())
    # THEN no failure, and one object, the .eml, under the campaign's prefix with a pseudonymous id
    assert response == {"batchItemFailures": []}
    keys = email_objects(stack.bucket)
    assert len(keys) == 1 and keys[0].startswith("emails/clearance-2026-11-20/p_") and keys[0].endswith("/email.eml")
    assert "c002" not in "".join(keys)
    # AND the audit record is on the completed SEND# item, describing exactly that .eml
    [record] = email_records(stack.table)
    assert record["campaign"]["type"] == "clearance"
    assert record["items"], "a clearance email shows at least one product"
    assert {i["product_id"] for i in record["items"]} <= {"p006"}, "clearance ranks only clearance stock"
    assert record["copy"]["source"] in {"model", "fallback"}
    assert record["language"] == {"requested": "en_US", "used": "en", "fallback": False}  # the catalog the chrome came from
    assert set(record["timings_ms"]) == {"rank_ms", "copy_ms", "render_ms"}


def test_one_malformed_message_fails_alone(generate_app, stack, monkeypatch):
    monkeypatch.setenv("NUDGE_FREQUENCY_CAP_DAYS", "0")  # customers repeat across these campaigns
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
    # THEN the one key holds exactly one version: the email was written once
    s3 = boto3.client("s3")
    versions = s3.list_object_versions(Bucket=stack.bucket, Prefix="emails/").get("Versions", [])
    assert len(versions) == 1 and len(email_records(stack.table)) == 1


def test_abandoned_cart_puts_the_cart_first(generate_app, stack):
    event = sqs_event([(EVENTS / "job_abandoned_cart.json").read_text()])
    assert generate_app.handler(event, LambdaContext()) == {"batchItemFailures": []}
    [record] = email_records(stack.table)
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


def test_unknown_customer_is_skipped_and_counted_not_dead_lettered(generate_app, stack):
    # GIVEN a job for c999, who has no profile (never published, or erased since planning)
    batch = generate_app.service().prepare([{"messageId": "m0", "body": job_body("c999", "win_back")}])
    # THEN the record succeeds with a counted reason, and nothing is claimed or written
    assert batch.finish({"messageId": "m0"}) == "unknown_customer"
    assert batch.counts["skipped_unknown_customer"] == 1
    assert email_objects(stack.bucket) == [] and batch.tokens == {}


def test_an_empty_product_pool_is_skipped_and_its_claim_given_back(generate_app, stack):
    # GIVEN c001 has bought p006, the tiny store's only clearance item: no clearance stock to show
    from nudge.storage import ProfileStore

    service = generate_app.service()
    profiles = ProfileStore(stack.table)
    profile = profiles.get_profile("c001")
    profiles.put_profiles([dataclasses.replace(profile, purchased=["p006", *profile.purchased])])
    # WHEN its clearance job runs
    batch = service.prepare([{"messageId": "m0", "body": job_body("c001", "clearance")}])
    # THEN it is skipped as no_products (counted, not a DLQ alarm), nothing is written, and the claim is back
    assert batch.finish({"messageId": "m0"}) == "no_products"
    assert batch.counts["skipped_no_products"] == 1 and email_objects(stack.bucket) == []
    assert profiles.send_record("c001", "clearance-test") is None


def test_the_claim_comes_before_composing(generate_app, stack, monkeypatch):
    # GIVEN a job already written once
    event = sqs_event([job_body("c004", "win_back")])
    assert generate_app.handler(event, LambdaContext()) == {"batchItemFailures": []}
    service = generate_app.service()
    composed = []
    monkeypatch.setattr(service.engine.copywriter, "write_batch", lambda briefs: composed.extend(briefs) or [])
    # WHEN it is delivered again
    batch = service.prepare([{"messageId": "m0", "body": job_body("c004", "win_back")}])
    # THEN it is a duplicate found by the claim, and no copy was written for it (nothing composed)
    assert batch.finish({"messageId": "m0"}) == "duplicate" and composed == []


def test_a_busy_claim_fails_the_record_without_composing(generate_app, stack, monkeypatch):
    from datetime import datetime, timezone

    from nudge.errors import ClaimBusyError
    from nudge.storage import ProfileStore

    # GIVEN another attempt holds a live claim on c004's win-back email
    ProfileStore(stack.table).claim_send("c004", "win-back-test", now=datetime.now(timezone.utc), token="other", cap_days=7)
    service = generate_app.service()
    monkeypatch.setattr(service.engine.copywriter, "write_batch", lambda briefs: pytest.fail("composed a busy job"))
    # WHEN the job arrives THEN its record fails with ClaimBusyError (retried later)
    batch = service.prepare([{"messageId": "m0", "body": job_body("c004", "win_back")}])
    with pytest.raises(ClaimBusyError):
        batch.finish({"messageId": "m0"})


def test_the_frequency_cap_holds_across_campaigns_at_claim_time(generate_app, stack):
    # GIVEN c001 and c002 each planned into two campaigns at once (the plan-time check saw no email yet)
    bodies = [job_body("c001", "new_arrivals"), job_body("c001", "birthday_holiday"), job_body("c002", "clearance")]
    # WHEN both batches run
    generate_app.handler(sqs_event(bodies[:1] + bodies[2:]), LambdaContext())
    batch = generate_app.service().prepare([{"messageId": "m0", "body": bodies[1]}])
    # THEN the second campaign's email to c001 is refused by the cap, counted, and never composed or written
    assert batch.finish({"messageId": "m0"}) == "frequency_cap"
    assert len(email_objects(stack.bucket)) == 2


def test_the_lease_must_outlast_the_function_timeout(generate_app, stack, monkeypatch):
    from nudge.errors import ConfigError

    # GIVEN a lease (NUDGE_CLAIM_LEASE_SECONDS) no longer than the function's timeout (120 s)
    monkeypatch.setenv("NUDGE_CLAIM_LEASE_SECONDS", "120")
    generate_app._service = None
    # WHEN an invocation starts THEN it refuses to run, naming the variable
    with pytest.raises(ConfigError, match="NUDGE_CLAIM_LEASE_SECONDS"):
        generate_app.handler(sqs_event([job_body("c004", "win_back")]), LambdaContext(timeout_ms=120_000))
    assert email_objects(stack.bucket) == []


def test_a_stale_attempt_finishes_and_releases_nothing(generate_app, stack):
    from nudge.storage import ProfileStore

    # GIVEN an attempt that claimed and composed c004's email, then lost its claim (its lease
    # expired and a newer attempt took it over with another token)
    service = generate_app.service()
    batch = service.prepare([{"messageId": "m0", "body": job_body("c004", "win_back")}])
    profiles = ProfileStore(stack.table)
    table = boto3.client("dynamodb")
    key = {"pk": {"S": "CUST#c004"}, "sk": {"S": "SEND#win-back-test"}}
    table.update_item(TableName=stack.table, Key=key, UpdateExpression="SET #t = :t",
                      ExpressionAttributeNames={"#t": "token"}, ExpressionAttributeValues={":t": {"S": "newer"}})
    # WHEN the stale attempt finishes, and then tries to give the claim back
    assert batch.finish({"messageId": "m0"}) == "stale"
    assert profiles.release_send("c004", "win-back-test", token=batch.tokens["m0"]) is False
    # THEN the newer attempt's claim is untouched: still in progress, with its token
    item = profiles.send_record("c004", "win-back-test")
    assert (item["status"], item["token"]) == ("in_progress", "newer") and batch.counts["stale_finishes"] == 1


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


def test_every_campaign_shows_products_from_its_own_pool(generate_app, stack, tiny_profiles, monkeypatch):
    monkeypatch.setenv("NUDGE_FREQUENCY_CAP_DAYS", "0")  # customers repeat across these campaigns
    # GIVEN one eligible customer per campaign
    bodies = [job_body(customer, campaign) for customer, campaign in POOLS]
    # WHEN their jobs run in one batch
    assert generate_app.handler(sqs_event(bodies), LambdaContext()) == {"batchItemFailures": []}
    # THEN each email shows products, all from that campaign's pool, none already bought (but win-back)
    checked = set()
    for record in email_records(stack.table):
        campaign = record["campaign"]["type"]
        checked.add(campaign)
        customer = next(c for c, t in POOLS if t == campaign)
        shown = [item["product_id"] for item in record["items"]]
        assert shown and set(shown) <= POOLS[(customer, campaign)], (campaign, shown)
        if campaign != "win_back":
            assert not set(shown) & set(tiny_profiles[customer].purchased), (campaign, shown)
    assert checked == {t for _, t in POOLS}


@pytest.mark.parametrize("locale, language, html_lang", [("fr_FR", "fr", "fr-FR"), ("zh_CN", "zh_Hans", "zh-Hans-CN"),
                                                         ("pt_BR", "en", "en-")])
def test_a_customer_gets_copy_and_wording_in_their_own_language_or_the_stores(generate_app, stack, tiny_profiles,
                                                                               locale, language, html_lang):
    # GIVEN a customer whose locale is French, Chinese, or Brazilian Portuguese (no copy pack: the store's language, English)
    from nudge.i18n import translations
    from nudge.storage import ProfileStore

    profile = tiny_profiles["c002"]
    ProfileStore(stack.table).put_profiles([dataclasses.replace(profile, customer=dataclasses.replace(profile.customer, locale=locale))])
    # WHEN their clearance email is composed
    assert generate_app.handler(sqs_event([job_body("c002", "clearance")]), LambdaContext()) == {"batchItemFailures": []}
    # THEN the record says which language the copy was written in and the wording followed it
    [record] = email_records(stack.table)
    assert record["copy"]["language"] == language
    assert record["language"] == {"requested": locale, "used": language, "fallback": language == "en"}
    eml = email.message_from_bytes(boto3.client("s3").get_object(Bucket=stack.bucket, Key=record["objects"]["eml"])["Body"].read(),
                                   policy=policy.default)
    html = eml.get_body(("html",)).get_content()
    text = eml.get_body(("plain",)).get_content()
    assert f'lang="{html_lang}' in html
    if language != "en":  # no English chrome: the catalog's own words for what English says
        unsubscribe = translations(language).gettext("Unsubscribe")
        assert unsubscribe != "Unsubscribe" and unsubscribe in text and "Unsubscribe" not in text
