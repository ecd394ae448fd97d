"""How varied and how personal the demo's copy is, measured the way a reader would (issue #11, item 2).

Each email's filled subject, preheader and intro get their data values put back as slots (the
customer's first name, the products and categories it shows, the store, the product bought last,
the cart's items, the occasion, the tier, the products' material and colour), which gives its
"skeleton": what is left is what the copywriter chose. Per campaign:

  subject_skeletons / preheader_skeletons  distinct skeletons / emails        (bar >= 0.30)
  intros / intro_skeletons                 distinct intros / emails            (bar >= 0.90, filled)
  personal_subjects                        subjects holding the customer's name, category, last
                                           purchase, cart item, tier or occasion (bar >= 0.80)
  personal_subjects_with_product           the same, counting a recommended product too
  personal_preheaders                      preheaders holding any of the above or a product
  top_line_share                           the most frequent line (a subject, preheader or intro
                                           sentence skeleton): emails holding it / emails (bar <= 0.25)
  quoted_errors                            emails holding a broken phrase that issue #11 quoted (bar 0)

Offline only (the demo and its tests); nothing here runs in Lambda.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from nudge.copy.phrasebook import sentences
from nudge.copy.slots import SLOT_MAX_CHARS, as_modifier, clean_name, clean_value
from nudge.copy.writer import CUSTOMER_SLOTS

# The broken sentences issue #11 quoted from the previous model's emails: none may come back.
QUOTED_ERRORS = (
    "We kept your Ann, you left", "We kept your picks are safe", "Here is waiting for you need",
    "would like a few pieces you", "to make celebrating a small easier", "wanted to thanks",
    "new Tea best-loved finds", "look through with us",
)
BARS = {"subject_skeletons": (">=", 0.30), "preheader_skeletons": (">=", 0.30), "intros": (">=", 0.90),
        "personal_subjects": (">=", 0.80), "top_line_share": ("<=", 0.25), "quoted_errors": ("<=", 0)}


def skeleton(text: str, values: Iterable[tuple[str, str]]) -> str:
    """`text` with every data value put back as its slot, longest values first, whole words only.

    >>> skeleton("Hi Ada, Blue Mug is in Mug pieces", [("first_name", "Ada"), ("product", "Blue Mug"), ("category", "Mugs")])
    'Hi {first_name}, {product} is in {category} pieces'
    """
    forms: dict[str, str] = {}
    for slot, value in values:
        if not value:
            continue
        cleaned = clean_name(value) if slot == "first_name" else clean_value(value, max_chars=SLOT_MAX_CHARS.get(slot, 48))
        for form in {value, cleaned, as_modifier(cleaned)}:
            if len(form) >= 2:
                forms.setdefault(form, slot)
    for form in sorted(forms, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(form)}(?!\w)", "{" + forms[form] + "}", text, flags=re.IGNORECASE)
    return text


def copy_variety(emails: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per campaign: the measures above. Each email: campaign_type, subject, preheader, intro (filled),
    values (list of (slot, value) pairs)."""
    by_campaign: dict[str, list[dict[str, str]]] = {}
    for email in emails:
        values = email["values"]
        by_campaign.setdefault(email["campaign_type"], []).append(
            {"subject": skeleton(email["subject"], values), "preheader": skeleton(email["preheader"], values),
             "intro": skeleton(email["intro"], values), "filled_intro": email["intro"],
             "text": " ".join((email["subject"], email["preheader"], email["intro"]))})
    report = {}
    for campaign, rows in sorted(by_campaign.items()):
        n = len(rows)
        customer_slot = re.compile(r"\{(" + "|".join(sorted(CUSTOMER_SLOTS)) + r")\}")
        customer_or_product = re.compile(r"\{(" + "|".join(sorted(CUSTOMER_SLOTS | {"product", "material", "colour"})) + r")\}")
        lines: Counter = Counter()
        for row in rows:
            lines.update({("subject", row["subject"]), ("preheader", row["preheader"])}
                         | {("intro", s) for s in sentences(row["intro"])})
        (top_field, top_line), top_count = lines.most_common(1)[0]
        report[campaign] = {
            "emails": n,
            "subject_skeletons": round(len({r["subject"] for r in rows}) / n, 3),
            "preheader_skeletons": round(len({r["preheader"] for r in rows}) / n, 3),
            "intros": round(len({r["filled_intro"] for r in rows}) / n, 3),
            "intro_skeletons": round(len({r["intro"] for r in rows}) / n, 3),
            "personal_subjects": round(sum(bool(customer_slot.search(r["subject"])) for r in rows) / n, 3),
            "personal_subjects_with_product": round(sum(bool(customer_or_product.search(r["subject"])) for r in rows) / n, 3),
            "personal_preheaders": round(sum(bool(customer_or_product.search(r["preheader"])) for r in rows) / n, 3),
            "top_line_share": round(top_count / n, 3),
            "top_line": f"{top_field}: {top_line}",
            "quoted_errors": sum(any(q.lower() in r["text"].lower() for q in QUOTED_ERRORS) for r in rows),
        }
    return report


def failed_bars(report: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """'campaign: measure value (bar)' for each bar a campaign misses."""
    out = []
    for campaign, measures in report.items():
        for name, (op, bar) in BARS.items():
            value = measures[name]
            if (op == ">=" and value < bar) or (op == "<=" and value > bar):
                out.append(f"{campaign}: {name} {value} (bar {op} {bar})")
    return out


def demo_emails(out_dir: Path, store: Any, profiles: Mapping[str, Any], pseudonym_key: str) -> list[dict[str, Any]]:
    """The demo's emails (out/emails/*/*/email.json) with the data values each could hold."""
    from nudge.holidays.rules import load_calendar
    from nudge.identity import pseudonymize

    occasions = ["birthday"] + sorted({name for entry in load_calendar()[1] for name in entry.names.values()})
    key = pseudonym_key.encode() if isinstance(pseudonym_key, str) else pseudonym_key
    by_pseudo = {pseudonymize(cid, key=key): cid for cid in store.customers}
    emails = []
    for path in sorted(out_dir.glob("emails/*/*/email.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        customer = store.customers[by_pseudo[record["customer"]]]
        profile = profiles.get(customer.customer_id)
        products = [store.products[i["product_id"]] for i in record["items"] if i["product_id"] in store.products]
        # the customer's own facts first: a name that is both the cart item and a shown product is the cart item
        values = [("first_name", customer.first_name),
                  ("tier", customer.loyalty_tier.title() if customer.loyalty_tier != "none" else "")]
        if profile is not None:
            values += [("cart_item", store.products[i].name) for i in profile.carted if i in store.products]
            values += [("last_bought", store.products[i].name) for i in profile.purchased[:1] if i in store.products]
        if record["campaign"]["type"] == "birthday_holiday":
            values += [("occasion", name) for name in occasions]
        values += [("product", p.name) for p in products] + [("category", p.category) for p in products]
        values += [("material", getattr(p, "material", "")) for p in products] + [("colour", getattr(p, "colour", "")) for p in products]
        values.append(("store_name", store.info.name))
        emails.append({"campaign_type": record["campaign"]["type"], "subject": record["copy"]["subject"],
                       "preheader": record["copy"]["preheader"], "intro": record["copy"]["intro"], "values": values,
                       "language": record["copy"].get("language", "en")})
    return emails


__all__ = ["BARS", "QUOTED_ERRORS", "copy_variety", "demo_emails", "failed_bars", "skeleton"]
