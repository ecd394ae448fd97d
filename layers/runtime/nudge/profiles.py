"""Customer profiles: what the generate function needs of one customer, built offline from the
store's events and kept in the profile store (one DynamoDB item per customer).

History lists are capped (most recent first) so an item stays far below DynamoDB's 400 KB limit
and a Lambda reads one small item per customer, whatever the store's size.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime
from typing import Any, Iterable, Mapping

from nudge.types import Customer, Event, Product, Profile

HISTORY_CAP = 50  # product ids kept per list
CATEGORY_CAP = 5
EVENT_WEIGHT = {"view": 1.0, "add_to_cart": 3.0, "purchase": 5.0, "review": 2.0}


def build_profiles(
    customers: Mapping[str, Customer],
    events: Iterable[Event],
    products: Mapping[str, Product],
) -> dict[str, Profile]:
    """Fold the event history (sorted by time) into one Profile per customer.

    The cart is what was added after the customer's last purchase and not bought since.
    """
    profiles = {cid: Profile(customer=c) for cid, c in customers.items()}
    interest: dict[str, Counter[str]] = defaultdict(Counter)
    for event in events:
        profile = profiles.get(event.customer_id)
        product = products.get(event.product_id)
        if profile is None or product is None:
            continue  # the store loader has already rejected and counted such events
        interest[event.customer_id][product.category] += EVENT_WEIGHT.get(event.event_type, 0.0)
        if event.event_type == "view":
            _push(profile.viewed, event.product_id)
        elif event.event_type == "add_to_cart":
            _push(profile.carted, event.product_id)
            profile.cart_updated_at = event.timestamp
        elif event.event_type == "purchase":
            record_purchase(profile, event.product_id, event.timestamp.date())
            if event.product_id in profile.carted:
                profile.carted.remove(event.product_id)
            profile.last_order_at = event.timestamp
        elif event.event_type == "review":
            profile.recent_review_rating = event.rating
            profile.recent_review_text = event.text[:500]
    for cid, counts in interest.items():
        profiles[cid].top_categories = [c for c, _ in counts.most_common(CATEGORY_CAP)]
    return profiles


def record_purchase(profile: Profile, product_id: str, day: date) -> None:
    """Move `product_id` to the front of the purchase history, dated `day` (purchased_on stays
    parallel to purchased; a profile written before purchased_on gets dates from now on)."""
    dates: list[date | None] = list(profile.purchased_on)
    dates += [None] * (len(profile.purchased) - len(dates))
    if product_id in profile.purchased:
        k = profile.purchased.index(product_id)
        del profile.purchased[k], dates[k]
    profile.purchased.insert(0, product_id)
    dates.insert(0, day)
    del profile.purchased[HISTORY_CAP:], dates[HISTORY_CAP:]
    profile.purchased_on = dates


def iso_days(days: list[date | None]) -> list[str]:
    """`purchased_on` as stored (DynamoDB): ISO days, "" where an older profile had no date."""
    return [d.isoformat() if d else "" for d in days]


def _push(history: list[str], product_id: str) -> None:
    if product_id in history:
        history.remove(product_id)
    history.insert(0, product_id)
    del history[HISTORY_CAP:]


def profile_to_item(profile: Profile) -> dict[str, Any]:
    """A DynamoDB item (plain types; no floats) for one profile."""
    c = profile.customer
    item: dict[str, Any] = {
        "pk": f"CUST#{c.customer_id}",
        "sk": "PROFILE",
        "customer_id": c.customer_id,
        "first_name": c.first_name,
        "email": c.email,
        "locale": c.locale,
        "timezone": c.timezone,
        "birthday": c.birthday.isoformat() if c.birthday else None,
        "consent": c.consent,
        "loyalty_tier": c.loyalty_tier,
        "signup_date": c.signup_date.isoformat() if c.signup_date else None,
        # loyalty points (ints: DynamoDB numbers); absent when the store runs none for this customer
        "points_balance": c.points_balance,
        "points_expiring": c.points_expiring,
        "points_expiring_on": c.points_expiring_on.isoformat() if c.points_expiring_on else None,
        "purchased": profile.purchased,
        "purchased_on": iso_days(profile.purchased_on) or None,  # parallel to purchased
        "viewed": profile.viewed,
        "carted": profile.carted,
        "top_categories": profile.top_categories,
        "last_order_at": _iso(profile.last_order_at),
        "cart_updated_at": _iso(profile.cart_updated_at),
        "last_marketing_sent_at": _iso(profile.last_marketing_sent_at),
        "recent_review_rating": profile.recent_review_rating,
        "recent_review_text": profile.recent_review_text,
        "suppressed": profile.suppressed,
        "opted_out": profile.opted_out,
        # a string set, so the endpoint can ADD a campaign type to it in place (ProfileStore.opt_out)
        "opted_out_campaigns": set(profile.opted_out_campaigns) or None,
        "pseudonym_recorded": True if profile.pseudonym_recorded else None,
    }
    return {k: v for k, v in item.items() if v is not None and v != []}


def profile_from_item(item: Mapping[str, Any]) -> Profile:
    """The Profile of `profile_to_item(profile)`; keys an older item lacks take their defaults."""
    customer = Customer(
        customer_id=str(item["customer_id"]),
        first_name=str(item.get("first_name", "")),
        email=str(item.get("email", "")),
        locale=str(item.get("locale", "en_GB")),
        timezone=str(item.get("timezone", "UTC")),
        birthday=_date(item.get("birthday")),
        consent=bool(item.get("consent", False)),
        loyalty_tier=str(item.get("loyalty_tier", "none")),
        signup_date=_date(item.get("signup_date")),
        # older items have no points: None, as for a store without points
        points_balance=_int(item.get("points_balance")),
        points_expiring=_int(item.get("points_expiring")),
        points_expiring_on=_date(item.get("points_expiring_on")),
    )
    rating = item.get("recent_review_rating")
    return Profile(
        customer=customer,
        purchased=[str(x) for x in item.get("purchased", [])],
        purchased_on=[_date(x) for x in item.get("purchased_on", [])],
        viewed=[str(x) for x in item.get("viewed", [])],
        carted=[str(x) for x in item.get("carted", [])],
        last_order_at=_datetime(item.get("last_order_at")),
        recent_review_rating=int(rating) if rating is not None else None,
        recent_review_text=str(item.get("recent_review_text", "")),
        suppressed=bool(item.get("suppressed", False)),
        top_categories=[str(x) for x in item.get("top_categories", [])],
        cart_updated_at=_datetime(item.get("cart_updated_at")),
        last_marketing_sent_at=_datetime(item.get("last_marketing_sent_at")),
        opted_out=bool(item.get("opted_out", False)),
        opted_out_campaigns=sorted(str(x) for x in item.get("opted_out_campaigns", ())),
        pseudonym_recorded=bool(item.get("pseudonym_recorded", False)),
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _int(value: Any) -> int | None:
    return None if value is None else int(value)  # DynamoDB reads numbers back as Decimal


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def _datetime(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
