"""load_online_retail: UCI "Online Retail" rows become purchases or named rejections."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from nudge.errors import ValidationError
from nudge.store.online_retail import attributes_for, category_for, load_online_retail
from factories import written_and_loaded

SHARED_SLICE = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "online-retail-uci-first20k" / "online_retail.csv"
)

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
KNOWN_ANSWER_ROWS = [  # row numbers in the file: header = 1
    "536365,85123A,WHITE_HANGING_HEART_T-LIGHT_HOLDER,6,2010-12-01 08:26:00,2.55,17850,United_Kingdom",  # 2 sale
    "536365,71053,WHITE_METAL_LANTERN,6,2010-12-01 08:26:00,3.39,17850,United_Kingdom",  # 3 sale
    # 4 cancellation
    "C536379,85123A,WHITE_HANGING_HEART_T-LIGHT_HOLDER,-1,2010-12-01 09:41:00,2.55,17850,United_Kingdom",
    "536380,22728,ALARM_CLOCK_BAKELIKE_PINK,-2,2010-12-01 09:45:00,3.75,12583,France",  # 5 bad quantity
    "536381,22727,ALARM_CLOCK_BAKELIKE_RED,4,2010-12-01 09:45:00,0.00,12583,France",  # 6 bad price
    "536381,POST,POSTAGE,1,2010-12-01 09:45:00,18.00,12583,France",  # 7 not a product
    "536382,22726,ALARM_CLOCK_BAKELIKE_GREEN,4,12/2/2010 10:03,3.75,12583,France",  # 8 sale (spreadsheet date)
    "536382,22726,ALARM_CLOCK_BAKELIKE_GREEN,4,12/2/2010 10:03,3.75,12583,France",  # 9 duplicate
    "536383,22727,ALARM_CLOCK_BAKELIKE_RED,2,2010-12-03 11:00:00,3.75,,France",  # 10 no customer
    "536384,20725,LUNCH_BAG_RED_RETROSPOT,10,2010-12-05 12:00:00,1.65,13047,Atlantis",  # 11 sale, unknown country
]


@pytest.fixture
def known_csv(tmp_path: Path) -> Path:
    path = tmp_path / "online_retail.csv"
    path.write_text("\n".join([HEADER, *KNOWN_ANSWER_ROWS]) + "\n", encoding="utf-8")
    return path


def test_known_rows_become_purchases_or_named_rejections(known_csv: Path) -> None:
    # GIVEN ten rows: four sales, a cancellation, bad quantity, bad price, postage, a duplicate, no customer
    # WHEN loaded
    store = load_online_retail(known_csv)
    report = store.report
    # THEN each left-out row is named with its reason, and the counts add up
    assert [(r.row, r.column, r.code) for r in report.rejected] == [
        (4, "InvoiceNo", "cancellation"),
        (5, "Quantity", "bad_value"),
        (6, "UnitPrice", "bad_value"),
        (7, "StockCode", "not_a_product"),
        (9, "*", "duplicate"),
        (10, "CustomerID", "missing"),
    ]
    assert "cancellation: invoice C536379" in report.rejected[0].reason
    assert "got -2" in report.rejected[1].reason and "'0.00'" in report.rejected[2].reason
    counts = report.counts["online_retail.csv"]
    assert (counts.read, counts.accepted, counts.rejected) == (10, 4, 6)
    # AND the sales are purchases, never the cancellation
    assert [(e.customer_id, e.product_id, e.event_type, e.quantity) for e in store.events] == [
        ("uci-17850", "85123A", "purchase", 6),
        ("uci-17850", "71053", "purchase", 6),
        ("uci-12583", "22726", "purchase", 4),
        ("uci-13047", "20725", "purchase", 10),
    ]
    assert store.events[2].timestamp == datetime(2010, 12, 2, 10, 3, tzinfo=UTC)
    assert store.as_of == date(2010, 12, 6) and store.heldout_events == []


def test_products_and_customers_are_filled_in_plainly(known_csv: Path) -> None:
    store = load_online_retail(known_csv)
    holder = store.products["85123A"]
    assert holder.name == "White Hanging Heart T-Light Holder"  # underscores turned back into spaces
    assert (holder.price, holder.currency, holder.image_url, holder.category) == (
        Decimal("2.55"),
        "GBP",
        "",
        "lights & candles",
    )
    assert holder.arrival_date == date(2010, 12, 1)
    customer = store.customers["uci-12583"]
    assert (customer.first_name, customer.email, customer.consent, customer.locale, customer.timezone) == (
        "Customer",
        "",
        False,
        "fr_FR",
        "Europe/Paris",
    )
    assert store.customers["uci-13047"].locale == "en_GB"  # unknown country falls back, with a warning
    assert store.report.warnings and "Atlantis" in store.report.warnings[0]


def test_an_earlier_as_of_holds_out_the_later_sales(known_csv: Path) -> None:
    store = load_online_retail(known_csv, as_of=date(2010, 12, 3))
    assert len(store.events) == 3 and [e.product_id for e in store.heldout_events] == ["20725"]


def test_strict_raises_on_any_left_out_row(known_csv: Path) -> None:
    with pytest.raises(ValidationError, match="6 rows rejected"):
        load_online_retail(known_csv, strict=True)


def test_missing_column_raises(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("InvoiceNo,StockCode\n1,2\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="expected columns"):
        load_online_retail(path)


@pytest.mark.parametrize(
    ("description", "category"),
    [
        ("WHITE HANGING HEART T-LIGHT HOLDER", "lights & candles"),
        ("LUNCH BAG RED RETROSPOT", "bags"),  # colour and pattern after the noun are skipped
        ("JUMBO BAG PINK POLKADOT", "bags"),
        ("SET OF 6 SPICE TINS PANTRY DESIGN", "kitchen & baking"),
        ("HAND WARMER UNION JACK", "bath & comfort"),
        ("KNITTED UNION FLAG HOT WATER BOTTLE", "bath & comfort"),
        ("PAPER CHAIN KIT 50'S CHRISTMAS", "toys & games"),
        ("ASSORTED COLOUR BIRD ORNAMENT", "home decor"),
        ("DOORMAT NEW ENGLAND", "home decor"),
        ("TOAST ITS - HAPPY BIRTHDAY", "other"),
    ],
)
def test_category_is_the_last_known_noun(description: str, category: str) -> None:
    assert category_for(description) == category


@pytest.mark.parametrize(
    ("description", "material", "colour"),
    [
        ("WHITE METAL LANTERN", "metal", "white"),
        ("WHITE HANGING HEART T-LIGHT HOLDER", "", "white"),
        ("WOODEN HAPPY BIRTHDAY GARLAND", "wood", ""),  # WOODEN -> wood
        ("GREY HEART HOT WATER BOTTLE", "", "grey"),
        ("GRAY ENAMEL MUG", "enamel", "grey"),  # GRAY -> grey
        ("RED RETROSPOT ROUND CAKE TINS", "tin", "red"),  # TINS -> tin
        ("SET OF 3 CAKE TINS PINK BLUE", "tin", ""),  # two colours: unknown, not a guess
        ("GLASS JAR DAISY FRESH COTTON WOOL", "", ""),  # two materials: unknown
        ("PINK SUNGLASSES", "", "pink"),  # whole words only: no glass here
        ("TOAST ITS - HAPPY BIRTHDAY", "", ""),
    ],
)
def test_material_and_colour_are_derived_from_the_description(description: str, material: str, colour: str) -> None:
    assert attributes_for(description) == (material, colour)


def test_products_carry_the_derived_attributes_through_write_and_load(known_csv: Path, tmp_path: Path) -> None:
    # GIVEN the known rows loaded from the UCI layout
    store = load_online_retail(known_csv)
    lantern, bag = store.products["71053"], store.products["20725"]
    assert (lantern.material, lantern.colour) == ("metal", "white")
    assert (bag.material, bag.colour) == ("", "red")
    # WHEN written in the store format and loaded back
    _, again = written_and_loaded(store, tmp_path / "store")
    # THEN every derived attribute passes the loader's rule untouched
    assert again.report.cleared == []
    assert {pid: (p.material, p.colour) for pid, p in again.products.items()} == {
        pid: (p.material, p.colour) for pid, p in store.products.items()
    }


@pytest.mark.data
@pytest.mark.skipif(
    not SHARED_SLICE.is_file(), reason=f"UCI Online Retail slice not found at {SHARED_SLICE} (../shared/data)"
)
def test_shared_uci_slice_reports_its_cancellations() -> None:
    # GIVEN the first 20k customer-attributed rows of UCI Online Retail (458 cancellation rows upstream)
    # WHEN loaded
    store = load_online_retail(SHARED_SLICE)
    report = store.report
    # THEN every cancellation is reported, none is a purchase, and the counts add up
    codes = report.by_code()
    assert codes["cancellation"] == 458
    counts = report.counts["online_retail.csv"]
    assert counts.read == 20_000 and counts.accepted + counts.rejected == counts.read
    assert counts.accepted == len(store.events) + len(store.heldout_events)
    assert all(e.event_type == "purchase" and e.quantity >= 1 for e in store.events)
    assert codes["not_a_product"] > 0  # POST and friends
    assert all(
        c.customer_id.startswith("uci-") and c.first_name == "Customer" and not c.consent
        for c in store.customers.values()
    )
    assert all("_" not in p.name for p in store.products.values())
    assert len(store.customers) > 600 and len(store.products) > 2000
    other = sum(store.products[e.product_id].category == "other" for e in store.events) / len(store.events)
    assert other < 0.15  # the noun table covers most of what is sold
    products = list(store.products.values())
    assert sum(p.colour != "" for p in products) > 0.2 * len(products)  # about 31% name one colour
    assert sum(p.material != "" for p in products) > 0.1 * len(products)  # about 19% one material
    assert store.as_of == date(2010, 12, 15)
