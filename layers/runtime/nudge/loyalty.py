"""Loyalty tiers and points: the store's thresholds, validated, and the way to the next tier. Pure; no I/O.

A store that runs points declares its tiers in store.json (docs/STORE_FORMAT.md):

    "loyalty": {"points_name": "points",
                "tiers": [{"tier": "bronze", "points": 0}, {"tier": "silver", "points": 500}, ...]}

Balances themselves are per customer (customers.csv, `Customer.points_balance`). Like prices, they
are facts from the data: an email shows them through the renderer, never through the model.

>>> name, tiers = parse_loyalty({"tiers": [{"tier": "bronze", "points": 0}, {"tier": "silver", "points": 500}]})
>>> name, tiers, next_tier(tiers, "bronze", 320)
('points', (('bronze', 0), ('silver', 500)), ('silver', 180))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nudge.errors import ValidationError
from nudge.i18n import N_
from nudge.types import LOYALTY_TIERS

Tiers = tuple[tuple[str, int], ...]  # ((tier, points threshold), ...), lowest first

# The standard tiers' names, gettext msgids (nudge.i18n): the renderer and the copy both show a tier in the email's
# language ("Argent", "银卡"); a store's own tier name is shown as the data has it.
TIER_LABELS = {"bronze": N_("Bronze"), "silver": N_("Silver"), "gold": N_("Gold"), "platinum": N_("Platinum")}

DEFAULT_POINTS_NAME = "points"
MAX_POINTS = 1_000_000_000  # a balance or threshold at or above this is a data error
MAX_POINTS_NAME = 24  # characters: "points", "stars", "Hearth points"
_RANKED = LOYALTY_TIERS[1:]  # "none" is the absence of a tier, never a threshold
_NAME_MARKS = frozenset(" -'’")


def parse_loyalty(raw: Any, *, where: str = "store.json") -> tuple[str, Tiers]:
    """store.json's "loyalty" object -> (points name, tiers), or ValidationError naming the problem.

    Tiers are `bronze`..`platinum` (nudge.types.LOYALTY_TIERS without `none`), each at most once,
    in that order, with whole-number thresholds that strictly increase. `points_name` is optional
    (default "points"): a short plain phrase an email may show beside a balance.

    >>> parse_loyalty({"tiers": [{"tier": "gold", "points": 10}, {"tier": "silver", "points": 20}]})
    Traceback (most recent call last):
    ...
    nudge.errors.ValidationError: store.json loyalty.tiers[1]: expected tiers in the order bronze/silver/gold/platinum, got 'silver' after 'gold'
    """
    if not isinstance(raw, Mapping):
        raise ValidationError(f"{where} loyalty: expected a JSON object, got {type(raw).__name__}")
    unknown = sorted(set(raw) - {"points_name", "tiers"})
    if unknown:
        raise ValidationError(f"{where} loyalty: expected only the keys points_name and tiers, got unknown {unknown}")
    points_name = _points_name(raw.get("points_name", DEFAULT_POINTS_NAME), where)
    entries = raw.get("tiers")
    if not isinstance(entries, list) or not entries:
        raise ValidationError(f"{where} loyalty.tiers: expected a non-empty list of {{tier, points}}, got {entries!r}")
    tiers: list[tuple[str, int]] = []
    for n, entry in enumerate(entries):
        at = f"{where} loyalty.tiers[{n}]"
        if not isinstance(entry, Mapping) or set(entry) != {"tier", "points"}:
            raise ValidationError(f"{at}: expected an object with exactly tier and points, got {entry!r}")
        tier, points = entry["tier"], entry["points"]
        if tier not in _RANKED:
            raise ValidationError(f"{at}: expected a tier among {'/'.join(_RANKED)}, got {tier!r}")
        if isinstance(points, bool) or not isinstance(points, int) or not 0 <= points < MAX_POINTS:
            raise ValidationError(
                f"{at}: expected points as a whole number from 0 below {MAX_POINTS:,}, got {points!r}"
            )
        if tiers:
            previous, threshold = tiers[-1]
            if _RANKED.index(tier) <= _RANKED.index(previous):
                raise ValidationError(
                    f"{at}: expected tiers in the order {'/'.join(_RANKED)}, got {tier!r} after {previous!r}"
                )
            if points <= threshold:
                raise ValidationError(
                    f"{at}: expected thresholds that increase, got {tier} at {points} after {previous} at {threshold}"
                )
        tiers.append((tier, points))
    return points_name, tuple(tiers)


def _points_name(value: Any, where: str) -> str:
    phrase = " ".join(value.split()) if isinstance(value, str) else ""
    plain = phrase[:1].isalpha() and all(ch.isalpha() or ch in _NAME_MARKS for ch in phrase)
    if not plain or len(phrase) > MAX_POINTS_NAME:
        raise ValidationError(
            f"{where} loyalty.points_name: expected a short plain phrase (letters, spaces, hyphens or apostrophes, "
            f"at most {MAX_POINTS_NAME} characters) such as 'points', got {value!r}"
        )
    return phrase


def loyalty_to_dict(points_name: str, tiers: Tiers) -> dict[str, Any]:
    """The store.json "loyalty" object for `tiers` (what parse_loyalty reads back)."""
    return {"points_name": points_name, "tiers": [{"tier": t, "points": p} for t, p in tiers]}


def tier_for(tiers: Tiers, balance: int) -> str:
    """The highest tier whose threshold `balance` reaches; "none" below the lowest.

    >>> tier_for((("bronze", 0), ("silver", 500)), 499), tier_for((("bronze", 100),), 99)
    ('bronze', 'none')
    """
    reached = [tier for tier, threshold in tiers if balance >= threshold]
    return reached[-1] if reached else "none"


def next_tier(tiers: Tiers, tier: str, balance: int | None) -> tuple[str, int] | None:
    """The next tier above `tier` that `balance` has not reached, and the points still needed.

    None when the customer has no balance (the store runs no points for them), or no tier above
    theirs is left to reach. A tier whose threshold the balance already meets (the tier itself is
    updated later, e.g. by spend) is passed over: "0 points to go" is never an answer.

    >>> tiers = (("bronze", 0), ("silver", 500), ("gold", 1500), ("platinum", 4000))
    >>> next_tier(tiers, "silver", 1320), next_tier(tiers, "none", 0), next_tier(tiers, "silver", 1600)
    (('gold', 180), ('silver', 500), ('platinum', 2400))
    >>> next_tier(tiers, "platinum", 9000) is None, next_tier(tiers, "gold", None) is None
    (True, True)
    """
    if tier not in LOYALTY_TIERS:
        raise ValueError(f"expected a tier among {'/'.join(LOYALTY_TIERS)}, got {tier!r}")
    if balance is None:
        return None
    rank = LOYALTY_TIERS.index(tier)
    for name, threshold in tiers:
        if LOYALTY_TIERS.index(name) > rank and threshold > balance:
            return name, threshold - balance
    return None
