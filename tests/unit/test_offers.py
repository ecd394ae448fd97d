"""nudge.offers: every rule of an offer named in its error, the no-overlap rule, the one offer an
email gets (never an expired one), and the offers.json round trip."""

from __future__ import annotations

import doctest
import json
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nudge.offers
from nudge.errors import OfferError, ValidationError
from nudge.offers import (
    Offer,
    check_offer_targets,
    load_offers_file,
    offer_for,
    offer_from_dict,
    offer_to_dict,
    parse_offers,
    save_offers_file,
)

AS_OF = date(2026, 11, 20)


def raw_offer(**changes: Any) -> dict[str, Any]:
    """A valid raw clearance offer (as in offers.json), with `changes`; a value None removes the field."""
    raw: dict[str, Any] = {
        "offer_id": "clear-10",
        "title": "Extra 10% off clearance",
        "kind": "percent",
        "value": "10",
        "currency": "GBP",
        "code": "CLEAR10",
        "valid_from": "2026-11-18",
        "valid_until": "2026-12-04",
        "campaign_types": ["clearance"],
    }
    raw.update(changes)
    return {k: v for k, v in raw.items() if v is not None}


def birthday_raw(**changes: Any) -> dict[str, Any]:
    return raw_offer(
        offer_id="bday-15",
        title="Birthday treat",
        value="15",
        code="BDAY15",
        valid_from="2026-11-19",
        valid_until="2027-01-17",
        campaign_types=["birthday_holiday"],
        audience="birthday",
        **changes,
    )


def parse_one(**changes: Any) -> Offer:
    [offer] = parse_offers([raw_offer(**changes)], currency="GBP", as_of=AS_OF)
    return offer


def test_the_module_examples_run() -> None:
    assert doctest.testmod(nudge.offers, raise_on_error=False).failed == 0


# --- one valid offer ----------------------------------------------------------------------------


def test_a_valid_offer_is_parsed_with_its_defaults() -> None:
    # GIVEN a raw offer with only the required fields WHEN parsed
    offer = parse_one()
    # THEN every field is typed, and the optional ones take their defaults
    assert offer == Offer(
        offer_id="clear-10",
        title="Extra 10% off clearance",
        kind="percent",
        value=Decimal("10"),
        currency="GBP",
        code="CLEAR10",
        valid_from=date(2026, 11, 18),
        valid_until=date(2026, 12, 4),
        campaign_types=("clearance",),
    )
    assert (offer.audience, offer.min_spend, offer.product_ids, offer.categories, offer.terms) == ("all", None, (), (), "")


def test_amounts_are_money_and_numbers_may_be_json_numbers() -> None:
    # GIVEN an amount offer written with JSON numbers WHEN parsed THEN amounts are 2-place Decimals
    offer = parse_one(kind="amount", value=5, min_spend=25.5, code="FIVE-OFF")
    assert (offer.value, offer.min_spend) == (Decimal("5.00"), Decimal("25.50"))


def test_title_and_terms_spaces_are_collapsed() -> None:
    offer = parse_one(title="  Extra   10% off ", terms="While  stocks last.")
    assert (offer.title, offer.terms) == ("Extra 10% off", "While stocks last.")


# --- each rule, with its message ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"colour": "red"}, "offer 'clear-10': expected only the fields [.*], got unknown ['colour']"),
        ({"code": None}, "offer 'clear-10': expected the fields ['code'] with values, got none"),
        ({"title": ""}, "offer 'clear-10': expected the fields ['title'] with values, got none"),
        ({"offer_id": "a b"}, "offer #1 field 'offer_id': expected a safe id"),
        ({"kind": "bogof"}, "offer 'clear-10' field 'kind': expected one of percent/amount, got 'bogof'"),
        ({"code": "clear10"}, "field 'code': expected 3-20 characters of A-Z, 0-9 and '-' (upper-case, no spaces), got 'clear10'"),
        ({"code": "CLEAR 10"}, "field 'code': expected 3-20 characters .*, got 'CLEAR 10'"),
        ({"code": "AB"}, "field 'code': expected 3-20 characters .*, got 'AB'"),
        ({"code": "A" * 21}, "field 'code': expected 3-20 characters"),
        ({"value": "95"}, "offer 'clear-10' field 'value': expected a percent from 1 to 90, got '95'"),
        ({"value": "0.5"}, "field 'value': expected a percent from 1 to 90, got '0.5'"),
        ({"value": "ten"}, "field 'value': expected a percent from 1 to 90, got 'ten'"),
        ({"value": "10.005"}, "field 'value': expected a percent from 1 to 90 with at most 2 decimal places"),
        ({"value": True}, "field 'value': expected a percent from 1 to 90, got True"),
        ({"kind": "amount", "value": "0"}, "field 'value': expected an amount above 0"),
        ({"kind": "amount", "value": "30", "min_spend": "30"}, "field 'value': expected an amount below the min_spend 30.00, got '30'"),
        ({"min_spend": "-5"}, "field 'min_spend': expected an amount above 0"),
        ({"currency": "EUR"}, "offer 'clear-10' field 'currency': expected the store currency GBP, got 'EUR'"),
        ({"currency": "pounds"}, "field 'currency': expected ISO 4217 such as GBP, got 'pounds'"),
        ({"valid_from": "18/11/2026"}, "field 'valid_from': expected a date YYYY-MM-DD, got '18/11/2026'"),
        ({"valid_until": "2026-11-17"}, "field 'valid_until': expected a date on or after valid_from 2026-11-18, got '2026-11-17'"),
        (
            {"valid_from": "2026-11-01", "valid_until": "2026-11-19"},
            "field 'valid_until': expected expiry in the future (on or after as_of 2026-11-20), got '2026-11-19' (already expired)",
        ),
        ({"campaign_types": ["flash_sale"]}, "field 'campaign_types': expected one of new_arrivals/.*/win_back, got 'flash_sale'"),
        ({"campaign_types": ["clearance", "clearance"]}, "field 'campaign_types': expected each campaign type once"),
        ({"campaign_types": "clearance"}, "field 'campaign_types': expected a list of campaign types"),
        ({"audience": "vip"}, "field 'audience': expected one of all/birthday, got 'vip'"),
        (
            {"audience": "birthday"},
            "field 'campaign_types': expected ['birthday_holiday'] only, for an offer with audience 'birthday', got ['clearance']",
        ),
        ({"product_ids": "p001"}, "field 'product_ids': expected a list of distinct ids"),
        ({"product_ids": ["p001", "p001"]}, "field 'product_ids': expected a list of distinct ids .*, got 'p001' (listed twice)"),
        ({"categories": [" mugs"]}, "field 'categories': expected a list of distinct ids"),
    ],
)
def test_each_rule_names_the_offer_the_field_what_was_expected_and_what_came(
    changes: dict[str, Any], message: str
) -> None:
    # GIVEN an offer that breaks one rule WHEN parsed THEN OfferError says which, and how
    with pytest.raises(OfferError) as excinfo:
        parse_one(**changes)
    pattern = ".*".join(re.escape(part) for part in message.split(".*"))  # ".*" in `message`: any text
    assert re.search(pattern, str(excinfo.value)), str(excinfo.value)


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("title", "<b>Half price</b>", "markup character '<'"),
        ("title", "Hi {{ first_name }}", "markup character '{'"),
        ("title", "Sale \u202eelas", "a control or invisible character U+202E"),  # right-to-left override
        ("title", "Sale\u200b", "a control or invisible character U+200B"),  # zero-width space
        ("title", "Line one\nline two", "a control or invisible character U+000A"),
        ("terms", "See https://evil.example/terms", "a link"),
        ("terms", "See www.evil.example", "a link"),
        ("title", "x" * 121, "121 characters"),
        ("terms", "y" * 301, "301 characters"),
        ("title", 15, ""),
    ],
)
def test_hostile_title_and_terms_are_refused_with_a_reason(field: str, value: Any, why: str) -> None:
    with pytest.raises(OfferError) as excinfo:
        parse_one(**{field: value})
    text = str(excinfo.value)
    assert text.startswith(f"offer 'clear-10' field '{field}': expected plain text of at most ")
    assert "no markup, links, control or bidi characters" in text and why in text


def test_longest_title_and_terms_are_accepted() -> None:
    offer = parse_one(title="x" * 120, terms="y" * 300)
    assert (len(offer.title), len(offer.terms)) == (120, 300)


def test_an_offer_valid_until_as_of_is_not_expired() -> None:
    # GIVEN an offer whose last day is as_of WHEN parsed THEN it is kept (valid_until is inclusive)
    assert parse_one(valid_until="2026-11-20").valid_until == AS_OF


def test_as_of_none_skips_only_the_expiry_check() -> None:
    [offer] = parse_offers([raw_offer(valid_from="2026-01-01", valid_until="2026-01-31")], currency="GBP", as_of=None)
    assert offer.valid_until == date(2026, 1, 31)


def test_not_a_list_or_not_an_object_is_refused() -> None:
    with pytest.raises(OfferError, match="offers: expected a list of offer objects, got dict"):
        parse_offers({"offer_id": "x"}, currency="GBP", as_of=AS_OF)  # type: ignore[arg-type]
    with pytest.raises(OfferError, match="offer #2: expected a JSON object, got str"):
        parse_offers([raw_offer(), "BDAY15"], currency="GBP", as_of=AS_OF)


def test_offer_error_is_a_validation_error_and_a_value_error() -> None:
    assert issubclass(OfferError, ValidationError) and issubclass(OfferError, ValueError)


# --- rules across offers ------------------------------------------------------------------------


def test_two_offers_for_one_campaign_and_audience_must_not_overlap() -> None:
    # GIVEN two clearance offers for everyone whose windows share 2026-12-01..2026-12-04
    later = raw_offer(offer_id="clear-15", code="CLEAR15", value="15", valid_from="2026-12-01", valid_until="2026-12-20")
    # WHEN parsed THEN the second is refused, naming both and the rule
    with pytest.raises(OfferError) as excinfo:
        parse_offers([raw_offer(), later], currency="GBP", as_of=AS_OF)
    assert str(excinfo.value) == (
        "offer 'clear-15' field 'valid_from': expected no overlap with offer 'clear-10' (2026-11-18..2026-12-04) "
        "for campaign clearance and audience all, got '2026-12-01..2026-12-20' (no overlap rule broken)"
    )


def test_back_to_back_windows_other_campaigns_and_other_audiences_may_coexist() -> None:
    # GIVEN a clearance offer, one that starts the day after it ends, one for another campaign
    # over the same days, and a birthday and an everyone offer for birthday_holiday at once
    raws = [
        raw_offer(),
        raw_offer(offer_id="clear-15", code="CLEAR15", valid_from="2026-12-05", valid_until="2026-12-20"),
        raw_offer(offer_id="win-back", code="COMEBACK", campaign_types=["win_back"]),
        birthday_raw(),
        raw_offer(offer_id="holiday", code="HOLIDAY", campaign_types=["birthday_holiday"]),
    ]
    # WHEN parsed THEN all are kept, in order
    assert [o.offer_id for o in parse_offers(raws, currency="GBP", as_of=AS_OF)] == [
        "clear-10",
        "clear-15",
        "win-back",
        "bday-15",
        "holiday",
    ]


def test_an_offer_id_or_a_code_used_twice_is_refused() -> None:
    with pytest.raises(OfferError, match=r"offer 'clear-10' field 'offer_id': expected an id no other offer uses, got 'clear-10' \(also offer #1\)"):
        parse_offers([raw_offer(), raw_offer(code="OTHER", campaign_types=["win_back"])], currency="GBP", as_of=AS_OF)
    with pytest.raises(OfferError, match=r"offer 'b' field 'code': expected a code no other offer uses, got 'CLEAR10' \(also offer 'clear-10'\)"):
        parse_offers([raw_offer(), raw_offer(offer_id="b", campaign_types=["win_back"])], currency="GBP", as_of=AS_OF)


def test_offers_must_name_products_and_categories_of_the_catalog() -> None:
    offer = parse_one(product_ids=["p001", "p404"], categories=["mugs"])
    check_offer_targets([parse_one(product_ids=["p001"])], product_ids={"p001"}, categories=set())
    with pytest.raises(OfferError, match=r"field 'product_ids': expected products accepted from catalog.csv, got 'p404'"):
        check_offer_targets([offer], product_ids={"p001"}, categories={"mugs"})
    with pytest.raises(OfferError, match=r"field 'categories': expected categories of catalog.csv, got 'mugs'"):
        check_offer_targets([offer], product_ids={"p001", "p404"}, categories={"candles"})


# --- the one offer an email gets ----------------------------------------------------------------


@pytest.fixture
def offers() -> list[Offer]:
    return parse_offers(
        [
            raw_offer(),  # clearance, 2026-11-18..2026-12-04
            birthday_raw(),  # birthday, 2026-11-19..2027-01-17
            raw_offer(
                offer_id="holiday",
                code="HOLIDAY",
                campaign_types=["birthday_holiday"],
                valid_from="2026-12-01",
                valid_until="2027-01-31",
            ),
        ],
        currency="GBP",
        as_of=AS_OF,
    )


@pytest.mark.parametrize(
    ("campaign_type", "send_date", "birthday", "expected"),
    [
        ("clearance", date(2026, 11, 18), False, "clear-10"),  # first day
        ("clearance", date(2026, 12, 4), False, "clear-10"),  # last day: valid_until is inclusive
        ("clearance", date(2026, 12, 5), False, None),  # expired: never returned
        ("clearance", date(2026, 11, 17), False, None),  # not yet valid
        ("clearance", date(2026, 11, 20), True, "clear-10"),  # an "all" offer serves a birthday too
        ("win_back", date(2026, 11, 20), False, None),  # no offer for the campaign
        ("birthday_holiday", date(2026, 11, 20), True, "bday-15"),
        ("birthday_holiday", date(2026, 11, 20), False, None),  # a holiday email: no birthday offer
        ("birthday_holiday", date(2026, 12, 1), True, "bday-15"),  # birthday beats everyone's offer
        ("birthday_holiday", date(2026, 12, 1), False, "holiday"),
        ("birthday_holiday", date(2027, 1, 18), True, "holiday"),  # the birthday offer has expired
    ],
)
def test_offer_for_returns_the_one_valid_offer_never_an_expired_one(
    offers: list[Offer], campaign_type: str, send_date: date, birthday: bool, expected: str | None
) -> None:
    offer = offer_for(offers, campaign_type=campaign_type, send_date=send_date, birthday=birthday)
    assert (offer.offer_id if offer else None) == expected


def test_no_day_returns_an_expired_offer(offers: list[Offer]) -> None:
    # GIVEN every day from as_of to well past every offer's end
    for n in range(120):
        day = AS_OF + timedelta(days=n)
        for campaign_type in ("clearance", "birthday_holiday"):
            for birthday in (True, False):
                offer = offer_for(offers, campaign_type=campaign_type, send_date=day, birthday=birthday)
                # THEN whatever comes back is valid that day
                assert offer is None or offer.valid_from <= day <= offer.valid_until


def test_offer_for_refuses_an_unknown_campaign(offers: list[Offer]) -> None:
    with pytest.raises(ValueError, match="expected a campaign type among .*, got 'flash'"):
        offer_for(offers, campaign_type="flash", send_date=AS_OF, birthday=False)


# --- JSON: offer_to_dict / offer_from_dict and offers.json --------------------------------------


def test_an_offer_round_trips_through_json() -> None:
    # GIVEN an offer with every field set
    offer = parse_one(
        kind="amount",
        value="7.5",
        min_spend="40",
        product_ids=["p006", "p001"],
        categories=["mugs"],
        terms="One use per customer.",
        code="SEVEN-50",
    )
    # WHEN turned into JSON text and back
    data = json.loads(json.dumps(offer_to_dict(offer)))
    # THEN Decimals are strings, dates ISO, and the offer comes back equal
    assert (data["value"], data["min_spend"], data["valid_until"]) == ("7.50", "40.00", "2026-12-04")
    assert offer_from_dict(data) == offer


def test_offer_from_dict_checks_every_field() -> None:
    with pytest.raises(OfferError, match="field 'code'"):
        offer_from_dict(offer_to_dict(parse_one()) | {"code": "bad code"})


def test_save_then_load_the_offers_file(tmp_path: Path, offers: list[Offer]) -> None:
    # GIVEN checked offers WHEN saved and loaded THEN the same offers come back, and the file says
    # its schema and currency
    path = save_offers_file(tmp_path / "offers.json", offers, "GBP")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert (document["schema_version"], document["currency"], len(document["offers"])) == (1, "GBP", 3)
    assert load_offers_file(path) == offers
    # AND saving again writes the same bytes
    again = save_offers_file(tmp_path / "again.json", offers, "GBP")
    assert again.read_bytes() == path.read_bytes()


def test_a_missing_offers_file_is_no_offers(tmp_path: Path) -> None:
    assert load_offers_file(tmp_path / "offers.json") == []


def test_an_artifact_with_expired_offers_still_loads_and_serves_none(tmp_path: Path, offers: list[Offer]) -> None:
    # GIVEN an offers.json written long ago WHEN a runtime loads it (no as_of) THEN it loads, and
    # offer_for gives nothing after the offers ended
    path = save_offers_file(tmp_path / "offers.json", offers, "GBP")
    loaded = load_offers_file(path)
    assert offer_for(loaded, campaign_type="clearance", send_date=date(2027, 6, 1), birthday=False) is None
    # AND with the store's as_of given, the expired ones are refused
    with pytest.raises(OfferError, match="offers.json: offer 'clear-10' field 'valid_until': expected expiry in the future"):
        load_offers_file(path, as_of=date(2027, 6, 1))


def test_saving_refuses_offers_that_would_not_load(tmp_path: Path, offers: list[Offer]) -> None:
    with pytest.raises(OfferError, match="expected the store currency EUR, got 'GBP'"):
        save_offers_file(tmp_path / "offers.json", offers, "EUR")
    assert not (tmp_path / "offers.json").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "offers.json: expected JSON, got a parse error"),
        ("[]", "offers.json: expected a JSON object, got list"),
        ('{"schema_version": 2, "currency": "GBP", "offers": []}', "offers.json: expected schema_version 1, got 2"),
        ('{"schema_version": 1, "offers": []}', "offers.json: expected currency as ISO 4217 (e.g. GBP), got None"),
        ('{"schema_version": 1, "currency": "GBP"}', "offers.json: expected the key offers (a list, maybe empty), got none"),
        ('{"schema_version": 1, "currency": "GBP", "offers": [], "x": 1}', "offers.json: expected only the keys"),
    ],
)
def test_a_bad_offers_file_is_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "offers.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(OfferError) as excinfo:
        load_offers_file(path)
    assert str(excinfo.value).startswith(message)


def test_json_floats_are_read_as_decimals(tmp_path: Path) -> None:
    # GIVEN a hand-written file with 12.5 as a JSON number WHEN loaded THEN no binary float crept in
    path = tmp_path / "offers.json"
    path.write_text(json.dumps({"schema_version": 1, "currency": "GBP", "offers": [raw_offer(value=12.5)]}))
    [offer] = load_offers_file(path)
    assert offer.value == Decimal("12.5") and str(offer.value) == "12.5"


# --- hostile input never crashes: an offer is accepted or refused by name -----------------------

json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
    | st.sampled_from(["", "15", "GBP", "BDAY15", "2026-11-20", "clearance", "birthday", "amount", "9" * 30]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=2),
    max_leaves=5,
)


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(sorted(raw_offer()) + ["audience", "min_spend", "product_ids", "categories", "terms"]),
       value=json_value)
def test_any_value_in_any_field_is_accepted_or_refused_by_name(field: str, value: Any) -> None:
    # GIVEN a valid offer with one field replaced by anything JSON can hold
    try:
        parse_offers([raw_offer(**{field: value})], currency="GBP", as_of=AS_OF)
    except OfferError as err:
        # THEN a refusal names the offer
        assert str(err).startswith(("offer 'clear-10'", "offer #1"))
