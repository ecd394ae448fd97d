"""Abandoned cart as a trigger, against moto: cart and order events (EventBridge) → the profile's
cart and a due item → the sweep → at most one abandoned_cart job, after the planner's checks.

Times are explicit (`service().apply(..., now=)`, `service().sweep(now=)`) so the 2-hour delay is
crossed without waiting; the last test goes through both handlers on the real clock.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from nudge.errors import ValidationError
from nudge.jobs import parse_job
from nudge.planner import PlanOptions
from nudge.storage import ProfileStore
from nudge.triggers import DueItem, check_due, cart_campaign, due_bucket, format_time
from nudge_local.esm import LambdaContext
from tests import factories
from tests.conftest import EVENTS
from tests.functional.conftest import cold_started

CART_AT = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)  # tests/events/cart_updated.json


# ------------------------------------------------------------------------------------------------
# Fixtures and small factories
# ------------------------------------------------------------------------------------------------
@pytest.fixture
def cart_app(stack):
    yield from cold_started("cart")


@pytest.fixture
def sweep_app(stack):
    yield from cold_started("sweep")


def store_event(name: str = "cart_updated.json", *, customer_id: str | None = None, items: list[str] | None = None,
                at: datetime | None = None) -> dict:
    """A named event file with a few fields replaced."""
    event = copy.deepcopy(json.loads((EVENTS / name).read_text()))
    if customer_id is not None:
        event["detail"]["customer_id"] = customer_id
    if items is not None:
        event["detail"]["items"] = [{"product_id": p, "quantity": 1} for p in items]
    if at is not None:
        event["detail"]["at"] = format_time(at)
    return event


def jobs_in(queue_url: str) -> list:
    sqs, bodies = boto3.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        bodies += [m["Body"] for m in messages]
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
    return [parse_job(body) for body in bodies]


def due_items(table: str) -> list[dict]:
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    return [i for i in items if i["pk"]["S"].startswith("DUE#")]


def at(hour: int, minute: int = 0) -> datetime:
    return CART_AT.replace(hour=hour, minute=minute)


# ------------------------------------------------------------------------------------------------
# The happy path
# ------------------------------------------------------------------------------------------------
def test_a_cart_left_alone_gets_exactly_one_job_with_its_items_after_the_delay(cart_app, sweep_app, stack):
    # GIVEN c001 (consenting) updates the cart at 10:00 (the named event: p009 and p011)
    outcome = cart_app.service().apply(store_event(), now=at(10, 0))
    # THEN the profile holds the cart and a due item waits in the 12:00 bucket, with a TTL
    assert outcome == "due_recorded"
    profile = ProfileStore(stack.table).get_profile("c001")
    assert (profile.carted, profile.cart_updated_at) == (["p009", "p011"], CART_AT)
    [due] = due_items(stack.table)
    assert (due["pk"]["S"], due["sk"]["S"]) == ("DUE#2026-11-20T12:00", "c001#2026-11-20T10:00:00+00:00")
    assert int(due["expires_at"]["N"]) > CART_AT.timestamp()

    # WHEN the sweep runs before the due time THEN nothing is enqueued and the due item stays
    assert sweep_app.service().sweep(now=at(11, 59)) == {}
    assert jobs_in(stack.triggers_queue_url) == [] and len(due_items(stack.table)) == 1

    # WHEN it runs after the due time
    counts = sweep_app.service().sweep(now=at(12, 1))
    # THEN exactly one abandoned_cart job carries the cart's items (cart first), and the due item is gone
    assert counts == {"enqueued": 1}
    [job] = jobs_in(stack.triggers_queue_url)
    assert (job.campaign_type, job.campaign_id, job.customer_id) == ("abandoned_cart", "cart-2026-11-20", "c001")
    assert job.context.cart_items == ("p009", "p011")
    assert str(job.send_date) == "2026-11-20"
    assert due_items(stack.table) == []

    # AND a second sweep (or a retried one) enqueues nothing more
    assert sweep_app.service().sweep(now=at(12, 6)) == {}
    assert jobs_in(stack.triggers_queue_url) == []


def test_a_redelivered_cart_event_still_makes_one_job(cart_app, sweep_app, stack):
    # GIVEN the same cart event delivered twice (EventBridge delivers at least once)
    for _ in range(2):
        cart_app.service().apply(store_event(), now=at(10, 0))
    # WHEN the sweep runs after the due time THEN one due item made one job
    assert len(due_items(stack.table)) == 1
    assert sweep_app.service().sweep(now=at(12, 1)) == {"enqueued": 1}
    assert len(jobs_in(stack.triggers_queue_url)) == 1


# ------------------------------------------------------------------------------------------------
# The cart changed before the reminder was due
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bought, reason, left_in_cart", [
    (["p009", "p011"], "cart_emptied", []),   # the whole cart bought
    (["p009"], "ordered", ["p011"]),           # part of it bought: a buyer gets no reminder either
])
def test_an_order_before_the_due_time_means_no_job(cart_app, sweep_app, stack, bought, reason, left_in_cart):
    # GIVEN a cart at 10:00, then an order at 11:00 (before the 12:00 due time)
    cart_app.service().apply(store_event(), now=at(10, 0))
    assert cart_app.service().apply(store_event("order_placed.json", items=bought), now=at(11, 0)) == "order_recorded"
    # THEN the bought items left the cart and joined the purchase history
    profile = ProfileStore(stack.table).get_profile("c001")
    assert profile.carted == left_in_cart
    assert profile.purchased[: len(bought)] == bought
    assert profile.purchased_on[: len(bought)] == [at(11, 0).date()] * len(bought)  # dated, for reorders
    assert len(profile.purchased_on) == len(profile.purchased)
    assert profile.last_order_at == at(11, 0)
    # WHEN the sweep runs after the due time THEN no job, the reason counted, the due item gone
    assert sweep_app.service().sweep(now=at(12, 1)) == {reason: 1}
    assert jobs_in(stack.triggers_queue_url) == [] and due_items(stack.table) == []


def test_a_cart_updated_twice_gets_one_job_for_the_latest_version(cart_app, sweep_app, stack):
    # GIVEN a cart at 10:00 (p009, p011) and the same customer's cart again at 10:30 (p012 added)
    cart_app.service().apply(store_event(), now=at(10, 0))
    cart_app.service().apply(store_event(items=["p009", "p011", "p012"], at=at(10, 30)), now=at(10, 30))
    # WHEN the sweep passes the first due time THEN the older version is superseded, no job yet
    assert sweep_app.service().sweep(now=at(12, 1)) == {"superseded": 1}
    assert jobs_in(stack.triggers_queue_url) == []
    # WHEN it passes the second THEN one job with the latest cart
    assert sweep_app.service().sweep(now=at(12, 31)) == {"enqueued": 1}
    [job] = jobs_in(stack.triggers_queue_url)
    assert job.context.cart_items == ("p009", "p011", "p012")


def test_an_older_cart_event_arriving_late_changes_nothing(cart_app, stack):
    # GIVEN the 10:30 cart applied first, then the 10:00 one delivered late (EventBridge keeps no order)
    cart_app.service().apply(store_event(items=["p012"], at=at(10, 30)), now=at(10, 30))
    # WHEN the older event arrives THEN it is stale: the profile keeps the newer cart, no due item added
    assert cart_app.service().apply(store_event(), now=at(10, 31)) == "stale"
    assert ProfileStore(stack.table).get_profile("c001").carted == ["p012"]
    assert len(due_items(stack.table)) == 1


def test_an_emptied_cart_records_no_due_item(cart_app, sweep_app, stack):
    cart_app.service().apply(store_event(), now=at(10, 0))
    # GIVEN the customer empties the cart at 10:10
    assert cart_app.service().apply(store_event(items=[], at=at(10, 10)), now=at(10, 10)) == "cart_emptied"
    # THEN the old due item is superseded at its due time and nothing is enqueued
    assert sweep_app.service().sweep(now=at(12, 1)) == {"superseded": 1}
    assert jobs_in(stack.triggers_queue_url) == []


# ------------------------------------------------------------------------------------------------
# The planner's checks, at sweep time
# ------------------------------------------------------------------------------------------------
def test_no_consent_and_suppressed_customers_get_no_job_and_are_counted(cart_app, sweep_app, stack):
    # GIVEN c003 (no marketing consent) and c001 (suppressed after carting) both leave carts
    cart_app.service().apply(store_event(customer_id="c003"), now=at(10, 0))
    cart_app.service().apply(store_event(customer_id="c001"), now=at(10, 0))
    ProfileStore(stack.table).set_suppressed("c001", "unsubscribed")
    # WHEN the sweep runs after the due time THEN neither is enqueued; each reason is counted once
    assert sweep_app.service().sweep(now=at(12, 1)) == {"no_consent": 1, "suppressed": 1}
    assert jobs_in(stack.triggers_queue_url) == [] and due_items(stack.table) == []


def test_a_customer_emailed_recently_is_frequency_capped(cart_app, sweep_app, stack):
    # GIVEN c001 got a marketing email yesterday (the cap is 7 days), then leaves a cart
    profiles = ProfileStore(stack.table)
    assert profiles.claim_send("c001", "new-arrivals-2026-11-19", now=at(10) - timedelta(days=1), token="t", cap_days=7) == "claimed"
    assert profiles.mark_sent("c001", "new-arrivals-2026-11-19", now=at(10) - timedelta(days=1), token="t")
    cart_app.service().apply(store_event(), now=at(10, 0))
    # WHEN the sweep runs THEN the reminder is capped, as the planner would cap it
    assert sweep_app.service().sweep(now=at(12, 1)) == {"frequency_capped": 1}
    assert jobs_in(stack.triggers_queue_url) == []


def test_a_holdout_customer_gets_no_job():
    # GIVEN a due cart whose profile passes every other check, and a holdout share of 99%
    profile = factories.profile("c1", carted=["p009"], cart_updated_at=CART_AT)
    due = DueItem(due_bucket(at(12)), "c1", CART_AT, at(12))
    options = PlanOptions(holdout_share=0.99, frequency_cap_days=7, holdout_key=b"k")
    # WHEN it is checked THEN it is held out (recorded by the sweep, never emailed)
    decision, job = check_due(due, profile, campaign=cart_campaign(timedelta(hours=2)), options=options, now=at(12, 1))
    assert (decision, job) == ("holdout", None)


def test_a_malformed_cart_event_is_refused_with_a_named_error(cart_app):
    # GIVEN an event without a customer id THEN ValidationError (Lambda retries, then TriggersDLQ)
    event = store_event()
    del event["detail"]["customer_id"]
    with pytest.raises(ValidationError, match="customer_id"):
        cart_app.service().apply(event, now=at(10))
    with pytest.raises(ValidationError, match="detail-type"):
        cart_app.service().apply({**event, "detail-type": "Something"}, now=at(10))


# ------------------------------------------------------------------------------------------------
# Both handlers, on the real clock
# ------------------------------------------------------------------------------------------------
def test_handlers_turn_a_cart_left_three_hours_ago_into_one_job(cart_app, sweep_app, stack):
    # GIVEN a cart event from three hours ago, through the cart handler
    three_hours_ago = datetime.now(timezone.utc) - timedelta(hours=3)
    result = cart_app.handler(store_event(at=three_hours_ago), LambdaContext(function_name="cart"))
    assert result == {"outcome": "due_recorded"}
    # WHEN the scheduled sweep handler runs
    counts = sweep_app.handler({"source": "aws.scheduler"}, LambdaContext(function_name="sweep"))
    # THEN one job is enqueued for that cart
    assert counts == {"enqueued": 1}
    [job] = jobs_in(stack.triggers_queue_url)
    assert job.context.cart_items == ("p009", "p011")
