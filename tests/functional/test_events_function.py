"""The event log's producers and the events function, against moto: the plan function logs who is
treated and who is held out, the send function logs each send with SES's message id, the cart
function logs each order, and SES's events (an SQS batch of EventBridge events, as the rule
delivers them) are logged once each, a permanent bounce or complaint suppresses its customer, a
replayed batch writes nothing, and a malformed record fails alone."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from email.message import EmailMessage

import boto3
import pytest

from nudge.eventlog import from_json_line
from nudge.identity import pseudonymize
from nudge.storage import ProfileStore
from nudge_local.esm import LambdaContext
from tests.conftest import EVENTS
from tests.functional.conftest import cold_started, completed_email

PSEUDONYM_KEY = b"test-pseudonym-key-0123456789abcdef"  # as tests/functional/conftest.py sets it
PID = pseudonymize("c001", key=PSEUDONYM_KEY)  # the pseudonymous id in tests/events/ses_*.json
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def events_app(stack):
    ProfileStore(stack.table).put_pseudonym(PID, "c001")  # what the generate step records
    yield from cold_started("events")


def ses_event(name: str) -> dict:
    return copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))


def sqs_batch(*bodies) -> dict:
    """An SQS batch as the event source mapping hands it over: one record per EventBridge event."""
    return {"Records": [
        {"messageId": f"00000000-0000-0000-0000-{n:012d}", "receiptHandle": f"rh-{n}",
         "body": body if isinstance(body, str) else json.dumps(body),
         "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1763632800000", "SenderId": "AIDAEXAMPLE",
                        "ApproximateFirstReceiveTimestamp": "1763632800000"},
         "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
         "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:nudge-email-events", "awsRegion": "us-east-1"}
        for n, body in enumerate(bodies)
    ]}


def logged(stack, event_type: str | None = None) -> list:
    """Every event in the bucket's log (optionally of one type), read back with the schema."""
    s3, events = boto3.client("s3"), []
    prefix = f"events/type={event_type}/" if event_type else "events/"
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=stack.bucket, Key=item["Key"])["Body"].read().decode()
            events += [from_json_line(line) for line in body.splitlines()]
    return events


def object_versions(stack) -> int:
    pages = boto3.client("s3").get_paginator("list_object_versions").paginate(Bucket=stack.bucket, Prefix="events/")
    return sum(len(page.get("Versions", [])) for page in pages)


def suppression(stack, customer_id: str) -> tuple:
    item = boto3.client("dynamodb").get_item(TableName=stack.table, Key={"pk": {"S": f"CUST#{customer_id}"}, "sk": {"S": "PROFILE"}})["Item"]
    return item.get("suppressed", {}).get("BOOL", False), item.get("suppression_reason", {}).get("S")


# ------------------------------------------------------------------------------------------------
# The events function
# ------------------------------------------------------------------------------------------------
def test_ses_events_are_logged_and_a_permanent_bounce_suppresses_the_customer(events_app, stack):
    # GIVEN a delivery, a click and a permanent bounce for c001's email, as the rule delivers them
    batch = sqs_batch(ses_event("ses_delivery"), ses_event("ses_click"), ses_event("ses_bounce_permanent"))
    # WHEN the events function handles the batch
    response = events_app.handler(batch, LambdaContext(function_name="events"))
    # THEN all three are in the log under their partitions, and c001 is suppressed with the reason
    assert response == {"batchItemFailures": []}
    assert sorted(e.type for e in logged(stack)) == ["bounce", "click", "delivery"]
    assert all(e.pseudonymous_id == PID and e.campaign_id == "win-back-2026-11-20" for e in logged(stack))
    assert suppression(stack, "c001") == (True, "bounce:General")


def test_a_replayed_batch_writes_nothing_and_changes_nothing(events_app, stack):
    batch = sqs_batch(ses_event("ses_complaint"), ses_event("ses_open"))
    events_app.handler(batch, LambdaContext())
    before = (object_versions(stack), suppression(stack, "c001"))
    # WHEN the same batch comes again (SQS delivers at least once)
    assert events_app.handler(copy.deepcopy(batch), LambdaContext()) == {"batchItemFailures": []}
    # THEN no object and no object version is added, and the suppression is as it was
    assert (object_versions(stack), suppression(stack, "c001")) == before == (2, (True, "complaint:abuse"))


def test_a_malformed_record_fails_alone_and_the_rest_of_the_batch_is_logged(events_app, stack):
    broken = ses_event("ses_delivery")
    del broken["detail"]["mail"]["messageId"]
    batch = sqs_batch(ses_event("ses_open"), broken, "{not json", ses_event("ses_delivery"))
    response = events_app.handler(batch, LambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": batch["Records"][1]["messageId"]},
                                              {"itemIdentifier": batch["Records"][2]["messageId"]}]}
    assert sorted(e.type for e in logged(stack)) == ["delivery", "open"]


def test_an_event_nudge_did_not_tag_is_logged_without_suppressing_anyone(events_app, stack):
    complaint = ses_event("ses_complaint")
    complaint["detail"]["mail"]["tags"] = {"ses:configuration-set": ["nudge-events"]}
    assert events_app.handler(sqs_batch(complaint), LambdaContext()) == {"batchItemFailures": []}
    [event] = logged(stack)
    assert (event.type, event.pseudonymous_id, event.campaign_id) == ("complaint", "unknown", "")
    assert suppression(stack, "c001") == (False, None)


def test_a_bounce_for_an_erased_customer_is_logged_and_suppresses_nobody(events_app, stack):
    ProfileStore(stack.table).delete_pseudonym(PID)
    assert events_app.service().handle(json.dumps(ses_event("ses_bounce_permanent"))) == "unknown_customer"
    assert [e.type for e in logged(stack)] == ["bounce"] and suppression(stack, "c001") == (False, None)


# ------------------------------------------------------------------------------------------------
# The other producers: plan, send, cart
# ------------------------------------------------------------------------------------------------
def test_the_plan_logs_every_treated_and_held_out_customer_once(stack, monkeypatch):
    monkeypatch.setenv("NUDGE_HOLDOUT_SHARE", "0.5")
    for plan_app in cold_started("plan"):
        request = {"campaign_type": "new_arrivals", "send_date": "2026-11-20"}
        result = plan_app.handler(request, LambdaContext(function_name="plan"))
        again = plan_app.handler(request, LambdaContext(function_name="plan"))  # a re-run plan
    assigned = logged(stack, "assigned")
    treated = {e.pseudonymous_id for e in assigned if e.group == "treated"}
    holdout = {e.pseudonymous_id for e in assigned if e.group == "holdout"}
    assert len(treated) == result["enqueued"] == again["enqueued"] > 0
    assert len(holdout) == result["excluded"]["holdout"] > 0
    assert len(assigned) == len(treated) + len(holdout), "the re-run wrote no second copy"
    assert all(e.campaign_id == "new-arrivals-2026-11-20" and e.detail == "new_arrivals" and e.pseudonymous_id.startswith("p_")
               for e in assigned)


def test_the_send_function_logs_each_send_with_ses_s_message_id(stack):
    boto3.client("ses").verify_domain_identity(Domain="shop.example.com")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Hearth & Thread <news@shop.example.com>", "c001@example.com", "Hello"
    message.set_content("Hello")
    completed_email(stack, "c001", "win-back-2026-11-20", message.as_bytes(), now=NOW)
    record = {"eventID": "1", "eventName": "MODIFY", "eventSource": "aws:dynamodb",
              "dynamodb": {"Keys": {"pk": {"S": "CUST#c001"}, "sk": {"S": "SEND#win-back-2026-11-20"}}}}
    for send_app in cold_started("send"):
        assert send_app.service().deliver_record(record, now=NOW) == "sent"
        assert send_app.service().deliver_record(record, now=NOW) == "duplicate"
    [sent] = logged(stack, "sent")
    stamp = boto3.client("dynamodb").get_item(TableName=stack.table, Key={"pk": {"S": "CUST#c001"}, "sk": {"S": "SENT#win-back-2026-11-20"}})
    assert (sent.pseudonymous_id, sent.campaign_id, sent.source) == (PID, "win-back-2026-11-20", "sender")
    assert sent.message_id == stamp["Item"]["ses_message_id"]["S"] and sent.event_id == f"sent:{sent.message_id}"


def test_the_cart_function_logs_each_order_once_with_its_total(stack):
    order = json.loads((EVENTS / "order_placed.json").read_text())
    order["detail"]["order_id"] = "o-1001"
    order["detail"]["total"] = 54.5
    for cart_app in cold_started("cart"):
        cart_app.handler(order, LambdaContext(function_name="cart"))
        cart_app.handler(copy.deepcopy(order), LambdaContext(function_name="cart"))  # EventBridge retries
    [event] = logged(stack, "order")
    assert (event.event_id, event.pseudonymous_id, event.revenue, event.at) == ("order:o-1001", PID, 54.5, "2026-11-20T11:00:00Z")
