"""Runtime ranking: known answers, campaign rules, cold start, save/load round trips."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal

import numpy as np
import pytest

from nudge.campaigns import PoolRules, get_campaign
from nudge.errors import ArtifactMismatchError
from nudge.recommend import Catalog, PopularityRecommender, Recommender
from nudge.types import Customer, Event, Product, Profile

AS_OF = date(2026, 5, 1)


def make_product(pid: str, category: str = "Kitchen", **overrides) -> Product:
    fields = dict(product_id=pid, name=f"Item {pid}", description=f"A {category.lower()} thing",
                  category=category, price=Decimal("10.00"), currency="GBP", stock=5,
                  image_url=f"https://img/{pid}.jpg", arrival_date=date(2025, 1, 1))
    fields.update(overrides)
    return Product(**fields)


def make_profile(purchased=(), viewed=(), carted=(), locale="en_GB") -> Profile:
    customer = Customer("c1", "Ada", "ada@example.com", locale, "Europe/London", None, True)
    return Profile(customer=customer, purchased=list(purchased), viewed=list(viewed), carted=list(carted))


@pytest.fixture()
def catalog() -> Catalog:
    products = [
        make_product("mug", "Kitchen"), make_product("tea", "Kitchen"), make_product("pot", "Kitchen"),
        make_product("spoon", "Kitchen"), make_product("scarf", "Fashion"), make_product("hat", "Fashion"),
        make_product("book", "Books", price=Decimal("30.00")),
        make_product("sale", "Books", clearance=True, clearance_price=Decimal("4.00")),
        make_product("new", "Kitchen", arrival_date=date(2026, 4, 20), name="Tea cup"),
        make_product("gone", "Kitchen", stock=0),
        make_product("noimg", "Kitchen", image_url=""),
    ]
    return Catalog.from_products({p.product_id: p for p in products})


def neighbours_model(catalog: Catalog) -> Recommender:
    """mug -> tea strongly, mug -> pot weakly; scarf -> hat; popularity favours book."""
    ids = catalog.ids
    n = len(ids)
    index = np.full((n, 2), -1, dtype=np.int32)
    weight = np.zeros((n, 2), dtype=np.float32)
    at = {pid: i for i, pid in enumerate(ids)}
    index[at["mug"]] = [at["tea"], at["pot"]]
    weight[at["mug"]] = [0.9, 0.2]
    index[at["scarf"]] = [at["hat"], -1]
    weight[at["scarf"]] = [0.8, 0.0]
    popularity = np.arange(n, dtype=np.float32)
    popularity[at["book"]] = 100.0
    return Recommender(item_ids=ids, form="neighbours", popularity=popularity,
                       neighbour_index=index, neighbour_weight=weight)


def ids(items) -> list[str]:
    return [item.product_id for item in items]


def test_known_answer_the_obvious_item_ranks_first(catalog):
    # GIVEN a customer who bought the mug, and a model where mug -> tea is the strongest link
    rec = neighbours_model(catalog)
    # WHEN ranking with default rules
    items = rec.rank(make_profile(purchased=["mug"]), PoolRules(), k=3, catalog=catalog, as_of=AS_OF)
    # THEN tea comes first, explained by the purchase, and the mug itself is excluded
    assert items[0].product_id == "tea"
    assert items[0].reason == "Because you bought Item mug"
    assert "mug" not in ids(items)


def test_out_of_stock_and_imageless_items_never_show(catalog):
    rec = neighbours_model(catalog)
    items = rec.rank(make_profile(), PoolRules(max_per_category=99), k=20, catalog=catalog, as_of=AS_OF)
    assert "gone" not in ids(items) and "noimg" not in ids(items)


def test_exclude_purchased_can_be_switched_off(catalog):
    rec = neighbours_model(catalog)
    rules = PoolRules(exclude_purchased=False, max_per_category=99)
    items = rec.rank(make_profile(purchased=["mug"]), rules, k=20, catalog=catalog, as_of=AS_OF)
    assert "mug" in ids(items)


def test_only_clearance(catalog):
    rec = neighbours_model(catalog)
    items = rec.rank(make_profile(purchased=["mug"]), get_campaign("clearance").pool, k=4, catalog=catalog,
                     as_of=AS_OF)
    assert ids(items) == ["sale"]


def test_only_new_uses_content_for_cold_items(catalog):
    # GIVEN a new arrival the model never saw in training ("new" has no neighbours)
    rec = neighbours_model(catalog)
    items = rec.rank(make_profile(purchased=["tea"]), PoolRules(only_new_days=30), k=4, catalog=catalog,
                     as_of=AS_OF)
    assert ids(items) == ["new"]
    assert items[0].reason == "New in Kitchen, which you like"


def test_cart_first_then_complements(catalog):
    rec = neighbours_model(catalog)
    rules = get_campaign("abandoned_cart").pool
    items = rec.rank(make_profile(), rules, k=3, catalog=catalog, as_of=AS_OF, cart=("mug",))
    assert ids(items)[:2] == ["mug", "tea"]
    assert items[0].reason == "Still in your basket"
    assert items[1].reason == "Goes with Item mug in your basket"


def test_diversity_caps_one_category_in_the_window(catalog):
    rec = neighbours_model(catalog)
    rules = PoolRules(max_per_category=1, diversity_window=3)
    items = rec.rank(make_profile(purchased=["mug"]), rules, k=3, catalog=catalog, as_of=AS_OF)
    categories = [catalog.product(i.product_id).category for i in items]
    assert len(set(categories)) == 3


def test_price_bounds_use_the_price_paid(catalog):
    rec = neighbours_model(catalog)
    rules = PoolRules(min_price=3.0, max_price=5.0)
    items = rec.rank(make_profile(), rules, k=4, catalog=catalog, as_of=AS_OF)
    assert ids(items) == ["sale"]  # clearance price 4.00 (list price 10.00 would be outside)


def test_giftable_heuristic(catalog):
    rec = neighbours_model(catalog)
    items = rec.rank(make_profile(), PoolRules(giftable=True, max_per_category=9), k=9, catalog=catalog,
                     as_of=AS_OF)
    assert set(ids(items)) <= {"mug", "book", "scarf", "sale"} and "mug" in ids(items)


def test_unknown_customer_takes_the_cold_start_path(catalog):
    rec = neighbours_model(catalog)
    items = rec.rank(make_profile(viewed=["not-in-catalog"]), PoolRules(), k=2, catalog=catalog, as_of=AS_OF)
    assert items[0].product_id == "book" and items[0].reason == "Popular in Books"
    assert rec.stats["unknown_history_items"] == 1 and rec.stats["cold_start"] == 1


def test_embeddings_form_folds_the_customer_in(catalog):
    # GIVEN two clusters of items in factor space
    n = len(catalog)
    factors = np.zeros((n, 2), dtype=np.float32)
    for pid in ("mug", "tea", "pot", "spoon", "new"):
        factors[catalog.index[pid]] = [1.0, 0.0]
    for pid in ("scarf", "hat"):
        factors[catalog.index[pid]] = [0.0, 1.0]
    rec = Recommender(item_ids=catalog.ids, form="embeddings", popularity=np.ones(n), factors=factors,
                      regularization=0.1)
    items = rec.rank(make_profile(purchased=["scarf"]), PoolRules(), k=1, catalog=catalog, as_of=AS_OF)
    assert ids(items) == ["hat"] and items[0].reason == "Because you bought Item scarf"


@pytest.mark.parametrize("form", ["neighbours", "embeddings"])
def test_save_load_round_trip(tmp_path, catalog, form):
    n = len(catalog)
    if form == "neighbours":
        rec = neighbours_model(catalog)
    else:
        rng = np.random.default_rng(0)
        rec = Recommender(item_ids=catalog.ids, form="embeddings", popularity=np.ones(n),
                          factors=rng.normal(size=(n, 3)).astype(np.float32), regularization=0.5, alpha=2.0)
    rec.save(tmp_path / "rec")
    catalog.save(tmp_path / "rec" / "catalog")
    loaded = Recommender.load(tmp_path / "rec", verify_checksums=True)
    loaded_catalog = Catalog.load(tmp_path / "rec" / "catalog")
    profile = make_profile(purchased=["mug"], viewed=["scarf"])
    before = rec.rank(profile, PoolRules(), k=5, catalog=catalog, as_of=AS_OF)
    after = loaded.rank(profile, PoolRules(), k=5, catalog=loaded_catalog, as_of=AS_OF)
    assert before == after
    np.testing.assert_array_equal(loaded_catalog.content, catalog.content)
    assert loaded_catalog.product("sale") == catalog.product("sale")


@pytest.mark.parametrize("field,value", [("schema_version", 99), ("kind", "something.else")])
def test_meta_mismatch_raises_naming_the_field(tmp_path, catalog, field, value):
    neighbours_model(catalog).save(tmp_path)
    meta = json.loads((tmp_path / "meta.json").read_text())
    meta[field] = value
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactMismatchError, match=field):
        Recommender.load(tmp_path)


def test_popularity_from_events_counts_unknown_products(catalog):
    at = datetime(2026, 4, 30, tzinfo=timezone.utc)
    events = [Event("c1", "hat", "purchase", at), Event("c2", "hat", "view", at),
              Event("c2", "ghost", "purchase", at)]
    customers = {"c1": make_profile().customer, "c2": replace(make_profile().customer, customer_id="c2")}
    rec = PopularityRecommender.from_events(events, catalog=catalog, customers=customers, as_of=AS_OF)
    assert rec.report["unknown_product_events"] == 1
    items = rec.rank(make_profile(), PoolRules(), k=1, catalog=catalog, as_of=AS_OF)
    assert ids(items) == ["hat"] and items[0].reason == "Popular in Fashion"
