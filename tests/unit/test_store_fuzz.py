"""load_store never crashes on hostile cells: every row is accepted or named, and counts add up."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nudge.store import format as fmt
from nudge.store import load_store

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "store_tiny"

# Cells that are mostly plausible, sometimes hostile: empty, spaces, unicode digits, signs, huge.
cell = st.one_of(
    st.sampled_from(
        ["", " ", "0", "-1", "1", "5", "²", "٣", "1e3", "NaN", "sNaN", "9" * 40, "true", "maybe", "c001", "p001"]
    ),
    st.sampled_from(["view", "review", "purchase", "2026-11-01T10:00:00Z", "2026-11-01", "2026-11-20T00:00:00+00:00"]),
    st.text(max_size=12),
)


def _write_rows(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    catalog_rows=st.lists(
        st.lists(cell, min_size=len(fmt.CATALOG_COLUMNS), max_size=len(fmt.CATALOG_COLUMNS)), max_size=4
    ),
    customer_rows=st.lists(
        st.lists(cell, min_size=len(fmt.CUSTOMER_COLUMNS), max_size=len(fmt.CUSTOMER_COLUMNS)), max_size=4
    ),
    event_rows=st.lists(st.lists(cell, min_size=7, max_size=7), max_size=8),
)
def test_hostile_rows_are_named_never_crash(
    tmp_path_factory, catalog_rows: list[list[str]], customer_rows: list[list[str]], event_rows: list[list[str]]
) -> None:
    # GIVEN the tiny store with arbitrary extra rows in every file
    root = Path(shutil.copytree(TINY, tmp_path_factory.mktemp("fuzz") / "store"))
    for name, columns, extra in (
        (fmt.CATALOG_CSV, fmt.CATALOG_COLUMNS, catalog_rows),
        (fmt.CUSTOMERS_CSV, fmt.CUSTOMER_COLUMNS, customer_rows),
        (fmt.EVENTS_CSV, fmt.EVENT_COLUMNS, event_rows),
    ):
        with (root / name).open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        header = [c for c, _ in columns]
        by_name = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
        _write_rows(root / name, header, [[d.get(c, "") for c in header] for d in by_name] + extra)
    # WHEN loaded
    report = load_store(root).report
    # THEN it returns, and every row read is either accepted or named
    for counts in report.counts.values():
        assert counts.read == counts.accepted + counts.rejected
    assert len(report.rejected) == sum(c.rejected for c in report.counts.values())
    # AND only the catalog's descriptive cells and the customers' points are ever cleared rather than rejected
    clearable = {
        fmt.CATALOG_CSV: ("material", "colour"),
        fmt.CUSTOMERS_CSV: ("points_balance", "points_expiring", "points_expiring_on"),
    }
    assert all(c.column in clearable.get(c.file, ()) for c in report.cleared)


points_cell = st.one_of(
    st.sampled_from(["", "0", "1", "50", "720", "-1", "1.5", "²", "٣", "9" * 40, "2026-12-01", "2026-11-19", "x"]),
    # no raw CR: _write_rows ends lines with "\n", so csv leaves a lone "\r" unquoted and it breaks the row
    # itself (a rejected row, rightly; found by this test drawing "\r" once in CI-like runs)
    st.text(max_size=8).filter(lambda cell: "\r" not in cell),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(balance=points_cell, expiring=points_cell, expiring_on=points_cell)
def test_hostile_points_cells_never_cost_the_customer(tmp_path_factory, balance: str, expiring: str, expiring_on: str) -> None:
    # GIVEN the tiny store with arbitrary points cells for one customer
    root = Path(shutil.copytree(TINY, tmp_path_factory.mktemp("points") / "store"))
    path = root / fmt.CUSTOMERS_CSV
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows[1][-3:] = [balance, expiring, expiring_on]
    _write_rows(path, rows[0], rows[1:])
    # WHEN loaded
    store = load_store(root)
    # THEN the customer is kept, and what remains of the points is consistent
    c = store.customers["c001"]
    assert store.report.rejected == [] and len(store.customers) == 6
    assert c.points_balance is None or 0 <= c.points_balance
    assert (c.points_expiring is None) == (c.points_expiring_on is None)
    if c.points_expiring is not None:
        assert c.points_balance is not None and 0 <= c.points_expiring <= c.points_balance
        assert c.points_expiring_on >= store.as_of  # type: ignore[operator]
