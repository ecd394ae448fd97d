"""The link endpoint function end to end against moto: a Function URL request (payload 2.0) →
nudge.endpoints → the profile store and the event log, and what the rest of the stack then does.

The bar (issue #12): a customer unsubscribes through the endpoint; the next plan excludes them
(opted_out), and a job already queued for them writes no email (skipped "opted_out").
"""

from __future__ import annotations

import base64
import email
import json
import re
from email import policy
from urllib.parse import urlsplit

import boto3
import pytest

from nudge.identity import pseudonymize
from nudge.jobs import parse_job
from nudge.storage import EventLog, ProfileStore
from nudge_local.esm import LambdaContext
from tests.conftest import EVENTS
from tests.functional.conftest import cold_started

LINKS = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/"  # the Function URL, as the stack outputs it
PSEUDONYM_KEY = b"test-pseudonym-key-0123456789abcdef"  # as tests/functional/conftest.py sets it


@pytest.fixture
def endpoint_app(stack):
    yield from cold_started("endpoint")


@pytest.fixture
def linked_stack(stack, monkeypatch):
    """The stack with the generate function's links pointed at the endpoint (template.yaml does it
    with the Function URL)."""
    monkeypatch.setenv("NUDGE_LINK_BASE_URL", LINKS)
    return stack


def function_url_event(*, method: str = "POST", path: str = "/unsubscribe", query: str | None = None,
                       body: bytes | None = b"List-Unsubscribe=One-Click") -> dict:
    """The named Function URL event (tests/events/function_url_unsubscribe.json) with variants."""
    event = json.loads((EVENTS / "function_url_unsubscribe.json").read_text())
    event["requestContext"]["http"]["method"] = method
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    if query is not None:
        event["rawQueryString"] = query
    if body is None:
        event.pop("body")
        event["isBase64Encoded"] = False
    else:
        event["body"] = base64.b64encode(body).decode()
    return event


def drain(queue_url: str) -> list[dict]:
    """Every message on the queue as a Lambda SQS record (received and deleted)."""
    sqs, records = boto3.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for m in messages:
            records.append({"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                            "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                            "eventSource": "aws:sqs", "awsRegion": "us-east-1",
                            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:nudge-local-jobs"})
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                                for i, m in enumerate(messages)])
    return records


def generate(generate_app, records: list[dict]) -> dict:
    response = {"batchItemFailures": []}
    for start in range(0, len(records), 10):
        part = generate_app.handler({"Records": records[start:start + 10]}, LambdaContext())
        response["batchItemFailures"] += part["batchItemFailures"]
    return response


def objects(bucket: str, prefix: str) -> list[str]:
    pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def test_the_bar_unsubscribe_then_the_next_plan_excludes_and_a_queued_job_writes_nothing(
    linked_stack, plan_app, generate_app, endpoint_app
):
    stack, c001 = linked_stack, pseudonymize("c001", key=PSEUDONYM_KEY)
    # GIVEN two campaigns planned for 2026-11-20, both with a job for c001 on the queue
    plan_app.handler({"campaign_type": "birthday_holiday", "send_date": "2026-11-20"}, LambdaContext(function_name="plan"))
    plan_app.handler({"campaign_type": "new_arrivals", "send_date": "2026-11-20"}, LambdaContext(function_name="plan"))
    queued = drain(stack.queue_url)
    birthday = [r for r in queued if parse_job(r["body"]).campaign_type == "birthday_holiday"]
    new_arrivals = [r for r in queued if parse_job(r["body"]).campaign_type == "new_arrivals"]
    assert [parse_job(r["body"]).customer_id for r in birthday] == ["c001"]
    assert "c001" in {parse_job(r["body"]).customer_id for r in new_arrivals}
    # AND c001's birthday email written first (which records c001's pseudonym)
    assert generate(generate_app, birthday) == {"batchItemFailures": []}
    [eml_key] = [k for k in objects(stack.bucket, f"emails/birthday-holiday-2026-11-20/{c001}/") if k.endswith(".eml")]
    eml = email.message_from_bytes(boto3.client("s3").get_object(Bucket=stack.bucket, Key=eml_key)["Body"].read(),
                                   policy=policy.default)
    # WHEN the mailbox provider follows the email's one-click List-Unsubscribe URL (RFC 8058 POST)
    unsubscribe = re.search(r"<(https://[^>]+)>", eml["List-Unsubscribe"]).group(1)
    assert unsubscribe.startswith(LINKS + "unsubscribe?nt=")
    url = urlsplit(unsubscribe)
    response = endpoint_app.handler(function_url_event(path=url.path, query=url.query), LambdaContext(function_name="endpoint"))
    # THEN it is honoured at once
    assert response["statusCode"] == 200 and "unsubscribed" in response["body"]
    assert ProfileStore(stack.table).get_profile("c001").opted_out is True
    # AND the job already queued for c001 writes no email (skipped "opted_out"); the others do
    assert generate(generate_app, new_arrivals) == {"batchItemFailures": []}
    written = objects(stack.bucket, "emails/new-arrivals-2026-11-20/")
    assert not [k for k in written if f"/{c001}/" in k]
    assert len([k for k in written if k.endswith(".eml")]) == len(new_arrivals) - 1
    assert generate_app.handler({"Records": [r for r in new_arrivals if parse_job(r["body"]).customer_id == "c001"]},
                                LambdaContext()) == {"batchItemFailures": []}
    # AND the next plan excludes c001 with the reason opted_out
    result = plan_app.handler({"campaign_type": "clearance", "send_date": "2026-11-21"}, LambdaContext(function_name="plan"))
    assert result["excluded"]["opted_out"] == 1
    assert "c001" not in {parse_job(r["body"]).customer_id for r in drain(stack.queue_url)}
    # AND the event log holds exactly one unsubscribe, by pseudonymous id only
    [key] = EventLog(stack.bucket).keys("events/type=unsubscribe/")
    event = json.loads(boto3.client("s3").get_object(Bucket=stack.bucket, Key=key)["Body"].read())
    assert (event["pseudonymous_id"], event["campaign_id"]) == (c001, "birthday-holiday-2026-11-20")


def test_an_opted_out_job_is_counted_as_skipped(linked_stack, generate_app):
    # GIVEN c002 opted out of loyalty emails only, and a loyalty and a clearance job for c002
    from datetime import datetime, timezone

    from nudge.jobs import Job

    ProfileStore(linked_stack.table).opt_out("c002", now=datetime(2026, 11, 20, tzinfo=timezone.utc), campaign_type="loyalty")
    bodies = [Job(campaign_id=f"{t}-test", campaign_type=t, customer_id="c002", send_date="2026-11-20").to_body()
              for t in ("loyalty", "clearance")]
    batch = generate_app.service().prepare([{"messageId": f"m{i}", "body": b} for i, b in enumerate(bodies)])
    # WHEN the records are finished
    outcomes = [batch.finish({"messageId": f"m{i}"}) for i in range(2)]
    # THEN loyalty is skipped as opted_out and counted; clearance is written
    assert outcomes == ["opted_out", "written"]
    assert batch.counts["skipped_opted_out"] == 1


def test_the_named_function_url_event_unsubscribes_c001(endpoint_app, stack):
    # GIVEN c001's pseudonym recorded (the generate step does it with each email)
    ProfileStore(stack.table).put_pseudonym(pseudonymize("c001", key=PSEUDONYM_KEY), "c001")
    event = json.loads((EVENTS / "function_url_unsubscribe.json").read_text())
    # WHEN the named event arrives twice (a provider's retry)
    first = endpoint_app.handler(event, LambdaContext(function_name="endpoint"))
    second = endpoint_app.handler(event, LambdaContext(function_name="endpoint"))
    # THEN both answer 200 with a strict page, one opt-out and one event are written
    assert first["statusCode"] == second["statusCode"] == 200
    assert first["headers"]["Content-Security-Policy"].startswith("default-src 'none'")
    assert first["isBase64Encoded"] is False
    assert ProfileStore(stack.table).get_profile("c001").opted_out is True
    assert len(list(EventLog(stack.bucket).keys("events/type=unsubscribe/dt=2026-11-21/"))) == 1


def test_a_get_from_a_link_scanner_unsubscribes_no_one(endpoint_app, stack):
    ProfileStore(stack.table).put_pseudonym(pseudonymize("c001", key=PSEUDONYM_KEY), "c001")
    response = endpoint_app.handler(function_url_event(method="GET", body=None), LambdaContext(function_name="endpoint"))
    assert response["statusCode"] == 200 and 'method="post"' in response["body"]
    assert ProfileStore(stack.table).get_profile("c001").opted_out is False
    assert list(EventLog(stack.bucket).keys()) == []


def test_a_forged_token_is_refused_counted_and_never_logged(endpoint_app, stack, capsys):
    # GIVEN the named event with its signature's last characters changed
    event = function_url_event()
    event["rawQueryString"] = event["rawQueryString"][:-4] + "AAAA"
    # WHEN it arrives
    response = endpoint_app.handler(event, LambdaContext(function_name="endpoint"))
    # THEN 403, nothing written, and the metrics count it (EMF on stdout) without the token in any log
    assert response["statusCode"] == 403 and response["headers"]["Content-Type"].startswith("text/plain")
    assert list(EventLog(stack.bucket).keys()) == []
    out = capsys.readouterr().out
    assert "endpoint_invalid_token" in out and "endpoint_rejected" in out
    assert event["rawQueryString"][3:30] not in out


def test_the_click_redirect_and_the_open_pixel_through_the_handler(linked_stack, generate_app, endpoint_app):
    # GIVEN a clearance email written for c002 with its links through the endpoint
    from nudge.jobs import Job

    body = Job(campaign_id="clearance-2026-11-20", campaign_type="clearance", customer_id="c002", send_date="2026-11-20").to_body()
    assert generate_app.handler({"Records": [{"messageId": "m1", "body": body}]}, LambdaContext()) == {"batchItemFailures": []}
    pseudo = pseudonymize("c002", key=PSEUDONYM_KEY)
    [eml_key] = objects(linked_stack.bucket, f"emails/clearance-2026-11-20/{pseudo}/")
    from nudge_local.export import html_part

    page = html_part(boto3.client("s3").get_object(Bucket=linked_stack.bucket, Key=eml_key)["Body"].read())
    product_link = re.search(r'href="(' + re.escape(LINKS) + r'click\?nt=[^"]+)"', page).group(1).replace("&amp;", "&")
    # WHEN the customer clicks it, with an open-redirect attempt appended
    url = urlsplit(product_link)
    event = function_url_event(method="GET", path=url.path, query=url.query + "&url=https://evil.example", body=None)
    response = endpoint_app.handler(event, LambdaContext(function_name="endpoint"))
    # THEN 302 to the catalog's product page on the store, with UTM, and one click logged
    assert response["statusCode"] == 302
    location = response["headers"]["Location"]
    assert location.startswith("https://shop.example.com/") and "evil" not in location and "utm_campaign=clearance-2026-11-20" in location
    assert len(list(EventLog(linked_stack.bucket).keys("events/type=click/"))) == 1
