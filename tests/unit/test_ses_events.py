"""SES events into the event log: GIVEN real-format SES events (tests/events/ses_*.json, as the
configuration set publishes them to EventBridge) WHEN the events core reads and handles them THEN
each becomes one event log entry keyed by its message id, a permanent bounce or a complaint
suppresses its customer once, a replay changes nothing, an event nudge did not tag is logged and
counted without suppressing anyone, and a malformed one fails alone with a message that says what
was wrong. No AWS here: the log and the profile store are small in-memory fakes."""

from __future__ import annotations

import copy
import json

import pytest

from nudge.errors import ValidationError
from nudge.ses_events import (
    UNKNOWN_PID, SesEventError, handle_ses_event, message_tags, parse_ses_event, read_tag_value, tag_value,
)
from tests.conftest import EVENTS

PID = "p_cc8e0cd8b4416756a01fb1d0"  # pseudonymize("c001", key=the functional tests' key)
MESSAGE_ID = "0100019a8f3c5e21-7d2b6c4e-1f0a-4b8e-9c3d-5e6f7a8b9c0d-000000"
CAMPAIGN = "win-back-2026-11-20"


def ses_event(name: str, **detail_changes) -> dict:
    """A named SES event file (EventBridge envelope), with fields of its detail replaced."""
    event = copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))
    event["detail"].update(detail_changes)
    return event


class FakeLog:
    def __init__(self):
        self.events = {}

    def exists(self, event):
        return event.event_id in self.events

    def put(self, event):
        if event.event_id in self.events:
            return False
        self.events[event.event_id] = event
        return True


class FakeProfiles:
    def __init__(self, mapping=None):
        self.mapping = {PID: "c001"} if mapping is None else dict(mapping)
        self.suppressions = []

    def customer_for_pseudonym(self, pid):
        return self.mapping.get(pid)

    def set_suppressed(self, customer_id, reason):
        self.suppressions.append((customer_id, reason))


# ------------------------------------------------------------------------------------------------
# Parsing the real format
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, kind, at, event_id", [
    ("ses_send", "sent", "2026-11-20T10:00:00Z", f"sent:{MESSAGE_ID}"),
    ("ses_delivery", "delivery", "2026-11-20T10:00:01Z", f"delivery:{MESSAGE_ID}"),
    ("ses_bounce_permanent", "bounce", "2026-11-20T10:00:02Z", f"bounce:{MESSAGE_ID}:permanent"),
    ("ses_complaint", "complaint", "2026-11-21T08:15:00Z", f"complaint:{MESSAGE_ID}"),
    ("ses_reject", "reject", "2026-11-20T10:00:00Z", f"reject:{MESSAGE_ID}"),
    ("ses_open", "open", "2026-11-20T18:42:31Z", f"open:{MESSAGE_ID}:2026-11-20T18:42:31.905Z"),
])
def test_each_ses_event_type_becomes_one_event_keyed_by_its_message_id(name, kind, at, event_id):
    # GIVEN an SES event as EventBridge delivers it WHEN it is parsed
    parsed = parse_ses_event(ses_event(name))
    # THEN it names the campaign and pseudonymous id from the message tags, the SES message id, and its own time
    event = parsed.event
    assert (event.type, event.at, event.event_id) == (kind, at, event_id)
    assert (event.campaign_id, event.pseudonymous_id, event.message_id, event.source) == (CAMPAIGN, PID, MESSAGE_ID, "ses")
    assert parsed.known


def test_the_senders_sent_event_and_ses_send_event_are_one_event():
    from datetime import datetime, timezone

    from nudge.eventlog import sent_event

    ours = sent_event(MESSAGE_ID, campaign_id=CAMPAIGN, pseudonymous_id=PID, at=datetime(2026, 11, 20, 10, tzinfo=timezone.utc))
    assert parse_ses_event(ses_event("ses_send")).event.event_id == ours.event_id


def test_no_address_agent_ip_or_link_reaches_the_event():
    for name in ("ses_bounce_permanent", "ses_complaint", "ses_open", "ses_open_mpp", "ses_click", "ses_delivery"):
        line = json.dumps(parse_ses_event(ses_event(name)).event.__repr__())
        for secret in ("example.com", "203.0.113.44", "17.58.101.20", "Mozilla", "https://", "diagnostic", "550"):
            assert secret not in line, (name, secret)


def test_a_click_keeps_its_product_tag_and_a_hash_of_its_link():
    event = parse_ses_event(ses_event("ses_click")).event
    assert event.type == "click" and event.product_id == "p009"
    assert event.detail.startswith("link=") and len(event.detail) == len("link=") + 12
    assert event.event_id.startswith(f"click:{MESSAGE_ID}:2026-11-20T18:43:02.117Z:")


def test_an_apple_privacy_proxy_open_is_flagged_a_machine_open_and_a_person_s_is_not():
    assert parse_ses_event(ses_event("ses_open_mpp")).event.flags == ("machine_open",)
    assert parse_ses_event(ses_event("ses_open")).event.flags == ()


def test_the_same_event_reads_the_same_from_sns_and_bare():
    bridge = parse_ses_event(ses_event("ses_delivery"))
    detail = ses_event("ses_delivery")["detail"]
    sns = {"Type": "Notification", "MessageId": "x", "TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Message": json.dumps(detail)}
    assert parse_ses_event(sns) == parse_ses_event(detail) == parse_ses_event(json.dumps(ses_event("ses_delivery"))) == bridge


@pytest.mark.parametrize("text", ["win-back-2026-11-20", "spring_sale.v2", "p_cc8e0cd8b4416756a01fb1d0", "a__b._d"])
def test_message_tag_values_use_ses_s_alphabet_and_read_back(text):
    value = tag_value(text)
    assert set(value) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
    assert read_tag_value(value) == text


def test_the_sender_names_the_configuration_set_and_tags_every_message():
    from nudge.storage import RawEmailSender

    class FakeSes:
        def send_raw_email(self, **request):
            self.request = request
            return {"MessageId": MESSAGE_ID}

    ses = FakeSes()
    sender = RawEmailSender(ses=ses, configuration_set="nudge-events")
    assert sender.send(b"raw", tags=message_tags(CAMPAIGN, PID)) == MESSAGE_ID
    assert ses.request["ConfigurationSetName"] == "nudge-events"
    assert ses.request["Tags"] == [{"Name": "nudge-campaign", "Value": CAMPAIGN}, {"Name": "nudge-pid", "Value": "p__cc8e0cd8b4416756a01fb1d0"}]


# ------------------------------------------------------------------------------------------------
# Handling: suppress, replay, unknown
# ------------------------------------------------------------------------------------------------
def test_a_permanent_bounce_suppresses_the_customer_and_a_transient_one_only_logs():
    log, profiles = FakeLog(), FakeProfiles()
    assert handle_ses_event(ses_event("ses_bounce_transient"), log=log, profiles=profiles) == "logged"
    assert profiles.suppressions == []
    assert handle_ses_event(ses_event("ses_bounce_permanent"), log=log, profiles=profiles) == "suppressed"
    assert profiles.suppressions == [("c001", "bounce:General")]
    flags = sorted(e.flags for e in log.events.values())
    assert flags == [("permanent",), ("transient",)]


def test_an_undetermined_bounce_suppresses_nobody():
    event = ses_event("ses_bounce_permanent")
    event["detail"]["bounce"]["bounceType"] = "Undetermined"
    profiles = FakeProfiles()
    assert handle_ses_event(event, log=FakeLog(), profiles=profiles) == "logged"
    assert profiles.suppressions == []


def test_a_complaint_suppresses_the_customer_with_its_feedback_type():
    profiles = FakeProfiles()
    assert handle_ses_event(ses_event("ses_complaint"), log=FakeLog(), profiles=profiles) == "suppressed"
    assert profiles.suppressions == [("c001", "complaint:abuse")]


def test_a_replayed_event_changes_nothing_the_second_time():
    # GIVEN a complaint handled once
    log, profiles = FakeLog(), FakeProfiles()
    event = ses_event("ses_complaint")
    assert handle_ses_event(event, log=log, profiles=profiles) == "suppressed"
    # WHEN the same event arrives again (EventBridge and SQS deliver at least once)
    outcome = handle_ses_event(copy.deepcopy(event), log=log, profiles=profiles)
    # THEN it is counted as a replay: one log entry, one suppression
    assert outcome == "replayed"
    assert len(log.events) == 1 and len(profiles.suppressions) == 1


def test_opens_at_different_times_are_different_events_and_each_replays_alone():
    log, profiles = FakeLog(), FakeProfiles()
    first = ses_event("ses_open")
    later = ses_event("ses_open")
    later["detail"]["open"]["timestamp"] = "2026-11-21T07:00:00.000Z"
    outcomes = [handle_ses_event(e, log=log, profiles=profiles) for e in (first, later, first, later)]
    assert outcomes == ["logged", "logged", "replayed", "replayed"]


def test_an_event_without_nudge_s_tags_is_logged_and_counted_and_suppresses_nobody():
    # GIVEN a complaint about a message nudge did not tag (another tool using the configuration set)
    event = ses_event("ses_complaint")
    for name in ("nudge-campaign", "nudge-pid"):
        del event["detail"]["mail"]["tags"][name]
    log, profiles = FakeLog(), FakeProfiles()
    # WHEN it is handled THEN it is kept, under the unknown pseudonymous id, and nobody is suppressed
    assert handle_ses_event(event, log=log, profiles=profiles) == "unknown_message"
    [logged] = log.events.values()
    assert (logged.pseudonymous_id, logged.campaign_id, logged.message_id) == (UNKNOWN_PID, "", MESSAGE_ID)
    assert profiles.suppressions == []


def test_a_bounce_for_a_pseudonym_no_customer_has_is_logged_and_counted():
    log, profiles = FakeLog(), FakeProfiles(mapping={})  # erased since, or never recorded
    assert handle_ses_event(ses_event("ses_bounce_permanent"), log=log, profiles=profiles) == "unknown_customer"
    assert len(log.events) == 1 and profiles.suppressions == []


def test_types_the_configuration_set_does_not_ask_for_are_ignored():
    event = ses_event("ses_delivery", eventType="DeliveryDelay")
    assert handle_ses_event(event, log=FakeLog(), profiles=FakeProfiles()) == "ignored"


# ------------------------------------------------------------------------------------------------
# Malformed records fail alone, saying what was wrong
# ------------------------------------------------------------------------------------------------
def _without_message_id():
    event = ses_event("ses_delivery")
    del event["detail"]["mail"]["messageId"]
    return event


def _bad_timestamp():
    event = ses_event("ses_delivery")
    event["detail"]["delivery"]["timestamp"] = "yesterday"
    event["detail"]["mail"]["timestamp"] = "yesterday"
    return event


@pytest.mark.parametrize("payload, message", [
    ("{not json", "must be JSON"),
    ("[1, 2]", "must be a JSON object"),
    (lambda: {**ses_event("ses_delivery"), "source": "com.example.shop"}, "source 'aws.ses'"),
    (lambda: ses_event("ses_delivery", eventType="Teleport"), "eventType must be one of"),
    (_without_message_id, "no mail.messageId"),
    (_bad_timestamp, "no ISO 8601 timestamp"),
    (lambda: ses_event("ses_delivery", delivery="soon"), "must be an object"),
])
def test_a_malformed_record_raises_a_validation_error_that_says_what_was_expected(payload, message):
    payload = payload() if callable(payload) else payload
    with pytest.raises(SesEventError, match=message) as raised:
        handle_ses_event(payload, log=FakeLog(), profiles=FakeProfiles())
    assert isinstance(raised.value, ValidationError)
