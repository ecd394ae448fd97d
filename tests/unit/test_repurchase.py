"""Repeat purchases: the learned table, due items, the profile's purchase dates, and "Time to reorder"
in the ranked list of the campaigns whose rules include due reorders."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest

from nudge.campaigns import PoolRules, get_campaign
from nudge.errors import ArtifactMismatchError
from nudge.profiles import profile_from_item, profile_to_item, record_purchase
from nudge.recommend import Catalog, Recommender
from nudge.recommend.repurchase import CategoryRepurchase, RepurchaseTable, due_repurchases
from nudge.types import Customer, Product, Profile
from scripts.train_recommender import Interactions, learn_repurchase, repurchase_stats

AS_OF = date(2026, 5, 1)
CANDLES = CategoryRepurchase(rebuy_share=0.3, median_days=40.0, p25_days=30.0, p75_days=55.0, intervals=50, pairs=200)
TABLE = RepurchaseTable({"candles": CANDLES})


def category_of(pid: str) -> str | None:
    return {"c1": "candles", "c2": "candles", "m1": "mugs"}.get(pid)


def days_ago(n: int) -> date:
    return AS_OF - timedelta(days=n)


# --------------------------------------------------------------------------- due items
def test_an_item_is_due_from_the_first_quartile_until_four_medians():
    # GIVEN a candle bought 29, 30, 160 and 161 days ago (due from 30 days, lapsed after 4 × 40 = 160)
    for days, due in ((29, False), (30, True), (160, True), (161, False)):
        # WHEN asking for due reorders
        found = due_repurchases(["c1"], [days_ago(days)], category_of, TABLE, as_of=AS_OF, limit=3)
        # THEN only the window counts
        assert bool(found) is due, days


def test_few_intervals_fall_back_to_most_of_the_median_and_short_intervals_keep_a_season():
    # GIVEN a category known from 3 intervals only, with a 10-day median
    thin = replace(CANDLES, median_days=10.0, p25_days=2.0, intervals=3)
    # THEN it is due from 0.8 × the median (not the unreliable quartile), until at least 120 days
    assert thin.due_from_days == 8.0
    assert thin.lapse_after_days == 120


def test_only_repeatable_dated_items_are_due_and_the_closest_to_its_median_comes_first():
    # GIVEN a mug (not a repeatable category), an undated candle and two dated candles
    found = due_repurchases(["m1", "c2", "c1", "x"], [days_ago(40), None, days_ago(90), days_ago(41)],
                            lambda pid: "candles" if pid == "x" else category_of(pid), TABLE, as_of=AS_OF, limit=5)
    # THEN the mug and the undated candle are never due; 41 days (near the 40-day median) beats 90
    assert [(d.product_id, d.days_since) for d in found] == [("x", 41), ("c1", 90)]
    # AND the limit holds
    assert len(due_repurchases(["c1", "x"], [days_ago(90), days_ago(41)], lambda p: "candles", TABLE,
                               as_of=AS_OF, limit=1)) == 1


def test_the_table_round_trips_and_a_malformed_one_names_what_it_expected():
    assert RepurchaseTable.from_dict(TABLE.to_dict()) == TABLE
    assert RepurchaseTable.from_dict({}) == RepurchaseTable()  # an artifact written before repurchase.json
    with pytest.raises(ArtifactMismatchError, match="rebuy_share, median_days"):
        RepurchaseTable.from_dict({"categories": {"candles": {"share": 0.3}}})


# --------------------------------------------------------------------------- learning
def interactions(rows: list[tuple[str, str, int]]) -> Interactions:
    """(customer, item, day) purchases, day 0 = 2026-01-01."""
    start = datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp()
    return Interactions(users=np.array([r[0] for r in rows], dtype=object),
                        items=np.array([r[1] for r in rows], dtype=object),
                        weight=np.ones(len(rows), dtype=np.float32),
                        timestamp=np.array([start + 86400.0 * r[2] for r in rows]))


def product(pid: str, category: str) -> Product:
    return Product(pid, f"Item {pid}", "", category, Decimal("5.00"), "GBP", 3, f"https://img/{pid}.jpg",
                   arrival_date=date(2025, 1, 1))


def test_learning_counts_rebought_pairs_and_the_days_between():
    # GIVEN 4 customers who bought a candle: two of them again after 30 and 50 days (one twice more, +40)
    rows = [("a", "c1", 0), ("a", "c1", 30), ("b", "c1", 5), ("b", "c1", 55), ("b", "c1", 95),
            ("c", "c1", 3), ("d", "c2", 8), ("d", "c2", 8),  # the same day twice: one order, not a rebuy
            ("a", "m1", 1)]
    products = {"c1": product("c1", "candles"), "c2": product("c2", "candles"), "m1": product("m1", "mugs")}
    # WHEN learning
    stats = repurchase_stats(interactions(rows), products)
    # THEN 2 of the 4 candle pairs were rebought, over intervals of 30, 50 and 40 days
    assert stats["candles"]["pairs"] == 4 and stats["candles"]["rebuy_share"] == 0.5
    assert (stats["candles"]["intervals"], stats["candles"]["median_days"]) == (3, 40.0)
    assert stats["mugs"]["rebuy_share"] == 0.0 and stats["mugs"]["median_days"] is None
    # AND only a category past the thresholds is repeatable (two categories: no median to lift over)
    assert set(learn_repurchase(interactions(rows), products, min_pairs=4, min_intervals=3).categories) == {"candles"}
    assert not learn_repurchase(interactions(rows), products, min_pairs=5, min_intervals=3).categories


def test_a_category_rebought_by_chance_or_at_no_rhythm_is_not_repeatable():
    # GIVEN six categories of 40 customers each: "tea" rebought by 12 at a steady 30 days; "lamps" by 12 at
    # scattered intervals (2 to 200 days); four others rebought by 4 (10%) at a steady 30 days
    rows, products = [], {}
    for category, rebuyers, gaps in (("tea", 12, [30] * 12), ("lamps", 12, [2, 200, 5, 150, 9, 120, 20, 90, 3, 180, 60, 7]),
                                     *((f"c{k}", 4, [30] * 4) for k in range(4))):
        products[category] = product(category, category)
        for n in range(40):
            rows.append((f"{category}-{n}", category, 0))
            if n < rebuyers:
                rows.append((f"{category}-{n}", category, gaps[n] + n % 3))
    # WHEN learning: the median category rebuys 10%, so the floor is 20%
    table = learn_repurchase(interactions(rows), products)
    # THEN tea is repeatable (30%, regular); lamps are not (30%, no rhythm); the 10% ones fall under the floor
    assert sorted(table.categories) == ["tea"] and table.share_floor == 0.2


# --------------------------------------------------------------------------- the profile's dates
def customer() -> Customer:
    return Customer("c9", "Ada", "ada@example.com", "en_GB", "Europe/London", None, True)


def test_purchase_dates_stay_parallel_to_the_purchase_history_through_dynamodb():
    # GIVEN a profile written before purchase dates existed (two purchases, no dates)
    profile = Profile(customer=customer(), purchased=["m1", "c1"])
    # WHEN the candle is bought again, then a new item
    record_purchase(profile, "c1", date(2026, 4, 1))
    record_purchase(profile, "c2", date(2026, 4, 2))
    # THEN the lists stay parallel, the unknown date stays unknown
    assert profile.purchased == ["c2", "c1", "m1"]
    assert profile.purchased_on == [date(2026, 4, 2), date(2026, 4, 1), None]
    # AND the DynamoDB item round-trips them
    back = profile_from_item(profile_to_item(profile))
    assert (back.purchased, back.purchased_on) == (profile.purchased, profile.purchased_on)


# --------------------------------------------------------------------------- ranking
@pytest.fixture()
def catalog() -> Catalog:
    products = [product("c1", "candles"), product("c2", "candles"), product("m1", "mugs"), product("m2", "mugs"),
                product("m3", "mugs"), product("t1", "tea"), replace(product("c3", "candles"), stock=0)]
    return Catalog.from_products({p.product_id: p for p in products})


def model(catalog: Catalog) -> Recommender:
    n = len(catalog.ids)
    return Recommender(item_ids=catalog.ids, form="popularity", popularity=np.arange(n, dtype=np.float32),
                       repurchase=TABLE)


def dated_profile(purchased: list[str], days: list[int]) -> Profile:
    return Profile(customer=customer(), purchased=purchased, purchased_on=[days_ago(d) for d in days])


def test_loyalty_shows_a_due_candle_first_with_time_to_reorder(catalog):
    # GIVEN a customer who bought candle c1 six weeks ago and a mug last week
    profile = dated_profile(["m1", "c1"], [7, 43])
    # WHEN ranking for loyalty (purchases excluded, one due reorder allowed)
    items = model(catalog).rank(profile, get_campaign("loyalty").pool, k=4, catalog=catalog, as_of=AS_OF)
    # THEN the candle comes first, said in weeks, and nothing else they bought shows
    assert items[0].product_id == "c1"
    assert (items[0].reason, items[0].reason_key) == ("Time to reorder: last bought 6 weeks ago", "reorder")
    assert [i.product_id for i in items].count("c1") == 1 and "m1" not in [i.product_id for i in items]


def test_a_campaign_without_due_reorders_and_an_unavailable_item_show_none(catalog):
    rec = model(catalog)
    # GIVEN a due candle: clearance's rules include no reorders, so the purchase stays excluded
    items = rec.rank(dated_profile(["c1"], [43]), get_campaign("clearance").pool, k=4, catalog=catalog, as_of=AS_OF)
    assert all(not i.reason_key.startswith("reorder") for i in items)
    # AND an out-of-stock due candle is not pushed (loyalty requires stock)
    items = rec.rank(dated_profile(["c3"], [43]), get_campaign("loyalty").pool, k=4, catalog=catalog, as_of=AS_OF)
    assert all(not i.reason_key.startswith("reorder") for i in items)


def test_a_reorder_under_two_weeks_says_so_without_a_count_and_the_table_survives_save_and_load(catalog, tmp_path):
    # GIVEN a category reordered after ~10 days, bought 9 days ago, in a saved and loaded model
    quick = RepurchaseTable({"candles": replace(CANDLES, median_days=10.0, p25_days=8.0)})
    saved = Recommender(item_ids=catalog.ids, form="popularity", popularity=np.ones(len(catalog.ids), np.float32),
                        repurchase=quick)
    saved.save(tmp_path)
    rec = Recommender.load(tmp_path, verify_checksums=True)
    # WHEN ranking with a rule that allows one due reorder
    items = rec.rank(dated_profile(["c1"], [9]), PoolRules(due_repurchases=1), k=2, catalog=catalog, as_of=AS_OF)
    # THEN it shows first with the short reason
    assert (items[0].product_id, items[0].reason) == ("c1", "Time to reorder")
    assert rec.repurchase == quick


# --------------------------------------------------------------------------- training end to end
def test_training_finds_the_consumables_and_judges_models_on_both_variants(tmp_path):
    from nudge.store.generate import REPLENISHMENT, generate_store
    from scripts import train_recommender as tr

    # GIVEN a small generated store whose consumables are bought again (REPLENISHMENT)
    store = generate_store(tmp_path / "store", seed=2, n_products=300, n_customers=500, n_events=25_000)
    # WHEN the recommender is trained on it
    meta = tr.main(tr.TrainConfig(source=str(store), out_dir=str(tmp_path / "rec"), catalog_dir="", grid="compact",
                                  models=("popularity", "itemknn"), social_proof=False))
    # THEN exactly the consumable categories are repeatable, and the export carries them
    assert meta["repurchase"]["repeatable_categories"] == sorted(REPLENISHMENT)
    assert set(Recommender.load(tmp_path / "rec", verify_checksums=True).repurchase.categories) == set(REPLENISHMENT)
    # AND the choice blends the new-items and the due-first validation figures
    assert meta["selection"]["by"].startswith("0.67 × new items + 0.33 × due reorders first")
    assert all("ndcg@10_due_first" in v for v in meta["metrics"]["validation"].values())
