"""One email from facts: HTML, plain text and the MIME message.

Facts (names, prices, links) come from the catalog, the customer and the store; words come from
`Copy` (already slot-filled) and the campaign theme. Every data string is cleaned (controls and
bidi overrides removed, length bounded) in `_facts`, then escaped by Jinja's autoescape.
"""

from __future__ import annotations

import re

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Sequence
from urllib.parse import quote

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

from nudge.campaigns import CampaignDefinition
from nudge.errors import RenderError
from nudge.i18n import LanguageChoice, N_, choose_language, gettext_functions
from nudge.recommend.reasons import localized_reason
from nudge.render import links, mime
from nudge.render.sanitize import ELLIPSIS, clean_block, clean_line, paragraphs, safe_http_url
from nudge.render.templating import email_templates, theme_for
from nudge.loyalty import TIER_LABELS, next_tier
from nudge.types import LOYALTY_TIERS, Copy, Customer, Product, RankedItem, StoreInfo

if TYPE_CHECKING:  # nudge.offers is built beside this module; only its type is needed here
    from nudge.offers import Offer

# Length limits, in characters, after cleaning (a longer value is cut with an ellipsis).
MAX_SUBJECT = 120  # inbox lists show ~60; headers fold at 78 anyway
MAX_PREHEADER = 150
MAX_INTRO = 1500
MAX_FIRST_NAME = 40
MAX_PRODUCT_NAME = 120
MAX_REASON = 160
MAX_STORE_NAME = 80
MAX_ADDRESS = 400
MAX_ITEMS = 12  # Gmail clips messages over 102 KB; 12 cards stay far below
MAX_SUMMARY = 140  # a card's description: its first sentence, cut at a word boundary
MAX_QUOTE = 160
MAX_OFFER_TITLE = 80
MAX_OFFER_TERMS = 300
MIN_REVIEWS_FOR_RATING = 3  # fewer reviews are not a rating a reader should lean on: no stars shown
QUOTE_CAMPAIGNS = ("abandoned_cart", "new_arrivals")  # the emails that may quote one review (issue #14)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
SUBJECT_FALLBACK = N_("%(campaign)s at %(store)s")  # when the copy has no subject
TRANSLATED_THEME_KEYS = ("banner", "greeting", "greeting_anonymous", "products_heading", "cta_label", "why")


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str  # cleaned, as in the Subject header (before RFC 2047 encoding)
    preheader: str
    html: str
    text: str
    eml: bytes  # CRLF line ends, ready for SES SendRawEmail
    message_id: str  # "<digest.nudge@domain>"
    language: LanguageChoice | None = None  # the catalog the chrome came from (the record keeps it)


def _translated_theme(theme: dict[str, str], gettext: Any) -> dict[str, str]:
    """The theme with its words in the catalog's language (colours and paths as they are)."""
    return {key: (gettext(value) if key in TRANSLATED_THEME_KEYS and value else value) for key, value in theme.items()}


def _amount(value: Any, *, product_id: str) -> Decimal:
    """A price as a finite Decimal >= 0 (a float is read through str: 12.5 -> Decimal("12.5"))."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise RenderError(f"product {product_id!r}: price must be a number, got {value!r}") from exc
    if not amount.is_finite() or amount < 0:
        raise RenderError(f"product {product_id!r}: price must be a finite amount >= 0, got {value!r}")
    return amount


def _money(amount: Decimal, currency: str, locale: Locale) -> str:
    try:
        return format_currency(amount, currency, locale=locale)
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise RenderError(f"price {amount!r} {currency!r} cannot be formatted: {exc}") from exc


def _product_url(url: str, *, base_url: str, product_id: str) -> str:
    """The product's own URL when safe (a site-relative one joined to the store), else /products/<id>."""
    if url and url.startswith("/") and not url.startswith("//"):
        url = base_url + url
    return safe_http_url(url) or f"{base_url}/products/{quote(product_id, safe='')}"


def product_page(product: Product, *, base_url: str) -> str:
    """Where a link to `product` lands: its catalog URL when safe, else <base_url>/products/<id>.
    The email's direct links and the click endpoint's redirect (nudge.endpoints) both use it."""
    return _product_url(product.url, base_url=base_url.rstrip("/"), product_id=product.product_id)


def _link(target: str, *, store: StoreInfo, campaign_id: str, token: str, content: str) -> str:
    """A tracked link: through the click endpoint when the store has one (it records the click,
    then redirects to the destination the token names), else straight to `target` with UTM and token."""
    click_endpoint = safe_http_url(store.click_url)
    if click_endpoint:
        return links.with_params(click_endpoint, {links.TOKEN_PARAM: token})
    return links.tracked_url(target, campaign_id=campaign_id, token=token, content=content)


def _currency(product: Product, store: StoreInfo) -> str:
    code = (product.currency or store.currency or "").strip().upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise RenderError(f"product {product.product_id!r}: currency must be an ISO 4217 code, got {code!r}")
    return code


def _fill(template: str, *, store: str) -> str:
    return template.replace("{store}", store)  # replace, not format: a store name may hold braces


_SALUTATION = re.compile(r"^\s*(hi|hello|hey|dear|good (morning|afternoon|evening|news)|happy|welcome)\b", re.IGNORECASE)


def _opens_with_salutation(intro: str, first_name: str) -> bool:
    """True when the copy already greets the reader ("Hi Ada, ...", "Ada, ..."): the template's
    own greeting line would then say hello twice."""
    head = intro.lstrip()[:60]
    return bool(_SALUTATION.match(head)) or bool(first_name) and head.startswith(first_name)


def _greeting(theme: dict[str, str], *, first_name: str, store: str, intro: str = "") -> dict[str, str] | None:
    if _opens_with_salutation(intro, first_name):
        return None
    if not first_name:
        return {"before": _fill(theme["greeting_anonymous"], store=store), "name": "", "after": ""}
    before, _, after = theme["greeting"].partition("{first_name}")
    return {"before": _fill(before, store=store), "name": first_name, "after": _fill(after, store=store)}


def _card(
    product: Product,
    ranked: RankedItem,
    *,
    locale: Locale,
    gettext: Any,
    ngettext: Any,
    store: StoreInfo,
    base_url: str,
    campaign_id: str,
    pseudonymous_id: str,
    link_key: bytes,
    expires_at: int,
    campaign_type: str,
) -> dict[str, Any]:
    currency = _currency(product, store)
    name = clean_line(product.name, max_chars=MAX_PRODUCT_NAME) or clean_line(product.product_id, max_chars=40)
    regular = _amount(product.price, product_id=product.product_id)
    reduced = None
    if product.clearance and product.clearance_price is not None:
        reduced = _amount(product.clearance_price, product_id=product.product_id)
    on_sale = reduced is not None and reduced < regular  # a "clearance" price that is not lower is no saving
    price = reduced if on_sale else regular
    target = _product_url(product.url, base_url=base_url, product_id=product.product_id)
    token = links.sign_click(
        campaign_id=campaign_id, product_id=product.product_id, pseudonymous_id=pseudonymous_id, link_key=link_key,
        expires_at=expires_at, campaign_type=campaign_type,
    )
    saving = 0
    if on_sale and regular > 0:  # floor: never overstate a saving
        saving = int(((regular - price) * 100 / regular).to_integral_value(rounding=ROUND_DOWN))
    cta = (gettext("Complete your order") if ranked.reason_key == "in_cart"
           else gettext("Buy again") if ranked.reason_key in ("reorder", "reorder_soon") else gettext("View item"))
    return {
        "name": name,
        "price": _money(price, currency, locale),
        "was": _money(regular, currency, locale) if on_sale else "",
        "saving_percent": saving,
        "saving_label": format_percent(Decimal(saving) / 100, locale=locale),  # "30%", "30 %"
        "reason": clean_line(localized_reason(ranked.reason, ranked.reason_key, ranked.reason_args, gettext),
                             max_chars=MAX_REASON),
        "image_url": safe_http_url(product.image_url) or "",
        "url": _link(target, store=store, campaign_id=campaign_id, token=token, content=product.product_id),
        "summary": first_sentence(product.description, max_chars=MAX_SUMMARY),
        "rating": _rating(product.rating_average, product.rating_count, locale=locale, gettext=gettext, ngettext=ngettext),
        "cta": cta,
        "quote": None,  # set on one card at most, by render_email (QUOTE_CAMPAIGNS)
    }


def first_sentence(description: str, *, max_chars: int) -> str:
    """The description's first sentence, cleaned to one line and cut at a word boundary.

    >>> first_sentence("Hand-thrown stoneware. Dishwasher safe.", max_chars=140)
    'Hand-thrown stoneware.'
    >>> first_sentence("A very long and winding description of a mug", max_chars=20)
    'A very long and…'
    """
    text = clean_line(description, max_chars=4 * max_chars)
    end = _SENTENCE_END.search(text)
    text = text[: end.start()] if end else text
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars].rsplit(" ", 1)[0].rstrip(" ,;:-–—")
    return (cut or text[: max_chars - 1]) + ELLIPSIS


def _stars(rating: float) -> str:
    """Five stars, the rating rounded half up to whole stars: 4.5 -> ★★★★★, 4.4 -> ★★★★☆."""
    filled = int(Decimal(str(rating)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return "★" * filled + "☆" * (5 - filled)


def _rating(average: float | None, count: int, *, locale: Locale, gettext: Any, ngettext: Any) -> dict[str, str] | None:
    """Stars, the average and the review count in the customer's language, or None: no rating shown under
    MIN_REVIEWS_FOR_RATING reviews, or for an average outside 1..5 (bad data is not shown, never clamped)."""
    try:
        average = float(average) if average is not None else None
        count = int(count)
    except (TypeError, ValueError):
        return None
    if average is None or not 1.0 <= average <= 5.0 or count < MIN_REVIEWS_FOR_RATING:
        return None
    shown = format_decimal(round(average, 1), format="0.0", locale=locale)
    return {
        "stars": _stars(average),
        "average": shown,
        "label": gettext("Rated %(average)s out of 5") % {"average": shown},
        "count": ngettext("%(num)s review", "%(num)s reviews", count) % {"num": format_decimal(count, locale=locale)},
    }


def _quote(product: Product, *, gettext: Any) -> dict[str, str] | None:
    """The product's review quote with its own stars, or None (no quote, or a quote without a rating)."""
    text = clean_line(product.review_quote, max_chars=MAX_QUOTE)
    stars = product.review_quote_rating
    if not text or not isinstance(stars, int) or isinstance(stars, bool) or not 1 <= stars <= 5:
        return None
    return {"text": text, "stars": _stars(stars), "label": gettext("Rated %(average)s out of 5") % {"average": stars},
            "by": gettext("A customer review")}


def render_email(
    *,
    customer: Customer,
    items: list[tuple[Product, RankedItem]],
    copy: Copy,
    campaign: CampaignDefinition,
    store: StoreInfo,
    pseudonymous_id: str,
    campaign_id: str,
    link_key: bytes,
    now: datetime,
    links_issued_at: datetime | None = None,
    link_ttl: links.LinkTtl = links.LinkTtl(),
    offer: Offer | None = None,
    loyalty_tiers: Sequence[tuple[str, int]] = (),
) -> RenderedEmail:
    """Render one email: HTML, plain text and the .eml, deterministic for the same arguments.

    Every link token expires `link_ttl` after `links_issued_at` (default `now`; the generate step
    passes the campaign's planned send date, so a re-render mints the same tokens).

    `offer` (nudge.offers.Offer): rendered with its code, value, minimum spend, end date and terms,
    unless it has expired by `now` (then it is left out: an expired offer is never rendered).
    `loyalty_tiers` ((tier, points needed), ascending, from the store's data): the loyalty email
    shows the customer's points balance, what expires when, and the points to the next tier.

    Raises RenderError when the facts cannot make an email: no items, a malformed customer
    address or store sender, a price that is not a finite amount in an ISO 4217 currency, a store
    base URL that is not http(s), an unsubscribe URL that is not https, a short link_key, a naive
    `now`. Data text is never refused: it is cleaned, truncated and escaped.

    >>> email = render_email(customer=c, items=[(p, r)], copy=cp, campaign=get_campaign("loyalty"),
    ...                      store=s, pseudonymous_id="u_1", campaign_id="loyalty-2026-11",
    ...                      link_key=key, now=now)  # doctest: +SKIP
    >>> email.eml.startswith(b"From: ")  # doctest: +SKIP
    True
    """
    if not items:
        raise RenderError(f"campaign {campaign_id!r}: an email needs at least one product, got none")
    base_url = safe_http_url(store.base_url)
    if not base_url:
        raise RenderError(f"store base_url must be an absolute http(s) URL, got {store.base_url!r}")
    base_url = base_url.rstrip("/")
    sender = mime.parse_mailbox(store.sender, what="store sender")
    domain = sender.domain

    # The customer's locale picks the catalog; one without a catalog falls back to the store's locale;
    # and the wording is always in the copy's language (one language per email).
    language = choose_language(customer.locale, default_locale=store.default_locale, written_in=copy.language)
    locale = language.locale
    translate = gettext_functions(language.language)
    gettext, ngettext = translate["gettext"], translate["ngettext"]
    theme = _translated_theme(theme_for(campaign.campaign_type), gettext)
    in_cart = sum(1 for _, ranked in items[:MAX_ITEMS] if ranked.reason_key == "in_cart")
    if in_cart:  # a cart reminder counts what is still in the cart (the language's plural rules)
        theme["products_heading"] = ngettext(
            "%(num)s item still in your cart", "%(num)s items still in your cart", in_cart
        ) % {"num": format_decimal(in_cart, locale=locale)}
    store_name = clean_line(store.name, max_chars=MAX_STORE_NAME) or domain
    first_name = clean_line(customer.first_name, max_chars=MAX_FIRST_NAME)
    recipient = mime.mailbox(
        display_name=first_name, addr_spec=customer.email, what=f"customer {pseudonymous_id} email"
    )
    subject = clean_line(copy.subject, max_chars=MAX_SUBJECT) or clean_line(
        gettext(SUBJECT_FALLBACK) % {"campaign": gettext(campaign.title), "store": store_name}, max_chars=MAX_SUBJECT
    )
    preheader = clean_line(copy.preheader, max_chars=MAX_PREHEADER)

    issued = links_issued_at or now
    if issued.tzinfo is None or issued.utcoffset() is None:
        raise RenderError(f"links_issued_at and now must be timezone-aware, got {issued!r}")
    identity = {"campaign_id": campaign_id, "pseudonymous_id": pseudonymous_id, "link_key": link_key,
                "campaign_type": campaign.campaign_type}
    click_expires = link_ttl.expires_at(links.CLICK, issued=issued)
    # the account pages read the email's language from their (signed) token
    unsubscribe_token = links.sign_unsubscribe(**identity, expires_at=link_ttl.expires_at(links.UNSUBSCRIBE, issued=issued),
                                               language=language.language)
    preferences_token = links.sign_preferences(**identity, expires_at=link_ttl.expires_at(links.PREFERENCES, issued=issued),
                                               language=language.language)
    unsubscribe_endpoint = safe_http_url(store.unsubscribe_url) or f"{base_url}/unsubscribe"
    if not unsubscribe_endpoint.lower().startswith("https://"):  # RFC 8058 one-click needs https
        raise RenderError(f"the unsubscribe URL must be https for one-click unsubscribe, got {unsubscribe_endpoint!r}")
    unsubscribe_url = links.with_params(unsubscribe_endpoint, {links.TOKEN_PARAM: unsubscribe_token})
    preferences_url = links.with_params(
        safe_http_url(store.preferences_url) or f"{base_url}/preferences", {links.TOKEN_PARAM: preferences_token}
    )
    mailto = mime.mailbox(
        display_name="",
        addr_spec=(store.unsubscribe_mailto or f"unsubscribe@{domain}").removeprefix("mailto:"),
        what="store unsubscribe_mailto",
    ).addr_spec
    # The call to action and the header link name their page in the (signed) token, so the click
    # endpoint can send them there without ever reading a destination from the query.
    cta_token = links.sign_click(**identity, product_id="", expires_at=click_expires, path=theme["cta_path"])
    home_token = links.sign_click(**identity, product_id="", expires_at=click_expires, path="/")
    open_endpoint = safe_http_url(store.open_url)
    open_pixel_url = ""
    if open_endpoint:
        open_token = links.sign_open(**identity, expires_at=click_expires)
        open_pixel_url = links.with_params(open_endpoint, {links.TOKEN_PARAM: open_token})

    context = {
        **translate,  # gettext / ngettext for the templates' _() and {% trans %}
        "lang": language.html_lang,  # the catalog's language and the locale's region: "fr-FR", "zh-Hans-CN"
        "direction": language.direction,  # "ltr" or "rtl"
        "subject": subject,
        "preheader": preheader,
        "theme": theme,
        "store_name": store_name,
        "home_url": _link(base_url + "/", store=store, campaign_id=campaign_id, token=home_token, content="header"),
        "greeting": _greeting(theme, first_name=first_name, store=store_name, intro=copy.intro),
        "intro": paragraphs(clean_block(copy.intro, max_chars=MAX_INTRO)),
        "tier": _tier(customer.loyalty_tier, gettext),
        "cards": [
            _card(
                product,
                ranked,
                locale=locale,
                gettext=gettext,
                ngettext=ngettext,
                store=store,
                base_url=base_url,
                campaign_id=campaign_id,
                pseudonymous_id=pseudonymous_id,
                link_key=link_key,
                expires_at=click_expires,
                campaign_type=campaign.campaign_type,
            )
            for product, ranked in items[:MAX_ITEMS]
        ],
        "cta_url": _link(base_url + theme["cta_path"], store=store, campaign_id=campaign_id, token=cta_token, content="cta"),
        "why": _fill(theme["why"], store=store_name),
        "postal_address": [
            line for line in clean_block(store.postal_address, max_chars=MAX_ADDRESS).splitlines() if line
        ],
        "unsubscribe_url": unsubscribe_url,
        "preferences_url": preferences_url,
        "open_pixel_url": open_pixel_url,
    }
    if campaign.campaign_type in QUOTE_CAMPAIGNS:  # one quote at most, on the card of the product it was written for
        for card, (product, _) in zip(context["cards"], items):
            if (quote := _quote(product, gettext=gettext)) is not None:
                card["quote"] = quote
                break
    context["offer"] = _offer(offer, locale=locale, gettext=gettext, today=now.date())
    context["loyalty"] = _loyalty(customer, loyalty_tiers, locale=locale, gettext=gettext, ngettext=ngettext,
                                  today=now.date()) if campaign.campaign_type == "loyalty" else None
    html_template, text_template = email_templates(campaign.campaign_type)
    html = html_template.render(context)
    text = _tidy_text(text_template.render(context))
    message_id = mime.message_id(campaign_id=campaign_id, pseudonymous_id=pseudonymous_id, domain=domain)
    eml = mime.build_eml(
        sender=sender,
        recipient=recipient,
        subject=subject,
        date=now,
        message_id=message_id,
        unsubscribe_url=unsubscribe_url,
        unsubscribe_mailto=f"mailto:{mailto}?subject=unsubscribe%20{unsubscribe_token}",
        feedback_id=mime.feedback_id(campaign_type=campaign.campaign_type, campaign_id=campaign_id),
        text=text,
        html=html,
    )
    return RenderedEmail(subject=subject, preheader=preheader, html=html, text=text, eml=eml, message_id=message_id,
                         language=language)


_OFFER_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{2,19}")


def _offer(offer: Offer | None, *, locale: Locale, gettext: Any, today: Any) -> dict[str, str] | None:
    """The offer's facts in the customer's language, or None: no offer, or one that has expired by `today`
    (never rendered), or one whose code is not a plain code (nudge.offers validates it on load; this
    is the last line)."""
    if offer is None or offer.valid_until < today or not _OFFER_CODE.fullmatch(offer.code or ""):
        return None
    if offer.kind == "percent":
        value = format_percent(Decimal(offer.value) / 100, locale=locale)
    else:
        value = _money(Decimal(offer.value), offer.currency, locale)
    ends = format_date(offer.valid_until, format="long", locale=locale)
    headline = gettext("%(value)s off with code %(code)s") % {"value": value, "code": offer.code}
    before, _, after = headline.partition(offer.code)  # the HTML sets the code apart, wherever the language puts it
    return {
        "title": clean_line(offer.title, max_chars=MAX_OFFER_TITLE),
        "headline": headline,
        "before_code": before,
        "after_code": after,
        "code": offer.code,
        "min_spend": gettext("Minimum spend %(amount)s") % {"amount": _money(Decimal(offer.min_spend), offer.currency, locale)}
        if offer.min_spend else "",
        "scope": gettext("On selected items") if offer.product_ids or offer.categories else "",
        "ends": gettext("Ends %(date)s") % {"date": ends},
        "terms": clean_line(offer.terms, max_chars=MAX_OFFER_TERMS),
    }


def _loyalty(customer: Customer, tiers: Sequence[tuple[str, int]], *, locale: Locale, gettext: Any, ngettext: Any,
             today: Any) -> dict[str, str] | None:
    """The member's points in the customer's language (balance, what lapses when, the next tier), or None
    when the store runs no points for this customer."""
    balance = customer.points_balance
    if not isinstance(balance, int) or isinstance(balance, bool) or balance < 0:
        return None
    num = lambda n: format_decimal(n, locale=locale)  # noqa: E731
    out = {"tier": _tier(customer.loyalty_tier, gettext),
           "balance": gettext("Points balance: %(num)s") % {"num": num(balance)},
           "next": "", "expiring": ""}
    upcoming = next_tier(tuple(tiers), customer.loyalty_tier, balance) if customer.loyalty_tier in LOYALTY_TIERS else None
    if upcoming is not None and upcoming[1] > 0:
        out["next"] = ngettext("%(num)s more point to %(tier)s", "%(num)s more points to %(tier)s", upcoming[1]) % {
            "num": num(upcoming[1]), "tier": _tier(upcoming[0], gettext)}
    expiring, on = customer.points_expiring, customer.points_expiring_on
    if isinstance(expiring, int) and 0 < expiring <= balance and on is not None and on >= today:
        out["expiring"] = ngettext("%(num)s point expires on %(date)s", "%(num)s points expire on %(date)s", expiring) % {
            "num": num(expiring), "date": format_date(on, format="long", locale=locale)}
    return out


def _tier(tier: str, gettext: Any) -> str:
    """The loyalty tier's name in the catalog's language ("" for none)."""
    if not tier or tier == "none":
        return ""
    label = TIER_LABELS.get(tier)
    return gettext(label) if label else clean_line(tier, max_chars=20).title()


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):  # at most one blank line in a row
            out.append(line)
    return "\n".join(out).strip() + "\n"
