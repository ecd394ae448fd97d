"""The SQS job message: GIVEN a body WHEN parsed THEN a Job or a BadJobError saying what was expected."""

from __future__ import annotations

import json

import pytest

from nudge.errors import BadJobError
from nudge.jobs import parse_job
from tests.conftest import EVENTS


def test_named_event_parses():
    job = parse_job((EVENTS / "job_abandoned_cart.json").read_text())
    assert job.campaign_type == "abandoned_cart"
    assert job.context.cart_items == ("p011",)


def test_round_trip_through_the_body():
    job = parse_job((EVENTS / "job_clearance.json").read_text())
    assert parse_job(job.to_body()) == job


@pytest.mark.parametrize(
    "body, expected_fragment",
    [
        ("", "empty"),
        ("not json", "not valid JSON"),
        ("[1, 2]", "JSON list"),
        ('{"campaign_id": "x"}', "campaign_type"),
        ('{"campaign_id": "../etc", "campaign_type": "clearance", "customer_id": "c1", "send_date": "2026-11-20"}', "campaign_id"),
        ('{"campaign_id": "a", "campaign_type": "clearance", "customer_id": "c1/../../x", "send_date": "2026-11-20"}', "customer_id"),
        ('{"campaign_id": "a", "campaign_type": "spam", "customer_id": "c1", "send_date": "2026-11-20"}', "campaign_type"),
        ('{"campaign_id": "a", "campaign_type": "clearance", "customer_id": 5, "send_date": "2026-11-20"}', "customer_id"),
        ('{"campaign_id": "a", "campaign_type": "clearance", "customer_id": "c1", "send_date": "yesterday"}', "send_date"),
        ('{"campaign_id": "a", "campaign_type": "clearance", "customer_id": "c1", "send_date": "2026-11-20", "x": 1}', "x"),
        ('{"campaign_id": "a", "campaign_type": "abandoned_cart", "customer_id": "c1", "send_date": "2026-11-20", "context": {"cart_items": ["../p"]}}', "cart_items"),
    ],
)
def test_malformed_bodies_fail_with_a_clear_reason(body, expected_fragment):
    with pytest.raises(BadJobError) as error:
        parse_job(body)
    assert expected_fragment in str(error.value)


def test_huge_body_is_refused_before_parsing():
    with pytest.raises(BadJobError, match="at most"):
        parse_job(json.dumps({"campaign_id": "a" * 20_000}))
