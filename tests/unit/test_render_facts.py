"""The store's own facts on a card and in the email (issue #14): ratings, review quotes, product
details, loyalty points. GIVEN products and customers with these facts WHEN an email is rendered THEN
each fact shows from the data, in the customer's language, in the HTML and the text part, and never
where the data does not support it."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest

from nudge.campaigns import get_campaign
from nudge.render import render_email, samples
from nudge.render.compose import MIN_REVIEWS_FOR_RATING, first_sentence


def email(campaign_type="new_arrivals", **overrides):
    args = samples.email_args(campaign_type, **overrides)
    return render_email(**args)


def test_a_card_shows_stars_average_and_count_from_its_reviews_only_from_the_minimum_count():
    # GIVEN p-1 rated 4.62 by 27 reviews, p-2 4.1 by 5, p-3 5.0 by only 2
    rendered = email()
    # THEN p-1 and p-2 show stars, an average to one decimal and the count; p-3 shows none
    assert "★★★★★ 4.6 · 27 reviews" in rendered.html.replace("&middot;", "·").replace("</span>", "")
    assert "4.1" in rendered.text and "(5 reviews)" in rendered.text
    assert "2 reviews" not in rendered.text and MIN_REVIEWS_FOR_RATING == 3
    assert 'aria-label="Rated 4.6 out of 5"' in rendered.html


@pytest.mark.parametrize("average,count", [(5.5, 10), (0.5, 10), (None, 10), (4.0, 2), ("nan", 9)])
def test_no_stars_for_an_average_out_of_range_missing_or_too_few_reviews(average, count):
    product = samples.product("p-9", rating_average=average, rating_count=count)
    rendered = email(items=[(product, samples.ranked("p-9"))])
    assert "★" not in rendered.html and "★" not in rendered.text


def test_ratings_follow_the_customers_language():
    rendered = email(customer=samples.customer(locale="fr_FR"), copy=samples.copy(language="fr"))
    assert "4,6" in rendered.text and "27 avis" in rendered.text


def test_one_review_quote_at_most_with_its_stars_on_the_product_it_was_written_for():
    # GIVEN two products with quotes
    items = samples.items()
    second = replace(items[1][0], review_quote="Soft and sturdy.", review_quote_rating=4)
    items[1] = (second, items[1][1])
    rendered = email("abandoned_cart", items=items)
    # THEN only the first product's quote shows, once, beside its own stars, on its own card
    html = rendered.html
    assert html.count("A customer review") == 1 and "Soft and sturdy." not in html
    cards = html.split('<td class="card"')[1:]
    quoted = [c for c in cards if "Lovely weight" in c]
    assert len(quoted) == 1 and "Stoneware mug, sage" in quoted[0] and "★★★★★" in quoted[0]
    assert "Lovely weight, and the glaze is even nicer in person." in rendered.text


def test_no_quote_outside_cart_and_new_arrival_emails_or_without_its_rating():
    assert "Lovely weight" not in email("loyalty").html
    product = samples.product("p-9", review_quote="Great.", review_quote_rating=None)
    assert "Great." not in email("new_arrivals", items=[(product, samples.ranked("p-9"))]).html


def test_a_hostile_quote_or_description_is_text_never_markup():
    product = samples.product("p-9", description="<script>alert(1)</script> Nice. More.",
                              review_quote="<img src=x onerror=alert(1)>", review_quote_rating=5)
    rendered = email(items=[(product, samples.ranked("p-9"))])
    assert "<script>" not in rendered.html and "<img src=x" not in rendered.html
    assert "&lt;img src=x onerror=alert(1)&gt;" in rendered.html


def test_a_card_carries_the_descriptions_first_sentence_and_its_own_call_to_action():
    rendered = email()
    assert "A heavy mug with a glaze that pools at the rim." in rendered.html
    assert rendered.text.count("View item: ") == 4


@pytest.mark.parametrize("description,expected", [
    ("Soft wool. Hand wash only.", "Soft wool."),
    ("No full stop at all", "No full stop at all"),
    ("", ""),
    ("word " * 60, ("word " * 28).strip() + "…"),
])
def test_first_sentence_cuts_at_a_word_boundary(description, expected):
    assert first_sentence(description, max_chars=140) == expected


def test_the_loyalty_email_shows_the_balance_what_expires_and_the_next_tier_from_data():
    # GIVEN a gold member with 3,240 points, 150 lapsing on 31 December, platinum at 4,000
    rendered = email("loyalty")
    # THEN the balance, the points to platinum and the lapse date are in both parts
    for part in (rendered.html, rendered.text):
        assert "Points balance: 3,240" in part
        assert "760 more points to Platinum" in part
        assert "150 points expire on December 31, 2026" in part or "150 points expire on 31 December 2026" in part


def test_no_points_block_without_a_balance_and_none_outside_loyalty():
    assert "oints" not in email("loyalty", customer=samples.customer(points_balance=None)).text
    assert "Points balance" not in email("new_arrivals").text


def test_points_that_lapsed_before_the_send_are_not_announced():
    customer = samples.customer(points_expiring_on=date(2026, 11, 1))
    assert "expire" not in email("loyalty", customer=customer).text


def test_loyalty_facts_in_german():
    rendered = email("loyalty", customer=samples.customer(locale="de_DE"), copy=samples.copy(language="de"))
    assert "Punktestand: 3.240" in rendered.text and "Noch 760 Punkte bis Platin" in rendered.text


def offer(**overrides):
    from decimal import Decimal

    from nudge.offers import Offer

    base = Offer(offer_id="birthday-15", title="Birthday treat", kind="percent", value=Decimal("15"), currency="GBP",
                 code="BDAY15", valid_from=date(2026, 11, 20), valid_until=date(2027, 1, 15),
                 campaign_types=("birthday_holiday",), audience="birthday", min_spend=Decimal("40"),
                 terms="One use per customer.")
    return replace(base, **overrides)


def test_an_offer_renders_with_code_value_minimum_spend_end_date_and_terms_in_every_part():
    # GIVEN a 15% birthday offer, code BDAY15, minimum spend £40, ending 15 January 2027
    rendered = email("birthday_holiday", offer=offer())
    message = rendered.eml.decode("utf-8", "replace")
    # THEN the HTML and the text part (and so the .eml) carry every fact, from the data
    for part in (re.sub(r"<[^>]+>", "", rendered.html), rendered.text):
        assert "15% off with code BDAY15" in part and "Minimum spend £40.00" in part
        assert "Ends January 15, 2027" in part or "Ends 15 January 2027" in part
        assert "One use per customer." in part and "Birthday treat" in part
    assert "BDAY15" in message


def test_an_amount_offer_is_money_in_the_customers_locale():
    from decimal import Decimal

    rendered = email("new_arrivals", offer=offer(kind="amount", value=Decimal("10.00"), code="NEW-10", min_spend=None),
                     customer=samples.customer(locale="fr_FR"), copy=samples.copy(language="fr"))
    assert "10,00\u00a0£GB de réduction avec le code NEW-10" in rendered.text


def test_an_expired_offer_is_never_rendered():
    rendered = email("birthday_holiday", offer=offer(valid_until=date(2026, 11, 28)))  # the email renders on 29 November
    assert "BDAY15" not in rendered.html and "BDAY15" not in rendered.text


def test_an_offer_whose_code_is_not_plain_is_left_out():
    rendered = email("birthday_holiday", offer=offer(code="<b>X</b>"))
    assert "X</b>" not in rendered.html and "off with code" not in rendered.text
