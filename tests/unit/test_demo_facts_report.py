"""The demo's store-facts report (nudge_local.facts_report): GIVEN emails rendered with known facts
WHEN read back from disk THEN the counts are those facts, and the bars fail when a fact is missing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from nudge.offers import Offer
from nudge.render import render_email, samples
from nudge_local.facts_report import facts_report, failed_bars

OFFER = Offer(offer_id="clear", title="Last call", kind="percent", value=Decimal("10"), currency="GBP", code="CLEAR10",
              valid_from=date(2026, 11, 1), valid_until=date(2026, 12, 14), campaign_types=("clearance",))


def write(tmp_path, name, campaign_type, **overrides):
    rendered = render_email(**samples.email_args(campaign_type, **overrides))
    folder = tmp_path / name
    folder.mkdir()
    (folder / "email.html").write_text(rendered.html, encoding="utf-8")
    (folder / "email.eml").write_bytes(rendered.eml)
    return {"campaign_type": campaign_type, "html_path": f"{name}/email.html", "eml_path": f"{name}/email.eml"}


def test_the_report_counts_ratings_quotes_offers_and_points(tmp_path):
    entries = [write(tmp_path, "a", "abandoned_cart"), write(tmp_path, "c", "clearance", offer=OFFER),
               write(tmp_path, "l", "loyalty")]
    report = facts_report(tmp_path, entries, first_names=["Ada"])
    overall = report["overall"]
    # samples: 4 cards per email, 2 of them rated; one quote in the cart email; the clearance offer; points
    assert overall["rating_share"] == 0.5 and overall["max_quotes_per_cart_email"] == 1
    assert overall["campaigns_with_offer_code_and_end_date"] == ["clearance"]
    assert overall["loyalty_emails_with_points"] == 1 == overall["loyalty_emails"]
    assert overall["quotes_with_personal_data"] == 0 and failed_bars(report) == []


def test_a_quote_with_a_customers_name_or_an_address_is_counted(tmp_path):
    items = samples.items()
    items[0] = (replace(items[0][0], review_quote="Ada says write to ada@example.com"), items[0][1])
    report = facts_report(tmp_path, [write(tmp_path, "a", "abandoned_cart", items=items)], first_names=["Ada"])
    assert report["overall"]["quotes_with_personal_data"] == 1
    assert any("personal data" in bar for bar in failed_bars(report))


def test_missing_points_and_offers_fail_their_bars(tmp_path):
    report = facts_report(tmp_path, [write(tmp_path, "l", "loyalty", customer=samples.customer(points_balance=None))])
    assert any("offer" in bar for bar in failed_bars(report)) and any("points" in bar for bar in failed_bars(report))
