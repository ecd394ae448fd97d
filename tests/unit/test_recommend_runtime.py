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


def test_loaded_arrays_are_memory_mapped_and_products_are_read_line_by_line(tmp_path, catalog):
    # GIVEN an embeddings model and its catalog saved
    n = len(catalog)
    rec = Recommender(item_ids=catalog.ids, form="embeddings", popularity=np.ones(n),
                      factors=np.random.default_rng(0).normal(size=(n, 3)).astype(np.float32))
    rec.save(tmp_path / "rec")
    catalog.save(tmp_path / "catalog")
    # WHEN both are loaded
    loaded, loaded_catalog = Recommender.load(tmp_path / "rec"), Catalog.load(tmp_path / "catalog")
    # THEN their arrays map the files (read-only views, not copies), no product line has been read yet,
    # and a product read by its byte offset equals the one saved, non-ASCII text included
    assert not loaded.factors.flags.writeable and not loaded_catalog.content.flags.writeable
    assert loaded_catalog._products == {} and loaded_catalog._lines is None
    assert loaded_catalog.product("sale") == catalog.product("sale")
    assert loaded_catalog.product("new").name == "Tea cup"
    assert not (tmp_path / "catalog" / "catalog.npz").exists()
    # AND reordered, it keeps the products it has not read yet
    reversed_catalog = Catalog.load(tmp_path / "catalog").reordered(list(range(n))[::-1])
    assert reversed_catalog.ids == catalog.ids[::-1] and reversed_catalog.product("mug") == catalog.product("mug")


def test_a_catalog_saved_in_the_earlier_npz_format_still_loads(tmp_path, catalog):
    # GIVEN a catalog directory as the earlier format wrote it: catalog.npz and lines read whole
    directory = tmp_path / "old"
    directory.mkdir()
    lines = [json.dumps({**json.loads(_line(catalog, pid))}) for pid in catalog.ids]
    (directory / "catalog.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    np.savez(directory / "catalog.npz", **{name: getattr(catalog, name) for name in Catalog.ARRAYS})
    (directory / "catalog.json").write_text(json.dumps({"schema_version": 1, "ids": catalog.ids,
                                                        "categories": catalog.categories}), encoding="utf-8")
    # WHEN it is loaded, THEN the arrays and products are the same
    old = Catalog.load(directory)
    np.testing.assert_array_equal(old.price, catalog.price)
    assert old.product("sale") == catalog.product("sale")


def _line(catalog: Catalog, pid: str) -> str:
    from nudge.recommend.catalog import _product_to_json

    return _product_to_json(catalog.product(pid))


def _clustered(n_items: int = 3000, dims: int = 8, seed: int = 5):
    """A catalog of 30 categories whose items' factors sit near their category's centre."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 30, n_items).astype(np.int32)
    centres = rng.normal(size=(30, dims)).astype(np.float32)
    factors = (centres[codes] + 0.3 * rng.normal(size=(n_items, dims))).astype(np.float32)
    catalog = Catalog(ids=[f"p{i}" for i in range(n_items)], categories=[f"c{i}" for i in range(30)],
                      category_codes=codes, price=np.full(n_items, 10.0), in_stock=np.ones(n_items, bool),
                      has_image=np.ones(n_items, bool), arrival=np.full(n_items, AS_OF.toordinal() - 400, np.int32),
                      clearance=np.zeros(n_items, bool), giftable=np.ones(n_items, bool))
    return catalog, factors, rng


def test_the_ivf_index_ranks_as_exact_scoring_does_on_clustered_factors(tmp_path, monkeypatch):
    from scripts.recommender_index import build_ivf

    # GIVEN 3,000 clustered items with an IVF index of 30 clusters probing 4, in cluster order, the catalog too
    catalog, factors, rng = _clustered()
    centroids, assign = build_ivf(factors, clusters=30, seed=1)
    rec = Recommender(item_ids=catalog.ids, form="embeddings", popularity=np.ones(len(catalog)), factors=factors,
                      ivf_centroids=centroids, ivf_assign=assign, meta={"ivf_probe": 4})
    rec, order = rec.in_cluster_order()
    catalog = catalog.reordered(order)
    assert (np.diff(rec.ivf_assign) >= 0).all() and rec.item_ids == catalog.ids
    monkeypatch.setattr(Recommender, "IVF_MIN_POOL", 100)  # the index serves pools of this toy size
    monkeypatch.setattr(Recommender, "IVF_MIN_PROBED", 200)
    exact = Recommender(item_ids=rec.item_ids, form="embeddings", popularity=np.ones(len(catalog)),
                        factors=np.asarray(rec.factors))
    # WHEN 20 customers, each with history in two categories, are ranked both ways
    agree = []
    for _ in range(20):
        liked = rng.choice(30, size=2, replace=False)
        history = [catalog.ids[i] for i in rng.choice(np.flatnonzero(np.isin(catalog.category_codes, liked)), 10)]
        profile = make_profile(purchased=history[:5], viewed=history[5:])
        got = ids(rec.rank(profile, PoolRules(max_per_category=10), k=10, catalog=catalog, as_of=AS_OF))
        want = ids(exact.rank(profile, PoolRules(max_per_category=10), k=10, catalog=catalog, as_of=AS_OF))
        agree.append(len(set(got) & set(want)) / 10)
        assert not set(got) & set(history[:5])  # the rules still hold: nothing already bought
    # THEN the index served every request and found (nearly) the exact lists
    assert rec.stats["ivf"] == 20 and rec.stats["ivf_fallback"] == 0
    assert np.mean(agree) >= 0.95
    # AND it round-trips through save/load with its probe count
    rec.save(tmp_path / "rec")
    loaded = Recommender.load(tmp_path / "rec", verify_checksums=True)
    assert loaded.ivf_probe == 4 and loaded.ivf_centroids.shape == (30, 8)


def test_ivf_recall_and_probe_choice_are_measured_against_exact_scoring():
    from scripts.recommender_index import build_ivf, choose_probe, ivf_recall

    # GIVEN clustered factors and customers pointing at a cluster each
    _, factors, rng = _clustered()
    centroids, assign = build_ivf(factors, clusters=30, seed=1)
    users = factors[rng.choice(len(factors), size=25, replace=False)]
    # WHEN recall@100 is measured for probing every cluster, and the probe count chosen for 0.9
    # THEN probing everything is exact, and the chosen probe reaches the target with fewer clusters
    assert ivf_recall(factors, centroids, assign, users, 30) == 1.0
    probe, recall = choose_probe(factors, centroids, assign, users, target=0.9)
    assert recall >= 0.9 and probe < 30
    assert recall == ivf_recall(factors, centroids, assign, users, probe)
