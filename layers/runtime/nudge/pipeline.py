"""One job → one email: profile → ranked products → copy → HTML, text and MIME.

Plain Python (no AWS): `Engine` holds what is built once per container (catalog, recommender,
copywriter, keys); `compose_batch` turns a batch of jobs into emails, generating the copy for the
whole batch at once (the ONNX model is batched), and returns per job either an `Email` or the
exception that made that job fail alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, time as clock, timezone
from pathlib import Path
from typing import Any, Mapping, NamedTuple, Sequence

from nudge import __version__
from nudge.campaigns import CampaignDefinition, get_campaign
from nudge.copy import CopyBrief, Copywriter
from nudge.copy.languages import copy_language
from nudge.copy.slots import fits_whole
from nudge.identity import pseudonymize
from nudge.jobs import Job
from nudge.offers import Offer, offer_for
from nudge.recommend import Catalog, Recommender
from nudge.render import render_email
from nudge.render.links import LinkTtl
from nudge.store.facts import StoreFacts, load_store_facts
from nudge.sentiment import choose_tone
from nudge.types import Product, Profile, RankedItem, StoreInfo

EMAIL_PREFIX = "emails"


def email_keys(campaign_id: str, pseudonymous_id: str) -> dict[str, str]:
    """The deterministic S3 key of one email's one object, the sendable MIME message (it holds the
    HTML and the plain text); its audit record lives on the email's SEND# item (nudge.storage).

    >>> email_keys("win-back-2026-11-20", "p_0123")["eml"]
    'emails/win-back-2026-11-20/p_0123/email.eml'
    """
    return {"eml": f"{EMAIL_PREFIX}/{campaign_id}/{pseudonymous_id}/email.eml"}


def skip_reason(job: Job, profile: Profile | None) -> str:
    """Why this job gets no email before any work is done ("" when it may go ahead): no profile
    (erased, or never published), consent withdrawn, suppressed, or opted out since planning (an
    unsubscribe, nudge.endpoints, may land after the plan queued the job)."""
    if profile is None:
        return "unknown_customer"
    if not profile.customer.consent:
        return "no_consent"
    if profile.suppressed:
        return "suppressed"
    return "opted_out" if profile.opted_out_of(job.campaign_type) else ""


@dataclass
class Engine:
    catalog: Catalog
    recommender: Recommender
    copywriter: Copywriter
    store: StoreInfo
    pseudonym_key: bytes
    link_key: bytes
    link_ttl: LinkTtl = field(default_factory=LinkTtl)  # how long the email's links live after its send date
    facts: StoreFacts = field(default_factory=StoreFacts)  # the store's offers and loyalty tiers (artifacts/store/)

    @classmethod
    def load(
        cls, *, artifacts_dir: Path, model_dir: str | Path | None, store: StoreInfo, pseudonym_key: bytes, link_key: bytes,
        link_ttl: LinkTtl | None = None,
    ) -> "Engine":
        """Load the catalog and recommender from an artifacts directory (catalog/, recommender/, and the
        store's offers and loyalty tiers from store/ when there) and the copywriter from model_dir (None
        or missing → reviewed copy only)."""
        artifacts_dir = Path(artifacts_dir)
        catalog = Catalog.load(artifacts_dir / "catalog")
        recommender = Recommender.load(artifacts_dir / "recommender")
        copywriter = Copywriter.load(model_dir)
        return cls(catalog, recommender, copywriter, store, pseudonym_key, link_key, link_ttl or LinkTtl(),
                   load_store_facts(artifacts_dir))

    def offer_for(self, job: Job, *, now: datetime) -> Offer | None:
        """The store's offer for this email: the one its run names (`job.context.offer_id`), else the
        campaign's for the send date; either way only one valid on the send date, for this campaign type,
        not expired by `now` (a retry the day after an offer ends sends no offer), and of audience
        "birthday" only in a birthday email (nudge.offers.offer_for)."""
        birthday = job.campaign_type == "birthday_holiday" and not job.context.holiday
        offers = self.facts.offers
        if job.context.offer_id:  # the run's own offer, or none: never another one in its place
            offers = [o for o in offers if o.offer_id == job.context.offer_id]
        offer = offer_for(offers, campaign_type=job.campaign_type, send_date=job.send_date, birthday=birthday)
        return offer if offer is not None and offer.valid_until >= now.date() else None

    def model_versions(self) -> dict[str, str]:
        return {
            "nudge": __version__,
            "recommender": getattr(self.recommender, "version", "unknown"),
            "copywriter": self.copywriter.model_version,
            # the other languages' students on disk: {"fr": "copywriter-fr-...", ...}
            **{f"copywriter_{lang}": version for lang, version in self.copywriter.model_versions().items()
               if lang != self.copywriter.language},
        }


@dataclass
class Email:
    job: Job
    pseudonymous_id: str
    keys: dict[str, str]
    record: dict[str, Any]
    html: str
    eml: bytes
    copy_source: str
    skipped: str = ""  # non-empty: no email by design (e.g. consent withdrawn since planning, no products)
    timings_ms: dict[str, float] = field(default_factory=dict)


def skipped_email(job: Job, pseudonymous_id: str, reason: str) -> Email:
    """The outcome of a job that gets no email by design, with the counted reason."""
    return Email(job, pseudonymous_id, email_keys(job.campaign_id, pseudonymous_id), {}, "", b"", "none", skipped=reason)


class _Pending(NamedTuple):
    """A job ranked and briefed, waiting for the batch's copy."""

    index: int
    job: Job
    profile: Profile
    campaign: CampaignDefinition
    items: list[tuple[Product, RankedItem]]
    pseudo: str
    rank_ms: float
    tone_reason: str


def _name_of(catalog: Catalog, product_id: str) -> str:
    try:
        return catalog.product(product_id).name
    except KeyError:  # bought or carted, since gone from the catalog: no fact rather than a wrong one
        return ""


def _whole(slot: str, name: str) -> str:
    """`name` when slot `slot` holds it whole, else "" (no fact rather than a name cut mid-sentence)."""
    return name if fits_whole(slot, name) else ""


def brief_facts(job: Job, profile: Profile, products: Sequence[Product], catalog: Catalog) -> dict[str, Any]:
    """What the copy may say of this customer, all from data: the featured product (the first
    recommended one that is not in the cart, so the copy can pair it with the cart item, nor bought
    before: the copy presents it as a new pick, which a due reorder or win-back's old favourite is not), the product bought last,
    the cart item, the occasion, the tier, and the featured product's material and colour. A fact
    the campaign cannot hold is left empty: a cart only in abandoned_cart, an occasion only in
    birthday_holiday, a tier only in loyalty. An attribute the product's name already says
    ("Linen Throw" in linen) is left out, and so is a last purchase that is the featured product
    itself (win-back may recommend it again), so no sentence says a thing twice. A name too long
    for its slot is not offered (nudge.copy.slots.fits_whole): the featured product is then the next
    recommendation whose name fits, and a long last purchase or cart item is no fact at all.

    Returns CopyBrief keyword arguments plus "featured" (a Product or None).
    """
    kind = job.campaign_type
    cart_ids = list(job.context.cart_items or profile.carted) if kind == "abandoned_cart" else []
    cart_item = _whole("cart_item", _name_of(catalog, cart_ids[0])) if cart_ids else ""
    # not in the cart at all: "We think X would go well with Y" must not pair two things already in it
    # (read in the demo: 42 of 150 abandoned-cart emails paired two cart items that way); else another cart item
    others = [p for p in products if p.product_id not in cart_ids] or [p for p in products if p.product_id not in cart_ids[:1]]
    # not bought before either ("we picked X for you" of a candle they reorder reads as news), when any is left
    bought = set(profile.purchased)
    others = [p for p in others if p.product_id not in bought] or others
    others = [p for p in others if fits_whole("product", p.name)] or others  # all too long: cut, as before
    featured = others[0] if others else (products[0] if products else None)
    name = featured.name.lower() if featured else ""
    attribute = lambda value: value if value and value.lower() not in name else ""  # noqa: E731
    tier = profile.customer.loyalty_tier if kind == "loyalty" and profile.customer.loyalty_tier != "none" else ""
    last_bought = _whole("last_bought", _name_of(catalog, profile.purchased[0])) if profile.purchased else ""
    if featured is not None and last_bought == featured.name:  # win-back may feature it again: "to go with X, X"
        last_bought = ""
    return {
        "featured": featured,
        "last_bought": last_bought,
        "cart_item": cart_item,
        "occasion": (job.context.holiday or "birthday") if kind == "birthday_holiday" else "",
        "tier": tier,
        "material": attribute(getattr(featured, "material", "")),
        "colour": attribute(getattr(featured, "colour", "")),
    }


def compose_batch(
    jobs: Sequence[Job], profiles: Mapping[str, Profile], engine: Engine, *, now: datetime | None = None
) -> list[Email | Exception]:
    """Compose the email of every job; a job that cannot be composed yields its exception."""
    now = now or datetime.now(timezone.utc)
    results: list[Email | Exception] = [None] * len(jobs)  # type: ignore[list-item]
    pending: list[_Pending] = []
    briefs: list[CopyBrief] = []
    for index, job in enumerate(jobs):
        try:
            started = time.perf_counter()
            pseudo = pseudonymize(job.customer_id, key=engine.pseudonym_key)
            profile = profiles.get(job.customer_id)
            skip = skip_reason(job, profile)
            if skip:
                results[index] = skipped_email(job, pseudo, skip)
                continue
            campaign = get_campaign(job.campaign_type)
            ranked = engine.recommender.rank(
                profile, campaign.pool, k=campaign.items, catalog=engine.catalog, as_of=job.send_date, cart=job.context.cart_items
            )
            if not ranked:  # e.g. no clearance stock left, or all of it bought: nothing to show
                results[index] = skipped_email(job, pseudo, "no_products")
                continue
            rank_ms = (time.perf_counter() - started) * 1000
            tone, tone_reason = choose_tone(
                campaign.copy.tone, recent_review_text=profile.recent_review_text, recent_review_rating=profile.recent_review_rating
            )
            items = [(engine.catalog.product(item.product_id), item) for item in ranked]
            facts = brief_facts(job, profile, [p for p, _ in items], engine.catalog)
            featured = facts.pop("featured")
            briefs.append(
                CopyBrief(
                    campaign_type=job.campaign_type,
                    tone=tone,
                    first_name=profile.customer.first_name,
                    product_names=tuple(dict.fromkeys([featured.name] + [p.name for p, _ in items])) if featured else (),
                    categories=tuple(dict.fromkeys(([featured.category] if featured else []) + [p.category for p, _ in items])),
                    store_name=engine.store.name,
                    seed_key=f"{job.campaign_id}|{pseudo}",
                    history_categories=tuple(profile.top_categories[:3]),
                    sentiment="negative" if tone == "caring" and campaign.copy.tone != "caring" else "neutral",
                    language=copy_language(profile.customer.locale, default_locale=engine.store.default_locale),
                    **facts,
                )
            )
            pending.append(_Pending(index, job, profile, campaign, items, pseudo, rank_ms, tone_reason))
        except Exception as exc:  # noqa: BLE001 - returned, not swallowed: the record fails alone
            results[index] = exc
    started = time.perf_counter()
    copies = engine.copywriter.write_batch(briefs) if briefs else []
    copy_ms = (time.perf_counter() - started) * 1000 / max(1, len(briefs))
    for (index, job, profile, campaign, items, pseudo, rank_ms, tone_reason), copy in zip(pending, copies):
        try:
            started = time.perf_counter()
            offer = engine.offer_for(job, now=now)
            rendered = render_email(
                customer=profile.customer, items=items, copy=copy, campaign=campaign, store=engine.store,
                pseudonymous_id=pseudo, campaign_id=job.campaign_id, link_key=engine.link_key, now=now,
                # from the planned send date, not the clock: the same job mints the same tokens
                links_issued_at=datetime.combine(job.send_date, clock(0, 0), tzinfo=timezone.utc), link_ttl=engine.link_ttl,
                offer=offer, loyalty_tiers=engine.facts.tiers,
            )
            render_ms = (time.perf_counter() - started) * 1000
            timings = {"rank_ms": round(rank_ms, 2), "copy_ms": round(copy_ms, 2), "render_ms": round(render_ms, 2)}
            keys = email_keys(job.campaign_id, pseudo)
            record = {
                "schema_version": 1,
                "customer": pseudo,
                "campaign": {"id": job.campaign_id, "type": job.campaign_type, "send_date": job.send_date.isoformat()},
                "tone": {"chosen": copy.tone, "reason": tone_reason},
                "items": [
                    {"product_id": p.product_id, "name": p.name, "score": round(float(r.score), 6), "reason": r.reason}
                    for p, r in items
                ],
                "copy": {
                    "subject": rendered.subject, "preheader": rendered.preheader, "intro": copy.intro,
                    "source": copy.source, "rejected_reasons": list(copy.rejected_reasons),
                    # the language it is written in (the customer's, else the store's default) and the model that wrote it
                    "language": copy.language, "model_version": copy.model_version,
                },
                "message_id": rendered.message_id,
                # the store's offer it carries (id and code, from offers.json), or None; a run that named an offer
                # which could not go out (unknown, expired, not for this campaign or audience) says so
                "offer": {"id": offer.offer_id, "code": offer.code, "valid_until": offer.valid_until.isoformat()} if offer
                else {"id": job.context.offer_id, "rendered": False} if job.context.offer_id else None,
                # the catalog the fixed wording came from; fallback: the customer's language has none
                "language": rendered.language.record() if rendered.language else None,
                "model_versions": engine.model_versions(),
                "timings_ms": timings,
                "objects": keys,  # the one object, the .eml; its SHA-256 and S3 version are added when it is written
            }
            results[index] = Email(job, pseudo, keys, record, rendered.html, rendered.eml, copy.source, timings_ms=timings)
        except Exception as exc:  # noqa: BLE001 - returned, not swallowed: the record fails alone
            results[index] = exc
    return results
