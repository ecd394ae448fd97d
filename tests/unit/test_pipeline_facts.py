"""Brief facts: GIVEN a job, a profile and ranked products WHEN the pipeline builds the brief's
facts THEN each comes from data, only in the campaign that can hold it, and never twice."""

from datetime import date
from decimal import Decimal

from factories import profile

from nudge.jobs import Job, JobContext
from nudge.pipeline import brief_facts
from nudge.recommend import Catalog
from nudge.types import Product


def product(pid, name, **kw):
    return Product(product_id=pid, name=name, description="", category=kw.pop("category", "Mugs"), price=Decimal("10"),
                   currency="GBP", stock=5, image_url="", arrival_date=date(2026, 1, 1), **kw)


PRODUCTS = {
    "p1": product("p1", "Blue Mug", material="stoneware", colour="navy"),
    "p2": product("p2", "Linen Throw", material="linen", colour="sage green", category="Throws"),
    "p3": product("p3", "Oak Board"),
}
CATALOG = Catalog.from_products(PRODUCTS)


def job(kind, **context):
    return Job(campaign_id="c-2026", campaign_type=kind, customer_id="c1", send_date=date(2026, 12, 1),
               context=JobContext(**context))


def test_abandoned_cart_names_the_cart_item_and_features_another_product():
    # GIVEN a cart holding p1, ranked cart-first, and a past purchase of p3
    facts = brief_facts(job("abandoned_cart", cart_items=("p1",)), profile(purchased=["p3"]),
                        [PRODUCTS["p1"], PRODUCTS["p2"]], CATALOG)
    # THEN the cart item is p1, the featured product p2 (so the copy can pair them), with p2's colour;
    # the material "linen" is already in its name, so it is left out
    assert facts["cart_item"] == "Blue Mug" and facts["featured"].product_id == "p2"
    assert facts["colour"] == "sage green" and facts["material"] == ""
    assert facts["last_bought"] == "Oak Board" and facts["occasion"] == facts["tier"] == ""


def test_occasion_is_the_holiday_or_the_birthday_and_only_in_its_campaign():
    p = profile()
    assert brief_facts(job("birthday_holiday", holiday="Christmas"), p, [PRODUCTS["p1"]], CATALOG)["occasion"] == "Christmas"
    assert brief_facts(job("birthday_holiday"), p, [PRODUCTS["p1"]], CATALOG)["occasion"] == "birthday"
    assert brief_facts(job("new_arrivals", holiday="Christmas"), p, [PRODUCTS["p1"]], CATALOG)["occasion"] == ""


def test_tier_only_in_loyalty_and_never_none():
    gold = profile(customer_overrides={"loyalty_tier": "gold"})
    assert brief_facts(job("loyalty"), gold, [PRODUCTS["p1"]], CATALOG)["tier"] == "gold"
    assert brief_facts(job("win_back"), gold, [PRODUCTS["p1"]], CATALOG)["tier"] == ""
    assert brief_facts(job("loyalty"), profile(customer_overrides={"loyalty_tier": "none"}), [PRODUCTS["p1"]], CATALOG)["tier"] == ""


def test_a_purchase_gone_from_the_catalog_is_no_fact_and_no_products_means_no_featured():
    facts = brief_facts(job("win_back"), profile(purchased=["gone"]), [], CATALOG)
    assert facts["last_bought"] == "" and facts["featured"] is None and facts["colour"] == facts["material"] == ""


def test_a_product_bought_before_is_not_featured_while_a_new_pick_is_left():
    # GIVEN win-back (or a due reorder) ranking the Blue Mug they bought first, then the throw
    facts = brief_facts(job("win_back"), profile(purchased=["p1"]), [PRODUCTS["p1"], PRODUCTS["p2"]], CATALOG)
    # THEN the copy features the throw, a new pick, and may pair it with the mug
    assert facts["featured"].product_id == "p2" and facts["last_bought"] == "Blue Mug"


def test_a_last_purchase_that_is_the_featured_product_is_left_out():
    # win-back may recommend only what was bought: "To go with Blue Mug, we chose Blue Mug" must not be written
    facts = brief_facts(job("win_back"), profile(purchased=["p1"]), [PRODUCTS["p1"]], CATALOG)
    assert facts["featured"].product_id == "p1" and facts["last_bought"] == ""


def test_the_featured_product_is_never_another_item_of_the_cart_when_a_recommendation_is_not():
    # GIVEN a cart of p1 and p2, both ranked first (still in the basket), then p3
    facts = brief_facts(job("abandoned_cart", cart_items=("p1", "p2")), profile(),
                        [PRODUCTS["p1"], PRODUCTS["p2"], PRODUCTS["p3"]], CATALOG)
    # THEN the copy pairs the cart item with p3, not with the other thing already in the cart
    assert facts["cart_item"] == "Blue Mug" and facts["featured"].product_id == "p3"
    # AND with nothing outside the cart, the other cart item is featured rather than the cart item itself
    only_cart = brief_facts(job("abandoned_cart", cart_items=("p1", "p2")), profile(), [PRODUCTS["p1"], PRODUCTS["p2"]], CATALOG)
    assert only_cart["featured"].product_id == "p2"


LONG = product("p9", "Solstice Ink Blue Embroidered Cotton Floor Cushion", colour="ink blue")  # 50 characters


def test_a_name_too_long_for_its_slot_is_never_offered_cut():
    # GIVEN a first recommendation and a last purchase whose name the slot would cut ("…")
    catalog = Catalog.from_products({**PRODUCTS, "p9": LONG})
    facts = brief_facts(job("win_back"), profile(purchased=["p9"]), [LONG, PRODUCTS["p1"]], catalog)
    # THEN the featured product is the next one whose name fits, and the long purchase is no fact
    assert facts["featured"].product_id == "p1" and facts["last_bought"] == ""
    # AND when no recommendation fits, the first is still featured (the slot cuts it, as before)
    assert brief_facts(job("win_back"), profile(), [LONG], catalog)["featured"].product_id == "p9"
