"""Typed values passed between the core modules. Plain dataclasses: no AWS, no I/O.

Money is a `Decimal` in the product's currency; timestamps are timezone-aware UTC `datetime`s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

EVENT_TYPES = ("view", "add_to_cart", "purchase", "review")
CAMPAIGN_TYPES = (
    "new_arrivals",
    "abandoned_cart",
    "birthday_holiday",
    "loyalty",
    "clearance",
    "win_back",
)
LOYALTY_TIERS = ("none", "bronze", "silver", "gold", "platinum")


@dataclass(frozen=True, slots=True)
class Product:
    product_id: str
    name: str
    description: str
    category: str
    price: Decimal
    currency: str  # ISO 4217, e.g. "GBP"
    stock: int
    image_url: str  # "" when the product has no image
    arrival_date: date
    clearance: bool = False
    clearance_price: Decimal | None = None  # the discounted price when on clearance
    url: str = ""
    # Catalog attributes an email may mention; always from the data, never from a model.
    material: str = ""  # a short lower-case phrase, e.g. "stoneware"; "" when unknown
    colour: str = ""  # a short lower-case phrase, e.g. "sage green"; "" when unknown
    # Social proof, computed offline from review events (scripts/social_proof.py) and exported with the
    # catalog; never written by a model. A card shows stars only from MIN_REVIEWS_FOR_RATING reviews on.
    rating_average: float | None = None  # mean star rating, 1..5; None: no reviews
    rating_count: int = 0  # reviews behind rating_average
    review_quote: str = ""  # one short positive review of this product, names and contacts removed; "" none
    review_quote_rating: int | None = None  # the quoted review's own stars (a quote never shows without them)


@dataclass(frozen=True, slots=True)
class Customer:
    customer_id: str  # pseudonymous store id; never an email address
    first_name: str
    email: str
    locale: str  # BCP 47 with underscore, e.g. "en_GB"
    timezone: str  # IANA, e.g. "Europe/London"
    birthday: date | None
    consent: bool  # marketing email consent
    loyalty_tier: str = "none"
    signup_date: date | None = None
    # Loyalty points, from the store's data (customers.csv); None: the store does not run points.
    points_balance: int | None = None
    points_expiring: int | None = None  # points that lapse on points_expiring_on
    points_expiring_on: date | None = None


@dataclass(frozen=True, slots=True)
class Event:
    customer_id: str
    product_id: str
    event_type: str  # one of EVENT_TYPES
    timestamp: datetime
    quantity: int = 1
    rating: int | None = None  # 1..5 for reviews
    text: str = ""  # review text


@dataclass(frozen=True, slots=True)
class RankedItem:
    product_id: str
    score: float
    reason: str  # human-readable English: "Because you bought Blue Mug"
    reason_key: str = ""  # nudge.recommend.reasons.REASONS key: the renderer shows it in the customer's language
    reason_args: tuple[tuple[str, str], ...] = ()  # (("product", "Blue Mug"),)


@dataclass(frozen=True, slots=True)
class Copy:
    subject: str
    preheader: str
    intro: str
    source: str  # "model" or "fallback"
    tone: str
    model_version: str = ""
    rejected_reasons: tuple[str, ...] = ()
    # The language subject, preheader and intro are written in (nudge.copy.languages.COPY_LANGUAGES:
    # the customer's when the copywriter writes it, else the store's default). The email's fixed
    # wording follows it (nudge.i18n.choose_language `written_in`), so an email is in one language.
    language: str = "en"


@dataclass(slots=True)
class Profile:
    """What the generate function knows of one customer: the customer plus a short history."""

    customer: Customer
    purchased: list[str] = field(default_factory=list)  # product ids, most recent first
    # the day each of `purchased` was last bought (parallel list; empty in profiles written before it),
    # for repeat purchases (nudge.recommend.repurchase)
    purchased_on: list[date | None] = field(default_factory=list)
    viewed: list[str] = field(default_factory=list)
    carted: list[str] = field(default_factory=list)
    last_order_at: datetime | None = None
    recent_review_rating: int | None = None
    recent_review_text: str = ""
    suppressed: bool = False
    top_categories: list[str] = field(default_factory=list)  # by weighted interest, highest first
    cart_updated_at: datetime | None = None
    last_marketing_sent_at: datetime | None = None
    # Opt-outs written by the link endpoint (nudge.endpoints): everything (one-click unsubscribe, or
    # "all" on the preferences page), or some campaign types (CAMPAIGN_TYPES) only.
    opted_out: bool = False
    opted_out_campaigns: list[str] = field(default_factory=list)  # sorted campaign types
    # True once the publish step recorded PSEUDO#<pid> -> customer id for this customer
    # (ProfileStore.put_profiles with the pseudonym key): the generate step then writes no mapping.
    pseudonym_recorded: bool = False

    def opted_out_of(self, campaign_type: str) -> bool:
        """True when this customer asked for no more `campaign_type` emails (or none at all)."""
        return self.opted_out or campaign_type in self.opted_out_campaigns


@dataclass(frozen=True, slots=True)
class StoreInfo:
    """The sending store: facts for the footer, links and headers (from the store's store.json)."""

    name: str
    postal_address: str
    base_url: str  # https://shop.example.com
    sender: str  # "Shop <news@shop.example.com>"
    currency: str = "GBP"
    unsubscribe_url: str = ""  # https endpoint for one-click unsubscribe; default base_url + /unsubscribe
    unsubscribe_mailto: str = ""  # mailto address for List-Unsubscribe; default unsubscribe@<sender domain>
    preferences_url: str = ""
    # The link endpoint's click redirect (https); when set, product and call-to-action links go
    # through it (recorded, then 302 to the catalog's URL). "" links straight to the store.
    click_url: str = ""
    open_url: str = ""  # the endpoint's open pixel (https); "" puts no pixel in emails
    # The store's own locale: an email whose customer's language has no catalog (nudge.i18n) gets
    # its fixed wording in this locale's language (prices keep the customer's locale when Babel knows it).
    default_locale: str = "en_GB"
