"""The on-disk store format (docs/STORE_FORMAT.md): file names, columns, and value spelling.

A store is a directory:

    store.json            the store itself (name, address, sender, currency, as_of, schema_version)
    catalog.csv           one row per product
    customers.csv         one row per customer (pseudonymous ids)
    events.csv            views, add_to_cart, purchases, reviews before the as_of cut-off
    heldout_events.csv    optional: the future after as_of that a recommender is scored on
    offers.json           optional: the store's offers and promo codes (nudge.offers)

The reader (`loader.py`) and the writer (`writer.py`) both take their spelling from here, so that
what one writes the other reads.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

SCHEMA_VERSION = 1

STORE_JSON = "store.json"
CATALOG_CSV = "catalog.csv"
CUSTOMERS_CSV = "customers.csv"
EVENTS_CSV = "events.csv"
HELDOUT_CSV = "heldout_events.csv"
OFFERS_JSON = "offers.json"  # the same name and schema as the artifact nudge.offers reads

# (column, header_required). A required column must be in the header (its values may still be
# allowed empty: see docs/STORE_FORMAT.md); an optional column may be left out of the header, and
# then every row reads it as empty.
CATALOG_COLUMNS = (
    ("product_id", True),
    ("name", True),
    ("description", False),
    ("category", True),
    ("price", True),
    ("currency", True),
    ("stock", True),
    ("image_url", False),  # empty: the product has no image
    ("arrival_date", True),
    ("clearance", False),  # empty: false
    ("clearance_price", False),
    ("url", False),  # empty: base_url + "/products/<product_id>"
    ("material", False),  # empty: unknown; a bad value is cleared, the product kept
    ("colour", False),  # empty: unknown; likewise
)
CUSTOMER_COLUMNS = (
    ("customer_id", True),
    ("first_name", True),
    ("email", False),  # empty: no address, never mailed
    ("locale", True),
    ("timezone", True),
    ("birthday", False),
    ("consent", True),  # explicit, always: no default for marketing consent
    ("loyalty_tier", False),  # empty: none
    ("signup_date", False),
    # Loyalty points; empty: the store runs no points for this customer. A bad cell is cleared, the
    # customer kept. points_expiring (<= points_balance) and points_expiring_on come as a pair.
    ("points_balance", False),
    ("points_expiring", False),
    ("points_expiring_on", False),
)
EVENT_COLUMNS = (
    ("customer_id", True),
    ("product_id", True),
    ("event_type", True),
    ("timestamp", True),
    ("quantity", False),  # empty: 1
    ("rating", False),  # reviews only
    ("text", False),  # reviews only
)

STORE_JSON_REQUIRED = ("schema_version", "name", "postal_address", "base_url", "sender", "currency", "as_of")
STORE_JSON_OPTIONAL = (
    "unsubscribe_url",
    "unsubscribe_mailto",
    "preferences_url",
    "locale",
    "loyalty",  # {"points_name": ..., "tiers": [{"tier": ..., "points": ...}, ...]} (nudge.loyalty)
    "source",
    "generator",
)

TRUE_WORDS = frozenset({"true", "1", "yes", "y", "t"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "f"})


def cutoff(as_of: date) -> datetime:
    """The instant that splits history from held-out future: as_of at 00:00 UTC.

    History events happen before it; held-out events at or after it; "today" is as_of.
    """
    return datetime.combine(as_of, time(0, 0), tzinfo=UTC)


def format_timestamp(ts: datetime) -> str:
    """UTC, whole seconds, 'Z' suffix: 2026-11-19T18:42:07Z."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_money(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:.2f}"


def format_bool(flag: bool) -> str:
    return "true" if flag else "false"


def format_date(day: date | None) -> str:
    return "" if day is None else day.isoformat()
