"""Read and validate a store directory (format in docs/STORE_FORMAT.md) into typed values.

Row problems never stop a load: the row is rejected, named in the report (file, row, column,
reason) and counted. A bad catalog `material` or `colour`, or a bad customer points cell, costs
only its cell: cleared, named in `report.cleared`, the row kept. File problems (a missing file, a
missing column, a bad store.json) raise `ValidationError` at once, since nothing sensible can be
loaded around them; so does a bad offer in offers.json (`OfferError`, naming the offer): offers are
few and hand-written, and an email must never go out with one silently dropped.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from operator import attrgetter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nudge.errors import OfferError, ValidationError
from nudge.loyalty import DEFAULT_POINTS_NAME, MAX_POINTS, Tiers, parse_loyalty
from nudge.offers import Offer, check_offer_targets, read_offers_json
from nudge.store import format as fmt
from nudge.store.report import ValidationReport
from nudge.types import EVENT_TYPES, LOYALTY_TIERS, Customer, Event, Product, StoreInfo

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LOCALE = re.compile(r"^[a-z]{2,3}_[A-Z]{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_TIMEZONE = re.compile(r"^(UTC|[A-Za-z_]+(/[A-Za-z0-9_+\-]+)+)$")
_SHOWN = 60  # characters of an offending value quoted in a reason
_ATTRIBUTE_MARKS = frozenset(" -'’")  # allowed in a catalog attribute besides letters (any script)
MAX_ATTRIBUTE = 32  # characters, after lower-casing and collapsing spaces: "sage green", "rose gold-plated"


@dataclass(slots=True)
class StoreData:
    """One loaded store. Events are sorted by time (ties keep file order)."""

    products: dict[str, Product]
    customers: dict[str, Customer]
    events: list[Event]  # history, before the as_of cut-off
    heldout_events: list[Event]  # the future after the cut-off; empty when the store has none
    info: StoreInfo
    as_of: date  # the "today" of the data
    report: ValidationReport
    source: str = ""  # where the store came from (a path, or "online_retail:<path>")
    offers: list[Offer] = field(default_factory=list)  # offers.json, checked; [] when the store has none
    loyalty_tiers: Tiers = ()  # store.json "loyalty": ((tier, points threshold), ...), lowest first; () none
    points_name: str = DEFAULT_POINTS_NAME  # what the store calls its points ("points", "stars")

    @property
    def cutoff(self) -> datetime:
        """as_of at 00:00 UTC: history is before it, held-out events at or after it."""
        return fmt.cutoff(self.as_of)

    @property
    def categories(self) -> list[str]:
        """The catalog's categories, sorted."""
        return sorted({p.category for p in self.products.values()})

    def __repr__(self) -> str:  # short: a store holds hundreds of thousands of events
        return (
            f"StoreData(source={self.source!r}, as_of={self.as_of.isoformat()}, products={len(self.products)}, "
            f"customers={len(self.customers)}, events={len(self.events)}, heldout_events={len(self.heldout_events)}, "
            f"rejected={len(self.report.rejected)})"
        )


class _RowError(Exception):
    def __init__(self, column: str, code: str, reason: str) -> None:
        super().__init__(reason)
        self.column, self.code, self.reason = column, code, reason


def _show(value: str) -> str:
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "...")


def _required(value: str, column: str, what: str) -> str:
    if not value:
        raise _RowError(column, "missing", f"expected {what}, got an empty value")
    return value


def _parse_date(value: str, column: str, *, optional: bool = False) -> date | None:
    if not value:
        if optional:
            return None
        raise _RowError(column, "missing", "expected a date YYYY-MM-DD, got an empty value")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _RowError(column, "bad_value", f"expected a date YYYY-MM-DD, got {_show(value)}") from None


MAX_AMOUNT = Decimal(1_000_000_000)  # a price at or above this is a data error, not a product


def _parse_money(value: str, column: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise _RowError(column, "bad_value", f"expected a decimal amount such as 12.50, got {_show(value)}") from None
    if not amount.is_finite() or amount <= 0:
        raise _RowError(column, "bad_value", f"expected an amount above 0, got {_show(value)}")
    if amount >= MAX_AMOUNT:  # also keeps quantize() inside the decimal context's precision
        raise _RowError(column, "bad_value", f"expected an amount below {MAX_AMOUNT:,}, got {_show(value)}")
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise _RowError(column, "bad_value", f"expected at most 2 decimal places, got {_show(value)}")
    return amount.quantize(Decimal("0.01"))


def _parse_int(value: str, column: str, *, minimum: int, default: int | None = None) -> int:
    if not value and default is not None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise _RowError(column, "bad_value", f"expected a whole number >= {minimum}, got {_show(value)}") from None
    if number < minimum:
        raise _RowError(column, "bad_value", f"expected a whole number >= {minimum}, got {_show(value)}")
    return number


def _parse_bool(value: str, column: str, *, default: bool | None = None) -> bool:
    word = value.lower()
    if word in fmt.TRUE_WORDS:
        return True
    if word in fmt.FALSE_WORDS:
        return False
    if not value and default is not None:
        return default
    raise _RowError(column, "bad_value", f"expected true or false, got {_show(value)}")


@cache
def _zone_exists(name: str) -> bool:
    try:
        ZoneInfo(name)
        return True
    except (ZoneInfoNotFoundError, ValueError):
        return False


@cache
def _zone_database_available() -> bool:
    return _zone_exists("Europe/London")


def _check_timezone(value: str, column: str) -> str:
    _required(value, column, "an IANA time zone such as Europe/London")
    # Without a zone database (a bare container), fall back to the shape of the name.
    known = _zone_exists(value) if _zone_database_available() else bool(_TIMEZONE.match(value))
    if not known:
        raise _RowError(column, "bad_value", f"expected an IANA time zone such as Europe/London, got {_show(value)}")
    return value


class _Table:
    """One CSV file: the header checked, rows handed out as (row number, cells by column)."""

    def __init__(self, path: Path, columns: tuple[tuple[str, bool], ...], report: ValidationReport) -> None:
        self.path, self.name, self.report = path, path.name, report
        self._handle = path.open(newline="", encoding="utf-8-sig")
        self._reader = csv.reader(self._handle)
        header = [h.strip() for h in next(self._reader, [])]
        missing = [c for c, required in columns if required and c not in header]
        if missing:
            self._handle.close()
            raise ValidationError(f"{self.name}: expected columns {missing} in the header, got {header}")
        known = {c for c, _ in columns}
        extra = [h for h in header if h not in known]
        if extra:
            report.warnings.append(f"{self.name}: ignored unknown columns {extra}")
        self.width = len(header)
        # An optional column left out of the header reads as the empty cell appended after the row.
        self.pad = any(c not in header for c, _ in columns)
        self.index = {c: header.index(c) if c in header else self.width for c, _ in columns}

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, stripped cells); the header is row 1. Short or long rows are rejected here."""
        report, name, width, pad = self.report, self.name, self.width, self.pad
        read = 0
        report.read(name, 0)  # the file shows in the counts even when empty
        try:
            for row_number, cells in enumerate(self._reader, start=2):
                if not cells:  # a blank line is not a row
                    continue
                read += 1
                if len(cells) != width:
                    report.reject(name, row_number, "*", "bad_value", f"expected {width} fields, got {len(cells)}")
                    continue
                stripped = [c.strip() for c in cells]
                if pad:
                    stripped.append("")
                yield row_number, stripped
        finally:
            report.read(name, read)
            self._handle.close()


def _read_store_json(path: Path) -> tuple[StoreInfo, date, dict[str, Any]]:
    if not path.is_file():
        raise ValidationError(f"expected a store file {path}, found none")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:  # JSONDecodeError, or an integer beyond int()'s digit limit
        raise ValidationError(f"{path.name}: expected JSON, got a parse error: {exc}") from exc
    if not isinstance(raw, dict):
        raise ValidationError(f"{path.name}: expected a JSON object, got {type(raw).__name__}")
    missing = [k for k in fmt.STORE_JSON_REQUIRED if raw.get(k) in (None, "")]
    if missing:
        raise ValidationError(f"{path.name}: expected keys {missing}, got {sorted(raw)}")
    if raw["schema_version"] != fmt.SCHEMA_VERSION:
        raise ValidationError(
            f"{path.name}: expected schema_version {fmt.SCHEMA_VERSION}, got {raw['schema_version']!r}"
        )
    try:
        as_of = date.fromisoformat(str(raw["as_of"]))
    except ValueError:
        raise ValidationError(f"{path.name}: expected as_of as YYYY-MM-DD, got {raw['as_of']!r}") from None
    if not _CURRENCY.match(str(raw["currency"])):
        raise ValidationError(f"{path.name}: expected currency as ISO 4217 (e.g. GBP), got {raw['currency']!r}")
    if raw.get("locale") and not _LOCALE.match(str(raw["locale"])):
        raise ValidationError(f"{path.name}: expected locale such as en_GB, got {raw['locale']!r}")
    if not str(raw["base_url"]).startswith(("https://", "http://")):
        raise ValidationError(f"{path.name}: expected base_url starting with https://, got {raw['base_url']!r}")
    info = StoreInfo(
        name=str(raw["name"]),
        postal_address=str(raw["postal_address"]),
        base_url=str(raw["base_url"]).rstrip("/"),
        sender=str(raw["sender"]),
        currency=str(raw["currency"]),
        unsubscribe_url=str(raw.get("unsubscribe_url", "")),
        unsubscribe_mailto=str(raw.get("unsubscribe_mailto", "")),
        preferences_url=str(raw.get("preferences_url", "")),
        default_locale=str(raw.get("locale", "") or "en_GB"),
    )
    return info, as_of, raw


def _unique(value: str, column: str, first_row: dict[str, int]) -> None:
    """Refuse an id already accepted in this file, naming the row where it first stood."""
    if value in first_row:
        raise _RowError(
            column, "duplicate", f"expected a unique {column}, got {_show(value)} again (first at row {first_row[value]})"
        )


def _optional_url(value: str, column: str) -> str:
    if value and not value.startswith(("https://", "http://")):
        raise _RowError(column, "bad_value", f"expected an https:// URL or empty, got {_show(value)}")
    return value


def _attribute(value: str, column: str, cleared: list[_RowError]) -> str:
    """A catalog attribute as a short lower-case phrase ("Sage  Green" -> "sage green"); "" is unknown.

    A bad value is not worth the product: it comes back as "" and its problem is added to
    `cleared`, for the report once the row is accepted.

    >>> _attribute(" Sage  Green ", "colour", []), _attribute("<b>red</b>", "colour", [])
    ('sage green', '')
    """
    phrase = " ".join(value.split()).lower()
    plain = phrase[:1].isalpha() and all(ch.isalpha() or ch in _ATTRIBUTE_MARKS for ch in phrase)
    if phrase and (len(phrase) > MAX_ATTRIBUTE or not plain):
        cleared.append(
            _RowError(
                column,
                "bad_value",
                f"expected a short plain {column} (letters, spaces, hyphens or apostrophes, at most "
                f"{MAX_ATTRIBUTE} characters) or empty, got {_show(value)}; cleared, the product kept",
            )
        )
        return ""
    return phrase


def _read_catalog(table: _Table, info: StoreInfo) -> tuple[dict[str, Product], dict[str, int]]:
    """Products by id, and the rows where rejected product ids stood (so events can say why)."""
    products: dict[str, Product] = {}
    first_row: dict[str, int] = {}
    rejected_at: dict[str, int] = {}
    i = table.index
    report, name = table.report, table.name
    for row_number, cells in table.rows():
        product_id = cells[i["product_id"]]
        cleared: list[_RowError] = []  # bad attribute cells, reported only if the row is accepted
        try:
            _required(product_id, "product_id", "a product id")
            _unique(product_id, "product_id", first_row)
            price = _parse_money(_required(cells[i["price"]], "price", "a price such as 12.50"), "price")
            currency = cells[i["currency"]]
            if currency != info.currency:
                raise _RowError(
                    "currency", "bad_value", f"expected the store currency {info.currency}, got {_show(currency)}"
                )
            image_url = _optional_url(cells[i["image_url"]], "image_url")
            clearance = _parse_bool(cells[i["clearance"]], "clearance", default=False)
            raw_clearance_price = cells[i["clearance_price"]]
            clearance_price = None
            if clearance:
                _required(raw_clearance_price, "clearance_price", "a clearance price when clearance is true")
                clearance_price = _parse_money(raw_clearance_price, "clearance_price")
                if clearance_price >= price:
                    raise _RowError(
                        "clearance_price",
                        "bad_value",
                        f"expected a clearance price below the price {price}, got {_show(raw_clearance_price)}",
                    )
            elif raw_clearance_price:
                raise _RowError(
                    "clearance_price",
                    "bad_value",
                    f"expected empty when clearance is false, got {_show(raw_clearance_price)}",
                )
            url = _optional_url(cells[i["url"]], "url")
            product = Product(
                product_id=product_id,
                name=_required(cells[i["name"]], "name", "a product name"),
                description=cells[i["description"]],
                category=_required(cells[i["category"]], "category", "a category"),
                price=price,
                currency=currency,
                stock=_parse_int(cells[i["stock"]], "stock", minimum=0),
                image_url=image_url,
                arrival_date=_parse_date(cells[i["arrival_date"]], "arrival_date"),  # type: ignore[arg-type]
                clearance=clearance,
                clearance_price=clearance_price,
                url=url or f"{info.base_url}/products/{product_id}",
                material=_attribute(cells[i["material"]], "material", cleared),
                colour=_attribute(cells[i["colour"]], "colour", cleared),
            )
        except _RowError as err:
            report.reject(name, row_number, err.column, err.code, err.reason)
            if product_id and product_id not in first_row:
                rejected_at.setdefault(product_id, row_number)
            continue
        products[product_id] = product
        first_row[product_id] = row_number
        report.accept(name)
        for err in cleared:
            report.clear(name, row_number, err.column, err.code, err.reason)
    return products, rejected_at


def _points_cell(value: str, column: str, cleared: list[_RowError]) -> int | None:
    """A whole number of points, or None (empty or bad; a bad one is added to `cleared`)."""
    if not value:
        return None
    # the length first: int() of thousands of digits raises (and costs time) before any compare
    if value.isascii() and value.isdigit() and len(value) <= len(str(MAX_POINTS)) and int(value) < MAX_POINTS:
        return int(value)
    cleared.append(
        _RowError(
            column,
            "bad_value",
            f"expected a whole number of points from 0 below {MAX_POINTS:,} or empty, got {_show(value)}; "
            "cleared, the customer kept",
        )
    )
    return None


def _points(
    balance_cell: str, expiring_cell: str, on_cell: str, as_of: date, cleared: list[_RowError]
) -> tuple[int | None, int | None, date | None]:
    """(points_balance, points_expiring, points_expiring_on) of one customer row.

    A bad cell is cleared, not the customer. The expiring amount and its date come as a pair
    (one without the other is cleared too): an email says "200 points expire on 1 December" or
    nothing. Expiring points are at most the balance; their date is not before as_of.
    """
    kept = "cleared, the customer kept"
    balance = _points_cell(balance_cell, "points_balance", cleared)
    expiring = _points_cell(expiring_cell, "points_expiring", cleared)
    expiring_on = None
    if on_cell:
        try:
            expiring_on = date.fromisoformat(on_cell)
        except ValueError:
            reason = f"expected a date YYYY-MM-DD or empty, got {_show(on_cell)}; {kept}"
            cleared.append(_RowError("points_expiring_on", "bad_value", reason))
        else:
            if expiring_on < as_of:
                reason = f"expected a date on or after as_of {as_of} (points not yet lapsed), got {on_cell}; {kept}"
                cleared.append(_RowError("points_expiring_on", "bad_value", reason))
                expiring_on = None
    if expiring is not None:
        if balance is None:
            reason = f"expected points_expiring beside a points_balance, got {expiring} with none; {kept}"
            cleared.append(_RowError("points_expiring", "bad_value", reason))
            expiring = None
        elif expiring > balance:
            reason = f"expected points_expiring at most the points_balance {balance}, got {expiring}; {kept}"
            cleared.append(_RowError("points_expiring", "bad_value", reason))
            expiring = None
        elif expiring_on is None:
            why = "its points_expiring_on cleared" if on_cell else "no points_expiring_on"
            reason = f"expected points_expiring with a points_expiring_on date, got {expiring} with {why}; {kept}"
            cleared.append(_RowError("points_expiring", "bad_value", reason))
            expiring = None
    if expiring_on is not None and expiring is None:
        why = "a cleared one" if expiring_cell else "none"
        reason = f"expected points_expiring_on with a points_expiring amount, got {on_cell} with {why}; {kept}"
        cleared.append(_RowError("points_expiring_on", "bad_value", reason))
        expiring_on = None
    return balance, expiring, expiring_on


def _read_customers(table: _Table, as_of: date) -> tuple[dict[str, Customer], dict[str, int]]:
    customers: dict[str, Customer] = {}
    first_row: dict[str, int] = {}
    email_row: dict[str, int] = {}
    rejected_at: dict[str, int] = {}
    i = table.index
    report, name = table.report, table.name
    for row_number, cells in table.rows():
        customer_id = cells[i["customer_id"]]
        cleared: list[_RowError] = []  # bad points cells, reported only if the row is accepted
        try:
            _required(customer_id, "customer_id", "a pseudonymous customer id")
            if "@" in customer_id:
                raise _RowError(
                    "customer_id",
                    "bad_value",
                    f"expected a pseudonymous id (no email address), got {_show(customer_id)}",
                )
            _unique(customer_id, "customer_id", first_row)
            email = cells[i["email"]]
            if email:
                if not _EMAIL.match(email):
                    raise _RowError("email", "bad_value", f"expected an email address or empty, got {_show(email)}")
                key = email.lower()
                if key in email_row:
                    raise _RowError(
                        "email", "duplicate", f"expected a unique email, got one already used at row {email_row[key]}"
                    )
            locale = cells[i["locale"]]
            if not _LOCALE.match(locale):
                raise _RowError("locale", "bad_value", f"expected a locale such as en_GB, got {_show(locale)}")
            birthday = _parse_date(cells[i["birthday"]], "birthday", optional=True)
            if birthday is not None and birthday > as_of:
                raise _RowError(
                    "birthday", "bad_value", f"expected a birthday on or before as_of {as_of}, got {birthday}"
                )
            tier = cells[i["loyalty_tier"]] or "none"
            if tier not in LOYALTY_TIERS:
                raise _RowError(
                    "loyalty_tier", "bad_value", f"expected one of {'/'.join(LOYALTY_TIERS)}, got {_show(tier)}"
                )
            balance, expiring, expiring_on = _points(
                cells[i["points_balance"]], cells[i["points_expiring"]], cells[i["points_expiring_on"]], as_of, cleared
            )
            customer = Customer(
                customer_id=customer_id,
                first_name=_required(cells[i["first_name"]], "first_name", "a first name"),
                email=email,
                locale=locale,
                timezone=_check_timezone(cells[i["timezone"]], "timezone"),
                birthday=birthday,
                consent=_parse_bool(cells[i["consent"]], "consent"),
                loyalty_tier=tier,
                signup_date=_parse_date(cells[i["signup_date"]], "signup_date", optional=True),
                points_balance=balance,
                points_expiring=expiring,
                points_expiring_on=expiring_on,
            )
        except _RowError as err:
            report.reject(name, row_number, err.column, err.code, err.reason)
            if customer_id and customer_id not in first_row:
                rejected_at.setdefault(customer_id, row_number)
            continue
        customers[customer_id] = customer
        first_row[customer_id] = row_number
        if email:
            email_row[email.lower()] = row_number
        report.accept(name)
        for err in cleared:
            report.clear(name, row_number, err.column, err.code, err.reason)
    return customers, rejected_at


def _read_events(
    table: _Table,
    *,
    products: dict[str, Product],
    customers: dict[str, Customer],
    rejected_products: dict[str, int],
    rejected_customers: dict[str, int],
    cutoff: datetime,
    heldout: bool,
) -> list[Event]:
    """The hot path (200k rows): plain checks inline, the rare failure raised as _RowError."""
    i = table.index
    ci, pi, ti, tsi, qi, ri, xi = (
        i["customer_id"],
        i["product_id"],
        i["event_type"],
        i["timestamp"],
        i["quantity"],
        i["rating"],
        i["text"],
    )
    report, name = table.report, table.name
    event_types = frozenset(EVENT_TYPES)
    seen: dict[tuple[str, ...], int] = {}
    events: list[Event] = []
    append = events.append
    for row_number, cells in table.rows():
        try:
            customer = customers.get(cells[ci])
            if customer is None:
                cid = cells[ci]
                _required(cid, "customer_id", "a customer id")
                where = (
                    f"rejected at customers.csv row {rejected_customers[cid]}"
                    if cid in rejected_customers
                    else "not in customers.csv"
                )
                raise _RowError(
                    "customer_id", "unknown_customer", f"expected a known customer_id, got {_show(cid)} ({where})"
                )
            product = products.get(cells[pi])
            if product is None:
                pid = cells[pi]
                _required(pid, "product_id", "a product id")
                where = (
                    f"rejected at catalog.csv row {rejected_products[pid]}"
                    if pid in rejected_products
                    else "not in catalog.csv"
                )
                raise _RowError(
                    "product_id", "unknown_product", f"expected a known product_id, got {_show(pid)} ({where})"
                )
            event_type = cells[ti]
            if event_type not in event_types:
                raise _RowError(
                    "event_type", "bad_value", f"expected one of {'/'.join(EVENT_TYPES)}, got {_show(event_type)}"
                )
            raw_ts = cells[tsi]
            try:
                timestamp = datetime.fromisoformat(raw_ts)
            except ValueError:
                raise _RowError(
                    "timestamp", "bad_value", f"expected ISO-8601 UTC such as 2026-11-19T18:42:07Z, got {_show(raw_ts)}"
                ) from None
            offset = timestamp.utcoffset()
            if offset is None:
                raise _RowError(
                    "timestamp", "bad_value", f"expected a timestamp with a zone (Z or +00:00), got {_show(raw_ts)}"
                )
            if offset or timestamp.tzinfo is not UTC:
                timestamp = timestamp.astimezone(UTC)
            if heldout and timestamp < cutoff:
                raise _RowError(
                    "timestamp",
                    "out_of_window",
                    f"expected a held-out event at or after {fmt.format_timestamp(cutoff)}, got {raw_ts}",
                )
            if not heldout and timestamp >= cutoff:
                raise _RowError(
                    "timestamp",
                    "out_of_window",
                    f"expected an event before the as_of cut-off {fmt.format_timestamp(cutoff)}, got {raw_ts}",
                )
            raw_q = cells[qi]
            quantity = int(raw_q) if raw_q.isdecimal() else _parse_int(raw_q, "quantity", minimum=1, default=1)
            if quantity < 1:
                raise _RowError("quantity", "bad_value", f"expected a whole number >= 1, got {_show(raw_q)}")
            raw_r = cells[ri]
            rating = None
            if event_type == "review":
                if raw_r not in ("1", "2", "3", "4", "5"):
                    raise _RowError(
                        "rating",
                        "bad_value" if raw_r else "missing",
                        f"expected a rating 1-5 on a review, got {_show(raw_r)}",
                    )
                rating = int(raw_r)
            elif raw_r:
                raise _RowError(
                    "rating", "bad_value", f"expected no rating on a {event_type} event, got {_show(raw_r)}"
                )
            text = cells[xi]
            if text and event_type != "review":
                raise _RowError("text", "bad_value", f"expected no text on a {event_type} event, got {_show(text)}")
            key = tuple(cells)
            if key in seen:
                raise _RowError("*", "duplicate", f"expected a new event, got a copy of row {seen[key]}")
            seen[key] = row_number
        except _RowError as err:
            report.reject(name, row_number, err.column, err.code, err.reason)
            continue
        append(Event(customer.customer_id, product.product_id, event_type, timestamp, quantity, rating, text))
    report.accept(name, len(events))
    events.sort(key=attrgetter("timestamp"))  # stable: ties keep file order
    return events


def load_store(path: str | Path, *, strict: bool = False, max_listed: int = 10) -> StoreData:
    """Read a store directory, validate every row, and return what passed with a report.

    With `strict=True`, raise `ValidationError` naming the first `max_listed` rejections when any
    row was rejected.

    >>> store = load_store("tests/fixtures/store_tiny")
    >>> store.report.ok, len(store.products), store.as_of.isoformat()
    (True, 12, '2026-11-20')
    """
    root = Path(path)
    if not root.is_dir():
        raise ValidationError(f"expected a store directory, got {str(root)!r} (not a directory)")
    report = ValidationReport()
    info, as_of, raw_store = _read_store_json(root / fmt.STORE_JSON)
    points_name, loyalty_tiers = DEFAULT_POINTS_NAME, ()
    if raw_store.get("loyalty") is not None:
        points_name, loyalty_tiers = parse_loyalty(raw_store["loyalty"], where=fmt.STORE_JSON)
    for required in (fmt.CATALOG_CSV, fmt.CUSTOMERS_CSV, fmt.EVENTS_CSV):
        if not (root / required).is_file():
            raise ValidationError(f"expected {required} in {root}, found none")
    products, rejected_products = _read_catalog(_Table(root / fmt.CATALOG_CSV, fmt.CATALOG_COLUMNS, report), info)
    customers, rejected_customers = _read_customers(
        _Table(root / fmt.CUSTOMERS_CSV, fmt.CUSTOMER_COLUMNS, report), as_of
    )
    offers: list[Offer] = []
    if (root / fmt.OFFERS_JSON).is_file():  # a bad offer fails the whole load (OfferError, naming it)
        offers = read_offers_json(root / fmt.OFFERS_JSON, currency=info.currency, as_of=as_of)
        categories = {p.category for p in products.values()}
        try:
            check_offer_targets(offers, product_ids=products.keys(), categories=categories)
        except OfferError as err:
            raise OfferError(f"{fmt.OFFERS_JSON}: {err}") from None
    cutoff = fmt.cutoff(as_of)
    common = dict(
        products=products,
        customers=customers,
        rejected_products=rejected_products,
        rejected_customers=rejected_customers,
        cutoff=cutoff,
    )
    events = _read_events(_Table(root / fmt.EVENTS_CSV, fmt.EVENT_COLUMNS, report), heldout=False, **common)  # type: ignore[arg-type]
    heldout: list[Event] = []
    if (root / fmt.HELDOUT_CSV).is_file():
        heldout = _read_events(_Table(root / fmt.HELDOUT_CSV, fmt.EVENT_COLUMNS, report), heldout=True, **common)  # type: ignore[arg-type]
    store = StoreData(
        products=products,
        customers=customers,
        events=events,
        heldout_events=heldout,
        info=info,
        as_of=as_of,
        report=report,
        source=str(root),
        offers=offers,
        loyalty_tiers=loyalty_tiers,
        points_name=points_name,
    )
    if strict:
        raise_if_rejected(report, where=str(root), max_listed=max_listed)
    return store


def raise_if_rejected(report: ValidationReport, *, where: str, max_listed: int = 10) -> None:
    """Raise ValidationError listing the first rejections, if there are any."""
    if report.rejected:
        first = "\n".join(f"  {r}" for r in report.rejected[:max_listed])
        more = len(report.rejected) - max_listed
        tail = f"\n  ... and {more} more" if more > 0 else ""
        raise ValidationError(f"{where}: {len(report.rejected)} rows rejected; expected none (strict):\n{first}{tail}")
