"""nudge.profiles: a profile, loyalty points included, round-trips through its DynamoDB item, and an
older item without points still loads."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from nudge.profiles import build_profiles, profile_from_item, profile_to_item
from nudge.store import load_store
from nudge.types import Customer, Profile

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "store_tiny"


def customer(**points: object) -> Customer:
    return Customer(
        customer_id="c1",
        first_name="Ann",
        email="ann@example.com",
        locale="en_GB",
        timezone="Europe/London",
        birthday=date(1990, 11, 20),
        consent=True,
        loyalty_tier="gold",
        signup_date=date(2024, 2, 11),
        **points,  # type: ignore[arg-type]
    )


def as_dynamodb_reads_it(item: dict) -> dict:
    """Numbers come back from DynamoDB as Decimal."""
    return {k: Decimal(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in item.items()}


def test_a_profile_with_points_round_trips() -> None:
    # GIVEN a member with a balance and points lapsing on a date
    profile = Profile(
        customer=customer(points_balance=1650, points_expiring=200, points_expiring_on=date(2026, 12, 1)),
        purchased=["p1"],
        last_order_at=datetime(2026, 10, 22, 9, tzinfo=UTC),
    )
    # WHEN stored as an item and read back (numbers as DynamoDB returns them)
    item = profile_to_item(profile)
    again = profile_from_item(as_dynamodb_reads_it(item))
    # THEN the item holds plain ints and an ISO date, and the profile comes back equal
    assert (item["points_balance"], item["points_expiring"], item["points_expiring_on"]) == (1650, 200, "2026-12-01")
    assert again == profile
    assert type(again.customer.points_balance) is int


def test_a_zero_balance_is_kept() -> None:
    profile = Profile(customer=customer(points_balance=0))
    item = profile_to_item(profile)
    assert item["points_balance"] == 0 and "points_expiring" not in item
    assert profile_from_item(as_dynamodb_reads_it(item)) == profile


def test_a_profile_without_points_writes_no_points_keys() -> None:
    profile = Profile(customer=customer())
    item = profile_to_item(profile)
    assert not {"points_balance", "points_expiring", "points_expiring_on"} & set(item)
    assert profile_from_item(item) == profile


def test_an_older_item_without_points_still_loads() -> None:
    # GIVEN an item written before points existed
    item = {"pk": "CUST#c1", "sk": "PROFILE", "customer_id": "c1", "first_name": "Ann", "consent": True,
            "loyalty_tier": "silver"}
    # WHEN read THEN the customer has no points
    loaded = profile_from_item(item).customer
    assert (loaded.points_balance, loaded.points_expiring, loaded.points_expiring_on) == (None, None, None)
    assert loaded.loyalty_tier == "silver"


def test_tiny_store_profiles_carry_their_points() -> None:
    # GIVEN the tiny store's profiles WHEN stored and read back THEN Jack's expiring points survive
    store = load_store(TINY, strict=True)
    profiles = build_profiles(store.customers, store.events, store.products)
    again = {cid: profile_from_item(as_dynamodb_reads_it(profile_to_item(p))) for cid, p in profiles.items()}
    assert again == profiles
    jack = again["c002"].customer
    assert (jack.points_balance, jack.points_expiring, jack.points_expiring_on) == (1650, 200, date(2026, 12, 1))
