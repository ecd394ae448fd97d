"""Small factories for test values: a default that reads well, and keyword overrides."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

from nudge.types import Customer, Profile


def customer(customer_id: str = "c1", **overrides) -> Customer:
    base = Customer(
        customer_id=customer_id, first_name="Ada", email=f"{customer_id}@example.com", locale="en_GB",
        timezone="Europe/London", birthday=date(1990, 1, 1), consent=True, loyalty_tier="none",
    )
    return replace(base, **overrides)


def profile(customer_id: str = "c1", *, customer_overrides: dict | None = None, **overrides) -> Profile:
    p = Profile(customer=customer(customer_id, **(customer_overrides or {})), purchased=["p1"], viewed=["p2"])
    for key, value in overrides.items():
        setattr(p, key, value)
    return p


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def written_and_loaded(store, out_dir):
    """`store` (a StoreData) written with write_store to `out_dir` and loaded back strictly: (folder, StoreData)."""
    from nudge.store import load_store, write_store

    out = write_store(out_dir, info=store.info, as_of=store.as_of, products=store.products.values(),
                      customers=store.customers.values(), events=store.events, heldout_events=store.heldout_events or None,
                      offers=store.offers or None, loyalty_tiers=store.loyalty_tiers, points_name=store.points_name)
    return out, load_store(out, strict=True)
