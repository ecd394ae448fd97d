"""Uplift against the holdout: GIVEN published known answers and a simulator with a known true lift
WHEN the estimator runs THEN it matches the published intervals and covers the truth at the nominal
rate across seeds (within binomial noise)."""

import math

import numpy as np
import pytest

from nudge.uplift import conversion_lift, revenue_lift, wilson_interval
from nudge_local.response_sim import TRUE_EFFECTS, simulate_campaign, true_revenue_lift


def test_wilson_and_newcombe_match_newcombes_published_examples():
    # Newcombe (1998), Statistics in Medicine 17: 81/263 -> 0.2553-0.3662; 56/70 - 48/80 -> 0.0524-0.3339
    assert [round(x, 4) for x in wilson_interval(81, 263)] == [0.2553, 0.3662]
    lift = conversion_lift(treated_conversions=56, treated=70, holdout_conversions=48, holdout=80)
    assert [round(x, 4) for x in lift.absolute_interval] == [0.0524, 0.3339]
    assert lift.verdict == "significant"


def test_an_interval_crossing_zero_says_not_significant():
    lift = conversion_lift(treated_conversions=31, treated=1000, holdout_conversions=29, holdout=1000)
    assert lift.absolute_interval[0] < 0 < lift.absolute_interval[1]
    assert lift.verdict == "not significant"


def test_relative_lift_without_holdout_conversions_is_undefined_and_says_why():
    lift = conversion_lift(treated_conversions=5, treated=200, holdout_conversions=0, holdout=20)
    assert lift.relative is None and lift.relative_note == "no conversions in the holdout"
    assert lift.absolute_interval[0] < lift.absolute < lift.absolute_interval[1]


@pytest.mark.parametrize("bad", [dict(treated=0), dict(holdout_conversions=30, holdout=20)])
def test_impossible_counts_are_refused_with_what_was_expected(bad):
    counts = dict(treated_conversions=3, treated=100, holdout_conversions=1, holdout=100) | bad
    with pytest.raises(ValueError, match="expected"):
        conversion_lift(**counts)


def test_conversion_lift_interval_covers_the_true_lift_at_the_nominal_rate():
    # GIVEN 400 simulated runs of a campaign with a known true lift (5,000 emailed, 500 held out)
    campaign = "loyalty"
    truth = TRUE_EFFECTS[campaign][1]
    covered = 0
    for seed in range(400):
        treated, holdout = simulate_campaign(campaign, treated=5000, holdout=500, seed=seed)
        low, high = conversion_lift(treated_conversions=treated.conversions, treated=treated.customers,
                                    holdout_conversions=holdout.conversions, holdout=holdout.customers).absolute_interval
        covered += low <= truth <= high
    # THEN coverage is 95% within binomial noise (sd 1.1 points at 400 runs; Newcombe runs a little conservative)
    assert 0.92 <= covered / 400 <= 0.99


def test_revenue_bootstrap_covers_the_true_revenue_lift_across_seeds():
    campaign = "abandoned_cart"
    truth = true_revenue_lift(campaign)
    runs, covered = 120, 0
    for seed in range(runs):
        treated, holdout = simulate_campaign(campaign, treated=3000, holdout=1000, seed=seed)
        lift = revenue_lift(treated.revenue, holdout.revenue, resamples=400, seed=seed)
        covered += lift.interval[0] <= truth <= lift.interval[1]
    # sd of the coverage estimate at 120 runs is 2 points; a percentile bootstrap runs slightly narrow
    assert 0.88 <= covered / runs <= 0.995


def test_the_bootstrap_is_seeded():
    revenue = np.array([0.0] * 90 + [40.0] * 10)
    first = revenue_lift(revenue, revenue[:50], resamples=200, seed=3)
    assert first == revenue_lift(revenue, revenue[:50], resamples=200, seed=3)
    assert math.isclose(first.absolute, 4.0 - 0.0)
