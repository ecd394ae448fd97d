"""Sample facts for rendering: a readable default email per campaign, with keyword overrides.

Used by the render tests, the browser test and `python -m nudge.render.samples OUT_DIR`, which
writes one sample email per campaign and the gallery (no store data needed).

>>> args = email_args("clearance")
>>> sorted(args)[:3]
['campaign', 'campaign_id', 'copy']
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from nudge.campaigns import get_campaign, load_campaigns
from nudge.types import Copy, Customer, Product, RankedItem, StoreInfo

LINK_KEY = b"sample-link-key-not-for-production"  # 34 bytes; real keys come from the config
NOW = datetime(2026, 11, 29, 9, 0, tzinfo=timezone.utc)


def store(**overrides: Any) -> StoreInfo:
    base = StoreInfo(
        name="Hearth & Home",
        postal_address="12 Market Street\nBristol BS1 4DJ\nUnited Kingdom",
        base_url="https://shop.example.com",
        sender="Hearth & Home <news@shop.example.com>",
        currency="GBP",
    )
    return replace(base, **overrides)


def customer(**overrides: Any) -> Customer:
    base = Customer(
        customer_id="c-1001",
        first_name="Ada",
        email="ada@example.com",
        locale="en_GB",
        timezone="Europe/London",
        birthday=date(1990, 11, 29),
        consent=True,
        loyalty_tier="gold",
        points_balance=3240,
        points_expiring=150,
        points_expiring_on=date(2026, 12, 31),
    )
    return replace(base, **overrides)


# (tier, points needed): what a store's store.json "loyalty" says (nudge.loyalty)
LOYALTY_TIERS = (("bronze", 0), ("silver", 500), ("gold", 1500), ("platinum", 4000))


def product(product_id: str = "p-1", **overrides: Any) -> Product:
    base = Product(
        product_id=product_id,
        name="Stoneware mug, sage",
        description="A heavy mug with a glaze that pools at the rim.",
        category="mugs",
        price=Decimal("14.00"),
        currency="GBP",
        stock=12,
        image_url=f"https://img.example.com/{product_id}.jpg",
        arrival_date=date(2026, 11, 1),
    )
    return replace(base, **overrides)


def ranked(product_id: str = "p-1", reason: str = "Because you bought the oak serving board") -> RankedItem:
    return RankedItem(product_id=product_id, score=0.9, reason=reason)


def copy(**overrides: Any) -> Copy:
    base = Copy(
        subject="Ada, a few things we think you'll love",
        preheader="Picked from what you liked last time",
        intro="We have been busy in the workshop.\n\nHere are a few pieces picked with you in mind.",
        source="fallback",
        tone="warm",
    )
    return replace(base, **overrides)


def items() -> list[tuple[Product, RankedItem]]:
    """Four products: one plain, one on clearance, one without an image, one in a long name."""
    products = [
        product("p-1", rating_average=4.62, rating_count=27, review_quote="Lovely weight, and the glaze is even nicer in person.",
                review_quote_rating=5),
        product(
            "p-2",
            name="Linen tea towel, set of two",
            price=Decimal("18.00"),
            clearance=True,
            clearance_price=Decimal("12.60"),
            category="linen",
            rating_average=4.1,
            rating_count=5,
        ),
        product("p-3", name="Oak serving board", price=Decimal("32.50"), image_url="", category="boards", rating_average=5.0,
                rating_count=2),  # two reviews: no stars shown
        product(
            "p-4",
            name="Hand-thrown porcelain pouring jug with a long and careful name",
            price=Decimal("24.00"),
            category="jugs",
        ),
    ]
    reasons = [
        "Because you bought the oak serving board",
        "Similar to things you viewed",
        "Popular with customers like you",
        "Goes well with your sage mug",
    ]
    return [(p, ranked(p.product_id, reason)) for p, reason in zip(products, reasons, strict=True)]


def keyed_items() -> list[tuple[Product, RankedItem]]:
    """`items()` with reasons as the recommender gives them, message keys and arguments, so a localized email
    shows them in its own language (the plain English reasons above are shown as given)."""
    from nudge.recommend.reasons import explain

    reasons = [explain("bought", product="Oak Board"), explain("popular", category="Kitchen"),
               explain("viewed", product="Linen Throw"), explain("new_in_liked", category="Mugs")]
    return [(p, RankedItem(r.product_id, r.score, *reason)) for (p, r), reason in zip(items(), reasons, strict=True)]


def email_args(campaign_type: str = "new_arrivals", **overrides: Any) -> dict[str, Any]:
    """Keyword arguments for `render_email`, overridable one by one."""
    args: dict[str, Any] = {
        "customer": customer(),
        "items": items(),
        "copy": copy(tone=get_campaign(campaign_type).copy.tone),
        "campaign": get_campaign(campaign_type),
        "store": store(),
        "pseudonymous_id": "u_3f9a1c",
        "campaign_id": f"{campaign_type}-2026-11-29",
        "link_key": LINK_KEY,
        "now": NOW,
        "loyalty_tiers": LOYALTY_TIERS,
    }
    args.update(overrides)
    return args


def write_samples(out_dir: Path, *, emails: list[dict[str, Any]] | None = None) -> Path:
    """Render emails into `out_dir/emails/` (html, txt, json, eml) and the gallery into `out_dir`.

    `emails` is a list of `render_email` keyword arguments; by default one sample per campaign.
    Returns the gallery's index.html.
    """
    from nudge.render import render_email
    from nudge.render.gallery import manifest_entry, write_gallery

    (out_dir / "emails").mkdir(parents=True, exist_ok=True)
    entries = []
    for args in emails if emails is not None else [email_args(name) for name in load_campaigns()]:
        email = render_email(**args)
        stem = f"{args['campaign_id']}_{args['pseudonymous_id']}"
        paths = {ext: f"emails/{stem}.{ext}" for ext in ("html", "txt", "json", "eml")}
        (out_dir / paths["html"]).write_text(email.html, encoding="utf-8")
        (out_dir / paths["txt"]).write_text(email.text, encoding="utf-8")
        (out_dir / paths["eml"]).write_bytes(email.eml)
        entry = manifest_entry(
            email=email,
            campaign=args["campaign"],
            campaign_id=args["campaign_id"],
            pseudonymous_id=args["pseudonymous_id"],
            copy=args["copy"],
            items=args["items"],
            html_path=paths["html"],
            json_path=paths["json"],
            eml_path=paths["eml"],
        )
        (out_dir / paths["json"]).write_text(json.dumps(entry, indent=2, ensure_ascii=False), encoding="utf-8")
        entries.append(entry)
    return write_gallery(out_dir, entries)


if __name__ == "__main__":
    print(write_samples(Path(sys.argv[1] if len(sys.argv) > 1 else "build/gallery-samples")))
