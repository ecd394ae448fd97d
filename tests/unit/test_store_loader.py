"""load_store: the tiny fixture's known answers, and every kind of bad row named and counted."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from nudge.errors import ValidationError
from nudge.store import StoreData, load_store
from factories import written_and_loaded

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "store_tiny"
FORMAT_DOC = Path(__file__).resolve().parents[2] / "docs" / "STORE_FORMAT.md"


@pytest.fixture
def tiny_copy(tmp_path: Path) -> Path:
    """A writable copy of the tiny store, for variants."""
    return Path(shutil.copytree(TINY, tmp_path / "store"))


def append_row(store: Path, file: str, line: str) -> int:
    """Append one CSV line and return its row number (header = row 1)."""
    path = store / file
    text = path.read_text(encoding="utf-8")
    path.write_text(text + line + "\n", encoding="utf-8")
    return len(text.splitlines()) + 1


def replace_in(store: Path, file: str, old: str, new: str) -> None:
    path = store / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --- the tiny fixture -------------------------------------------------------------------------


def test_tiny_store_loads_with_its_known_answers() -> None:
    # GIVEN the hand-written tiny store
    # WHEN it is loaded strictly
    store = load_store(TINY, strict=True)
    # THEN everything is accepted and the documented facts hold
    assert isinstance(store, StoreData)
    assert store.report.ok and store.report.rejected == []
    assert (len(store.products), len(store.customers), len(store.events), len(store.heldout_events)) == (12, 6, 41, 7)
    assert store.as_of == date(2026, 11, 20)
    assert store.cutoff == datetime(2026, 11, 20, tzinfo=UTC)
    assert store.categories == ["candles", "cushions", "mugs", "scarves"]
    assert store.info.name == "Hearth & Thread" and store.info.currency == "GBP"
    assert store.products["p006"].clearance and store.products["p006"].clearance_price == Decimal("7.50")
    assert store.products["p008"].image_url == ""
    assert store.products["p003"].stock == 0
    assert store.products["p001"].url == "https://shop.example.com/products/p001"
    assert store.customers["c003"].consent is False and store.customers["c003"].first_name == "Léa"
    assert store.customers["c001"].birthday == date(1990, 11, 20)
    assert store.customers["c005"].birthday is None
    times = [e.timestamp for e in store.events]
    assert times == sorted(times) and times[-1] < store.cutoff
    reviews = [e for e in store.events if e.event_type == "review"]
    assert sorted(r.rating for r in reviews) == [2, 4, 5, 5]
    assert all(e.timestamp >= store.cutoff for e in store.heldout_events)
    assert {e.product_id for e in store.events}.isdisjoint({"p009"})  # the cold new arrival
    assert repr(store).endswith("products=12, customers=6, events=41, heldout_events=7, rejected=0)")


def test_tiny_store_stories_hold_as_its_readme_says() -> None:
    # GIVEN the tiny store WHEN loaded THEN the stories other tests rely on are true
    store = load_store(TINY)
    last_order = {}
    carts, bought = set(), set()
    for e in store.events:
        if e.event_type == "purchase":
            last_order[e.customer_id] = e.timestamp.date()
            bought.add((e.customer_id, e.product_id))
        elif e.event_type == "add_to_cart":
            carts.add((e.customer_id, e.product_id))
    assert last_order == {
        "c001": date(2026, 10, 5),
        "c002": date(2026, 10, 22),
        "c003": date(2026, 9, 10),
        "c004": date(2026, 6, 1),
        "c005": date(2026, 10, 1),
        "c006": date(2026, 10, 3),
    }
    assert carts - bought == {("c005", "p011")}  # the only abandoned cart
    assert [c for c, d in last_order.items() if (store.as_of - d).days >= 90] == ["c004"]  # lapsed
    assert [c.customer_id for c in store.customers.values() if not c.consent] == ["c003"]
    assert [c.customer_id for c in store.customers.values() if c.loyalty_tier == "gold"] == ["c002"]
    new_arrivals = [p.product_id for p in store.products.values() if (store.as_of - p.arrival_date).days <= 30]
    assert new_arrivals == ["p009"]
    assert [p.product_id for p in store.products.values() if p.clearance] == ["p006"]
    unhappy = [(e.customer_id, e.product_id) for e in store.events if e.event_type == "review" and e.rating <= 2]
    assert unhappy == [("c006", "p005")]


def test_report_counts_every_file() -> None:
    # GIVEN the tiny store WHEN loaded THEN counts are per file and add up
    report = load_store(TINY).report
    assert {f: (c.read, c.accepted, c.rejected) for f, c in report.counts.items()} == {
        "catalog.csv": (12, 12, 0),
        "customers.csv": (6, 6, 0),
        "events.csv": (41, 41, 0),
        "heldout_events.csv": (7, 7, 0),
    }
    assert "events.csv: read 41, accepted 41, rejected 0" in report.summary()
    json.dumps(report.to_dict())  # JSON-ready


# --- bad rows: named and counted --------------------------------------------------------------


def test_bad_price_is_named_with_file_row_column_and_reason(tiny_copy: Path) -> None:
    # GIVEN a product whose price is not a number
    row = append_row(tiny_copy, "catalog.csv", "p013,Odd Candle,,candles,twelve,GBP,3,,2025-01-01,false,")
    # WHEN the store is loaded
    store = load_store(tiny_copy)
    # THEN the row is rejected, named, counted, and the rest still loads
    [rejection] = store.report.rejected
    assert (rejection.file, rejection.row, rejection.column, rejection.code) == (
        "catalog.csv",
        row,
        "price",
        "bad_value",
    )
    assert "expected a decimal amount" in rejection.reason and "'twelve'" in rejection.reason
    counts = store.report.counts["catalog.csv"]
    assert (counts.read, counts.accepted, counts.rejected) == (13, 12, 1)
    assert "p013" not in store.products
    assert f"catalog.csv row {row} column price" in store.report.summary()


def test_unknown_product_in_events_is_rejected_and_counted(tiny_copy: Path) -> None:
    # GIVEN an event naming a product the catalog does not hold
    row = append_row(tiny_copy, "events.csv", "c001,p999,view,2026-11-01T10:00:00Z,1,,")
    # WHEN loaded
    store = load_store(tiny_copy)
    # THEN it is rejected as unknown_product, not dropped silently
    [rejection] = store.report.rejected
    assert (rejection.file, rejection.row, rejection.column, rejection.code) == (
        "events.csv",
        row,
        "product_id",
        "unknown_product",
    )
    assert "'p999'" in rejection.reason and "not in catalog.csv" in rejection.reason
    assert store.report.counts["events.csv"].rejected == 1
    assert len(store.events) == 41


def test_event_for_a_rejected_product_says_where_the_product_was_rejected(tiny_copy: Path) -> None:
    # GIVEN a product row that fails and an event that names it
    product_row = append_row(tiny_copy, "catalog.csv", "p013,Odd Candle,,candles,-3.00,GBP,3,,2025-01-01,false,")
    append_row(tiny_copy, "events.csv", "c001,p013,view,2026-11-01T10:00:00Z,1,,")
    # WHEN loaded THEN the event's reason points at the catalog row
    store = load_store(tiny_copy)
    event_rejection = [r for r in store.report.rejected if r.file == "events.csv"][0]
    assert f"rejected at catalog.csv row {product_row}" in event_rejection.reason


def test_unknown_customer_in_events_is_rejected(tiny_copy: Path) -> None:
    append_row(tiny_copy, "events.csv", "c999,p001,view,2026-11-01T10:00:00Z,1,,")
    store = load_store(tiny_copy)
    assert [(r.column, r.code) for r in store.report.rejected] == [("customer_id", "unknown_customer")]


def test_duplicate_product_id_is_reported_with_the_first_row(tiny_copy: Path) -> None:
    # GIVEN a second row with an existing product id
    row = append_row(tiny_copy, "catalog.csv", "p001,Another Candle,,candles,9.00,GBP,3,,2025-01-01,false,")
    # WHEN loaded
    store = load_store(tiny_copy)
    # THEN the second is rejected as a duplicate and the first kept
    [rejection] = store.report.rejected
    assert (rejection.row, rejection.column, rejection.code) == (row, "product_id", "duplicate")
    assert "first at row 2" in rejection.reason
    assert store.products["p001"].name == "Ember Amber Soy Candle"


def test_identical_event_rows_are_reported_as_duplicates(tiny_copy: Path) -> None:
    row = append_row(tiny_copy, "events.csv", "c001,p007,view,2026-09-02T19:10:00Z,1,,")
    store = load_store(tiny_copy)
    [rejection] = store.report.rejected
    assert (rejection.row, rejection.code) == (row, "duplicate") and "copy of row" in rejection.reason


def test_duplicate_customer_and_email(tiny_copy: Path) -> None:
    append_row(tiny_copy, "customers.csv", "c001,Olive,olive@example.com,en_GB,Europe/London,,true,none,,,,")
    append_row(tiny_copy, "customers.csv", "c007,Liv,Olivia.Bennett101@example.com,en_GB,Europe/London,,true,none,,,,")
    store = load_store(tiny_copy)
    assert [(r.column, r.code) for r in store.report.rejected] == [("customer_id", "duplicate"), ("email", "duplicate")]


@pytest.mark.parametrize(
    ("file", "line", "column", "code", "expected"),
    [
        ("catalog.csv", "p013,Cup,,mugs,5.00,EUR,3,,2025-01-01,false,", "currency", "bad_value", "store currency GBP"),
        ("catalog.csv", "p013,Cup,,mugs,5.001,GBP,3,,2025-01-01,false,", "price", "bad_value", "2 decimal places"),
        ("catalog.csv", "p013,Cup,,mugs,5.00,GBP,-1,,2025-01-01,false,", "stock", "bad_value", ">= 0"),
        ("catalog.csv", "p013,Cup,,mugs,5.00,GBP,3,,01/02/2025,false,", "arrival_date", "bad_value", "YYYY-MM-DD"),
        ("catalog.csv", "p013,Cup,,mugs,5.00,GBP,3,,2025-01-01,true,", "clearance_price", "missing", "clearance price"),
        (
            "catalog.csv",
            "p013,Cup,,mugs,5.00,GBP,3,,2025-01-01,true,6.00",
            "clearance_price",
            "bad_value",
            "below the price",
        ),
        (
            "catalog.csv",
            "p013,Cup,,mugs,5.00,GBP,3,ftp://x/y.jpg,2025-01-01,false,",
            "image_url",
            "bad_value",
            "https://",
        ),
        ("catalog.csv", "p013,,,mugs,5.00,GBP,3,,2025-01-01,false,", "name", "missing", "product name"),
        ("catalog.csv", "p013,Cup,,mugs,5.00,GBP", "*", "bad_value", "expected 11 fields, got 6"),
        (
            "customers.csv",
            "a@b.com,Al,a@b.com,en_GB,Europe/London,,true,none,,,,",
            "customer_id",
            "bad_value",
            "pseudonymous",
        ),
        (
            "customers.csv",
            "c007,Al,not-an-email,en_GB,Europe/London,,true,none,,,,",
            "email",
            "bad_value",
            "email address",
        ),
        ("customers.csv", "c007,Al,,english,Europe/London,,true,none,,,,", "locale", "bad_value", "en_GB"),
        ("customers.csv", "c007,Al,,en_GB,Europe/Atlantis,,true,none,,,,", "timezone", "bad_value", "IANA"),
        ("customers.csv", "c007,Al,,en_GB,Europe/London,,maybe,none,,,,", "consent", "bad_value", "true or false"),
        ("customers.csv", "c007,Al,,en_GB,Europe/London,,true,diamond,,,,", "loyalty_tier", "bad_value", "gold"),
        ("customers.csv", "c007,Al,,en_GB,Europe/London,2030-01-01,true,none,,,,", "birthday", "bad_value", "as_of"),
        ("events.csv", "c001,p001,like,2026-11-01T10:00:00Z,1,,", "event_type", "bad_value", "view/add_to_cart"),
        ("events.csv", "c001,p001,view,2026-11-01 10:00,1,,", "timestamp", "bad_value", "with a zone"),
        ("events.csv", "c001,p001,view,yesterday,1,,", "timestamp", "bad_value", "ISO-8601"),
        (
            "events.csv",
            "c001,p001,view,2026-11-20T00:00:00Z,1,,",
            "timestamp",
            "out_of_window",
            "before the as_of cut-off",
        ),
        ("events.csv", "c001,p001,purchase,2026-11-01T10:00:00Z,0,,", "quantity", "bad_value", ">= 1"),
        ("events.csv", "c001,p001,review,2026-11-01T10:00:00Z,1,,Nice", "rating", "missing", "rating 1-5"),
        ("events.csv", "c001,p001,review,2026-11-01T10:00:00Z,1,6,Nice", "rating", "bad_value", "rating 1-5"),
        ("events.csv", "c001,p001,view,2026-11-01T10:00:00Z,1,4,", "rating", "bad_value", "no rating on a view"),
        ("heldout_events.csv", "c001,p001,view,2026-11-19T10:00:00Z,1,,", "timestamp", "out_of_window", "at or after"),
    ],
)
def test_each_rule_names_its_column_and_what_came(
    tiny_copy: Path, file: str, line: str, column: str, code: str, expected: str
) -> None:
    # GIVEN one row that breaks one rule
    row = append_row(tiny_copy, file, line)
    # WHEN loaded
    report = load_store(tiny_copy).report
    # THEN exactly that row is rejected, for that column, with a reason that says what was expected
    [rejection] = report.rejected
    assert (rejection.file, rejection.row, rejection.column, rejection.code) == (file, row, column, code)
    assert expected in rejection.reason
    assert report.counts[file].rejected == 1


def test_timestamps_with_an_offset_are_turned_into_utc(tiny_copy: Path) -> None:
    append_row(tiny_copy, "events.csv", "c001,p001,view,2026-11-01T11:00:00+01:00,1,,")
    store = load_store(tiny_copy, strict=True)
    added = [e for e in store.events if e.customer_id == "c001" and e.product_id == "p001" and e.timestamp.day == 1]
    assert added[0].timestamp == datetime(2026, 11, 1, 10, 0, tzinfo=UTC)


# --- strict mode and file-level errors --------------------------------------------------------


def test_strict_raises_listing_the_first_rejections(tiny_copy: Path) -> None:
    # GIVEN two bad event rows
    append_row(tiny_copy, "events.csv", "c001,p999,view,2026-11-01T10:00:00Z,1,,")
    append_row(tiny_copy, "events.csv", "c001,p998,view,2026-11-01T10:00:00Z,1,,")
    # WHEN loaded strictly THEN a ValidationError names them
    with pytest.raises(ValidationError, match="2 rows rejected") as excinfo:
        load_store(tiny_copy, strict=True, max_listed=1)
    assert "p999" in str(excinfo.value) and "1 more" in str(excinfo.value)


def test_missing_column_raises_naming_it(tiny_copy: Path) -> None:
    replace_in(tiny_copy, "catalog.csv", "stock,", "stock_level,")
    with pytest.raises(ValidationError, match=r"catalog.csv: expected columns \['stock'\]"):
        load_store(tiny_copy)


def test_bad_store_json_raises(tiny_copy: Path) -> None:
    replace_in(tiny_copy, "store.json", '"schema_version": 1', '"schema_version": 2')
    with pytest.raises(ValidationError, match="expected schema_version 1, got 2"):
        load_store(tiny_copy)


def test_missing_directory_raises(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not a directory"):
        load_store(tmp_path / "nope")


def test_heldout_file_is_optional(tiny_copy: Path) -> None:
    (tiny_copy / "heldout_events.csv").unlink()
    store = load_store(tiny_copy, strict=True)
    assert store.heldout_events == [] and "heldout_events.csv" not in store.report.counts


def test_optional_columns_may_be_left_out(tmp_path: Path) -> None:
    # GIVEN a minimal store: only the required columns in each file
    store_dir = tmp_path / "minimal"
    store_dir.mkdir()
    shutil.copy(TINY / "store.json", store_dir / "store.json")
    (store_dir / "catalog.csv").write_text(
        "product_id,name,category,price,currency,stock,arrival_date\np1,Mug,mugs,9.50,GBP,3,2026-01-02\n",
        encoding="utf-8",
    )
    (store_dir / "customers.csv").write_text(
        "customer_id,first_name,locale,timezone,consent\nc1,Ann,en_GB,Europe/London,true\n", encoding="utf-8"
    )
    (store_dir / "events.csv").write_text(
        "customer_id,product_id,event_type,timestamp\nc1,p1,purchase,2026-11-01T09:00:00Z\n", encoding="utf-8"
    )
    # WHEN loaded strictly
    store = load_store(store_dir, strict=True)
    # THEN the left-out values take their documented defaults
    product, customer, event = store.products["p1"], store.customers["c1"], store.events[0]
    assert (product.description, product.image_url, product.clearance, product.clearance_price) == ("", "", False, None)
    assert (product.material, product.colour) == ("", "")  # unknown
    assert (customer.email, customer.birthday, customer.loyalty_tier, customer.signup_date) == ("", None, "none", None)
    assert (event.quantity, event.rating, event.text) == (1, None, "")


def test_unknown_columns_are_warned_not_fatal(tiny_copy: Path) -> None:
    path = tiny_copy / "customers.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text(
        "\n".join([lines[0] + ",shoe_size"] + [line + ",42" for line in lines[1:]]) + "\n", encoding="utf-8"
    )
    store = load_store(tiny_copy, strict=True)
    assert store.report.warnings == ["customers.csv: ignored unknown columns ['shoe_size']"]


# --- material and colour: optional, lower-cased, a bad cell cleared and the product kept -------


def with_attributes(store: Path, attributes: dict[str, tuple[str, str]]) -> dict[str, int]:
    """Add material and colour columns to the catalog: (material, colour) by product id, others
    empty. Returns each product's row number."""
    path = store / "catalog.csv"
    header, *rows = path.read_text(encoding="utf-8").splitlines()
    # the last two fields hold no quoted commas, so a plain append keeps every row intact
    out = [header + ",material,colour"]
    for row in rows:
        material, colour = attributes.get(row.split(",", 1)[0], ("", ""))
        out.append(f"{row},{material},{colour}")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return {row.split(",", 1)[0]: n for n, row in enumerate(rows, start=2)}


def test_material_and_colour_are_read_as_lower_case_phrases(tiny_copy: Path) -> None:
    # GIVEN a catalog with the two columns, in shop spelling, some left empty
    with_attributes(
        tiny_copy,
        {"p004": ("Speckled  Stoneware", "Cream"), "p010": ("Linen", "Sage Green"), "p007": ("merino", "")},
    )
    # WHEN loaded strictly
    store = load_store(tiny_copy, strict=True)
    # THEN values are lower-case with spaces collapsed, empty means unknown, and nothing is cleared
    products = store.products
    assert (products["p004"].material, products["p004"].colour) == ("speckled stoneware", "cream")
    assert (products["p010"].material, products["p010"].colour) == ("linen", "sage green")
    assert (products["p007"].material, products["p007"].colour) == ("merino", "")
    assert (products["p001"].material, products["p001"].colour) == ("", "")
    assert store.report.ok and store.report.cleared == []


def test_hyphens_and_apostrophes_are_plain_phrases(tiny_copy: Path) -> None:
    # GIVEN a hyphen, an apostrophe, and a phrase of exactly 32 characters (the most allowed)
    longest = "washed linen and recycled cotton"
    assert len(longest) == 32
    with_attributes(tiny_copy, {"p012": (longest, "Off-White"), "p011": ("", "Payne's Grey")})
    # WHEN loaded THEN all are kept as written, lower-cased
    store = load_store(tiny_copy, strict=True)
    products = store.products
    assert (products["p012"].colour, products["p011"].colour) == ("off-white", "payne's grey")
    assert products["p012"].material == longest and store.report.cleared == []


@pytest.mark.parametrize(
    "bad",
    [
        "Red 2",  # a digit
        "<b>red</b>",  # markup
        "navy; drop table",  # punctuation
        "a very long and winding colour name",  # 35 characters, over 32
        "²",  # a unicode digit is no letter
    ],
)
def test_a_bad_colour_is_cleared_and_reported_and_the_product_kept(tiny_copy: Path, bad: str) -> None:
    # GIVEN one product with a colour that is not a short plain phrase, and a good material
    row = with_attributes(tiny_copy, {"p005": ("Stoneware", bad)})["p005"]
    # WHEN loaded (strictly: a cleared cell is no rejected row)
    store = load_store(tiny_copy, strict=True)
    report = store.report
    # THEN the product is kept, without the bad colour, with its other facts intact
    product = store.products["p005"]
    assert (product.material, product.colour, product.price) == ("stoneware", "", Decimal("14.00"))
    assert len(store.products) == 12
    # AND the cell is named in the report's cleared list, not as a rejected row
    [cleared] = report.cleared
    assert (cleared.file, cleared.row, cleared.column, cleared.code) == ("catalog.csv", row, "colour", "bad_value")
    assert "expected a short plain colour" in cleared.reason and "at most 32 characters" in cleared.reason
    assert repr(bad) in cleared.reason and cleared.reason.endswith("cleared, the product kept")
    assert report.rejected == [] and report.ok
    counts = report.counts["catalog.csv"]
    assert (counts.read, counts.accepted, counts.rejected) == (12, 12, 0)
    assert "1 cells cleared" in report.summary() and f"catalog.csv row {row} column colour" in report.summary()
    assert report.to_dict()["cleared"][0]["column"] == "colour"


def test_a_bad_material_and_a_bad_colour_are_both_cleared(tiny_copy: Path) -> None:
    row = with_attributes(tiny_copy, {"p002": ("100% cotton", "http://x.example/red")})["p002"]
    store = load_store(tiny_copy)
    assert (store.products["p002"].material, store.products["p002"].colour) == ("", "")
    assert [(c.row, c.column) for c in store.report.cleared] == [(row, "material"), (row, "colour")]


def test_a_rejected_row_lists_its_rejection_only(tiny_copy: Path) -> None:
    # GIVEN a new product with a bad price and a bad colour
    with_attributes(tiny_copy, {})
    row = append_row(tiny_copy, "catalog.csv", "p013,Cup,,mugs,zero,GBP,3,,2025-01-01,false,,,Red 2")
    # WHEN loaded THEN the row is rejected for its price, and no cleared cell claims it was kept
    report = load_store(tiny_copy).report
    assert [(r.row, r.column) for r in report.rejected] == [(row, "price")]
    assert report.cleared == []


# --- writer round trip ------------------------------------------------------------------------


def test_write_then_load_round_trips(tmp_path: Path) -> None:
    # GIVEN the tiny store loaded
    original = load_store(TINY, strict=True)
    # WHEN written back out and loaded again
    _, again = written_and_loaded(original, tmp_path / "copy")
    # THEN every value is the same
    assert again.products == original.products
    assert again.customers == original.customers
    assert again.events == original.events
    assert again.heldout_events == original.heldout_events
    assert again.info == original.info and again.as_of == original.as_of


def test_material_and_colour_round_trip_through_the_writer(tiny_copy: Path, tmp_path: Path) -> None:
    # GIVEN the tiny store with material and colour on some products
    with_attributes(tiny_copy, {"p004": ("Stoneware", "Cream"), "p008": ("Silk", ""), "p011": ("", "Mustard")})
    original = load_store(tiny_copy, strict=True)
    # WHEN written and loaded again
    out, again = written_and_loaded(original, tmp_path / "copy")
    # THEN the columns are written and every product comes back equal
    assert (out / "catalog.csv").read_text(encoding="utf-8").splitlines()[0].endswith(",url,material,colour")
    assert again.products == original.products and again.report.cleared == []
    assert (again.products["p004"].material, again.products["p011"].colour) == ("stoneware", "mustard")


def test_the_format_docs_example_loads_cleanly(tmp_path: Path) -> None:
    # GIVEN the example files of docs/STORE_FORMAT.md
    example = FORMAT_DOC.read_text(encoding="utf-8").split("## A small example")[1]
    blocks = re.findall(r"`(\w+\.\w+)`\n```(?:json)?\n(.*?)```", example, re.S)
    assert [name for name, _ in blocks] == ["store.json", "catalog.csv", "customers.csv", "events.csv"]
    for name, body in blocks:
        (tmp_path / name).write_text(body, encoding="utf-8")
    # WHEN loaded strictly THEN nothing is rejected
    store = load_store(tmp_path, strict=True)
    assert (len(store.products), len(store.customers), len(store.events)) == (3, 2, 4)
    assert (store.products["p001"].material, store.products["p001"].colour) == ("soy wax", "amber")
    assert store.report.cleared == []


def test_absurd_price_is_rejected_not_a_crash(tmp_path):
    # GIVEN the tiny store with one price far beyond any product (found by the fuzz test)
    import shutil

    from nudge.store import load_store
    from tests.conftest import TINY_STORE

    store_dir = tmp_path / "store"
    shutil.copytree(TINY_STORE, store_dir)
    catalog = store_dir / "catalog.csv"
    catalog.write_text(catalog.read_text().replace(",18.00,GBP,", ",9999999999999999999999999999999999999999,GBP,", 1))
    # WHEN loaded
    store = load_store(store_dir)
    # THEN that row is rejected with a reason naming the column, and the rest load
    [rejection] = [r for r in store.report.rejected if r.file == "catalog.csv"]
    assert rejection.column == "price" and "below" in rejection.reason
    assert len(store.products) == 11


def test_a_written_and_reloaded_store_keeps_its_offers_tiers_and_points(tmp_path):
    # GIVEN the tiny store (three offers, four tiers, members with points) WHEN written and loaded back
    store = load_store(TINY)
    _, again = written_and_loaded(store, tmp_path / "copy")
    # THEN the store's facts are the same
    assert again.offers == store.offers and len(store.offers) == 3
    assert again.loyalty_tiers == store.loyalty_tiers and again.points_name == store.points_name
    assert {c.customer_id: c.points_balance for c in again.customers.values()} == \
        {c.customer_id: c.points_balance for c in store.customers.values()}
