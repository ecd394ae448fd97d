"""Audience planning: GIVEN a small store state WHEN a campaign is planned for a date THEN exactly
the expected customers get jobs, and every other customer is counted under one exclusion."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from nudge.campaigns import get_campaign, load_campaigns
from nudge.planner import PlanOptions, collect, plan_campaign
from tests.factories import profile, utc

AS_OF = date(2026, 11, 20)
NO_HOLDOUT = PlanOptions(holdout_share=0.0, frequency_cap_days=7, holdout_key=b"test")


def plan(profiles, campaign_type, options=NO_HOLDOUT, send_date=AS_OF):
    return collect(plan_campaign(profiles, get_campaign(campaign_type), campaign_id=f"{campaign_type}-test",
                                 send_date=send_date, options=options))


def enqueued_ids(result):
    return sorted(job.customer_id for job in result.jobs)


@pytest.mark.parametrize(
    "campaign_type, expected",
    [
        ("new_arrivals", ["c001", "c002", "c004", "c005", "c006"]),
        ("clearance", ["c001", "c002", "c004", "c005", "c006"]),
        ("abandoned_cart", ["c005"]),
        ("birthday_holiday", ["c001"]),
        ("loyalty", ["c002"]),
        ("win_back", ["c004"]),
    ],
)
def test_each_campaign_selects_exactly_its_audience(tiny_profiles, campaign_type, expected):
    # GIVEN the tiny store on its as_of date (README of tests/fixtures/store_tiny tells each story)
    # WHEN the campaign is planned without holdout
    result = plan(tiny_profiles.values(), campaign_type)
    # THEN exactly the expected customers get jobs, and c003 (no consent) is counted as such
    assert enqueued_ids(result) == expected
    assert result.counts["no_consent"] == 1
    assert sum(result.counts.values()) == len(tiny_profiles)


def test_abandoned_cart_job_carries_the_cart(tiny_profiles):
    result = plan(tiny_profiles.values(), "abandoned_cart")
    assert result.jobs[0].context.cart_items == ("p011",)


def test_cart_younger_than_the_delay_is_not_yet_abandoned(tiny_profiles):
    # GIVEN c005's cart updated at 08:15 on 2026-11-19 WHEN planned 1 hour later THEN no email yet
    options = replace(NO_HOLDOUT, now=utc(2026, 11, 19, 9, 15))
    result = plan(tiny_profiles.values(), "abandoned_cart", options=options)
    assert result.jobs == []


def test_suppressed_and_capped_customers_are_excluded_and_counted(tiny_profiles):
    # GIVEN c006 suppressed (unsubscribed) and c002 emailed two days ago
    profiles = dict(tiny_profiles)
    profiles["c006"] = replace_profile(profiles["c006"], suppressed=True)
    profiles["c002"] = replace_profile(profiles["c002"], last_marketing_sent_at=utc(2026, 11, 18))
    # WHEN new arrivals are planned with a 7-day frequency cap
    result = plan(profiles.values(), "new_arrivals")
    # THEN both are excluded, each under its own reason
    assert enqueued_ids(result) == ["c001", "c004", "c005"]
    assert result.counts["suppressed"] == 1
    assert result.counts["frequency_capped"] == 1


def test_cap_expires_after_the_configured_days(tiny_profiles):
    profiles = dict(tiny_profiles)
    profiles["c002"] = replace_profile(profiles["c002"], last_marketing_sent_at=utc(2026, 11, 12))
    result = plan(profiles.values(), "loyalty")
    assert enqueued_ids(result) == ["c002"]


def test_holdout_is_deterministic_recorded_and_near_its_share():
    # GIVEN 2,000 eligible customers and a 10% holdout
    profiles = [profile(f"c{i:05d}") for i in range(2000)]
    options = PlanOptions(holdout_share=0.1, frequency_cap_days=7, holdout_key=b"k1")
    # WHEN planned twice
    first, second = plan(profiles, "new_arrivals", options), plan(profiles, "new_arrivals", options)
    # THEN the same customers are held out, they get no job, and the share is close to 10%
    assert first.holdout == second.holdout
    assert not set(first.holdout) & {j.customer_id for j in first.jobs}
    assert 150 <= len(first.holdout) <= 250
    assert len(first.jobs) + len(first.holdout) == 2000


def test_holdout_differs_per_campaign():
    profiles = [profile(f"c{i:05d}") for i in range(500)]
    options = PlanOptions(holdout_share=0.2, frequency_cap_days=7, holdout_key=b"k1")
    a = collect(plan_campaign(profiles, get_campaign("new_arrivals"), campaign_id="a", send_date=AS_OF, options=options))
    b = collect(plan_campaign(profiles, get_campaign("new_arrivals"), campaign_id="b", send_date=AS_OF, options=options))
    assert a.holdout != b.holdout


def test_lapsed_rule_ignores_customers_who_never_ordered():
    never = profile("c1", last_order_at=None)
    lapsed = profile("c2", last_order_at=utc(2026, 1, 1))
    recent = profile("c3", last_order_at=utc(2026, 11, 1))
    assert enqueued_ids(plan([never, lapsed, recent], "win_back")) == ["c2"]


def test_every_campaign_definition_names_a_known_audience_rule():
    from nudge.planner import AUDIENCE_RULES

    for campaign in load_campaigns().values():
        assert campaign.audience["rule"] in AUDIENCE_RULES, campaign.campaign_type


def replace_profile(p, **changes):
    from copy import copy

    clone = copy(p)
    for key, value in changes.items():
        setattr(clone, key, value)
    return clone


def test_stale_cart_is_not_reminded(tiny_profiles):
    # GIVEN c005's cart last touched on 2026-11-19 WHEN planned five days later THEN no reminder
    options = replace(NO_HOLDOUT, now=utc(2026, 11, 24, 12, 0))
    result = plan(tiny_profiles.values(), "abandoned_cart", options=options, send_date=date(2026, 11, 24))
    assert result.jobs == []


def test_an_opt_out_of_everything_excludes_the_customer_from_every_campaign(tiny_profiles):
    # GIVEN c001 unsubscribed (one-click: every campaign)
    profiles = dict(tiny_profiles)
    profiles["c001"] = replace_profile(profiles["c001"], opted_out=True)
    for campaign_type in ("new_arrivals", "clearance", "birthday_holiday"):
        # WHEN any campaign whose audience holds c001 is planned
        result = plan(profiles.values(), campaign_type)
        # THEN c001 gets no job and is counted under its own reason
        assert "c001" not in enqueued_ids(result)
        assert result.counts["opted_out"] == 1


def test_a_campaign_type_opt_out_excludes_only_that_campaign_type(tiny_profiles):
    # GIVEN c001 opted out of clearance emails only (the preferences page)
    profiles = dict(tiny_profiles)
    profiles["c001"] = replace_profile(profiles["c001"], opted_out_campaigns=["clearance"])
    # WHEN clearance and new arrivals are planned
    clearance, new_arrivals = plan(profiles.values(), "clearance"), plan(profiles.values(), "new_arrivals")
    # THEN c001 is excluded from clearance (opted_out) and still gets new arrivals
    assert enqueued_ids(clearance) == ["c002", "c004", "c005", "c006"] and clearance.counts["opted_out"] == 1
    assert "c001" in enqueued_ids(new_arrivals) and new_arrivals.counts["opted_out"] == 0


def test_opted_out_is_an_exclusion_between_suppression_and_the_audience_rule():
    from nudge.planner import EXCLUSIONS

    assert EXCLUSIONS.index("suppressed") < EXCLUSIONS.index("opted_out") < EXCLUSIONS.index("not_in_audience")
