"""Store offers: promo codes with their terms, validated when they are loaded, one chosen per email.

An offer is a fact from the store's data (docs/DESIGN.md, principle 1): its value, code, dates
and terms reach an email through the renderer, never through the model. Offers are few and written
by hand by a marketer, so every rule is checked and a broken one raises `OfferError` naming the
offer, the field, what was expected and what came; nothing is dropped silently. Plain Python, no AWS.

They travel as `offers.json` (in a store directory, and as an artifact the Lambda reads):

    {"schema_version": 1, "currency": "GBP", "offers": [{...offer_to_dict...}, ...]}

>>> from datetime import date
>>> [offer] = parse_offers([{
...     "offer_id": "birthday-15", "title": "Birthday treat", "kind": "percent", "value": "15",
...     "currency": "GBP", "code": "BDAY15", "valid_from": "2026-11-19", "valid_until": "2027-01-17",
...     "campaign_types": ["birthday_holiday"], "audience": "birthday"}], currency="GBP", as_of=date(2026, 11, 20))
>>> offer_for([offer], campaign_type="birthday_holiday", send_date=date(2026, 11, 20), birthday=True).code
'BDAY15'
>>> offer_for([offer], campaign_type="birthday_holiday", send_date=date(2026, 11, 20), birthday=False) is None
True
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from nudge.errors import OfferError
from nudge.types import CAMPAIGN_TYPES

OFFERS_JSON = "offers.json"
SCHEMA_VERSION = 1
KINDS = ("percent", "amount")  # percent off, or an amount off in the store currency
AUDIENCES = ("all", "birthday")  # birthday: a birthday_holiday email for the customer's birthday only
MIN_PERCENT, MAX_PERCENT = Decimal(1), Decimal(90)
MAX_AMOUNT = Decimal(1_000_000)  # an amount off or minimum spend at or above this is a data error
MAX_TITLE = 120  # characters
MAX_TERMS = 300
MAX_ID = 64  # characters of an offer, product or category id

REQUIRED_FIELDS = (
    "offer_id",
    "title",
    "kind",
    "value",
    "currency",
    "code",
    "valid_from",
    "valid_until",
    "campaign_types",
)
OPTIONAL_FIELDS = ("audience", "min_spend", "product_ids", "categories", "terms")

_OFFER_ID = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_-]{{0,{MAX_ID - 1}}}$")
_CODE = re.compile(r"^[A-Z0-9-]{3,20}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Invisible or control characters: controls, format characters (zero-width, the bidi embeddings,
# overrides and isolates U+202A..U+202E, U+2066..U+2069: a known phishing trick), line and
# paragraph separators, private use, surrogates, unassigned.
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})
_MARKUP = "<>{}"  # HTML and template syntax: store text is shown as text, never as markup
_LINKS = ("://", "www.")
_SHOWN = 60  # characters of an offending value quoted in a message


@dataclass(frozen=True, slots=True)
class Offer:
    """One store offer. Build it with `parse_offers` (or `offer_from_dict`), which checks every rule."""

    offer_id: str  # safe id: letters, digits, '-' and '_', e.g. "birthday-15"
    title: str  # short store-written label, e.g. "Birthday treat" (plain text, <= MAX_TITLE)
    kind: str  # one of KINDS
    value: Decimal  # percent 1..90, or an amount off in `currency`
    currency: str  # ISO 4217; equals the store's
    code: str  # the promo code the customer types: 3-20 of A-Z, 0-9, '-'
    valid_from: date
    valid_until: date  # inclusive
    campaign_types: tuple[str, ...]  # nudge.types.CAMPAIGN_TYPES it applies to
    audience: str = "all"  # one of AUDIENCES
    min_spend: Decimal | None = None  # in `currency`; None: no minimum
    product_ids: tuple[str, ...] = ()  # empty: the whole order
    categories: tuple[str, ...] = ()  # empty: every category
    terms: str = ""  # short store-written text (plain, <= MAX_TERMS); "" none

    def valid_on(self, day: date) -> bool:
        """True when `day` lies in the offer's window (both ends included)."""
        return self.valid_from <= day <= self.valid_until


# --- one offer ----------------------------------------------------------------------------------


def _show(value: Any) -> str:
    """A value as a message quotes it: a string in quotes, cut to _SHOWN characters; 95.5, not Decimal('95.5')."""
    if isinstance(value, str):
        return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "...")
    text = str(value) if isinstance(value, Decimal) else repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


class _Checker:
    """Field checks for one offer; every failure names the offer and the field."""

    def __init__(self, who: str) -> None:
        self.who = who

    def fail(self, field: str, expected: str, got: Any, why: str = "") -> OfferError:
        tail = f" ({why})" if why else ""
        return OfferError(f"{self.who} field {field!r}: expected {expected}, got {_show(got)}{tail}")

    def choice(self, field: str, value: Any, options: Sequence[str]) -> str:
        if value not in options:
            raise self.fail(field, f"one of {'/'.join(options)}", value)
        return str(value)

    def decimal(self, field: str, value: Any, expected: str) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
            raise self.fail(field, expected, value)
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise self.fail(field, expected, value) from None
        if not number.is_finite() or number.as_tuple().exponent < -2:  # type: ignore[operator]
            raise self.fail(field, expected + " with at most 2 decimal places", value)
        return number

    def money(self, field: str, value: Any) -> Decimal:
        expected = f"an amount above 0 and below {MAX_AMOUNT:,} such as 10.00"
        amount = self.decimal(field, value, expected)
        if not 0 < amount < MAX_AMOUNT:
            raise self.fail(field, expected, value)
        return amount.quantize(Decimal("0.01"))

    def day(self, field: str, value: Any) -> date:
        if isinstance(value, date) and not hasattr(value, "hour"):  # a date, not a datetime
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise self.fail(field, "a date YYYY-MM-DD", value)

    def text(self, field: str, value: Any, *, limit: int) -> str:
        expected = f"plain text of at most {limit} characters (no markup, links, control or bidi characters)"
        if not isinstance(value, str):
            raise self.fail(field, expected, value)
        hidden = next((ch for ch in value if unicodedata.category(ch) in _HIDDEN), None)
        if hidden is not None:
            raise self.fail(field, expected, value, f"a control or invisible character U+{ord(hidden):04X}")
        markup = next((ch for ch in value if ch in _MARKUP), None)
        if markup is not None:
            raise self.fail(field, expected, value, f"markup character {markup!r}")
        if any(link in value.lower() for link in _LINKS):
            raise self.fail(field, expected, value, "a link")
        plain = " ".join(value.split())
        if len(plain) > limit:
            raise self.fail(field, expected, value, f"{len(plain)} characters")
        return plain

    def ids(self, field: str, value: Any) -> tuple[str, ...]:
        expected = f"a list of distinct ids (no spaces or control characters, at most {MAX_ID} characters each)"
        if not isinstance(value, (list, tuple)):
            raise self.fail(field, expected, value)
        out: list[str] = []
        for item in value:
            ok = isinstance(item, str) and 0 < len(item) <= MAX_ID
            if not ok or any(ch.isspace() or unicodedata.category(ch) in _HIDDEN for ch in item):
                raise self.fail(field, expected, item)
            if item in out:
                raise self.fail(field, expected, item, "listed twice")
            out.append(item)
        return tuple(out)


def _who(raw: Any, index: int | None) -> str:
    offer_id = raw.get("offer_id") if isinstance(raw, Mapping) else None
    if isinstance(offer_id, str) and _OFFER_ID.match(offer_id):
        return f"offer {offer_id!r}"
    return "offer" if index is None else f"offer #{index + 1}"


def _parse_one(raw: Any, *, index: int | None, currency: str | None, as_of: date | None) -> Offer:
    """One raw offer (a JSON object) checked field by field. `currency` None: the offer's own."""
    who = _who(raw, index)
    check = _Checker(who)
    if not isinstance(raw, Mapping):
        raise OfferError(f"{who}: expected a JSON object, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        raise OfferError(
            f"{who}: expected only the fields {list(REQUIRED_FIELDS + OPTIONAL_FIELDS)}, got unknown {unknown}"
        )
    missing = [f for f in REQUIRED_FIELDS if raw.get(f) in (None, "", [], ())]
    if missing:
        raise OfferError(f"{who}: expected the fields {missing} with values, got none")
    offer_id = raw["offer_id"]
    if not isinstance(offer_id, str) or not _OFFER_ID.match(offer_id):
        raise check.fail("offer_id", f"a safe id (letters, digits, '-' and '_', at most {MAX_ID} characters)", offer_id)
    title = check.text("title", raw["title"], limit=MAX_TITLE)
    if not title:
        raise check.fail("title", "a short label such as 'Birthday treat'", raw["title"])
    kind = check.choice("kind", raw["kind"], KINDS)

    offer_currency = raw["currency"]
    if not isinstance(offer_currency, str) or not _CURRENCY.match(offer_currency):
        raise check.fail("currency", "ISO 4217 such as GBP", offer_currency)
    if currency is not None and offer_currency != currency:
        raise check.fail("currency", f"the store currency {currency}", offer_currency)

    if kind == "percent":
        expected = f"a percent from {MIN_PERCENT} to {MAX_PERCENT}"
        value = check.decimal("value", raw["value"], expected)
        if not MIN_PERCENT <= value <= MAX_PERCENT:
            raise check.fail("value", expected, raw["value"])
    else:
        value = check.money("value", raw["value"])

    min_spend = None if raw.get("min_spend") in (None, "") else check.money("min_spend", raw["min_spend"])
    if kind == "amount" and min_spend is not None and value >= min_spend:
        raise check.fail("value", f"an amount below the min_spend {min_spend}", raw["value"])

    code = raw["code"]
    if not isinstance(code, str) or not _CODE.match(code):
        raise check.fail("code", "3-20 characters of A-Z, 0-9 and '-' (upper-case, no spaces)", code)

    valid_from = check.day("valid_from", raw["valid_from"])
    valid_until = check.day("valid_until", raw["valid_until"])
    if valid_until < valid_from:
        raise check.fail("valid_until", f"a date on or after valid_from {valid_from}", raw["valid_until"])
    if as_of is not None and valid_until < as_of:
        raise check.fail(
            "valid_until", f"expiry in the future (on or after as_of {as_of})", raw["valid_until"], "already expired"
        )

    types = raw["campaign_types"]
    if not isinstance(types, (list, tuple)):
        raise check.fail("campaign_types", f"a list of campaign types among {'/'.join(CAMPAIGN_TYPES)}", types)
    for campaign_type in types:
        check.choice("campaign_types", campaign_type, CAMPAIGN_TYPES)
    if len(set(types)) != len(types):
        raise check.fail("campaign_types", "each campaign type once", list(types))
    audience = check.choice("audience", raw.get("audience", "all"), AUDIENCES)
    if audience == "birthday" and list(types) != ["birthday_holiday"]:
        raise check.fail(
            "campaign_types", "['birthday_holiday'] only, for an offer with audience 'birthday'", list(types)
        )

    terms = "" if raw.get("terms") is None else check.text("terms", raw["terms"], limit=MAX_TERMS)
    return Offer(
        offer_id=offer_id,
        title=title,
        kind=kind,
        value=value,
        currency=offer_currency,
        code=code,
        valid_from=valid_from,
        valid_until=valid_until,
        campaign_types=tuple(types),
        audience=audience,
        min_spend=min_spend,
        product_ids=check.ids("product_ids", raw.get("product_ids", [])),
        categories=check.ids("categories", raw.get("categories", [])),
        terms=terms,
    )


# --- a set of offers ----------------------------------------------------------------------------


def parse_offers(raw: Sequence[Any], *, currency: str, as_of: date | None) -> list[Offer]:
    """Check raw offers (JSON objects, as in offers.json) and return them as `Offer`s, in order.

    Raises `OfferError` for the first broken rule: a missing or unknown field, a bad offer_id or
    code, a value out of range (percent 1..90, an amount above 0 and below min_spend), a currency
    other than `currency`, valid_until before valid_from or before `as_of` (None skips that check:
    a runtime reading an artifact checked when it was written), an unknown campaign type, a birthday
    offer for another campaign, hostile title or terms, a repeated offer_id or code, or two offers
    for one campaign type and audience whose windows overlap (the no-overlap rule: one email, one
    offer, never a choice made at random).

    >>> parse_offers([{"offer_id": "x", "title": "Ten off"}], currency="GBP", as_of=None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nudge.errors.OfferError: offer 'x': expected the fields ['kind', 'value', ...] with values, got none
    """
    if not isinstance(raw, (list, tuple)):
        raise OfferError(f"offers: expected a list of offer objects, got {type(raw).__name__}")
    offers: list[Offer] = []
    by_id: dict[str, int] = {}
    by_code: dict[str, str] = {}
    for index, item in enumerate(raw):
        offer = _parse_one(item, index=index, currency=currency, as_of=as_of)
        who = _Checker(f"offer {offer.offer_id!r}")
        if offer.offer_id in by_id:
            first = by_id[offer.offer_id] + 1
            raise who.fail("offer_id", "an id no other offer uses", offer.offer_id, f"also offer #{first}")
        if offer.code in by_code:
            raise who.fail("code", "a code no other offer uses", offer.code, f"also offer {by_code[offer.code]!r}")
        for other in offers:
            shared = [t for t in offer.campaign_types if t in other.campaign_types]
            overlap = offer.valid_from <= other.valid_until and other.valid_from <= offer.valid_until
            if shared and overlap and offer.audience == other.audience:
                raise who.fail(
                    "valid_from",
                    f"no overlap with offer {other.offer_id!r} ({other.valid_from}..{other.valid_until}) for campaign "
                    f"{shared[0]} and audience {offer.audience}",
                    f"{offer.valid_from}..{offer.valid_until}",
                    "no overlap rule broken",
                )
        by_id[offer.offer_id] = index
        by_code[offer.code] = offer.offer_id
        offers.append(offer)
    return offers


def check_offer_targets(offers: Iterable[Offer], *, product_ids: Collection[str], categories: Collection[str]) -> None:
    """Raise OfferError when an offer names a product or category the catalog does not hold.

    An offer "on" something that is not sold must never reach an email, so the whole store refuses it.
    """
    for offer in offers:
        check = _Checker(f"offer {offer.offer_id!r}")
        for product_id in offer.product_ids:
            if product_id not in product_ids:
                raise check.fail("product_ids", "products accepted from catalog.csv", product_id, "not among them")
        for category in offer.categories:
            if category not in categories:
                raise check.fail("categories", "categories of catalog.csv", category, "not among them")


def offer_for(offers: Iterable[Offer], *, campaign_type: str, send_date: date, birthday: bool) -> Offer | None:
    """The one offer for an email of `campaign_type` sent on `send_date`, or None.

    Only an offer valid that day (valid_from <= send_date <= valid_until) is returned, never an
    expired one. `birthday` is True for a birthday_holiday email sent for the customer's birthday:
    then an audience "birthday" offer comes first, else an "all" one; any other email gets only
    audience "all" offers. Checked offers never overlap (parse_offers), so the choice is unique;
    for unchecked ones the earliest starting (then the lowest offer_id) wins.
    """
    if campaign_type not in CAMPAIGN_TYPES:
        raise ValueError(f"expected a campaign type among {'/'.join(CAMPAIGN_TYPES)}, got {campaign_type!r}")
    audiences = ("birthday", "all") if birthday else ("all",)
    candidates = [
        o for o in offers if campaign_type in o.campaign_types and o.valid_on(send_date) and o.audience in audiences
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda o: (audiences.index(o.audience), o.valid_from, o.offer_id))


# --- JSON ---------------------------------------------------------------------------------------


def offer_to_dict(offer: Offer) -> dict[str, Any]:
    """A JSON-ready dict: Decimals as strings ("15", "10.00"), dates ISO; min_spend left out when None."""
    out: dict[str, Any] = {
        "offer_id": offer.offer_id,
        "title": offer.title,
        "kind": offer.kind,
        "value": str(offer.value),
        "currency": offer.currency,
        "code": offer.code,
        "valid_from": offer.valid_from.isoformat(),
        "valid_until": offer.valid_until.isoformat(),
        "campaign_types": list(offer.campaign_types),
        "audience": offer.audience,
    }
    if offer.min_spend is not None:
        out["min_spend"] = str(offer.min_spend)
    out.update(product_ids=list(offer.product_ids), categories=list(offer.categories), terms=offer.terms)
    return out


def offer_from_dict(data: Mapping[str, Any]) -> Offer:
    """The Offer of `offer_to_dict(offer)`, every field checked (in its own currency; no expiry check).

    >>> offer_from_dict({"offer_id": "x", "title": "Ten off", "kind": "amount", "value": "10", "currency": "GBP",
    ...     "code": "TEN-OFF", "valid_from": "2026-11-01", "valid_until": "2026-11-30",
    ...     "campaign_types": ["win_back"], "min_spend": "50"}).value
    Decimal('10.00')
    """
    return _parse_one(data, index=None, currency=None, as_of=None)


def offers_document(offers: Iterable[Offer], *, currency: str) -> dict[str, Any]:
    """The offers.json object for `offers`."""
    return {"schema_version": SCHEMA_VERSION, "currency": currency, "offers": [offer_to_dict(o) for o in offers]}


def parse_offers_document(
    document: Any, *, currency: str | None, as_of: date | None, where: str = OFFERS_JSON
) -> list[Offer]:
    """Check an offers.json object and return its offers (`parse_offers` on its "offers" list).

    `currency` None takes the document's own (a runtime reading an artifact); otherwise the
    document's must equal it (the store's). Errors are prefixed with `where`.
    """
    if not isinstance(document, Mapping):
        raise OfferError(f"{where}: expected a JSON object, got {type(document).__name__}")
    unknown = sorted(set(document) - {"schema_version", "currency", "offers"})
    if unknown:
        raise OfferError(f"{where}: expected only the keys schema_version, currency, offers, got unknown {unknown}")
    version = document.get("schema_version")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise OfferError(f"{where}: expected schema_version {SCHEMA_VERSION}, got {version!r}")
    own = document.get("currency")
    if not isinstance(own, str) or not _CURRENCY.match(own):
        raise OfferError(f"{where}: expected currency as ISO 4217 (e.g. GBP), got {own!r}")
    if currency is not None and own != currency:
        raise OfferError(f"{where}: expected the store currency {currency}, got {own!r}")
    if "offers" not in document:
        raise OfferError(f"{where}: expected the key offers (a list, maybe empty), got none")
    try:
        return parse_offers(document["offers"], currency=own, as_of=as_of)
    except OfferError as err:
        raise OfferError(f"{where}: {err}") from None


def read_offers_json(path: str | Path, *, currency: str | None = None, as_of: date | None = None) -> list[Offer]:
    """Read and check one offers.json file (it must exist). Numbers are read as Decimals, never floats."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except ValueError as exc:  # JSONDecodeError, or an integer beyond int()'s digit limit
        raise OfferError(f"{path.name}: expected JSON, got a parse error: {exc}") from None
    return parse_offers_document(document, currency=currency, as_of=as_of, where=path.name)


def load_offers_file(path: str | Path, *, currency: str | None = None, as_of: date | None = None) -> list[Offer]:
    """The offers of an offers.json artifact, checked; [] when the file does not exist.

    `currency` and `as_of` add the store's checks (see parse_offers_document); a Lambda reading an
    artifact checked when it was written passes neither, and `offer_for` never returns an expired offer.
    """
    path = Path(path)
    return read_offers_json(path, currency=currency, as_of=as_of) if path.is_file() else []


def save_offers_file(path: str | Path, offers: Iterable[Offer], currency: str) -> Path:
    """Write offers.json (UTF-8, stable bytes for the same offers) and return its path.

    The offers are checked as a reader would check them before anything is written, so a file
    this writes always loads (an offer in another currency, or two that overlap, raise OfferError).
    """
    document = offers_document(list(offers), currency=currency)
    parse_offers_document(document, currency=currency, as_of=None, where=str(Path(path).name))
    path = Path(path)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
