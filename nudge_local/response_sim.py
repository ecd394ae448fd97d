"""A seeded response simulator for the demo store: who converts, with or without the email. SIMULATED.

The demo store has no real customers, so nothing real can come back from its emails. To show the
outcome report and to test the uplift estimator (nudge.uplift) against a known answer, each
campaign gets a known base conversion rate (what the holdout does) and a known true lift (what the
email adds); a converting customer spends a lognormal order value. Every figure a report builds
from this is labelled "simulated".

>>> group = simulate_group(customers=1000, rate=0.05, seed=1)
>>> group.conversions, round(float(group.revenue.sum()), 2) > 0
(47, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Per campaign: (holdout conversion rate, true absolute lift in conversion rate). Plausible orders of
# magnitude for e-commerce email (abandoned cart converts and lifts most; clearance and win-back least).
TRUE_EFFECTS: dict[str, tuple[float, float]] = {
    "abandoned_cart": (0.060, 0.030),
    "birthday_holiday": (0.030, 0.012),
    "clearance": (0.025, 0.008),
    "loyalty": (0.045, 0.015),
    "new_arrivals": (0.030, 0.010),
    "win_back": (0.010, 0.006),
}
ORDER_VALUE_MEDIAN = 38.0  # currency units; lognormal order values
ORDER_VALUE_SIGMA = 0.6


@dataclass(frozen=True)
class SimulatedGroup:
    customers: int
    converted: np.ndarray  # (customers,) bool
    revenue: np.ndarray  # (customers,) float, 0 for a customer who did not buy

    @property
    def conversions(self) -> int:
        return int(self.converted.sum())


def simulate_group(*, customers: int, rate: float, seed: int) -> SimulatedGroup:
    """Each customer converts with probability `rate` and then spends one lognormal order."""
    if not 0 <= rate <= 1:
        raise ValueError(f"expected a conversion rate in [0, 1], got {rate}")
    rng = np.random.default_rng(seed)
    converted = rng.random(customers) < rate
    values = rng.lognormal(np.log(ORDER_VALUE_MEDIAN), ORDER_VALUE_SIGMA, customers)
    return SimulatedGroup(customers, converted, np.where(converted, np.round(values, 2), 0.0))


def simulate_campaign(campaign_type: str, *, treated: int, holdout: int, seed: int) -> tuple[SimulatedGroup, SimulatedGroup]:
    """(treated group, holdout group) for one campaign, from its TRUE_EFFECTS."""
    base, lift = TRUE_EFFECTS[campaign_type]
    return (simulate_group(customers=treated, rate=base + lift, seed=seed * 2 + 1),
            simulate_group(customers=holdout, rate=base, seed=seed * 2))


def true_revenue_lift(campaign_type: str) -> float:
    """Expected revenue per customer added by the email: the lift in rate times the mean order value."""
    _, lift = TRUE_EFFECTS[campaign_type]
    return lift * ORDER_VALUE_MEDIAN * float(np.exp(ORDER_VALUE_SIGMA ** 2 / 2))
