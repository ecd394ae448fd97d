"""One email from facts: HTML, plain text and the MIME message.

Facts (names, prices, links) come from the catalog, the customer and the store; words come from
`Copy` (already slot-filled) and the campaign theme. Every data string is cleaned (controls and
bidi overrides removed, length bounded) in `_facts`, then escaped by Jinja's autoescape.
"""

from __future__ import annotations

import re

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from babel import Locale
from babel.numbers import format_currency, format_decimal, format_percent

from nudge.campaigns import CampaignDefinition
from nudge.errors import RenderError
from nudge.i18n import LanguageChoice, N_, choose_language, gettext_functions
from nudge.recommend.reasons import localized_reason
from nudge.render import links, mime
from nudge.render.sanitize import clean_block, clean_line, paragraphs, safe_http_url
from nudge.render.templating import email_templates, theme_for
from nudge.types import Copy, Customer, Product, RankedItem, StoreInfo

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
TIER_LABELS = {"bronze": N_("Bronze"), "silver": N_("Silver"), "gold": N_("Gold"), "platinum": N_("Platinum")}
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
    }


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
) -> RenderedEmail:
    """Render one email: HTML, plain text and the .eml, deterministic for the same arguments.

    Every link token expires `link_ttl` after `links_issued_at` (default `now`; the generate step
    passes the campaign's planned send date, so a re-render mints the same tokens).

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
