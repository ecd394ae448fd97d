"""Loyalty points in the store format: customers.csv's points columns (a bad cell cleared, the
customer kept), store.json's "loyalty" tiers, next_tier, and the writer's round trip."""

from __future__ import annotations

import doctest
import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import nudge.loyalty
from nudge.errors import ValidationError
from nudge.loyalty import next_tier, parse_loyalty, tier_for
from nudge.store import load_store, write_store

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "store_tiny"
TIERS = (("bronze", 0), ("silver", 500), ("gold", 1500), ("platinum", 4000))
KEPT = "cleared, the customer kept"


@pytest.fixture
def tiny_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(TINY, tmp_path / "store"))


def set_points(store: Path, customer_id: str, balance: str, expiring: str, expiring_on: str) -> int:
    """Rewrite one customer's three points cells (the last three columns); return its row number."""
    path = store / "customers.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines):
        if line.startswith(customer_id + ","):
            lines[n] = ",".join(line.split(",")[:-3] + [balance, expiring, expiring_on])
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            return n + 1
    raise AssertionError(customer_id)


def set_loyalty(store: Path, loyalty: Any) -> None:
    path = store / "store.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    if loyalty is None:
        meta.pop("loyalty", None)
    else:
        meta["loyalty"] = loyalty
    path.write_text(json.dumps(meta), encoding="utf-8")


def test_the_module_examples_run() -> None:
    assert doctest.testmod(nudge.loyalty, raise_on_error=False).failed == 0


# --- the tiny fixture's known answers -----------------------------------------------------------


def test_tiny_store_has_points_and_tiers() -> None:
    # GIVEN the tiny store WHEN loaded strictly THEN the points and tiers of its README hold
    store = load_store(TINY, strict=True)
    points = {
        cid: (c.points_balance, c.points_expiring, c.points_expiring_on) for cid, c in store.customers.items()
    }
    assert points == {
        "c001": (720, None, None),
        "c002": (1650, 200, date(2026, 12, 1)),
        "c003": (None, None, None),
        "c004": (140, None, None),
        "c005": (None, None, None),
        "c006": (None, None, None),
    }
    assert store.loyalty_tiers == TIERS and store.points_name == "points"
    assert store.report.cleared == []


# --- customers.csv: points columns --------------------------------------------------------------


def test_points_columns_may_be_left_out(tiny_copy: Path) -> None:
    # GIVEN customers.csv without the three points columns (an older store)
    path = tiny_copy / "customers.csv"
    path.write_text(
        "\n".join(",".join(line.split(",")[:-3]) for line in path.read_text(encoding="utf-8").splitlines()) + "\n",
        encoding="utf-8",
    )
    # WHEN loaded THEN every customer has no points, and nothing is rejected or cleared
    store = load_store(tiny_copy, strict=True)
    assert {(c.points_balance, c.points_expiring, c.points_expiring_on) for c in store.customers.values()} == {
        (None, None, None)
    }
    assert store.report.cleared == [] and store.report.warnings == []


def test_zero_points_and_expiry_on_as_of_are_facts(tiny_copy: Path) -> None:
    set_points(tiny_copy, "c004", "0", "0", "2026-11-20")
    customer = load_store(tiny_copy, strict=True).customers["c004"]
    assert (customer.points_balance, customer.points_expiring, customer.points_expiring_on) == (0, 0, date(2026, 11, 20))


@pytest.mark.parametrize(
    ("cells", "kept", "cleared"),
    [
        # a bad balance: cleared; its expiring points then have no balance beside them
        (
            ("-5", "", ""),
            (None, None, None),
            [("points_balance", "expected a whole number of points from 0 below 1,000,000,000 or empty, got '-5'")],
        ),
        (("1e3", "", ""), (None, None, None), [("points_balance", "got '1e3'")]),
        (("٣", "", ""), (None, None, None), [("points_balance", "got '٣'")]),  # a digit, but not ASCII
        (("9" * 12, "", ""), (None, None, None), [("points_balance", "below 1,000,000,000")]),
        (("9" * 5000, "", ""), (None, None, None), [("points_balance", "got '9999")]),  # beyond int()'s digit limit
        (
            ("300", "400", "2026-12-01"),
            (300, None, None),
            [
                ("points_expiring", "expected points_expiring at most the points_balance 300, got 400"),
                ("points_expiring_on", "expected points_expiring_on with a points_expiring amount, got 2026-12-01 with a cleared one"),
            ],
        ),
        (
            ("", "50", "2026-12-01"),
            (None, None, None),
            [
                ("points_expiring", "expected points_expiring beside a points_balance, got 50 with none"),
                ("points_expiring_on", "with a cleared one"),
            ],
        ),
        (
            ("300", "50", ""),
            (300, None, None),
            [("points_expiring", "expected points_expiring with a points_expiring_on date, got 50 with no points_expiring_on")],
        ),
        (
            ("300", "", "2026-12-01"),
            (300, None, None),
            [("points_expiring_on", "expected points_expiring_on with a points_expiring amount, got 2026-12-01 with none")],
        ),
        (
            ("300", "50", "01/12/2026"),
            (300, None, None),
            [
                ("points_expiring_on", "expected a date YYYY-MM-DD or empty, got '01/12/2026'"),
                ("points_expiring", "with its points_expiring_on cleared"),
            ],
        ),
        (
            ("300", "50", "2026-11-19"),
            (300, None, None),
            [
                ("points_expiring_on", "expected a date on or after as_of 2026-11-20 (points not yet lapsed), got 2026-11-19"),
                ("points_expiring", "with its points_expiring_on cleared"),
            ],
        ),
    ],
)
def test_a_bad_points_cell_is_cleared_named_and_the_customer_kept(
    tiny_copy: Path, cells: tuple[str, str, str], kept: tuple[Any, ...], cleared: list[tuple[str, str]]
) -> None:
    # GIVEN one customer with bad points cells
    row = set_points(tiny_copy, "c001", *cells)
    # WHEN loaded strictly (a cleared cell is no rejected row)
    store = load_store(tiny_copy, strict=True)
    # THEN the customer is kept with what was sound, and every cleared cell is named with its reason
    customer = store.customers["c001"]
    assert (customer.points_balance, customer.points_expiring, customer.points_expiring_on) == kept
    assert customer.first_name == "Olivia" and customer.loyalty_tier == "silver"
    report = store.report
    assert [(c.file, c.row, c.column, c.code) for c in report.cleared] == [
        ("customers.csv", row, column, "bad_value") for column, _ in cleared
    ]
    for got, (_, reason) in zip(report.cleared, cleared, strict=True):
        assert reason in got.reason and got.reason.endswith(KEPT), got.reason
    counts = report.counts["customers.csv"]
    assert (counts.read, counts.accepted, counts.rejected) == (6, 6, 0) and report.ok


def test_a_rejected_customer_lists_its_rejection_only(tiny_copy: Path) -> None:
    # GIVEN a new customer with a bad locale and bad points WHEN loaded THEN only the rejection is named
    line = "c007,Al,,english,Europe/London,,true,none,,-1,,"
    (tiny_copy / "customers.csv").write_text(
        (tiny_copy / "customers.csv").read_text(encoding="utf-8") + line + "\n", encoding="utf-8"
    )
    report = load_store(tiny_copy).report
    assert [(r.file, r.column) for r in report.rejected] == [("customers.csv", "locale")]
    assert report.cleared == []


# --- store.json "loyalty" -----------------------------------------------------------------------


def test_a_store_without_loyalty_has_no_tiers(tiny_copy: Path) -> None:
    set_loyalty(tiny_copy, None)
    store = load_store(tiny_copy, strict=True)
    assert (store.loyalty_tiers, store.points_name) == ((), "points")


def test_loyalty_tiers_may_be_a_subset_and_name_their_points(tiny_copy: Path) -> None:
    set_loyalty(tiny_copy, {"points_name": "Hearth  stars", "tiers": [{"tier": "silver", "points": 100}, {"tier": "gold", "points": 900}]})
    store = load_store(tiny_copy, strict=True)
    assert (store.loyalty_tiers, store.points_name) == ((("silver", 100), ("gold", 900)), "Hearth stars")


@pytest.mark.parametrize(
    ("loyalty", "message"),
    [
        ([], "store.json loyalty: expected a JSON object, got list"),
        ({"tiers": [], "levels": 3}, "store.json loyalty: expected only the keys points_name and tiers, got unknown ['levels']"),
        ({"tiers": []}, "store.json loyalty.tiers: expected a non-empty list of {tier, points}, got []"),
        ({"tiers": [{"tier": "bronze"}]}, "store.json loyalty.tiers[0]: expected an object with exactly tier and points"),
        ({"tiers": [{"tier": "diamond", "points": 0}]}, "loyalty.tiers[0]: expected a tier among bronze/silver/gold/platinum, got 'diamond'"),
        ({"tiers": [{"tier": "none", "points": 0}]}, "got 'none'"),
        ({"tiers": [{"tier": "bronze", "points": -1}]}, "loyalty.tiers[0]: expected points as a whole number from 0 below 1,000,000,000, got -1"),
        ({"tiers": [{"tier": "bronze", "points": "0"}]}, "got '0'"),
        ({"tiers": [{"tier": "bronze", "points": 1.5}]}, "got 1.5"),
        (
            {"tiers": [{"tier": "gold", "points": 0}, {"tier": "silver", "points": 500}]},
            "loyalty.tiers[1]: expected tiers in the order bronze/silver/gold/platinum, got 'silver' after 'gold'",
        ),
        (
            {"tiers": [{"tier": "bronze", "points": 0}, {"tier": "bronze", "points": 500}]},
            "got 'bronze' after 'bronze'",
        ),
        (
            {"tiers": [{"tier": "bronze", "points": 500}, {"tier": "silver", "points": 500}]},
            "loyalty.tiers[1]: expected thresholds that increase, got silver at 500 after bronze at 500",
        ),
        ({"points_name": "<b>pts</b>", "tiers": [{"tier": "bronze", "points": 0}]}, "loyalty.points_name: expected a short plain phrase"),
        ({"points_name": "", "tiers": [{"tier": "bronze", "points": 0}]}, "got ''"),
    ],
)
def test_bad_loyalty_in_store_json_fails_the_load_naming_it(tiny_copy: Path, loyalty: Any, message: str) -> None:
    # GIVEN store.json with a broken "loyalty" WHEN loaded THEN ValidationError says what and where
    set_loyalty(tiny_copy, loyalty)
    with pytest.raises(ValidationError) as excinfo:
        load_store(tiny_copy)
    assert message in str(excinfo.value)


# --- next_tier ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "balance", "expected"),
    [
        ("bronze", 140, ("silver", 360)),
        ("silver", 720, ("gold", 780)),
        ("gold", 1650, ("platinum", 2350)),
        ("gold", 3999, ("platinum", 1)),
        ("platinum", 5000, None),  # nothing above
        ("gold", None, None),  # the store runs no points for this customer
        ("silver", 1600, ("platinum", 2400)),  # gold already reached by points: passed over
        ("none", 0, ("silver", 500)),  # bronze starts at 0: reached
        ("none", 4000, None),
    ],
)
def test_next_tier_names_the_tier_and_the_points_still_needed(
    tier: str, balance: int | None, expected: tuple[str, int] | None
) -> None:
    assert next_tier(TIERS, tier, balance) == expected


def test_next_tier_with_no_tiers_is_none_and_an_unknown_tier_is_refused() -> None:
    assert next_tier((), "bronze", 100) is None
    with pytest.raises(ValueError, match="got 'diamond'"):
        next_tier(TIERS, "diamond", 100)


def test_tier_for_a_balance() -> None:
    assert [tier_for(TIERS, n) for n in (0, 499, 500, 1500, 10**6)] == ["bronze", "bronze", "silver", "gold", "platinum"]


def test_parse_loyalty_defaults_the_points_name() -> None:
    assert parse_loyalty({"tiers": [{"tier": "bronze", "points": 0}]}) == ("points", (("bronze", 0),))


# --- the writer ---------------------------------------------------------------------------------


def test_points_and_tiers_round_trip_through_the_writer(tiny_copy: Path, tmp_path: Path) -> None:
    # GIVEN the tiny store with points (one expiring) and tiers
    original = load_store(tiny_copy, strict=True)
    # WHEN written with its tiers and loaded again
    out = write_store(
        tmp_path / "copy",
        info=original.info,
        as_of=original.as_of,
        products=original.products.values(),
        customers=original.customers.values(),
        events=original.events,
        loyalty_tiers=original.loyalty_tiers,
        points_name="stars",
    )
    again = load_store(out, strict=True)
    # THEN the columns are written, and customers and tiers come back equal
    header = (out / "customers.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.endswith(",signup_date,points_balance,points_expiring,points_expiring_on")
    assert again.customers == original.customers
    assert (again.loyalty_tiers, again.points_name) == (TIERS, "stars")
    assert json.loads((out / "store.json").read_text(encoding="utf-8"))["loyalty"]["tiers"][1] == {
        "tier": "silver",
        "points": 500,
    }


def test_a_store_written_without_tiers_has_no_loyalty_key(tiny_copy: Path, tmp_path: Path) -> None:
    original = load_store(tiny_copy, strict=True)
    out = write_store(
        tmp_path / "copy",
        info=original.info,
        as_of=original.as_of,
        products=original.products.values(),
        customers=original.customers.values(),
        events=original.events,
    )
    assert "loyalty" not in json.loads((out / "store.json").read_text(encoding="utf-8"))
    assert load_store(out, strict=True).loyalty_tiers == ()
