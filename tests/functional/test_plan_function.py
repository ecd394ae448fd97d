"""The plan function against moto: a campaign → SQS job messages → counts per exclusion."""

from __future__ import annotations

import json

import boto3
import pytest

from nudge.errors import ValidationError
from nudge.jobs import parse_job
from nudge_local.esm import LambdaContext
from tests.conftest import EVENTS


def drain_bodies(queue_url: str) -> list[str]:
    sqs, bodies = boto3.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        bodies += [m["Body"] for m in messages]
    return bodies


def test_plan_enqueues_the_audience_and_counts_exclusions(plan_app, stack):
    # GIVEN the named plan request (win-back on the tiny store's as_of date)
    request = json.loads((EVENTS / "plan_request.json").read_text())
    # WHEN the plan function runs
    result = plan_app.handler(request, LambdaContext(function_name="plan"))
    # THEN c004 (lapsed, consenting) is enqueued; c003 (lapsed, no consent) is counted, not emailed
    assert result["enqueued"] == 1
    assert result["excluded"]["no_consent"] == 1
    assert result["considered"] == 6
    jobs = [parse_job(body) for body in drain_bodies(stack.queue_url)]
    assert [(j.customer_id, j.campaign_id) for j in jobs] == [("c004", "win-back-2026-11-20")]


def test_plan_limit_counts_the_rest(plan_app, stack):
    result = plan_app.handler({"campaign_type": "new_arrivals", "send_date": "2026-11-20", "limit": 2}, LambdaContext())
    assert result["enqueued"] == 2
    assert result["excluded"]["over_limit"] == 3
    assert len(drain_bodies(stack.queue_url)) == 2


def test_a_run_that_names_an_offer_puts_it_on_every_job(plan_app, stack):
    # GIVEN a plan request naming the store's offer for this run
    request = {**json.loads((EVENTS / "plan_request.json").read_text()), "offer_id": "welcome-back-5"}
    # WHEN the plan function runs THEN each job carries the offer id for the generate step to check
    plan_app.handler(request, LambdaContext(function_name="plan"))
    jobs = [parse_job(body) for body in drain_bodies(stack.queue_url)]
    assert jobs and {j.context.offer_id for j in jobs} == {"welcome-back-5"}


@pytest.mark.parametrize("request_body", [{}, {"campaign_type": "clearance", "campaign_id": "../x"}, {"campaign_type": "clearance", "limit": -1},
                                          {"campaign_type": "clearance", "offer_id": "../etc"}, {"campaign_type": "clearance", "offer_id": 5}])
def test_bad_plan_request_is_refused(plan_app, request_body):
    with pytest.raises(ValidationError):
        plan_app.parse_request(request_body)
