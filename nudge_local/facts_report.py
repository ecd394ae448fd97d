"""What the demo's emails show of the store's own facts (issue #14), read back from the written emails.

Counted from each email's HTML (the class names the templates give each fact) and its text part, per
campaign: cards, cards with a rating, review quotes per email, quotes holding personal data (an email
address, a phone number, a web address, or a first name of the store's customers), offers with their
code and end date, loyalty emails with a points balance. `make demo` writes the result to
build/reports/demo_facts.json with the issue's bars checked (`failed_bars`).
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from nudge_local.export import mime_part

_QUOTE = re.compile(r'<p class="quote"[^>]*>.*?&ldquo;(.*?)&rdquo;', re.DOTALL)
_CONTACT = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|https?://|www\.|\b\d[\d ()-]{6,}\d\b", re.IGNORECASE)
RATING_SHARE_BAR = 0.5  # at least half the product cards show a rating


def facts_report(out_dir: Path, entries: Iterable[Mapping[str, Any]], *, first_names: Iterable[str] = ()) -> dict[str, Any]:
    """Per campaign and overall: what the written emails show of offers, points, ratings and quotes."""
    names = {n.strip().lower() for n in first_names if len(n.strip()) >= 3}
    by_campaign: dict[str, dict[str, Any]] = {}
    for entry in entries:
        page = (out_dir / entry["html_path"]).read_text(encoding="utf-8")
        text = mime_part((out_dir / entry["eml_path"]).read_bytes(), "plain")
        counts = by_campaign.setdefault(entry["campaign_type"], {
            "emails": 0, "cards": 0, "cards_with_rating": 0, "cards_with_summary": 0, "emails_with_quote": 0,
            "max_quotes_per_email": 0, "quotes_with_personal_data": 0, "emails_with_offer": 0,
            "offers_with_code_and_end_date_in_html_and_text": 0, "emails_with_points": 0, "offer_codes": set()})
        counts["emails"] += 1
        counts["cards"] += page.count('<td class="card"')
        counts["cards_with_rating"] += page.count('<p class="rating"')
        counts["cards_with_summary"] += page.count('<p class="summary"')
        quotes = [html_lib.unescape(q) for q in _QUOTE.findall(page)]
        counts["emails_with_quote"] += bool(quotes)
        counts["max_quotes_per_email"] = max(counts["max_quotes_per_email"], len(quotes))
        counts["quotes_with_personal_data"] += sum(
            bool(_CONTACT.search(q)) or bool(names & set(re.findall(r"[a-z]+", q.lower()))) for q in quotes)
        code = re.search(r'<span class="offer-code"[^>]*>([A-Z0-9-]+)</span>', page)
        if code:
            counts["emails_with_offer"] += 1
            counts["offer_codes"].add(code.group(1))
            ends = re.search(r'<p class="facts-line"[^>]*>([^<&]+?)(?: &middot;|</p>)', page[code.end():])
            if ends and code.group(1) in text and html_lib.unescape(ends.group(1)).strip() in text:
                counts["offers_with_code_and_end_date_in_html_and_text"] += 1
        if entry["campaign_type"] == "loyalty" and '<p class="facts-head"' in page:
            counts["emails_with_points"] += 1
    for counts in by_campaign.values():
        counts["offer_codes"] = sorted(counts["offer_codes"])
        counts["rating_share"] = round(counts["cards_with_rating"] / counts["cards"], 3) if counts["cards"] else 0.0
    cards = sum(c["cards"] for c in by_campaign.values())
    rated = sum(c["cards_with_rating"] for c in by_campaign.values())
    overall = {
        "emails": sum(c["emails"] for c in by_campaign.values()),
        "rating_share": round(rated / cards, 3) if cards else 0.0,
        "campaigns_with_offer_code_and_end_date": sorted(
            k for k, c in by_campaign.items() if c["offers_with_code_and_end_date_in_html_and_text"]),
        "loyalty_emails_with_points": by_campaign.get("loyalty", {}).get("emails_with_points", 0),
        "loyalty_emails": by_campaign.get("loyalty", {}).get("emails", 0),
        "max_quotes_per_cart_email": by_campaign.get("abandoned_cart", {}).get("max_quotes_per_email", 0),
        "quotes_with_personal_data": sum(c["quotes_with_personal_data"] for c in by_campaign.values()),
    }
    return {"overall": overall, "by_campaign": by_campaign}


def failed_bars(report: Mapping[str, Any]) -> list[str]:
    """Issue #14's demo bars that the report misses (empty: all hold)."""
    o = report["overall"]
    failed = []
    if not o["campaigns_with_offer_code_and_end_date"]:
        failed.append("no campaign rendered an offer with its code and end date")
    if not o["loyalty_emails"] or o["loyalty_emails_with_points"] < o["loyalty_emails"]:
        failed.append(f"loyalty emails with a points balance: {o['loyalty_emails_with_points']} of {o['loyalty_emails']}")
    if o["rating_share"] < RATING_SHARE_BAR:
        failed.append(f"cards with a rating: {o['rating_share']:.1%} (bar {RATING_SHARE_BAR:.0%})")
    if o["max_quotes_per_cart_email"] > 1:
        failed.append(f"a cart email with {o['max_quotes_per_cart_email']} review quotes (bar: at most 1)")
    if o["quotes_with_personal_data"]:
        failed.append(f"{o['quotes_with_personal_data']} review quotes with personal data")
    return failed
