"""A deterministic synthetic store with real taste structure, for development and evaluation.

    generate_store("build/store", seed=7)   # 2,400 products, 5,000 customers, 200,000 events

The same seed gives byte-identical files (a `random.Random(seed)` stream, and a second one for
the catalog attributes so that adding them changed nothing else; no set iteration, no wall
clock). The latent model, which a recommender should be able to learn:

- **Taste segments** (`vocabulary.SEGMENTS`): groups of categories one kind of customer buys
  ("cosy evenings": candles, throws, cushions...). Each segment has a centre in a 4-d style space.
- **Collections**: named ranges ("Harbour", "Ember") spanning 3-6 categories, with a style vector,
  a price level and a quality. Items of one collection are bought together (complements).
- **Items**: a category and a collection; style = the collection's plus noise; a price level
  (0 budget .. 1 premium) that sets the price within the category's range; a hidden quality that
  drives reviews and conversion; a popularity. Material and colour come from the words the name
  was built from (`vocabulary.MATERIAL_OF` and friends), so they never contradict it; ~15% of
  items are left without each, as real catalogs are patchy.
- **Customers**: 1-3 segments (weighted), favourite collections, a price bucket, an activity
  level, an active window (lapsed customers stop 95+ days before as_of; ~12% never shop).
- **Sessions**: an anchor item (taste pick 60%, favourite collection 15%, complement of an
  earlier purchase 10%, popular item 15%), more views in the same category, carts, a checkout
  (sometimes with a same-collection complement in the same order), later reviews whose rating
  follows the item's quality. **Consumables** (candles, home fragrance, bath & body) are bought
  again by a share of their buyers after a category's typical interval (`REPLENISHMENT`).
- **History** covers the 365 days before as_of (00:00 UTC); **held-out** events the 14 days after,
  from the same model. About 45% of the items that arrived in the last 30 days are **cold**: they
  have no history events, only held-out ones. Abandoned carts: ~4% of active customers added
  items to a cart in the 48 hours before as_of and did not buy.
- **Loyalty and offers**: members (a tier above none) get a points balance inside their tier's
  band of `LOYALTY_TIER_POINTS` (written to store.json as "loyalty"), about a third of them with
  points lapsing within 30 days of as_of; offers.json holds a birthday offer, a clearance offer
  ending 14 days after as_of and a new-arrivals offer, all dated from as_of so that none has
  expired on it. Both come from their own random stream (or none), so everything else is as before.
"""

from __future__ import annotations

import json
import math
import random
import unicodedata
from bisect import bisect
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from itertools import accumulate
from pathlib import Path

from nudge.loyalty import DEFAULT_POINTS_NAME, Tiers
from nudge.offers import Offer
from nudge.store import format as fmt
from nudge.store import vocabulary as vocab
from nudge.store.writer import write_store
from nudge.types import Customer, Event, Product, StoreInfo

AS_OF = date(2026, 11, 20)  # the "today" of the generated data; fixed so output depends on seed only
HISTORY_DAYS = 365
HELDOUT_DAYS = 14
STYLE_DIMS = 4
STORE_INFO = StoreInfo(
    name="Hearth & Thread",
    postal_address="12 Example Street, Bristol BS1 4XX, United Kingdom",
    base_url="https://shop.example.com",
    sender="Hearth & Thread <news@shop.example.com>",
    currency="GBP",
)
IMAGE_URL = "https://cdn.example.com/img/{product_id}.jpg"

# Shares (of products or customers) the generator aims at.
NEW_ARRIVAL_SHARE = 0.05  # arrived in the 30 days before as_of
COLD_SHARE_OF_NEW = 0.45  # of those, no history events at all
NO_IMAGE_SHARE = 0.03
OUT_OF_STOCK_SHARE = 0.06
CLEARANCE_SHARE = 0.08
# Left blank on purpose (unknown), on top of items whose words give none (bath & body, wall art):
# ~15% of products without a material and ~15% without a colour in all.
NO_MATERIAL_SHARE = 0.08
NO_COLOUR_SHARE = 0.06
CONSENT_SHARE = 0.85
NO_BIRTHDAY_SHARE = 0.08
INACTIVE_SHARE = 0.12  # customers with no events at all
LAPSED_SHARE = 0.12  # of active customers: no activity in the last 95+ days
ABANDONED_CART_SHARE = 0.04  # of active, not lapsed customers
TIER_SHARES = (("platinum", 0.04), ("gold", 0.08), ("silver", 0.15), ("bronze", 0.23))  # by spend rank
# store.json "loyalty": the points at which each tier starts. A member's balance lies in their
# tier's band (platinum: up to PLATINUM_SPAN above its threshold).
LOYALTY_TIER_POINTS: Tiers = (("bronze", 0), ("silver", 500), ("gold", 1500), ("platinum", 4000))
PLATINUM_SPAN = 6000
EXPIRING_SHARE = 0.35  # of members: some points lapse within EXPIRY_WINDOW_DAYS of as_of
EXPIRY_WINDOW_DAYS = 30
NEW_ARRIVAL_DAYS = 30
# Consumables: category -> (share of purchases bought again, mean days until then). A reorder comes a
# gamma-distributed interval later (shape 4: most between half and twice the mean); a customer who
# reordered once orders again with REORDER_AGAIN. History reorders stop at the customer's active
# window; one that falls in the held-out fortnight (customer not lapsed) is a held-out purchase.
REPLENISHMENT = {"candles": (0.35, 50.0), "home fragrance": (0.30, 60.0), "bath & body": (0.40, 40.0)}
REORDER_AGAIN = 0.75  # an item that arrived this many days before as_of or fewer is new

# Session mix for the first item a customer looks at.
ANCHOR_MIX = (("taste", 0.60), ("favourite", 0.15), ("complement", 0.10), ("popular", 0.15))
MONTH_WEIGHTS = (0.8, 0.75, 0.85, 0.85, 0.9, 0.85, 0.85, 0.85, 0.9, 1.0, 1.35, 1.5)  # Jan..Dec: a gift shop's year
# Local hour of day (the customer's zone, standard time): evenings busiest.
HOUR_WEIGHTS = (
    1,
    0.6,
    0.4,
    0.3,
    0.3,
    0.4,
    0.8,
    1.5,
    2.2,
    2.6,
    2.8,
    3,
    3.2,
    3,
    2.8,
    2.8,
    3,
    3.4,
    4,
    4.6,
    4.8,
    4.2,
    3,
    1.8,
)
PRICE_BUCKETS = (0.2, 0.5, 0.8)  # budget, mid, premium: centres on the 0..1 price level
PRICE_BUCKET_SHARES = (0.35, 0.45, 0.20)

_HOURS = tuple(range(24))
_ANCHOR_RULES, _ANCHOR_WEIGHTS = zip(*ANCHOR_MIX, strict=True)
Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(slots=True)
class _Collection:
    name: str
    segment: int
    categories: list[str]
    style: tuple[float, ...]
    level: float
    quality: float


@dataclass(slots=True)
class _Item:
    index: int
    product_id: str
    category: str
    collection: int
    style: tuple[float, ...]
    level: float
    quality: float
    popularity: float
    arrival: date
    cold: bool
    price: Decimal = Decimal("0")
    review_noun: str = ""  # what a review calls it: "mantel clock", "pair of hoop earrings", "set of tumblers"


def review_noun(noun: str) -> str:
    """How a review names a product of type `noun`, singular so that "this {noun} is" reads well: the noun
    itself, or a pair or set of a plural one (a category-wide noun put "What a find this necklace is" on
    earrings in a demo quote).

    >>> review_noun("Mantel Clock"), review_noun("Hoop Earrings"), review_noun("Tumblers"), review_noun("Glass")
    ('mantel clock', 'pair of hoop earrings', 'set of tumblers', 'glass')
    """
    lower = noun.lower()
    if not lower.endswith("s") or lower.endswith("ss"):
        return lower
    worn = ("earrings", "gloves", "mittens", "socks", "slippers", "boots")
    return ("pair of " if lower.endswith(worn) else "set of ") + lower


@dataclass(slots=True)
class _Shopper:
    customer_id: str
    segments: list[int]
    # (segment, category) choices with cumulative weights: where this customer's taste picks land
    choices: list[tuple[int, str]]
    choice_cum: list[float]
    favourites: list[int]  # collection indices
    bucket: int
    utc_offset: int  # hours, the customer's zone in standard time (local hour - offset = UTC hour)
    activity: float
    start: datetime
    end: datetime
    lapsed: bool
    purchases: list[int] = field(default_factory=list)  # item indices, in generation order


@dataclass(frozen=True, slots=True)
class GeneratorTruth:
    """The latent model behind a synthetic store, for sanity tests of recommenders."""

    segment_categories: dict[str, tuple[str, ...]]
    customer_segments: dict[str, tuple[str, ...]]  # customer id -> taste segments, main first
    product_collection: dict[str, str]
    product_quality: dict[str, float]
    cold_products: tuple[str, ...]  # arrived recently, no history events
    lapsed_customers: tuple[str, ...]
    abandoned_cart_customers: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "segment_categories": {k: list(v) for k, v in self.segment_categories.items()},
            "customer_segments": {k: list(v) for k, v in self.customer_segments.items()},
            "product_collection": self.product_collection,
            "product_quality": {k: round(v, 4) for k, v in self.product_quality.items()},
            "cold_products": list(self.cold_products),
            "lapsed_customers": list(self.lapsed_customers),
            "abandoned_cart_customers": list(self.abandoned_cart_customers),
        }


@dataclass(slots=True)
class SyntheticStore:
    info: StoreInfo
    as_of: date
    products: list[Product]
    customers: list[Customer]
    events: list[Event]  # sorted by time, before the cut-off
    heldout_events: list[Event]  # sorted by time, in the HELDOUT_DAYS after the cut-off
    truth: GeneratorTruth
    config: dict[str, int | str]
    offers: list[Offer] = field(default_factory=list)  # offers.json: valid on as_of
    loyalty_tiers: Tiers = ()
    points_name: str = DEFAULT_POINTS_NAME


def _dot(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def _clamp(x: float, low: float = 0.0, high: float = 1.0) -> float:
    return low if x < low else high if x > high else x


def _ascii(text: str) -> str:
    """Fold a name into an email local part: 'Jürgen' -> 'jurgen', "O'Neill" -> 'oneill'."""
    text = text.replace("ß", "ss").replace("ı", "i")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _price(rng: random.Random, low: float, high: float, level: float) -> Decimal:
    """A shop-like price within [low, high], higher for higher levels: 12.50, 24.99, 38.00."""
    raw = low * (high / low) ** level
    whole = max(1, int(raw))
    ending = rng.choices(("0.00", "0.50", "0.95", "0.99"), weights=(0.35, 0.2, 0.15, 0.3))[0]
    if whole >= 20 and ending == "0.50":
        ending = "0.00"
    return Decimal(whole) + Decimal(ending)


def _clearance_price(rng: random.Random, price: Decimal) -> Decimal:
    raw = float(price) * rng.uniform(0.45, 0.8)
    candidate = (
        Decimal(max(1, int(raw))) - Decimal("0.01")
        if raw >= 2
        else Decimal(str(raw)).quantize(Decimal("0.01"), ROUND_DOWN)
    )
    if not Decimal("0.01") <= candidate < price:
        candidate = (price * Decimal("0.7")).quantize(Decimal("0.01"), ROUND_DOWN)
    return candidate


class _Generator:
    def __init__(
        self, *, seed: int, n_products: int, n_customers: int, n_events: int, as_of: date, progress: Progress | None
    ) -> None:
        if n_products < 1 or n_customers < 1 or n_events < 0:
            raise ValueError(
                f"expected n_products >= 1, n_customers >= 1, n_events >= 0, "
                f"got {n_products}, {n_customers}, {n_events}"
            )
        self.rng = random.Random(seed)
        self.attribute_rng = random.Random(f"{seed}/attributes")  # its own stream: all else as before
        self.reorder_rng = random.Random(f"{seed}/reorders")  # consumables bought again (REPLENISHMENT)
        self.heldout_reorders: list[list[tuple]] = []  # reorders due in the held-out fortnight
        self.seed, self.n_products, self.n_customers, self.n_events = seed, n_products, n_customers, n_events
        self.as_of = as_of
        self.cutoff = fmt.cutoff(as_of)
        self.progress = progress or (lambda stage, done, total: None)
        self.categories = list(vocab.CATEGORIES)
        self.segment_names = list(vocab.SEGMENTS)
        self.segment_cats = [vocab.SEGMENTS[s] for s in self.segment_names]
        # categories whose items come in COLOURS (some of them patterned instead)
        self.colour_categories = frozenset(
            c for c, spec in vocab.CATEGORIES.items() if set(vocab.COLOURS) <= set(spec.modifiers)
        )
        self._tables: dict[tuple[int, str, int], tuple[list[int], list[float]]] = {}

    # --- catalog ------------------------------------------------------------------------------

    def _style(self, centre: tuple[float, ...] | None, spread: float) -> tuple[float, ...]:
        g = self.rng.gauss
        if centre is None:
            return tuple(g(0.0, spread) for _ in range(STYLE_DIMS))
        return tuple(c + g(0.0, spread) for c in centre)

    def make_collections(self) -> None:
        rng = self.rng
        self.segment_centres = [self._style(None, 1.0) for _ in self.segment_names]
        n = max(len(self.categories) // 2, round(self.n_products / 30))
        collections: list[_Collection] = []
        for k in range(n):
            segment = k % len(self.segment_names)
            own = list(self.segment_cats[segment])
            cats = rng.sample(own, k=min(len(own), rng.randint(2, 4)))
            if rng.random() < 0.5:
                extra = rng.choice(self.categories)
                if extra not in cats:
                    cats.append(extra)
            base = vocab.COLLECTION_NAMES[k % len(vocab.COLLECTION_NAMES)]
            name = (
                base
                if k < len(vocab.COLLECTION_NAMES)
                else f"{base} {('Studio', 'House', 'Edit', 'Loom')[(k // len(vocab.COLLECTION_NAMES) - 1) % 4]}"
            )
            collections.append(
                _Collection(
                    name=name,
                    segment=segment,
                    categories=cats,
                    style=self._style(self.segment_centres[segment], 0.5),
                    level=rng.random(),
                    quality=rng.gauss(0.0, 0.5),
                )
            )
        by_category: dict[str, list[int]] = {c: [] for c in self.categories}
        for index, coll in enumerate(collections):
            for c in coll.categories:
                by_category[c].append(index)
        for c in self.categories:  # every category sold by at least one collection
            if not by_category[c]:
                homes = [i for i, coll in enumerate(collections) if c in self.segment_cats[coll.segment]] or list(
                    range(len(collections))
                )
                index = rng.choice(homes)
                collections[index].categories.append(c)
                by_category[c].append(index)
        self.collections = collections
        self.collections_by_category = by_category

    def _attributes(self, category: str, material: str, modifier: str) -> tuple[str, str]:
        """(material, colour) of an item whose name was built from `material` and `modifier`."""
        rng = self.attribute_rng
        known_material = vocab.MATERIAL_OF.get(material, material.lower())
        if material in vocab.COLOUR_OF_MATERIAL:
            colour = vocab.COLOUR_OF_MATERIAL[material]
        elif modifier in vocab.COLOURS:
            colour = vocab.COLOUR_OF.get(modifier, modifier.lower())
        elif category in self.colour_categories:  # a pattern, printed on one of the colours
            pick = rng.choice(vocab.COLOURS)
            colour = vocab.COLOUR_OF.get(pick, pick.lower())
        else:
            palette = vocab.GROUND_COLOURS.get(category, ())
            colour = rng.choice(palette) if palette else ""
        # One draw each, always, so that one item's blanks never shift the next item's.
        drop_material, drop_colour = rng.random() < NO_MATERIAL_SHARE, rng.random() < NO_COLOUR_SHARE
        return ("" if drop_material else known_material), ("" if drop_colour else colour)

    def make_products(self) -> list[Product]:
        rng = self.rng
        cat_weights = [rng.uniform(0.6, 1.4) for _ in self.categories]
        n_forced = min(self.n_products, 2 * len(self.categories))
        cats = [self.categories[i % len(self.categories)] for i in range(n_forced)]
        cats += rng.choices(self.categories, weights=cat_weights, k=self.n_products - n_forced)
        rng.shuffle(cats)
        width = max(5, len(str(self.n_products)))
        n_new = round(self.n_products * NEW_ARRIVAL_SHARE)
        new_flags = [True] * n_new + [False] * (self.n_products - n_new)
        rng.shuffle(new_flags)
        names: set[str] = set()
        items: list[_Item] = []
        fields: list[dict[str, object]] = []
        for index, category in enumerate(cats):
            spec = vocab.CATEGORIES[category]
            coll_index = rng.choice(self.collections_by_category[category])
            coll = self.collections[coll_index]
            product_id = f"p{index + 1:0{width}d}"
            for attempt in range(8):
                noun, material, modifier = (
                    rng.choice(spec.nouns),
                    rng.choice(spec.materials),
                    rng.choice(spec.modifiers),
                )
                pattern = rng.random()
                if pattern < 0.5:
                    name = f"{coll.name} {modifier} {material} {noun}"
                elif pattern < 0.7:
                    name = f"{coll.name} {material} {noun}"
                else:
                    name = f"{coll.name} {modifier} {noun}"
                if attempt >= 5:
                    name += " " + ("Large", "Small", "Mini", "Deluxe", "Grand", "Petite")[attempt % 6]
                if name not in names:
                    break
            else:
                name = f"{name} ({product_id})"
            names.add(name)
            level = _clamp(coll.level + rng.gauss(0.0, 0.15))
            is_new = new_flags[index]
            arrival = self.as_of - timedelta(days=rng.randint(1, 30) if is_new else rng.randint(31, 730))
            item = _Item(
                index=index,
                product_id=product_id,
                category=category,
                collection=coll_index,
                style=self._style(coll.style, 0.35),
                level=level,
                quality=coll.quality + rng.gauss(0.0, 0.8),
                popularity=math.exp(rng.gauss(0.0, 1.0)),
                arrival=arrival,
                cold=is_new and rng.random() < COLD_SHARE_OF_NEW,
                review_noun=review_noun(noun),
            )
            item.price = _price(rng, *spec.price, level)
            adj = rng.choice(vocab.ADJECTIVES)
            article = "an" if adj[0] in "aeiou" or adj.startswith("heirloom") else "a"  # "an heirloom": a silent h
            plural = noun.lower().endswith("s") and not noun.lower().endswith("ss")  # "gloves", not "glass"
            a_adj = adj if plural else f"{article} {adj}"
            description = rng.choice(vocab.DESCRIPTION_TEMPLATES).format(
                adj=adj,
                Adj=adj[0].upper() + adj[1:],
                a=article,
                A=article.capitalize(),
                a_adj=a_adj,
                A_adj=a_adj[0].upper() + a_adj[1:],
                noun=noun.lower(),
                material=material.lower(),
                modifier=modifier.lower(),
                collection=coll.name,
                detail=rng.choice(spec.details),
            )
            stock = 0 if rng.random() < OUT_OF_STOCK_SHARE else int(math.exp(rng.uniform(0.0, 5.3)))
            image_url = "" if rng.random() < NO_IMAGE_SHARE else IMAGE_URL.format(product_id=product_id)
            known_material, colour = self._attributes(category, material, modifier)
            items.append(item)
            fields.append(
                dict(
                    product_id=product_id,
                    name=name,
                    description=description,
                    category=category,
                    stock=stock,
                    image_url=image_url,
                    material=known_material,
                    colour=colour,
                )
            )
        # Clearance: older stock (arrived 120+ days ago), still on the shelf.
        old = [i for i, item in enumerate(items) if (self.as_of - item.arrival).days >= 120]
        clearance = set(rng.sample(old, k=min(len(old), round(self.n_products * CLEARANCE_SHARE))))
        products = []
        for i, (item, f) in enumerate(zip(items, fields, strict=True)):
            on_clearance = i in clearance
            products.append(
                Product(
                    product_id=item.product_id,
                    name=str(f["name"]),
                    description=str(f["description"]),
                    category=item.category,
                    price=item.price,
                    currency=STORE_INFO.currency,
                    stock=max(int(f["stock"]), rng.randint(3, 40)) if on_clearance else int(f["stock"]),  # type: ignore[call-overload]
                    image_url=str(f["image_url"]),
                    arrival_date=item.arrival,
                    clearance=on_clearance,
                    clearance_price=_clearance_price(rng, item.price) if on_clearance else None,
                    material=str(f["material"]),
                    colour=str(f["colour"]),
                )
            )
        self.items = items
        self.items_by_collection: dict[int, list[int]] = {}
        self.items_by_category: dict[str, list[int]] = {}
        for item in items:
            self.items_by_collection.setdefault(item.collection, []).append(item.index)
            self.items_by_category.setdefault(item.category, []).append(item.index)
        self.popular_cum = list(accumulate(item.popularity for item in items))
        return products

    # --- customers ----------------------------------------------------------------------------

    def make_customers(self) -> list[Customer]:
        rng = self.rng
        locales, locale_weights = zip(*vocab.LOCALES, strict=True)
        width = max(5, len(str(self.n_customers)))
        emails: set[str] = set()
        customers: list[Customer] = []
        shoppers: list[_Shopper] = []
        for n in range(self.n_customers):
            customer_id = f"c{n + 1:0{width}d}"
            locale = rng.choices(locales, weights=locale_weights)[0]
            zones, zone_weights = zip(*vocab.TIMEZONES[locale], strict=True)
            first = rng.choice(vocab.FIRST_NAMES[locale])
            last = rng.choice(vocab.LAST_NAMES[locale])
            domain = "example.com" if rng.random() < 0.8 else "example.org"
            while True:
                email = f"{_ascii(vocab.ROMANIZED.get(first, first))}.{_ascii(vocab.ROMANIZED.get(last, last))}{rng.randint(1, 999)}@{domain}"
                if email not in emails:
                    emails.add(email)
                    break
            birthday = None
            if rng.random() >= NO_BIRTHDAY_SHARE:
                birthday = date(rng.randint(1950, 2006), 1, 1) + timedelta(days=rng.randrange(365))
                if birthday.month == 12 and birthday.day == 31 and birthday.year % 4 == 0:
                    birthday = birthday.replace(day=30)
            signup = self.as_of - timedelta(days=rng.randint(1, 3 * 365))
            customers.append(
                Customer(
                    customer_id=customer_id,
                    first_name=first,
                    email=email,
                    locale=locale,
                    timezone=rng.choices(zones, weights=zone_weights)[0],
                    birthday=birthday,
                    consent=rng.random() < CONSENT_SHARE,
                    loyalty_tier="none",  # set from spend once the history exists
                    signup_date=signup,
                )
            )
            shoppers.append(self._shopper(customer_id, signup, customers[-1].timezone))
        self._force_birthdays(customers)
        self.customers = customers
        self.shoppers = shoppers
        return customers

    def _shopper(self, customer_id: str, signup: date, timezone: str) -> _Shopper:
        rng = self.rng
        k = rng.choices((1, 2, 3), weights=(0.45, 0.35, 0.20))[0]
        segments = rng.sample(range(len(self.segment_names)), k=k)
        seg_weights = sorted((rng.expovariate(1.0) + 0.2 for _ in segments), reverse=True)  # main segment first
        choices: list[tuple[int, str]] = []
        weights: list[float] = []
        for segment, w in zip(segments, seg_weights, strict=True):
            cats = self.segment_cats[segment]
            for c in cats:
                choices.append((segment, c))
                weights.append(w * rng.uniform(0.4, 1.6) / len(cats))
        pool = [i for i, coll in enumerate(self.collections) if coll.segment in segments]
        favourites = rng.sample(pool, k=min(len(pool), 2))
        window_start = max(
            datetime.combine(signup, datetime.min.time(), tzinfo=UTC), self.cutoff - timedelta(days=HISTORY_DAYS)
        )
        activity = 0.0 if rng.random() < INACTIVE_SHARE else math.exp(rng.gauss(0.0, 0.9))
        end = self.cutoff
        lapsed = False
        if activity and rng.random() < LAPSED_SHARE:
            candidate = self.cutoff - timedelta(days=rng.randint(95, 270))
            if candidate - window_start >= timedelta(days=14):
                end, lapsed = candidate, True
        return _Shopper(
            customer_id=customer_id,
            segments=segments,
            choices=choices,
            choice_cum=list(accumulate(weights)),
            favourites=favourites,
            bucket=rng.choices((0, 1, 2), weights=PRICE_BUCKET_SHARES)[0],
            utc_offset=vocab.UTC_OFFSETS[timezone],
            activity=activity,
            start=window_start,
            end=end,
            lapsed=lapsed,
        )

    def _force_birthdays(self, customers: list[Customer]) -> None:
        """A few birthdays on as_of and on each of the next 7 days, so the birthday campaign has
        an audience at any size."""
        rng = self.rng
        per_day = max(1, self.n_customers // 500)
        for offset in range(8):
            day = self.as_of + timedelta(days=offset)
            for index in rng.sample(range(len(customers)), k=min(len(customers), per_day if offset else 2 * per_day)):
                c = customers[index]
                year = rng.randint(1955, 2004)
                try:
                    birthday = day.replace(year=year)
                except ValueError:  # 29 February in a common year
                    birthday = day.replace(year=year, day=28)
                customers[index] = Customer(
                    c.customer_id,
                    c.first_name,
                    c.email,
                    c.locale,
                    c.timezone,
                    birthday,
                    c.consent,
                    c.loyalty_tier,
                    c.signup_date,
                )

    # --- item choice --------------------------------------------------------------------------

    def _table(self, segment: int, category: str, bucket: int) -> tuple[list[int], list[float]]:
        """Items of a category weighted for one segment and price bucket (cached)."""
        key = (segment, category, bucket)
        table = self._tables.get(key)
        if table is None:
            centre, target = self.segment_centres[segment], PRICE_BUCKETS[bucket]
            members = self.items_by_category.get(category, [])
            weights = [
                self.items[j].popularity ** 0.7
                * math.exp(0.6 * _dot(self.items[j].style, centre))
                * math.exp(-4.0 * (self.items[j].level - target) ** 2)
                * math.exp(0.3 * self.items[j].quality)
                for j in members
            ]
            table = self._tables[key] = (members, list(accumulate(weights)))
        return table

    def _draw(self, members: list[int], cum: list[float]) -> int:
        return members[bisect(cum, self.rng.random() * cum[-1]) if len(members) > 1 else 0]

    def _available(self, index: int, when: datetime, heldout: bool) -> bool:
        item = self.items[index]
        return item.arrival <= when.date() and (heldout or not item.cold)

    def _pick(
        self,
        shopper: _Shopper,
        when: datetime,
        heldout: bool,
        *,
        how: str,
        category: str | None = None,
        base: int | None = None,
    ) -> int | None:
        """An available item (arrived by `when`; not cold in history) chosen by rule `how`:
        taste, favourite (collection), complement (same collection as `base` or a recent
        purchase, other category), popular. A rule with no answer falls back to taste."""
        rng = self.rng
        for _ in range(6):
            if how == "favourite" and shopper.favourites:
                members = self.items_by_collection.get(rng.choice(shopper.favourites), [])
                index = rng.choice(members) if members else None
            elif how == "complement" and (base is not None or shopper.purchases):
                bought = self.items[base if base is not None else rng.choice(shopper.purchases[-5:])]
                members = [
                    j for j in self.items_by_collection[bought.collection] if self.items[j].category != bought.category
                ]
                index = rng.choice(members) if members else None
            elif how == "popular":
                index = bisect(self.popular_cum, rng.random() * self.popular_cum[-1])
            else:  # taste, optionally held to one category
                if category is None:
                    segment, cat = shopper.choices[bisect(shopper.choice_cum, rng.random() * shopper.choice_cum[-1])]
                else:
                    segment, cat = shopper.segments[0], category
                members, cum = self._table(segment, cat, shopper.bucket)
                index = self._draw(members, cum) if members else None  # a tiny catalog may lack the category
            if index is not None and self._available(index, when, heldout):
                return index
            how = "taste" if category is None else how  # fall back to taste when a rule has no answer
        return None

    # --- sessions -----------------------------------------------------------------------------

    def _review(self, item: _Item, shopper: _Shopper) -> tuple[int, str]:
        rng = self.rng
        score = 3.9 + 0.9 * item.quality - 0.5 * abs(item.level - PRICE_BUCKETS[shopper.bucket]) + rng.gauss(0.0, 0.7)
        rating = int(_clamp(round(score), 1, 5))
        if rng.random() < 0.08:
            return rating, ""
        mood = "positive" if rating >= 4 else "mixed" if rating == 3 else "negative"
        spec = vocab.CATEGORIES[item.category]
        words = {"noun": item.review_noun, "aspect": rng.choice(spec.aspects)}
        parts = [
            rng.choice(vocab.REVIEW_OPENERS[mood]).format(**words),
            rng.choice(vocab.REVIEW_BODIES[mood]).format(**words),
        ]
        if rng.random() < 0.6:
            parts.append(rng.choice(vocab.REVIEW_CLOSERS[mood]))
        return rating, " ".join(p for p in parts if p)

    def _session(
        self, shopper: _Shopper, start: datetime, window_end: datetime, heldout: bool, *, abandon: bool = False
    ) -> list[tuple]:
        """One visit: views, carts, maybe a checkout, maybe later reviews. Rows are
        (timestamp, customer_id, product_id, event_type, quantity, rating, text)."""
        rng = self.rng
        how = rng.choices(_ANCHOR_RULES, weights=_ANCHOR_WEIGHTS)[0]
        anchor = self._pick(shopper, start, heldout, how=how)
        if anchor is None:
            return []
        viewed = [anchor]
        for _ in range(min(6, int(rng.expovariate(0.7)))):  # more looks in the same category or range
            if rng.random() < 0.7:
                more = self._pick(shopper, start, heldout, how="taste", category=self.items[anchor].category)
            else:
                more = self._pick(shopper, start, heldout, how="favourite")
            if more is not None and more not in viewed:
                viewed.append(more)
        rows: list[tuple] = []
        t = start
        cid = shopper.customer_id
        carted: list[tuple[int, int]] = []
        for k, index in enumerate(viewed):
            rows.append((t, cid, self.items[index].product_id, "view", 1, None, ""))
            t += timedelta(seconds=rng.randint(20, 240))
            if rng.random() < (0.32 if k == 0 else 0.16) or (abandon and k == 0):
                quantity = rng.choices((1, 2, 3), weights=(0.85, 0.12, 0.03))[0]
                rows.append((t, cid, self.items[index].product_id, "add_to_cart", quantity, None, ""))
                carted.append((index, quantity))
                t += timedelta(seconds=rng.randint(10, 120))
        if abandon:
            return rows
        bought = [(i, q) for i, q in carted if rng.random() < 0.55 + 0.1 * math.tanh(self.items[i].quality)]
        if bought and rng.random() < 0.25:  # a same-collection complement in the same order
            extra = self._pick(shopper, t, heldout, how="complement", base=bought[0][0])
            if extra is not None and extra not in {i for i, _ in bought}:
                pid = self.items[extra].product_id
                rows.append((t, cid, pid, "view", 1, None, ""))
                t += timedelta(seconds=rng.randint(20, 120))
                rows.append((t, cid, pid, "add_to_cart", 1, None, ""))
                t += timedelta(seconds=rng.randint(10, 60))
                bought.append((extra, 1))
        for index, quantity in bought:
            rows.append((t, cid, self.items[index].product_id, "purchase", quantity, None, ""))
            shopper.purchases.append(index)
        for index, _ in bought:
            if rng.random() < 0.13:
                when = t + timedelta(days=rng.uniform(3, 25))
                if when < window_end:
                    rating, text = self._review(self.items[index], shopper)
                    rows.append((when, cid, self.items[index].product_id, "review", 1, rating, text))
        return rows

    def _reorders(self, shopper: _Shopper, rows: list[tuple]) -> list[list[tuple]]:
        """Visits (view, cart, purchase) in which the shopper buys a consumable of `rows` again
        (REPLENISHMENT), chained; those before the history's end are returned, one in the held-out
        fortnight is kept for the held-out run. Their own random stream."""
        rng = self.reorder_rng
        if not hasattr(self, "_index_of"):
            self._index_of = {item.product_id: item.index for item in self.items}
        out: list[list[tuple]] = []
        history_end = min(shopper.end, self.cutoff)
        for r in rows:
            if r[3] != "purchase":
                continue
            index = self._index_of[r[2]]
            share, mean_days = REPLENISHMENT.get(self.items[index].category, (0.0, 0.0))
            t = r[0]
            while rng.random() < share:
                t += timedelta(days=rng.gammavariate(4.0, mean_days / 4.0))
                visit = [(t, shopper.customer_id, r[2], "view", 1, None, ""),
                         (t + timedelta(seconds=40), shopper.customer_id, r[2], "add_to_cart", 1, None, ""),
                         (t + timedelta(seconds=90), shopper.customer_id, r[2], "purchase", 1, None, "")]
                if t + timedelta(seconds=90) < history_end:
                    out.append(visit)
                elif t < self.cutoff + timedelta(days=HELDOUT_DAYS) and not shopper.lapsed and t >= self.cutoff:
                    self.heldout_reorders.append(visit)
                    break
                else:
                    break
                share = REORDER_AGAIN
        return out

    def _when(self, start: datetime, end: datetime, utc_offset: int) -> datetime:
        """A moment in [start, end): busier months (MONTH_WEIGHTS) and busier local hours."""
        rng = self.rng
        days = max(1, (end - start).days)
        top = max(MONTH_WEIGHTS)
        for _ in range(8):  # rejection sampling of the day by month weight
            day = start.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=rng.randrange(days))
            if rng.random() * top < MONTH_WEIGHTS[day.month - 1]:
                break
        local_hour = rng.choices(_HOURS, weights=HOUR_WEIGHTS)[0]
        moment = day + timedelta(hours=local_hour - utc_offset, seconds=rng.randrange(3600))
        if moment < start:
            moment = start + timedelta(seconds=rng.randrange(3600))
        if moment >= end:
            moment = end - timedelta(seconds=rng.randint(1800, 3 * 3600))
        return moment

    def _run(
        self, n_events: int, shoppers: list[_Shopper], weights: list[float], *, heldout: bool, stage: str
    ) -> list[tuple]:
        """Sessions until the budget is met: each customer's sessions in time order (so a
        complement follows the purchase it completes), then whole sessions dropped at random and
        one trimmed, so that exactly n_events rows remain."""
        rng = self.rng
        if n_events == 0 or not shoppers or sum(weights) == 0:
            return []
        cum = list(accumulate(weights))
        planned = int(n_events / 3.0 * 1.15) + 10  # ~3 events a session, with some to spare
        counts = [0] * len(shoppers)
        for _ in range(planned):
            counts[bisect(cum, rng.random() * cum[-1])] += 1
        sessions: list[list[tuple]] = []
        done = 0
        for shopper, count in zip(shoppers, counts, strict=True):
            if not count:
                continue
            start, end = (
                (self.cutoff, self.cutoff + timedelta(days=HELDOUT_DAYS)) if heldout else (shopper.start, shopper.end)
            )
            for when in sorted(self._when(start, end, shopper.utc_offset) for _ in range(count)):
                rows = self._session(shopper, when, end if heldout else self.cutoff, heldout)
                if rows:
                    sessions.append(rows)
                    if not heldout:
                        sessions += self._reorders(shopper, rows)
            done += count
            self.progress(stage, done, planned)
        if heldout:
            sessions += self.heldout_reorders
        total = sum(len(s) for s in sessions)
        tries = 0
        while total < n_events and tries < 20 * planned:  # rare: top up with extra sessions
            tries += 1
            shopper = shoppers[bisect(cum, rng.random() * cum[-1])]
            start, end = (
                (self.cutoff, self.cutoff + timedelta(days=HELDOUT_DAYS)) if heldout else (shopper.start, shopper.end)
            )
            rows = self._session(
                shopper, self._when(start, end, shopper.utc_offset), end if heldout else self.cutoff, heldout
            )
            sessions.append(rows)
            total += len(rows)
        keep = [True] * len(sessions)
        for i in rng.sample(range(len(sessions)), k=len(sessions)):
            if total - len(sessions[i]) >= n_events:
                keep[i] = False
                total -= len(sessions[i])
        sessions = [s for s, k in zip(sessions, keep, strict=True) if k]
        if total > n_events:  # trim the tail of one long-enough session: a prefix is still a valid visit
            excess = total - n_events
            for s in sessions:
                if len(s) > excess:
                    del s[len(s) - excess :]
                    break
        return [row for s in sessions for row in s]

    def make_events(self) -> tuple[list[Event], list[Event], list[str]]:
        rng = self.rng
        shoppers = self.shoppers
        # Abandoned carts first: in the 48 hours before the cut-off, never bought.
        active_now = [s for s in shoppers if s.activity and not s.lapsed]
        abandoners = rng.sample(
            active_now, k=min(len(active_now), max(1, round(len(active_now) * ABANDONED_CART_SHARE)))
        )
        abandoned_rows: list[tuple] = []
        for shopper in abandoners:
            when = self.cutoff - timedelta(seconds=rng.randint(2 * 3600, 48 * 3600))
            abandoned_rows += self._session(shopper, when, self.cutoff, False, abandon=True)
        budget = max(0, self.n_events - len(abandoned_rows))
        weights = [s.activity * max(1.0, (s.end - s.start).days) / HISTORY_DAYS for s in shoppers]
        history = self._run(budget, shoppers, weights, heldout=False, stage="history")
        # The abandoned carts stay abandoned: a later purchase of a cart item becomes a view.
        carts = {(r[1], r[2]): r[0] for r in abandoned_rows if r[3] == "add_to_cart"}
        history = [
            (r[0], r[1], r[2], "view", 1, None, "")
            if r[3] in ("purchase", "add_to_cart") and carts.get((r[1], r[2]), r[0]) < r[0]
            else r
            for r in history
        ]
        history = (abandoned_rows + history)[: self.n_events]
        n_heldout = round(self.n_events * HELDOUT_DAYS / HISTORY_DAYS)
        heldout_weights = [s.activity * (0.1 if s.lapsed else 1.0) for s in shoppers]
        heldout = self._run(n_heldout, shoppers, heldout_weights, heldout=True, stage="heldout")

        def to_events(rows: list[tuple]) -> list[Event]:
            return [
                Event(r[1], r[2], r[3], r[0].replace(microsecond=0), r[4], r[5], r[6])
                for r in sorted(rows, key=lambda r: r[0])
            ]

        abandoned_ids = sorted(
            {
                s.customer_id
                for s in abandoners
                if any(r[1] == s.customer_id and r[3] == "add_to_cart" for r in abandoned_rows)
            }
        )
        return to_events(history), to_events(heldout), abandoned_ids

    def assign_tiers(self, customers: list[Customer], products: list[Product], events: list[Event]) -> list[Customer]:
        """Loyalty tiers by history spend rank: top 4% platinum, 8% gold, 15% silver, 23% bronze."""
        price = {p.product_id: p.price for p in products}
        spend: dict[str, Decimal] = {}
        for e in events:
            if e.event_type == "purchase":
                spend[e.customer_id] = spend.get(e.customer_id, Decimal(0)) + price[e.product_id] * e.quantity
        ranked = sorted(spend, key=lambda cid: (-spend[cid], cid))
        tier_of: dict[str, str] = {}
        position = 0
        for tier, share in TIER_SHARES:
            n = round(share * len(customers))
            for cid in ranked[position : position + n]:
                tier_of[cid] = tier
            position += n
        out = []
        for c in customers:
            tier = tier_of.get(c.customer_id, "none")
            out.append(
                Customer(
                    c.customer_id,
                    c.first_name,
                    c.email,
                    c.locale,
                    c.timezone,
                    c.birthday,
                    c.consent,
                    tier,
                    c.signup_date,
                )
            )
        return out


def assign_points(customers: list[Customer], *, seed: int, as_of: date) -> list[Customer]:
    """Points for loyalty members, inside their tier's band of LOYALTY_TIER_POINTS; about
    EXPIRING_SHARE of them with some points lapsing 1..EXPIRY_WINDOW_DAYS days after as_of.
    Non-members (tier none) have no balance. Its own random stream: nothing else moves."""
    rng = random.Random(f"{seed}/loyalty")
    bands: dict[str, tuple[int, int]] = {}
    for k, (tier, threshold) in enumerate(LOYALTY_TIER_POINTS):
        top = LOYALTY_TIER_POINTS[k + 1][1] - 1 if k + 1 < len(LOYALTY_TIER_POINTS) else threshold + PLATINUM_SPAN
        bands[tier] = (threshold, top)
    out: list[Customer] = []
    for c in customers:
        if c.loyalty_tier not in bands:
            out.append(c)
            continue
        balance = rng.randint(*bands[c.loyalty_tier])
        # Three draws for every member, used or not, so one member's expiry never shifts the next.
        lapses, share, days = rng.random() < EXPIRING_SHARE, rng.uniform(0.1, 0.5), rng.randint(1, EXPIRY_WINDOW_DAYS)
        expiring = max(1, int(balance * share)) if lapses and balance >= 10 else None
        out.append(
            replace(
                c,
                points_balance=balance,
                points_expiring=expiring,
                points_expiring_on=as_of + timedelta(days=days) if expiring else None,
            )
        )
    return out


def demo_offers(products: list[Product], *, as_of: date, currency: str) -> list[Offer]:
    """The demo store's offers, dated from as_of so none has expired on it: a birthday 15% (from the
    day before as_of, for 60 days), an extra 10% on clearance items over a minimum spend (ends 14
    days after as_of), and 10 off new arrivals over a minimum spend. An offer whose items the
    catalog lacks (a tiny store with no clearance) is left out rather than offered on nothing."""
    day = timedelta(days=1)
    offers = [
        Offer(
            offer_id="birthday-15",
            title="Birthday treat",
            kind="percent",
            value=Decimal(15),
            currency=currency,
            code="BDAY15",
            valid_from=as_of - day,
            valid_until=as_of - day + 59 * day,  # 60 days, both ends included
            campaign_types=("birthday_holiday",),
            audience="birthday",
            terms="One use per customer.",
        )
    ]
    clearance = tuple(sorted(p.product_id for p in products if p.clearance))
    if clearance:
        offers.append(
            Offer(
                offer_id="clearance-extra-10",
                title="Extra 10% off clearance",
                kind="percent",
                value=Decimal(10),
                currency=currency,
                code="CLEAR10",
                valid_from=as_of - 2 * day,
                valid_until=as_of + 14 * day,
                campaign_types=("clearance",),
                min_spend=Decimal("30.00"),
                product_ids=clearance,
                terms="On clearance items, while stocks last.",
            )
        )
    new = tuple(sorted(p.product_id for p in products if 0 <= (as_of - p.arrival_date).days <= NEW_ARRIVAL_DAYS))
    if new:
        offers.append(
            Offer(
                offer_id="new-arrivals-10-off",
                title="First look at new arrivals",
                kind="amount",
                value=Decimal("10.00"),
                currency=currency,
                code="NEW10",
                valid_from=as_of - 3 * day,
                valid_until=as_of + 21 * day,
                campaign_types=("new_arrivals",),
                min_spend=Decimal("60.00"),
                product_ids=new,
                terms="On new arrivals, one use per customer.",
            )
        )
    return offers


def generate(
    *,
    seed: int = 7,
    n_products: int = 2400,
    n_customers: int = 5000,
    n_events: int = 200_000,
    as_of: date = AS_OF,
    progress: Progress | None = None,
) -> SyntheticStore:
    """Build a synthetic store in memory (typed values plus the latent truth).

    >>> store = generate(seed=1, n_products=120, n_customers=50, n_events=1000)
    >>> len(store.products), len(store.customers), len(store.events)
    (120, 50, 1000)
    """
    gen = _Generator(
        seed=seed, n_products=n_products, n_customers=n_customers, n_events=n_events, as_of=as_of, progress=progress
    )
    gen.make_collections()
    products = gen.make_products()
    customers = gen.make_customers()
    events, heldout, abandoned = gen.make_events()
    customers = gen.assign_tiers(customers, products, events)
    customers = assign_points(customers, seed=seed, as_of=as_of)
    truth = GeneratorTruth(
        segment_categories=dict(vocab.SEGMENTS),
        customer_segments={s.customer_id: tuple(gen.segment_names[i] for i in s.segments) for s in gen.shoppers},
        product_collection={item.product_id: gen.collections[item.collection].name for item in gen.items},
        product_quality={item.product_id: item.quality for item in gen.items},
        cold_products=tuple(item.product_id for item in gen.items if item.cold),
        lapsed_customers=tuple(s.customer_id for s in gen.shoppers if s.lapsed),
        abandoned_cart_customers=tuple(abandoned),
    )
    config: dict[str, int | str] = {
        "seed": seed,
        "n_products": n_products,
        "n_customers": n_customers,
        "n_events": n_events,
        "as_of": as_of.isoformat(),
    }
    return SyntheticStore(
        info=STORE_INFO,
        as_of=as_of,
        products=products,
        customers=customers,
        events=events,
        heldout_events=heldout,
        truth=truth,
        config=config,
        offers=demo_offers(products, as_of=as_of, currency=STORE_INFO.currency),
        loyalty_tiers=LOYALTY_TIER_POINTS,
        points_name=DEFAULT_POINTS_NAME,
    )


def generate_store(
    out_dir: str | Path,
    *,
    seed: int = 7,
    n_products: int = 2400,
    n_customers: int = 5000,
    n_events: int = 200_000,
    as_of: date = AS_OF,
    write_truth: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Generate a store and write it to `out_dir` in the store format; return the directory.

    Same arguments, same bytes. `write_truth` adds generator_truth.json (the latent segments,
    collections, qualities; ignored by the loader).

    >>> root = generate_store("build/store_small", n_products=300, n_customers=400, n_events=20_000)  # doctest: +SKIP
    """
    store = generate(
        seed=seed, n_products=n_products, n_customers=n_customers, n_events=n_events, as_of=as_of, progress=progress
    )
    root = write_store(
        out_dir,
        info=store.info,
        as_of=store.as_of,
        products=store.products,
        customers=store.customers,
        events=store.events,
        heldout_events=store.heldout_events,
        offers=store.offers,
        loyalty_tiers=store.loyalty_tiers,
        points_name=store.points_name,
        extra={"source": "nudge.store.generate", "generator": store.config},
    )
    if write_truth:
        (root / "generator_truth.json").write_text(
            json.dumps(store.truth.to_dict(), indent=1, sort_keys=True) + "\n", encoding="utf-8"
        )
    return root
