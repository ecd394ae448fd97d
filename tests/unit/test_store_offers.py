"""offers.json in a store directory: read into StoreData.offers, checked against store.json's
currency and as_of and the catalog; one bad offer fails the whole load, naming the offer."""

from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from nudge.errors import OfferError, ValidationError
from nudge.offers import offer_for
from nudge.store import load_store, write_store

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "store_tiny"


@pytest.fixture
def tiny_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(TINY, tmp_path / "store"))


def edit_offers(store: Path, offer_id: str | None = None, **changes: Any) -> None:
    """Change fields of one offer in the store's offers.json (a value None removes the field);
    offer_id None changes the document itself."""
    path = store / "offers.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    target = document if offer_id is None else next(o for o in document["offers"] if o["offer_id"] == offer_id)
    target.update(changes)
    for key in [k for k, v in target.items() if v is None]:
        del target[key]
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")


# --- the tiny fixture ---------------------------------------------------------------------------


def test_tiny_store_offers_are_loaded_with_their_known_answers() -> None:
    # GIVEN the tiny store and its offers.json WHEN loaded strictly
    store = load_store(TINY, strict=True)
    # THEN its three offers come in file order, typed
    assert [(o.offer_id, o.code, o.kind, o.value) for o in store.offers] == [
        ("birthday-15", "BDAY15", "percent", Decimal("15")),
        ("clearance-extra-10", "CLEAR10", "percent", Decimal("10")),
        ("welcome-back-5", "COMEBACK5", "amount", Decimal("5.00")),
    ]
    birthday, clearance, win_back = store.offers
    assert (birthday.audience, birthday.valid_from, birthday.valid_until) == ("birthday", date(2026, 11, 19), date(2027, 1, 17))
    assert (clearance.min_spend, clearance.product_ids, clearance.valid_until) == (Decimal("20.00"), ("p006",), date(2026, 12, 4))
    # AND on as_of: Olivia's birthday email gets the birthday offer, the clearance email its offer,
    # and the win-back offer (from 1 December) is not yet valid
    today = store.as_of
    assert offer_for(store.offers, campaign_type="birthday_holiday", send_date=today, birthday=True) == birthday
    assert offer_for(store.offers, campaign_type="clearance", send_date=today, birthday=False) == clearance
    assert offer_for(store.offers, campaign_type="win_back", send_date=today, birthday=False) is None
    assert offer_for(store.offers, campaign_type="win_back", send_date=date(2026, 12, 1), birthday=False) == win_back


def test_a_store_without_offers_json_has_no_offers(tiny_copy: Path) -> None:
    (tiny_copy / "offers.json").unlink()
    store = load_store(tiny_copy, strict=True)
    assert store.offers == [] and "offers.json" not in store.report.counts


# --- a bad offer fails the load, naming it ------------------------------------------------------


@pytest.mark.parametrize(
    ("offer_id", "changes", "message"),
    [
        ("birthday-15", {"code": "bday15"}, "offers.json: offer 'birthday-15' field 'code': expected 3-20 characters"),
        ("birthday-15", {"value": "120"}, "offers.json: offer 'birthday-15' field 'value': expected a percent from 1 to 90, got '120'"),
        ("welcome-back-5", {"currency": "EUR"}, "offers.json: offer 'welcome-back-5' field 'currency': expected the store currency GBP, got 'EUR'"),
        (
            "clearance-extra-10",
            {"valid_from": "2026-10-01", "valid_until": "2026-11-19"},
            "offers.json: offer 'clearance-extra-10' field 'valid_until': expected expiry in the future (on or after as_of 2026-11-20)",
        ),
        ("clearance-extra-10", {"campaign_types": ["flash_sale"]}, "field 'campaign_types': expected one of"),
        ("clearance-extra-10", {"title": "<script>x</script>"}, "field 'title': expected plain text"),
        ("clearance-extra-10", {"stackable": True}, "offers.json: offer 'clearance-extra-10': expected only the fields"),
        (
            "clearance-extra-10",
            {"product_ids": ["p006", "p404"]},
            "offers.json: offer 'clearance-extra-10' field 'product_ids': expected products accepted from catalog.csv, got 'p404'",
        ),
        ("clearance-extra-10", {"categories": ["lamps"]}, "field 'categories': expected categories of catalog.csv, got 'lamps'"),
        (
            "welcome-back-5",
            {"campaign_types": ["clearance"], "valid_from": "2026-12-01"},
            "offers.json: offer 'welcome-back-5' field 'valid_from': expected no overlap with offer 'clearance-extra-10'",
        ),
        (None, {"currency": "EUR"}, "offers.json: expected the store currency GBP, got 'EUR'"),
        (None, {"schema_version": 2}, "offers.json: expected schema_version 1, got 2"),
    ],
)
def test_a_bad_offer_fails_the_whole_load_naming_the_offer(
    tiny_copy: Path, offer_id: str | None, changes: dict[str, Any], message: str
) -> None:
    # GIVEN offers.json with one broken rule
    edit_offers(tiny_copy, offer_id, **changes)
    # WHEN the store is loaded (even leniently) THEN OfferError, a ValidationError, names the problem
    with pytest.raises(OfferError) as excinfo:
        load_store(tiny_copy)
    assert message in str(excinfo.value), str(excinfo.value)
    assert isinstance(excinfo.value, ValidationError)


def test_an_offer_on_a_rejected_product_fails_the_load(tiny_copy: Path) -> None:
    # GIVEN the clearance product's row made invalid: the offer on it names a product not accepted
    path = tiny_copy / "catalog.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",11.00,GBP,", ",eleven,GBP,", 1), encoding="utf-8")
    with pytest.raises(OfferError, match="got 'p006' \\(not among them\\)"):
        load_store(tiny_copy)


def test_an_offers_file_that_is_not_json_fails_the_load(tiny_copy: Path) -> None:
    (tiny_copy / "offers.json").write_text("{offers: []", encoding="utf-8")
    with pytest.raises(OfferError, match="offers.json: expected JSON, got a parse error"):
        load_store(tiny_copy)


# --- the writer ---------------------------------------------------------------------------------


def write(store: Any, out: Path, **kwargs: Any) -> Path:
    return write_store(
        out,
        info=store.info,
        as_of=store.as_of,
        products=store.products.values(),
        customers=store.customers.values(),
        events=store.events,
        **kwargs,
    )


def test_offers_round_trip_through_the_writer(tmp_path: Path) -> None:
    # GIVEN the tiny store WHEN written with its offers and loaded again THEN the offers are equal
    original = load_store(TINY, strict=True)
    out = write(original, tmp_path / "copy", offers=original.offers)
    again = load_store(out, strict=True)
    assert again.offers == original.offers
    document = json.loads((out / "offers.json").read_text(encoding="utf-8"))
    assert (document["schema_version"], document["currency"]) == (1, "GBP")


def test_writing_without_offers_leaves_no_offers_json(tmp_path: Path) -> None:
    # GIVEN a folder written once with offers
    original = load_store(TINY, strict=True)
    out = write(original, tmp_path / "copy", offers=original.offers)
    # WHEN written again without offers THEN no old promo code lingers
    write(original, out)
    assert not (out / "offers.json").exists() and load_store(out).offers == []


def test_writing_an_empty_offer_list_writes_an_empty_file(tmp_path: Path) -> None:
    out = write(load_store(TINY, strict=True), tmp_path / "copy", offers=[])
    assert json.loads((out / "offers.json").read_text(encoding="utf-8"))["offers"] == []
    assert load_store(out).offers == []
