"""Uplift of a campaign against its holdout: the causal number, with 95% intervals.

The planner keeps a deterministic holdout per campaign (nudge.identity.holdout_bucket): customers who
qualified and were not emailed. Comparing them with the customers who were emailed gives the effect
of the email itself, which attributed revenue (orders after a click) does not: those customers might
have bought anyway.

Methods, chosen for small conversion rates and small holdouts:
  conversion rate, absolute lift   Newcombe's hybrid score interval (method 10, Newcombe 1998) for a
                                   difference of two proportions, built from the two Wilson intervals;
                                   it keeps near-nominal coverage where the Wald interval collapses
                                   (rates near 0, a few hundred customers)
  conversion rate, relative lift   Katz's log interval for the ratio of the rates, minus one; with no
                                   conversion in either group it is undefined (None, with the reason)
  revenue per customer             a percentile bootstrap of the difference in means (customers
                                   resampled within each group, seeded): revenue is mostly zeros with
                                   a long tail, where a normal interval is not to be trusted

An interval that contains zero is reported as "not significant", in those words.

>>> lift = conversion_lift(treated_conversions=60, treated=1000, holdout_conversions=30, holdout=1000)
>>> round(lift.absolute, 3), [round(x, 3) for x in lift.absolute_interval], lift.verdict
(0.03, [0.012, 0.049], 'significant')
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z_95 = 1.959963984540054  # two-sided 95%


@dataclass(frozen=True, slots=True)
class ConversionLift:
    treated: int  # customers emailed
    holdout: int  # customers kept out
    treated_rate: float
    holdout_rate: float
    absolute: float  # treated_rate - holdout_rate
    absolute_interval: tuple[float, float]  # Newcombe hybrid score, 95%
    relative: float | None  # treated_rate / holdout_rate - 1
    relative_interval: tuple[float, float] | None  # Katz log, 95%
    relative_note: str  # why relative is None, else ""

    @property
    def verdict(self) -> str:
        low, high = self.absolute_interval
        return "not significant" if low <= 0 <= high else "significant"


@dataclass(frozen=True, slots=True)
class RevenueLift:
    treated_per_customer: float
    holdout_per_customer: float
    absolute: float
    interval: tuple[float, float]  # percentile bootstrap, 95%
    resamples: int

    @property
    def verdict(self) -> str:
        return "not significant" if self.interval[0] <= 0 <= self.interval[1] else "significant"


def wilson_interval(successes: int, trials: int, *, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a proportion; (0, 1) when there are no trials.

    >>> [round(x, 4) for x in wilson_interval(0, 20)]
    [0.0, 0.1611]
    """
    _check_counts(successes, trials)
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def conversion_lift(*, treated_conversions: int, treated: int, holdout_conversions: int, holdout: int,
                    z: float = Z_95) -> ConversionLift:
    """Absolute (Newcombe) and relative (Katz) lift of the treated conversion rate over the holdout's."""
    if treated == 0 or holdout == 0:
        raise ValueError(f"expected customers in both groups, got treated={treated}, holdout={holdout}")
    p1, p0 = treated_conversions / treated, holdout_conversions / holdout
    l1, u1 = wilson_interval(treated_conversions, treated, z=z)
    l0, u0 = wilson_interval(holdout_conversions, holdout, z=z)
    difference = p1 - p0
    interval = (difference - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2),
                difference + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2))
    relative, relative_interval, note = None, None, ""
    if holdout_conversions == 0 or treated_conversions == 0:
        note = "no conversions in the holdout" if holdout_conversions == 0 else "no conversions among the treated"
    else:
        log_ratio = math.log(p1 / p0)
        spread = z * math.sqrt(1 / treated_conversions - 1 / treated + 1 / holdout_conversions - 1 / holdout)
        relative = p1 / p0 - 1
        relative_interval = (math.exp(log_ratio - spread) - 1, math.exp(log_ratio + spread) - 1)
    return ConversionLift(treated, holdout, p1, p0, difference, interval, relative, relative_interval, note)


def revenue_lift(treated: np.ndarray, holdout: np.ndarray, *, resamples: int = 2000, seed: int = 0,
                 confidence: float = 0.95) -> RevenueLift:
    """Difference in revenue per customer (zeros included), with a seeded percentile bootstrap interval.

    `treated`, `holdout`: revenue per customer, shape (customers,), in the store's currency.
    """
    treated, holdout = np.asarray(treated, dtype=np.float64), np.asarray(holdout, dtype=np.float64)
    if treated.size == 0 or holdout.size == 0:
        raise ValueError(f"expected customers in both groups, got treated={treated.size}, holdout={holdout.size}")
    rng = np.random.default_rng(seed)
    differences = np.empty(resamples)
    chunk = max(1, 4_000_000 // (treated.size + holdout.size))  # bound memory: ~32 MB of indices per chunk
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        t = treated[rng.integers(0, treated.size, (size, treated.size))].mean(axis=1)
        h = holdout[rng.integers(0, holdout.size, (size, holdout.size))].mean(axis=1)
        differences[start:start + size] = t - h
    tail = (1 - confidence) / 2
    low, high = np.quantile(differences, [tail, 1 - tail])
    return RevenueLift(float(treated.mean()), float(holdout.mean()), float(treated.mean() - holdout.mean()),
                       (float(low), float(high)), resamples)


def _check_counts(successes: int, trials: int) -> None:
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"expected 0 <= successes <= trials, got successes={successes}, trials={trials}")


__all__ = ["ConversionLift", "RevenueLift", "conversion_lift", "revenue_lift", "wilson_interval"]
