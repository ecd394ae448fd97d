"""The optional send function, against moto: a completed SEND# item on the profile table's stream
→ the stored .eml → SES SendRawEmail, once per (campaign, customer), consent and suppression
checked at send time.

The generate function's output is stood in for by what it leaves behind: the .eml under its
deterministic key and the completed SEND# item (ProfileStore.mark_sent).
"""

from __future__ import annotations

from datetime import datetime, timezone
from email.message import EmailMessage

import boto3
import pytest

from nudge.storage import ProfileStore
from nudge_local.esm import LambdaContext
from tests.functional.conftest import cold_started, completed_email

CAMPAIGN = "win-back-2026-11-20"
PSEUDONYM_KEY = b"test-pseudonym-key-0123456789abcdef"  # as tests/functional/conftest.py sets it
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def send_app(stack):
    yield from cold_started("send")


@pytest.fixture
def ses(stack):
    """SES with the store's sending domain verified (moto refuses an unverified From)."""
    client = boto3.client("ses")
    client.verify_domain_identity(Domain="shop.example.com")
    return client


def written_email(stack, customer_id: str = "c001", campaign_id: str = CAMPAIGN, campaign_type: str = "") -> bytes:
    """What the generate function leaves: the .eml under its key, then the completed SEND# item."""
    message = EmailMessage()
    message["From"] = "Hearth & Thread <news@shop.example.com>"
    message["To"] = f"{customer_id}@example.com"
    message["Subject"] = "We kept your favourites"
    message.set_content("Hello")
    eml = message.as_bytes()
    completed_email(stack, customer_id, campaign_id, eml, now=NOW, campaign_type=campaign_type)
    return eml


def stream_event(*keys: tuple[str, str], event_name: str = "MODIFY") -> dict:
    """A DynamoDB stream batch (KEYS_ONLY view) with one record per (pk, sk)."""
    return {"Records": [
        {
            "eventID": f"{n}", "eventName": event_name, "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/nudge-local-profiles/stream/2026-11-20T00:00:00.000",
            "dynamodb": {"Keys": {"pk": {"S": pk}, "sk": {"S": sk}}, "SequenceNumber": f"{100 + n}", "SizeBytes": 60,
                         "StreamViewType": "KEYS_ONLY"},
        }
        for n, (pk, sk) in enumerate(keys)
    ]}


def sent_count(ses) -> int:
    return int(ses.get_send_quota()["SentLast24Hours"])


def test_a_written_email_is_sent_once_however_often_its_record_arrives(send_app, ses, stack):
    # GIVEN c001's written email and its stream record
    written_email(stack)
    event = stream_event(("CUST#c001", f"SEND#{CAMPAIGN}"))
    # WHEN the record is delivered twice (streams and retries deliver at least once)
    first = send_app.handler(event, LambdaContext(function_name="send"))
    second = send_app.handler(event, LambdaContext(function_name="send"))
    # THEN SES got exactly one message, and the SENT# item says so
    assert first == second == {"batchItemFailures": []}
    assert sent_count(ses) == 1
    item = boto3.client("dynamodb").get_item(
        TableName=stack.table, Key={"pk": {"S": "CUST#c001"}, "sk": {"S": f"SENT#{CAMPAIGN}"}})["Item"]
    assert item["status"]["S"] == "sent" and item["ses_message_id"]["S"]


def test_a_customer_suppressed_after_writing_is_not_sent(send_app, ses, stack):
    # GIVEN c001's email was written, then c001 unsubscribed
    written_email(stack)
    ProfileStore(stack.table).set_suppressed("c001", "unsubscribed")
    # WHEN the record arrives THEN nothing is sent, and the record still succeeds
    assert send_app.service().deliver_record(stream_event(("CUST#c001", f"SEND#{CAMPAIGN}"))["Records"][0]) == "suppressed"
    assert send_app.handler(stream_event(("CUST#c001", f"SEND#{CAMPAIGN}")), LambdaContext()) == {"batchItemFailures": []}
    assert sent_count(ses) == 0


def test_an_opt_out_after_writing_stops_the_send_of_that_campaign_type_only(send_app, ses, stack):
    # GIVEN win-back emails written for c001 and c002 (the SEND# item names the campaign type) ...
    profiles = ProfileStore(stack.table)
    for customer_id in ("c001", "c002", "c004"):
        written_email(stack, customer_id=customer_id, campaign_type="" if customer_id == "c004" else "win_back")
    # ... then c001 stopped win-back emails, c002 stopped clearance emails, c004 unsubscribed from
    # everything (its SEND# item predates campaign types: "everything" still applies)
    profiles.opt_out("c001", now=NOW, campaign_type="win_back")
    profiles.opt_out("c002", now=NOW, campaign_type="clearance")
    profiles.opt_out("c004", now=NOW)
    # WHEN the records arrive
    outcomes = [send_app.service().deliver_record(stream_event((f"CUST#{c}", f"SEND#{CAMPAIGN}"))["Records"][0])
                for c in ("c001", "c002", "c004")]
    # THEN only c002's win-back email is sent
    assert outcomes == ["opted_out", "sent", "opted_out"]
    assert sent_count(ses) == 1


def test_a_customer_without_consent_is_not_sent(send_app, ses, stack):
    # GIVEN c003 (no marketing consent) with a written email (e.g. consent withdrawn in between)
    written_email(stack, customer_id="c003")
    # THEN the send function sends nothing
    assert send_app.service().deliver_record(stream_event(("CUST#c003", f"SEND#{CAMPAIGN}"))["Records"][0]) == "no_consent"
    assert sent_count(ses) == 0


def test_records_that_are_not_finished_sends_are_skipped(send_app, ses, stack):
    # GIVEN a claim still in progress (no .eml yet), a profile change and a due item in the stream
    ProfileStore(stack.table).claim_send("c001", CAMPAIGN, now=NOW, token="t")
    event = stream_event(("CUST#c001", f"SEND#{CAMPAIGN}"), ("CUST#c001", "PROFILE"), ("DUE#2026-11-20T12:00", "c001#x"))
    # WHEN they arrive THEN each succeeds without sending
    assert send_app.handler(event, LambdaContext()) == {"batchItemFailures": []}
    assert sent_count(ses) == 0


def test_an_ses_refusal_fails_the_record_alone_and_the_retry_sends(send_app, stack, capsys):
    # GIVEN two written emails and SES with no verified identity yet (SES refuses the From)
    written_email(stack, customer_id="c001")
    written_email(stack, customer_id="c002")
    event = stream_event(("CUST#c001", f"SEND#{CAMPAIGN}"), ("CUST#c002", f"SEND#{CAMPAIGN}"))
    # WHEN the batch is handled THEN both records fail (reported for retry), nothing is claimed for good
    response = send_app.handler(event, LambdaContext())
    assert len(response["batchItemFailures"]) == 2
    # AND SES's refusal (whose message names the addresses) leaves no address or id in the logs
    logs = capsys.readouterr()
    assert "@example.com" not in logs.out + logs.err and "c001" not in logs.out + logs.err
    # WHEN the identity is verified and the records are retried THEN each email goes once
    ses = boto3.client("ses")
    ses.verify_domain_identity(Domain="shop.example.com")
    assert send_app.handler(event, LambdaContext()) == {"batchItemFailures": []}
    assert sent_count(ses) == 2
