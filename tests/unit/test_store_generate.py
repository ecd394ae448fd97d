"""nudge.store.generate: deterministic, loads cleanly, realistic shares, and real taste structure."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import pytest

from nudge.store import load_store
from nudge.store import vocabulary as vocab
from nudge.store.format import cutoff
from nudge.loyalty import tier_for
from nudge.offers import offer_for
from nudge.store.generate import (
    AS_OF,
    EXPIRY_WINDOW_DAYS,
    HELDOUT_DAYS,
    LOYALTY_TIER_POINTS,
    SyntheticStore,
    generate,
    generate_store,
    review_noun,
)
from nudge.types import LOYALTY_TIERS

SMALL = dict(n_products=400, n_customers=600, n_events=30_000)


@pytest.fixture(scope="module")
def small() -> SyntheticStore:
    return generate(seed=7, **SMALL)


@pytest.fixture(scope="module")
def small_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_store(tmp_path_factory.mktemp("gen") / "store", seed=7, **SMALL)


# --- determinism and the format contract -----------------------------------------------------


def test_same_seed_writes_the_same_bytes(small_dir: Path, tmp_path: Path) -> None:
    # GIVEN a store written with seed 7
    # WHEN the same config is written again elsewhere
    again = generate_store(tmp_path / "again", seed=7, **SMALL)
    # THEN every file is byte-identical
    names = sorted(p.name for p in small_dir.iterdir())
    assert names == ["catalog.csv", "customers.csv", "events.csv", "heldout_events.csv", "offers.json", "store.json"]
    for name in names:
        assert (small_dir / name).read_bytes() == (again / name).read_bytes(), name


def test_another_seed_gives_another_store(small_dir: Path, tmp_path: Path) -> None:
    other = generate_store(tmp_path / "other", seed=8, **SMALL)
    assert (small_dir / "events.csv").read_bytes() != (other / "events.csv").read_bytes()


def test_generated_store_loads_with_zero_rejections_and_exact_counts(small_dir: Path) -> None:
    # GIVEN a generated store WHEN loaded strictly THEN nothing is rejected and sizes are exact
    store = load_store(small_dir, strict=True)
    assert (len(store.products), len(store.customers), len(store.events)) == (400, 600, 30_000)
    assert store.as_of == AS_OF
    assert len(store.categories) >= 24  # every category present even at this size
    assert store.events[-1].timestamp < store.cutoff <= store.heldout_events[0].timestamp
    assert store.heldout_events[-1].timestamp < store.cutoff + timedelta(days=HELDOUT_DAYS)
    assert store.events[0].timestamp >= store.cutoff - timedelta(days=366)


def test_truth_file_is_written_only_when_asked(tmp_path: Path) -> None:
    root = generate_store(tmp_path / "s", seed=1, n_products=60, n_customers=30, n_events=500, write_truth=True)
    assert (root / "generator_truth.json").is_file()
    assert load_store(root, strict=True).report.ok


# --- catalog -----------------------------------------------------------------------------------


def test_catalog_shares_are_realistic(small: SyntheticStore) -> None:
    products = small.products
    n = len(products)
    assert len({p.name for p in products}) == n  # unique names
    assert all(p.product_id.startswith("p") and p.currency == "GBP" for p in products)
    clearance = [p for p in products if p.clearance]
    assert 0.06 <= len(clearance) / n <= 0.10
    assert all(p.clearance_price is not None and 0 < p.clearance_price < p.price and p.stock > 0 for p in clearance)
    assert 0.005 <= sum(p.image_url == "" for p in products) / n <= 0.07
    assert all(p.image_url in ("", f"https://cdn.example.com/img/{p.product_id}.jpg") for p in products)
    assert 0.02 <= sum(p.stock == 0 for p in products) / n <= 0.12
    new = [p for p in products if (AS_OF - p.arrival_date).days <= 30]
    assert 0.03 <= len(new) / n <= 0.07
    assert min(p.arrival_date for p in products) >= AS_OF - timedelta(days=731)
    assert all(p.price == p.price.quantize(p.price.__class__("0.01")) for p in products)


def test_most_products_have_a_material_and_a_colour(small: SyntheticStore) -> None:
    # GIVEN the generated catalog
    products = small.products
    n = len(products)
    # THEN about 15% lack a material and about 15% a colour (unknown, so emails sometimes go without)
    assert 0.08 <= sum(p.material == "" for p in products) / n <= 0.25
    assert 0.08 <= sum(p.colour == "" for p in products) / n <= 0.25
    assert len({p.material for p in products}) > 40 and len({p.colour for p in products}) > 20


def test_material_and_colour_fit_the_category_and_never_contradict_the_name(small: SyntheticStore) -> None:
    for p in small.products:
        spec = vocab.CATEGORIES[p.category]
        # the material is one of the category's (mugs: stoneware, porcelain, enamel...)
        assert p.material in {vocab.MATERIAL_OF.get(m, m.lower()) for m in spec.materials} | {""}, p
        # in a category sold in COLOURS, a colour word in the name is the colour (unless unknown);
        # skipped: the collection ("Heather") and words that are materials too ("Terracotta")
        if not set(vocab.COLOURS) <= set(spec.modifiers):
            continue
        words = p.name.removeprefix(small.truth.product_collection[p.product_id])
        named = [c for c in vocab.COLOURS if f" {c} " in f" {words} " and c not in spec.materials]
        if named and p.colour:
            assert p.colour in {vocab.COLOUR_OF.get(c, c.lower()) for c in named}, p
    mugs = {p.material for p in small.products if p.category == "mugs"} - {""}
    assert mugs and mugs <= {"stoneware", "speckled stoneware", "porcelain", "enamel", "bone china"}


def test_generated_attributes_load_back_unchanged(small: SyntheticStore, small_dir: Path) -> None:
    # GIVEN the same store in memory and on disk WHEN loaded THEN every attribute passes the
    # loader's phrase rule untouched (nothing cleared) and equals what was generated
    store = load_store(small_dir, strict=True)
    assert store.report.cleared == []
    assert {p.product_id: (p.material, p.colour) for p in small.products} == {
        pid: (p.material, p.colour) for pid, p in store.products.items()
    }


def test_same_seed_gives_the_same_attributes() -> None:
    one, two = (generate(seed=3, n_products=120, n_customers=10, n_events=50) for _ in range(2))
    assert [(p.material, p.colour) for p in one.products] == [(p.material, p.colour) for p in two.products]


def test_prices_follow_each_category_range(small: SyntheticStore) -> None:
    for p in small.products:
        low, high = vocab.CATEGORIES[p.category].price
        assert low - 1 <= float(p.price) <= high + 1, (p.product_id, p.category, p.price)


def test_cold_items_have_no_history_but_may_appear_later(small: SyntheticStore) -> None:
    seen = {e.product_id for e in small.events}
    assert small.truth.cold_products
    assert seen.isdisjoint(small.truth.cold_products)
    arrival = {p.product_id: p.arrival_date for p in small.products}
    assert all(arrival[e.product_id] <= e.timestamp.date() for e in small.events)  # nothing bought before it arrived


# --- customers ---------------------------------------------------------------------------------


def test_customers_are_plausible(small: SyntheticStore) -> None:
    customers = small.customers
    assert len({c.email for c in customers}) == len(customers)
    assert all(c.email.isascii() and c.email.split("@")[1] in ("example.com", "example.org") for c in customers)
    assert all(dict(vocab.TIMEZONES[c.locale]).get(c.timezone) for c in customers)  # zone matches locale
    assert len({c.locale for c in customers}) >= 5
    assert 0.78 <= sum(c.consent for c in customers) / len(customers) <= 0.92
    birthdays_today = [
        c for c in customers if c.birthday and (c.birthday.month, c.birthday.day) == (AS_OF.month, AS_OF.day)
    ]
    assert birthdays_today
    tiers = Counter(c.loyalty_tier for c in customers)
    counts = [tiers[t] for t in LOYALTY_TIERS]  # none, bronze, silver, gold, platinum
    assert counts == sorted(counts, reverse=True) and counts[-1] > 0  # skewed to low tiers


def test_top_tiers_spend_more(small: SyntheticStore) -> None:
    price = {p.product_id: p.price for p in small.products}
    spend: dict[str, float] = defaultdict(float)
    for e in small.events:
        if e.event_type == "purchase":
            spend[e.customer_id] += float(price[e.product_id]) * e.quantity
    by_tier = defaultdict(list)
    for c in small.customers:
        by_tier[c.loyalty_tier].append(spend[c.customer_id])
    assert min(by_tier["platinum"]) >= max(by_tier["gold"]) >= max(by_tier["silver"])


# --- loyalty points and offers ------------------------------------------------------------------


def test_members_have_points_inside_their_tier_and_others_none(small: SyntheticStore) -> None:
    # GIVEN the generated customers and the store's tier thresholds
    members = [c for c in small.customers if c.loyalty_tier != "none"]
    assert small.loyalty_tiers == LOYALTY_TIER_POINTS and small.points_name == "points"
    # THEN every member's balance lies in their own tier's band, and non-members have no points
    assert members and all(c.points_balance is not None for c in members)
    assert all(tier_for(LOYALTY_TIER_POINTS, c.points_balance) == c.loyalty_tier for c in members)  # type: ignore[arg-type]
    others = [c for c in small.customers if c.loyalty_tier == "none"]
    assert all((c.points_balance, c.points_expiring, c.points_expiring_on) == (None, None, None) for c in others)


def test_some_members_have_points_expiring_within_30_days(small: SyntheticStore) -> None:
    members = [c for c in small.customers if c.loyalty_tier != "none"]
    expiring = [c for c in members if c.points_expiring is not None]
    assert 0.2 <= len(expiring) / len(members) <= 0.5
    for c in expiring:
        assert 1 <= c.points_expiring <= c.points_balance  # type: ignore[operator]
        assert c.points_expiring_on is not None and 1 <= (c.points_expiring_on - AS_OF).days <= EXPIRY_WINDOW_DAYS


def test_the_demo_store_has_three_offers_valid_on_as_of(small_dir: Path) -> None:
    # GIVEN the written store WHEN loaded strictly (offers.json checked against as_of and the catalog)
    store = load_store(small_dir, strict=True)
    offers = {o.offer_id: o for o in store.offers}
    # THEN a birthday, a clearance and a new-arrivals offer, each valid on as_of
    assert sorted(offers) == ["birthday-15", "clearance-extra-10", "new-arrivals-10-off"]
    assert all(o.valid_from <= AS_OF <= o.valid_until for o in offers.values())
    birthday, clearance, new = offers["birthday-15"], offers["clearance-extra-10"], offers["new-arrivals-10-off"]
    assert (birthday.code, birthday.kind, str(birthday.value), birthday.audience) == ("BDAY15", "percent", "15", "birthday")
    assert (birthday.valid_from, (birthday.valid_until - birthday.valid_from).days + 1) == (AS_OF - timedelta(days=1), 60)
    assert clearance.valid_until == AS_OF + timedelta(days=14) and clearance.min_spend is not None
    assert set(clearance.product_ids) == {p.product_id for p in store.products.values() if p.clearance}
    assert (new.kind, new.campaign_types) == ("amount", ("new_arrivals",)) and new.min_spend is not None
    assert new.value < new.min_spend
    assert set(new.product_ids) == {p.product_id for p in store.products.values() if (AS_OF - p.arrival_date).days <= 30}
    # AND each campaign's email on as_of gets its offer; a holiday greeting gets none
    assert offer_for(store.offers, campaign_type="birthday_holiday", send_date=AS_OF, birthday=True) == birthday
    assert offer_for(store.offers, campaign_type="birthday_holiday", send_date=AS_OF, birthday=False) is None
    assert offer_for(store.offers, campaign_type="clearance", send_date=AS_OF, birthday=False) == clearance
    assert offer_for(store.offers, campaign_type="new_arrivals", send_date=AS_OF, birthday=False) == new
    # AND the tiers and points are read back as generated
    assert store.loyalty_tiers == LOYALTY_TIER_POINTS


def test_offers_follow_another_as_of(tmp_path: Path) -> None:
    # GIVEN a store generated for another day WHEN loaded strictly THEN its offers are valid that day
    as_of = AS_OF + timedelta(days=400)
    store = load_store(generate_store(tmp_path / "s", seed=2, n_products=200, n_customers=60, n_events=800, as_of=as_of), strict=True)
    assert len(store.offers) == 3 and all(o.valid_on(as_of) for o in store.offers)


# --- events: funnel, carts, lapsed, reviews ----------------------------------------------------


def test_funnel_narrows_and_purchases_follow_a_cart(small: SyntheticStore) -> None:
    types = Counter(e.event_type for e in small.events)
    assert types["view"] > 2 * types["add_to_cart"] > 2 * types["purchase"] > 0 < types["review"]
    for events in (small.events, small.heldout_events):
        carted: set[tuple[str, str]] = set()
        for e in events:
            if e.event_type == "add_to_cart":
                carted.add((e.customer_id, e.product_id))
            elif e.event_type == "purchase":
                assert (e.customer_id, e.product_id) in carted, e


def test_abandoned_carts_in_the_last_48_hours_are_not_bought(small: SyntheticStore) -> None:
    window = cutoff(AS_OF) - timedelta(hours=48)
    assert small.truth.abandoned_cart_customers
    for cid in small.truth.abandoned_cart_customers:
        carts = {
            e.product_id: e.timestamp
            for e in small.events
            if e.customer_id == cid and e.event_type == "add_to_cart" and e.timestamp >= window
        }
        assert carts
        later_buys = {
            e.product_id
            for e in small.events
            if e.customer_id == cid and e.event_type == "purchase" and e.timestamp >= window
        }
        assert set(carts) - later_buys, cid


def test_lapsed_customers_have_not_ordered_for_90_days(small: SyntheticStore) -> None:
    assert small.truth.lapsed_customers
    lapsed = set(small.truth.lapsed_customers)
    recent = {
        e.customer_id for e in small.events if e.event_type == "purchase" and (AS_OF - e.timestamp.date()).days < 90
    }
    assert lapsed.isdisjoint(recent)


def test_reviews_are_varied_and_name_the_product_they_review(small: SyntheticStore) -> None:
    # a review says what the product is ("this mantel clock", "this pair of hoop earrings"), never the
    # category's noun for another kind of thing ("What a find this necklace is" on earrings, read in a demo quote)
    products = {p.product_id: p for p in small.products}
    reviews = [e for e in small.events if e.event_type == "review"]
    assert {e.rating for e in reviews} >= {1, 2, 3, 4, 5} - {1}  # 1 star is rare at this size
    texts = [e.text for e in reviews if e.text]
    assert len(set(texts)) / len(texts) > 0.6
    for e in reviews:
        if e.text:
            product = products[e.product_id]
            own = [review_noun(n) for n in vocab.CATEGORIES[product.category].nouns if n.lower() in product.name.lower()]
            assert any(noun in e.text.lower() for noun in own), (e.text, product.name)
            assert not any(ch.isdigit() for ch in e.text)


def test_every_review_opener_names_the_product() -> None:
    assert all("{noun}" in opener for openers in vocab.REVIEW_OPENERS.values() for opener in openers)


# --- taste structure: something a recommender can learn ----------------------------------------


def test_purchases_concentrate_in_each_customers_taste_segments(small: SyntheticStore) -> None:
    # GIVEN each customer's latent segments (the categories they lean to)
    share_of_catalog = Counter(p.category for p in small.products)
    category = {p.product_id: p.category for p in small.products}
    bought: dict[str, list[str]] = defaultdict(list)
    for e in small.events:
        if e.event_type == "purchase":
            bought[e.customer_id].append(category[e.product_id])
    inside, chance = [], []
    for cid, cats in bought.items():
        mine = {c for seg in small.truth.customer_segments[cid] for c in small.truth.segment_categories[seg]}
        inside.append(sum(c in mine for c in cats) / len(cats))
        chance.append(sum(share_of_catalog[c] for c in mine) / len(small.products))
    # THEN purchases land in those categories far above what chance would give
    assert statistics.mean(inside) > 0.75
    assert statistics.mean(inside) > 2.5 * statistics.mean(chance)


def test_items_bought_together_share_a_collection(small: SyntheticStore) -> None:
    collection = small.truth.product_collection
    orders: dict[tuple, list[str]] = defaultdict(list)
    for e in small.events:
        if e.event_type == "purchase":
            orders[(e.customer_id, e.timestamp)].append(e.product_id)
    pairs = [(a, b) for items in orders.values() for i, a in enumerate(items) for b in items[i + 1 :]]
    same = sum(collection[a] == collection[b] for a, b in pairs) / len(pairs)
    n_collections = len(set(collection.values()))
    assert same > 10 / n_collections  # far above a random pair (about 1 / n_collections)


def test_ratings_follow_hidden_quality(small: SyntheticStore) -> None:
    pairs = [(small.truth.product_quality[e.product_id], e.rating) for e in small.events if e.event_type == "review"]
    assert statistics.correlation([q for q, _ in pairs], [float(r) for _, r in pairs]) > 0.4


def test_heldout_future_follows_the_same_tastes(small: SyntheticStore) -> None:
    category = {p.product_id: p.category for p in small.products}
    hits = total = 0
    for e in small.heldout_events:
        if e.event_type == "purchase":
            mine = {
                c for seg in small.truth.customer_segments[e.customer_id] for c in small.truth.segment_categories[seg]
            }
            hits += category[e.product_id] in mine
            total += 1
    assert total > 0 and hits / total > 0.6


@pytest.mark.parametrize(("n_products", "n_customers", "n_events"), [(1, 3, 50), (5, 2, 10), (60, 30, 0)])
def test_tiny_sizes_still_make_a_valid_store(tmp_path: Path, n_products: int, n_customers: int, n_events: int) -> None:
    root = generate_store(tmp_path / "s", n_products=n_products, n_customers=n_customers, n_events=n_events)
    store = load_store(root, strict=True)
    assert (len(store.products), len(store.customers), len(store.events)) == (n_products, n_customers, n_events)
    # an offer whose items the catalog lacks is left out, never offered on nothing
    assert all(o.product_ids or o.offer_id == "birthday-15" for o in store.offers)


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="expected n_products >= 1"):
        generate(n_products=0, n_customers=1, n_events=1)


# --- the real default size, once ---------------------------------------------------------------


@pytest.mark.slow
def test_default_store_meets_the_brief(tmp_path: Path) -> None:
    # GIVEN the default sizes WHEN generated and loaded strictly
    # (time budgets are measured by scripts/make_store.py's log, not asserted here)
    store = load_store(generate_store(tmp_path / "store"), strict=True)
    # THEN the counts of the brief hold
    assert len(store.products) >= 2000 and len(store.categories) >= 20
    assert (len(store.customers), len(store.events)) == (5000, 200_000)
    assert len(store.heldout_events) > 5000
