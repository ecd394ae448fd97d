"""Repeat purchases: which categories are bought again, after how long, and which of a customer's
purchases are due to be reordered.

Training learns a `RepurchaseTable` from the store's purchases (`scripts/train_recommender.py`,
`learn_repurchase`) and exports it beside the model (`repurchase.json`); `Recommender.rank()` asks
`due_repurchases` for the customer's due items when the campaign's rules include them
(`PoolRules.due_repurchases`) and shows them first with the reason "Time to reorder".

A category is **repeatable** when enough of its (customer, item) pairs were bought more than once
(`rebuy_share >= share_floor`: `min_rebuy_share`, or twice the median category's share if that is
higher, over at least `min_pairs` pairs, with at least `min_intervals` observed intervals) at a
regular rhythm (interquartile range of the intervals at most `max_interval_spread` × the median). One of its items is **due** from the category's 25th-percentile interval
(or 0.8 × the median when fewer intervals are known) until LAPSE_FACTOR × its median: after that
the habit has likely gone elsewhere, and the item is not pushed as a reorder.

>>> table = RepurchaseTable({"candles": CategoryRepurchase(0.3, 45.0, 30.0, 60.0, 120, 400)})
>>> [d.product_id for d in due_repurchases(["p1"], [date(2026, 3, 1)], {"p1": "candles"}.get, table,
...                                         as_of=date(2026, 4, 10), limit=1)]
['p1']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from nudge.errors import ArtifactMismatchError

LAPSE_FACTOR = 4.0  # due until this many median intervals after the last purchase
MIN_LAPSE_DAYS = 120  # ... and at least this many days (short intervals still leave a season)


@dataclass(frozen=True, slots=True)
class CategoryRepurchase:
    """What one category's buyers did: the share of (customer, item) pairs bought more than once,
    and the days between one purchase of an item and the same customer's next (median, quartiles)."""

    rebuy_share: float
    median_days: float
    p25_days: float
    p75_days: float
    intervals: int  # observed intervals behind the figures
    pairs: int  # (customer, item) purchase pairs behind rebuy_share

    @property
    def due_from_days(self) -> float:
        return self.p25_days if self.intervals >= 8 else 0.8 * self.median_days

    @property
    def lapse_after_days(self) -> float:
        return max(LAPSE_FACTOR * self.median_days, MIN_LAPSE_DAYS)


@dataclass(frozen=True, slots=True)
class RepurchaseTable:
    """The repeatable categories of a store (learned offline), and the thresholds that chose them."""

    categories: Mapping[str, CategoryRepurchase] = field(default_factory=dict)
    min_rebuy_share: float = 0.10
    min_pairs: int = 30
    min_intervals: int = 10
    share_floor: float = 0.10  # the share applied: min_rebuy_share, or a multiple of the median category's if higher
    max_interval_spread: float = 1.0  # (p75 − p25) / median interval at most this: a regular rhythm

    def to_dict(self) -> dict[str, Any]:
        return {"min_rebuy_share": self.min_rebuy_share, "min_pairs": self.min_pairs,
                "min_intervals": self.min_intervals, "share_floor": self.share_floor,
                "max_interval_spread": self.max_interval_spread,
                "categories": {c: asdict(r) for c, r in sorted(self.categories.items())}}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> RepurchaseTable:
        """Read `to_dict()`'s form; raises ArtifactMismatchError naming the field that is wrong."""
        try:
            categories = {str(c): CategoryRepurchase(**r) for c, r in dict(raw.get("categories") or {}).items()}
            return cls(categories, float(raw.get("min_rebuy_share", 0.10)), int(raw.get("min_pairs", 30)),
                       int(raw.get("min_intervals", 10)), float(raw.get("share_floor", 0.10)),
                       float(raw.get("max_interval_spread", 1.0)))
        except (TypeError, ValueError) as exc:
            raise ArtifactMismatchError(f"repurchase.json: expected categories of {{rebuy_share, median_days, "
                                        f"p25_days, p75_days, intervals, pairs}}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class DueItem:
    product_id: str
    days_since: int
    category: str
    priority: float


def due_repurchases(
    purchased: Sequence[str],
    purchased_on: Sequence[date | None],
    category_of: Callable[[str], str | None],
    table: RepurchaseTable,
    *,
    as_of: date,
    limit: int,
) -> list[DueItem]:
    """The customer's purchases that are due again, most likely reorder first, at most `limit`.

    `purchased` and `purchased_on` are the profile's parallel lists (most recent first; the date
    of the last purchase of each item); an item without a date, or in no repeatable category, is
    never due. Priority: the category's rebuy share, lowered as the time since the purchase moves
    away from the category's median interval (a log-ratio)."""
    if limit <= 0 or not table.categories:
        return []
    due: list[DueItem] = []
    for product_id, bought_on in zip(purchased, purchased_on):
        category = category_of(product_id) if bought_on is not None else None
        stats = table.categories.get(category) if category is not None else None
        if stats is None or bought_on is None:
            continue
        days = (as_of - bought_on).days
        if not stats.due_from_days <= days <= stats.lapse_after_days:
            continue
        priority = stats.rebuy_share / (1.0 + abs(math.log(max(days, 1) / max(stats.median_days, 1.0))))
        due.append(DueItem(product_id, days, category, priority))
    due.sort(key=lambda d: (-d.priority, d.days_since, d.product_id))
    return due[:limit]
