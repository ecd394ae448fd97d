"""Planning at scale against moto: the plan state machine's steps (start → segments → finish) played
by nudge_local.plan_map with the real plan handler, checked against one plain Scan of the same store.

GIVEN a few hundred profiles WHEN planned in parallel Scan segments, stopped by a time budget, or
run twice THEN the jobs and holdouts are exactly those of one Scan, once each."""

from __future__ import annotations

import dataclasses

import json
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import boto3
import pytest

from nudge.campaigns import get_campaign
from nudge.errors import ValidationError
from nudge.jobs import parse_job
from nudge.planner import PlanOptions, collect, plan_campaign
from nudge.storage import ProfileStore
from nudge_local.esm import EventSourceMapping, LambdaContext
from nudge_local.plan_map import run_plan_state_machine
from tests import factories

SEND_DATE = date(2026, 11, 20)
REQUEST = {"campaign_type": "new_arrivals", "campaign_id": "na-scale", "send_date": SEND_DATE.isoformat()}


@pytest.fixture
def crowd(stack, monkeypatch):
    """300 more profiles beside the tiny store's: every 7th without consent, every 11th emailed
    yesterday (frequency-capped), the rest in new_arrivals' audience; a 20% holdout."""
    monkeypatch.setenv("NUDGE_HOLDOUT_SHARE", "0.2")
    yesterday = datetime(2026, 11, 19, tzinfo=timezone.utc)
    profiles = []
    for i in range(300):
        p = factories.profile(f"x{i:04d}", customer_overrides={"consent": i % 7 != 0})
        if i % 11 == 0:
            p.last_marketing_sent_at = yesterday
        profiles.append(p)
    ProfileStore(stack.table).put_profiles(profiles)
    return stack


def queued(queue_url: str) -> list:
    """Every job body on the queue (received and deleted)."""
    sqs, jobs = boto3.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        jobs += [parse_job(m["Body"]) for m in messages]
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
    return jobs


def holdouts(table: str, campaign_id: str) -> list[str]:
    items = [i for page in boto3.client("dynamodb").get_paginator("scan").paginate(TableName=table) for i in page["Items"]]
    return [i["pk"]["S"][len("CUST#"):] for i in items if i["sk"]["S"] == f"HOLDOUT#{campaign_id}"]


def one_scan(plan_app, campaign_id: str):
    """The reference: the planner over one plain Scan of the whole table (what the plan used to be)."""
    service = plan_app.service()
    options = PlanOptions(holdout_share=0.2, frequency_cap_days=7, holdout_key=service.holdout_key)
    return collect(plan_campaign(service.profiles.scan_profiles(), get_campaign("new_arrivals"), campaign_id=campaign_id,
                                 send_date=SEND_DATE, options=options))


def test_segments_enqueue_exactly_the_jobs_and_holdouts_of_one_scan(plan_app, crowd):
    expected = one_scan(plan_app, "na-scale")
    # WHEN the state machine plans it in 4 segments, 3 at a time
    run = run_plan_state_machine(plan_app.handler, REQUEST, default_segments=4, max_concurrency=3)
    jobs = queued(crowd.queue_url)
    # THEN the same jobs (bodies included), once each, and the same holdouts
    assert sorted(j.to_body() for j in jobs) == sorted(j.to_body() for j in expected.jobs)
    assert sorted(holdouts(crowd.table, "na-scale")) == sorted(expected.holdout) != []
    # AND the totals add up across segments
    summary = run.summary
    assert summary["complete"] and summary["segments"] == 4 and len(run.segments) == 4
    assert summary["enqueued"] == run.enqueued_this_run == len(jobs)
    assert summary["considered"] == sum(expected.counts.values()) == 306
    assert {k: v for k, v in summary["excluded"].items() if v} == {k: v for k, v in expected.counts.items() if k != "enqueued"}


def test_a_segment_stopped_by_its_time_budget_continues_from_its_checkpoint(plan_app, crowd, monkeypatch):
    expected = one_scan(plan_app, "na-scale")
    # GIVEN pages of 25 items and a Lambda context that is always out of time (every invocation does one page)
    monkeypatch.setattr(plan_app.service(), "settings", dataclasses.replace(plan_app.service().settings, plan_page_size=25))
    short = lambda: LambdaContext(function_name="plan", timeout_ms=1_000)  # noqa: E731 - under SEGMENT_RESERVE_MS
    # WHEN the state machine runs 2 segments
    run = run_plan_state_machine(plan_app.handler, REQUEST, default_segments=2, max_concurrency=2, context=short)
    # THEN each segment was invoked once per page, looping on "done": false
    assert all(s.invocations == s.pages > 2 for s in run.segments)
    # AND the union of the pieces is the plan of one Scan, nobody twice
    bodies = [j.to_body() for j in queued(crowd.queue_url)]
    assert Counter(bodies).most_common(1)[0][1] == 1
    assert sorted(bodies) == sorted(j.to_body() for j in expected.jobs)
    assert sorted(holdouts(crowd.table, "na-scale")) == sorted(expected.holdout)


def test_a_crash_between_sending_and_checkpointing_replays_one_page_only(plan_app, crowd, monkeypatch):
    import nudge.service

    service = plan_app.service()
    monkeypatch.setattr(service, "settings", dataclasses.replace(service.settings, plan_page_size=25))
    started = service.start(campaign_type="new_arrivals", campaign_id="na-crash", send_date=SEND_DATE, total_segments=1)
    save, calls = service.profiles.save_plan_checkpoint, Counter()

    def crash_on_third(*args, **kwargs):
        calls["saves"] += 1
        if calls["saves"] == 3:
            raise TimeoutError("Lambda timed out after sending page 3")
        return save(*args, **kwargs)

    monkeypatch.setattr(service.profiles, "save_plan_checkpoint", crash_on_third)
    # GIVEN an invocation that dies after sending its 3rd page, before checkpointing it
    with pytest.raises(TimeoutError):
        service.plan_segment(**nudge.service.segment_request(started, 0))
    # WHEN the Task is retried THEN it goes on from page 3: only that page's jobs are sent twice
    result = service.plan_segment(**nudge.service.segment_request(started, 0))
    assert result["done"]
    bodies = Counter(j.to_body() for j in queued(crowd.queue_url))
    twice = [b for b, n in bodies.items() if n == 2]
    assert 0 < len(twice) <= 25 and max(bodies.values()) == 2
    assert sorted(bodies) == sorted(j.to_body() for j in one_scan(plan_app, "na-crash").jobs)


def test_rerunning_a_plan_enqueues_nothing(plan_app, crowd):
    first = run_plan_state_machine(plan_app.handler, REQUEST, default_segments=4)
    assert len(queued(crowd.queue_url)) == first.summary["enqueued"] > 0
    # WHEN the same campaign id is planned again, by the state machine (even asking for other segments) or in one invocation
    again = run_plan_state_machine(plan_app.handler, {**REQUEST, "segments": 8}, default_segments=4)
    whole = plan_app.handler(REQUEST, LambdaContext(function_name="plan"))
    # THEN nothing is enqueued, and the plan's totals are the first run's
    assert again.enqueued_this_run == 0 and whole["enqueued_this_run"] == 0
    assert queued(crowd.queue_url) == []
    assert again.started["total_segments"] == 4
    assert again.summary == first.summary and whole["enqueued"] == first.summary["enqueued"]


def test_a_limited_plan_runs_in_one_segment_and_the_same_id_cannot_plan_another_campaign(plan_app, crowd):
    run = run_plan_state_machine(plan_app.handler, {**REQUEST, "limit": 7}, default_segments=4)
    assert run.started["total_segments"] == 1 and run.summary["enqueued"] == 7 == len(queued(crowd.queue_url))
    with pytest.raises(ValidationError, match="different campaign id"):
        plan_app.handler({**REQUEST, "campaign_type": "loyalty"}, LambdaContext(function_name="plan"))


@pytest.mark.parametrize("event", [
    {"mode": "segment", "campaign_id": "x", "started_at": "2026-11-20T00:00:00+00:00", "segment": 4, "total_segments": 4},
    {"mode": "segment", "campaign_id": "../x", "started_at": "2026-11-20T00:00:00+00:00", "segment": 0, "total_segments": 4},
    {"mode": "sideways", "campaign_type": "loyalty"},
])
def test_bad_state_machine_steps_are_refused(plan_app, event):
    with pytest.raises(ValidationError):
        plan_app.handler(event, LambdaContext(function_name="plan"))


def test_cart_reminders_go_to_their_own_queue_which_the_generate_function_reads(stack, generate_app, monkeypatch):
    import importlib

    from tests.conftest import EVENTS

    monkeypatch.setenv("NUDGE_HOLDOUT_SHARE", "0")
    cart_app, sweep_app = importlib.import_module("cart.app"), importlib.import_module("sweep.app")
    cart_app._service = sweep_app._service = None
    # GIVEN a batch campaign's job waiting on the jobs queue, and c001's cart left at 10:00
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=stack.queue_url, MessageBody=json.dumps(
        {"campaign_id": "loyalty-x", "campaign_type": "loyalty", "customer_id": "c002", "send_date": "2026-11-20"}))
    cart_at = datetime(2026, 11, 20, 10, tzinfo=timezone.utc)
    cart_app.service().apply(json.loads((EVENTS / "cart_updated.json").read_text()), now=cart_at)
    # WHEN the sweep finds it due, and the generate function's trigger event source drains its queue
    assert sweep_app.service().sweep(now=cart_at + timedelta(hours=2, minutes=1)) == {"enqueued": 1}
    stats = EventSourceMapping(sqs, stack.triggers_queue_url, generate_app.handler).drain()
    cart_app._service = sweep_app._service = None
    # THEN the reminder is written at once, and the batch campaign's queue still holds only its own job
    assert stats.succeeded == 1 and stats.failed_attempts == 0
    assert [j.campaign_type for j in queued(stack.queue_url)] == ["loyalty"]
