"""Write typed store values to the on-disk format, byte for byte the same for the same input.

The generator and any converter (e.g. a cleaned UCI export) write through here, so that
`load_store(write_store(...))` round-trips.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from nudge.loyalty import DEFAULT_POINTS_NAME, Tiers, loyalty_to_dict
from nudge.offers import Offer, save_offers_file
from nudge.store import format as fmt
from nudge.types import Customer, Event, Product, StoreInfo


def _writer(handle: Any) -> Any:
    # "\n" line endings and minimal quoting on every platform: same bytes for the same values.
    return csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)


def _write_events(path: Path, events: Iterable[Event]) -> int:
    n = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = _writer(handle)
        out.writerow([c for c, _ in fmt.EVENT_COLUMNS])
        for e in events:
            out.writerow(
                (
                    e.customer_id,
                    e.product_id,
                    e.event_type,
                    fmt.format_timestamp(e.timestamp),
                    e.quantity,
                    "" if e.rating is None else e.rating,
                    e.text,
                )
            )
            n += 1
    return n


def write_store(
    out_dir: str | Path,
    *,
    info: StoreInfo,
    as_of: date,
    products: Iterable[Product],
    customers: Iterable[Customer],
    events: Iterable[Event],
    heldout_events: Iterable[Event] | None = None,
    offers: Sequence[Offer] | None = None,
    loyalty_tiers: Tiers = (),
    points_name: str = DEFAULT_POINTS_NAME,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a store directory (creating it) and return its path.

    `extra` adds keys to store.json (e.g. {"generator": {...}} for provenance). Product urls equal
    to the default (base_url + /products/<id>) are written empty. `loyalty_tiers` (with
    `points_name`) go into store.json as "loyalty" when given. `offers` are written to offers.json,
    checked first (nudge.offers.save_offers_file); None writes no offers.json and removes one left
    by an earlier write, so a rewritten store never keeps another store's promo codes.
    """
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {
        "schema_version": fmt.SCHEMA_VERSION,
        "name": info.name,
        "postal_address": info.postal_address,
        "base_url": info.base_url,
        "sender": info.sender,
        "currency": info.currency,
        "as_of": as_of.isoformat(),
    }
    for key in ("unsubscribe_url", "unsubscribe_mailto", "preferences_url"):
        if getattr(info, key):
            meta[key] = getattr(info, key)
    if info.default_locale != "en_GB":  # the default needs no key (older stores have none)
        meta["locale"] = info.default_locale
    if loyalty_tiers:
        meta["loyalty"] = loyalty_to_dict(points_name, loyalty_tiers)
    meta.update(extra or {})
    (root / fmt.STORE_JSON).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    with (root / fmt.CATALOG_CSV).open("w", newline="", encoding="utf-8") as handle:
        out = _writer(handle)
        out.writerow([c for c, _ in fmt.CATALOG_COLUMNS])
        for p in products:
            default_url = f"{info.base_url}/products/{p.product_id}"
            out.writerow(
                (
                    p.product_id,
                    p.name,
                    p.description,
                    p.category,
                    fmt.format_money(p.price),
                    p.currency,
                    p.stock,
                    p.image_url,
                    fmt.format_date(p.arrival_date),
                    fmt.format_bool(p.clearance),
                    fmt.format_money(p.clearance_price),
                    "" if p.url in ("", default_url) else p.url,
                    p.material,
                    p.colour,
                )
            )

    with (root / fmt.CUSTOMERS_CSV).open("w", newline="", encoding="utf-8") as handle:
        out = _writer(handle)
        out.writerow([c for c, _ in fmt.CUSTOMER_COLUMNS])
        for c in customers:
            out.writerow(
                (
                    c.customer_id,
                    c.first_name,
                    c.email,
                    c.locale,
                    c.timezone,
                    fmt.format_date(c.birthday),
                    fmt.format_bool(c.consent),
                    c.loyalty_tier,
                    fmt.format_date(c.signup_date),
                    "" if c.points_balance is None else c.points_balance,
                    "" if c.points_expiring is None else c.points_expiring,
                    fmt.format_date(c.points_expiring_on),
                )
            )

    _write_events(root / fmt.EVENTS_CSV, events)
    if heldout_events is not None:
        _write_events(root / fmt.HELDOUT_CSV, heldout_events)
    if offers is not None:
        save_offers_file(root / fmt.OFFERS_JSON, offers, info.currency)
    else:
        (root / fmt.OFFERS_JSON).unlink(missing_ok=True)
    return root
