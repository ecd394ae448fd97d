"""Abandoned cart as a trigger, not a batch.

A store's cart and order events update the customer's profile cart; each cart update also records
a *due item* (pk ``DUE#<bucket>``, sk ``<customer_id>#<cart version>``) for the moment its
reminder becomes due (the update time + the delay, 2 hours by default: longer than SQS's
15-minute message delay, hence a due-time table). A sweep every few minutes reads the buckets up
to now and, for each due item, looks at the profile again: a cart emptied, bought or updated
since (a later due item handles it) gets no email; otherwise the planner's own checks (consent,
suppression, audience rule, frequency cap, holdout: `nudge.planner.decide`) run and an
``abandoned_cart`` job with the cart's items is enqueued. The due item is then deleted.

Plain functions over the stores they are given (`nudge.storage.ProfileStore` and `JobQueue` in
Lambda, moto in tests); no boto3 here. See docs/TRIGGERS.md.

>>> event = parse_cart_event({"detail-type": "CartUpdated", "detail": {
...     "customer_id": "c001", "items": ["p009"], "at": "2026-11-20T10:00:00Z"}})
>>> (event.kind, event.items, due_bucket(event.at + timedelta(minutes=121)))
('CartUpdated', ('p009',), 'DUE#2026-11-20T12:00')
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator, Mapping

from nudge.campaigns import CampaignDefinition, get_campaign
from nudge.errors import ValidationError
from nudge.jobs import SAFE_ID, Job, JobContext
from nudge.planner import ENQUEUED, PlanOptions, decide
from nudge.profiles import iso_days, record_purchase
from nudge.types import Profile

CART_CAMPAIGN = "abandoned_cart"
CART_UPDATED, ORDER_PLACED = "CartUpdated", "OrderPlaced"
BUCKET_MINUTES = 5  # due items are grouped in 5-minute buckets, one DynamoDB partition each
SWEEP_LOOKBACK = timedelta(hours=6)  # a sweep reads this far back: 72 small queries, and a 6-hour outage heals itself
DUE_TTL = timedelta(days=2)  # after its due time, a due item that no sweep handled expires (DynamoDB TTL)
MAX_CART_ITEMS = 50  # as nudge.jobs.JobContext.cart_items
REMINDER_ITEMS = 10  # cart items carried into the job (the email shows 4, cart first)
# Why a due item gets no email, besides the planner's exclusions (nudge.planner.EXCLUSIONS).
SKIPS = ("unknown_customer", "superseded", "cart_emptied", "ordered")
_SAFE = re.compile(SAFE_ID)


@dataclass(frozen=True)
class CartEvent:
    """One store event: the cart as it now is (CartUpdated) or what was bought (OrderPlaced)."""

    kind: str  # CART_UPDATED or ORDER_PLACED
    customer_id: str
    items: tuple[str, ...]  # product ids; for CartUpdated the whole cart (empty: emptied)
    at: datetime  # UTC, whole seconds: also the cart's version
    order_id: str = ""  # OrderPlaced: the store's order id (optional; else one is derived from the event)
    total: float = 0.0  # OrderPlaced: the order's total, the event log's revenue (detail.total, else the lines' price x quantity)

    def order_key(self) -> str:
        """The order's idempotency key: the store's order id, else a hash of customer, time and items,
        so a redelivered event is the same order."""
        if self.order_id:
            return self.order_id
        digest = hashlib.sha256(f"{self.customer_id}|{format_time(self.at)}|{','.join(self.items)}".encode()).hexdigest()
        return f"h{digest[:24]}"


@dataclass(frozen=True)
class DueItem:
    """A cart reminder that falls due at `due_at` unless the cart changes first."""

    bucket: str  # "DUE#2026-11-20T12:05"
    customer_id: str
    version: datetime  # the cart_updated_at this reminder is for
    due_at: datetime

    @property
    def sort_key(self) -> str:
        return f"{self.customer_id}#{format_time(self.version)}"


def format_time(value: datetime) -> str:
    """UTC ISO 8601 to the second, as profiles store times (so strings compare like times)."""
    return value.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def due_bucket(when: datetime) -> str:
    """The partition key of the 5-minute bucket that holds `when`."""
    when = when.astimezone(timezone.utc)
    return f"DUE#{when.replace(minute=when.minute - when.minute % BUCKET_MINUTES, second=0, microsecond=0):%Y-%m-%dT%H:%M}"


def buckets_between(start: datetime, end: datetime) -> Iterator[str]:
    """Every bucket from the one holding `start` to the one holding `end`, oldest first."""
    step = timedelta(minutes=BUCKET_MINUTES)
    current = start.astimezone(timezone.utc)
    current = current.replace(minute=current.minute - current.minute % BUCKET_MINUTES, second=0, microsecond=0)
    while current <= end:
        yield due_bucket(current)
        current += step


def cart_campaign_id(due_at: datetime) -> str:
    """One reminder campaign per UTC day: the generate function's SEND#<campaign> claim then lets
    a customer get at most one cart reminder a day, however many carts fall due that day."""
    return f"cart-{due_at.astimezone(timezone.utc).date().isoformat()}"


def parse_cart_event(event: Mapping[str, Any]) -> CartEvent:
    """Read an EventBridge event from the store, or raise ValidationError saying what was expected.

    detail-type "CartUpdated" or "OrderPlaced"; detail {"customer_id", "items", "at"}, where items
    are product ids or objects with a "product_id", and at is an ISO 8601 time with a zone.
    """
    kind = event.get("detail-type") if isinstance(event, Mapping) else None
    if kind not in (CART_UPDATED, ORDER_PLACED):
        raise ValidationError(f"cart event detail-type must be {CART_UPDATED!r} or {ORDER_PLACED!r}, got {kind!r}")
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise ValidationError(f"{kind} event has no detail object; expected customer_id, items, at")
    customer_id = detail.get("customer_id")
    if not isinstance(customer_id, str) or not _SAFE.match(customer_id):
        raise ValidationError(f"{kind} customer_id must match {SAFE_ID}")  # the value itself is not echoed
    raw_items = detail.get("items")
    if not isinstance(raw_items, list) or len(raw_items) > MAX_CART_ITEMS:
        raise ValidationError(f"{kind} items must be a list of at most {MAX_CART_ITEMS} product ids")
    items: list[str] = []
    for raw in raw_items:
        product_id = raw.get("product_id") if isinstance(raw, Mapping) else raw
        if not isinstance(product_id, str) or not _SAFE.match(product_id):
            raise ValidationError(f"{kind} item {str(product_id)[:40]!r} is not a product id matching {SAFE_ID}")
        if product_id not in items:
            items.append(product_id)
    try:
        at = datetime.fromisoformat(str(detail.get("at", "")).replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"{kind} at must be an ISO 8601 time, got {str(detail.get('at'))[:40]!r}") from None
    if at.tzinfo is None:
        raise ValidationError(f"{kind} at must carry a time zone (e.g. 2026-11-20T10:00:00Z)")
    order_id, total = "", 0.0
    if kind == ORDER_PLACED:
        order_id, total = _order_fields(detail, raw_items)
    return CartEvent(kind, customer_id, tuple(items), at.astimezone(timezone.utc).replace(microsecond=0), order_id, total)


def _order_fields(detail: Mapping[str, Any], raw_items: list[Any]) -> tuple[str, float]:
    """(order id, total) of an OrderPlaced detail: "order_id" (optional) and "total", else the sum of
    the lines' "price" x "quantity" (lines without a price count 0)."""
    order_id = detail.get("order_id", "")
    if order_id and (not isinstance(order_id, str) or not _SAFE.match(order_id)):
        raise ValidationError(f"OrderPlaced order_id must match {SAFE_ID}")
    total = detail.get("total")
    if total is None:
        total = 0.0
        for raw in raw_items:
            if isinstance(raw, Mapping) and isinstance(raw.get("price"), (int, float)):
                quantity = raw.get("quantity", 1)
                total += float(raw["price"]) * (quantity if isinstance(quantity, (int, float)) else 1)
    if isinstance(total, bool) or not isinstance(total, (int, float)) or not 0 <= total < 1e9:
        raise ValidationError(f"OrderPlaced total must be a number >= 0, got {str(total)[:20]!r}")
    return order_id or "", round(float(total), 2)


def apply_cart_event(event: CartEvent, *, profiles: Any, delay: timedelta, now: datetime) -> str:
    """Update the profile's cart and, for a non-empty cart, record its due item. Returns the outcome:
    "due_recorded", "cart_emptied", "order_recorded", "stale" (an older event arriving late:
    EventBridge does not keep order) or "unknown_customer" (profiles are published offline; a
    customer the table does not hold has no consent on record, so gets no reminder anyway).

    Idempotent: a redelivered event rewrites the same values and the same due item.
    """
    profile = profiles.get_profile(event.customer_id)
    if profile is None:
        return "unknown_customer"
    if event.kind == ORDER_PLACED:
        return _apply_order(event, profile, profiles=profiles)
    if profile.cart_updated_at is not None and profile.cart_updated_at > event.at:
        return "stale"
    if not profiles.update_cart(event.customer_id, items=list(event.items), at=format_time(event.at)):
        return "stale"  # a newer update won the race between our read and our write
    if not event.items:
        return "cart_emptied"
    due_at = event.at + delay
    # A late event is due at once: it goes into the current bucket, which the sweep still reads.
    item = DueItem(due_bucket(max(due_at, now)), event.customer_id, event.at, due_at)
    profiles.put_due(
        item.bucket, item.sort_key, customer_id=item.customer_id, version=format_time(item.version),
        due_at=format_time(item.due_at), expires_at=int((item.due_at + DUE_TTL).timestamp()),
    )
    return "due_recorded"


def _apply_order(event: CartEvent, profile: Profile, *, profiles: Any, attempts: int = 3) -> str:
    """Bought items leave the cart and join the purchase history; last_order_at moves forward.
    An optimistic write (on the cart version read) retried a few times against a racing update."""
    for _ in range(attempts):
        cart_at = profile.cart_updated_at
        carted = profile.carted
        if cart_at is None or event.at >= cart_at:  # an old order must not empty a newer cart
            carted = [p for p in profile.carted if p not in event.items]
        dated = replace(profile, purchased=list(profile.purchased), purchased_on=list(profile.purchased_on))
        for product_id in reversed(event.items):  # the order's first item ends first, as before
            record_purchase(dated, product_id, event.at.date())
        last_order_at = max(filter(None, (profile.last_order_at, event.at)))
        if profiles.record_order(
            event.customer_id, carted=carted, purchased=dated.purchased,
            purchased_on=iso_days(dated.purchased_on),
            last_order_at=format_time(last_order_at), cart_updated_at_seen=format_time(cart_at) if cart_at else None,
        ):
            return "order_recorded"
        profile = profiles.get_profile(event.customer_id)
        if profile is None:
            return "unknown_customer"
    raise ValidationError(f"order for a customer's cart lost {attempts} write races in a row; retry the event")


def check_due(due: DueItem, profile: Profile | None, *, campaign: CampaignDefinition, options: PlanOptions, now: datetime) -> tuple[str, Job | None]:
    """Decide one due item against the profile as it is now: a skip (SKIPS), a planner exclusion,
    or ENQUEUED with its job. The planner's audience rule runs with `campaign`, whose delay the
    caller has set to the configured one."""
    if profile is None:
        return "unknown_customer", None
    if profile.cart_updated_at is None or profile.cart_updated_at != due.version:
        return "superseded", None  # updated again: the later version's due item handles it
    if not profile.carted:
        return "cart_emptied", None
    if profile.last_order_at is not None and profile.last_order_at >= due.version:
        return "ordered", None
    campaign_id = cart_campaign_id(due.due_at)
    decision = decide(profile, campaign, campaign_id=campaign_id, now=now, options=options)
    if decision != ENQUEUED:
        return decision, None
    return ENQUEUED, Job(
        campaign_id=campaign_id,
        campaign_type=CART_CAMPAIGN,
        customer_id=profile.customer.customer_id,
        send_date=due.due_at.astimezone(timezone.utc).date(),
        context=JobContext(cart_items=tuple(profile.carted[:REMINDER_ITEMS])),  # cart_first ranks these first
    )


def cart_campaign(delay: timedelta) -> CampaignDefinition:
    """The abandoned_cart definition with the configured delay as its audience rule's delay."""
    campaign = get_campaign(CART_CAMPAIGN)
    return replace(campaign, audience={**campaign.audience, "delay_hours": delay.total_seconds() / 3600})


def sweep_due(
    *, profiles: Any, queue: Any, options: PlanOptions, delay: timedelta, now: datetime, lookback: timedelta = SWEEP_LOOKBACK,
    events: Any = None,
) -> Counter[str]:
    """Handle every due item in the buckets from `now - lookback` to `now`; returns counts by outcome.

    Per bucket: one Query, one BatchGetItem of the profiles, jobs sent 10 per SendMessageBatch,
    holdouts recorded, then the handled due items deleted. A due item whose job could not be sent
    stays for the next sweep (a second job for the same cart is harmless: the generate function
    writes one email per (campaign, customer)). Items not yet due are left alone. With `events` (a
    nudge.storage.EventLog), each bucket's treated and holdout customers are logged as "assigned"
    before its jobs are sent, as the planner does (nudge.service.PlanService).
    """
    campaign = cart_campaign(delay)
    counts: Counter[str] = Counter()
    for bucket in buckets_between(now - lookback, now):
        due_items = [d for d in (_due_from_item(bucket, raw) for raw in profiles.query_due(bucket)) if d is not None]
        ready = [d for d in due_items if d.due_at <= now]
        counts["not_yet_due"] += len(due_items) - len(ready)
        if not ready:
            continue
        found = profiles.get_profiles([d.customer_id for d in ready], with_caps=True)  # the CAP items: the cap pre-filter
        handled: list[DueItem] = []
        to_send: list[tuple[DueItem, Job]] = []
        holdout: dict[str, list[str]] = {}
        for due in ready:
            decision, job = check_due(due, found.get(due.customer_id), campaign=campaign, options=options, now=now)
            counts[decision] += 1
            if job is not None:
                to_send.append((due, job))
                continue
            if decision == "holdout":
                holdout.setdefault(cart_campaign_id(due.due_at), []).append(due.customer_id)
            handled.append(due)
        for campaign_id, customer_ids in holdout.items():
            profiles.record_holdout(campaign_id, customer_ids, now=now)
        if events is not None and (to_send or holdout):
            from nudge.eventlog import assigned_event
            from nudge.identity import pseudonymize

            def assigned(campaign_id: str, customer_id: str, group: str) -> Any:
                return assigned_event(campaign_id, pseudonymize(customer_id, key=options.holdout_key), group=group,
                                      at=now, campaign_type=CART_CAMPAIGN, source="sweep")

            events.put_many([assigned(job.campaign_id, job.customer_id, "treated") for _, job in to_send]
                            + [assigned(cid, customer_id, "holdout") for cid, ids in holdout.items() for customer_id in ids])
        for start in range(0, len(to_send), 10):
            chunk = to_send[start : start + 10]
            failed_before = len(queue.failed)
            queue.send([job for _, job in chunk])
            if len(queue.failed) == failed_before:
                handled += [due for due, _ in chunk]
            else:
                counts["send_failed"] += len(chunk)  # kept: the next sweep tries again
                counts[ENQUEUED] -= len(chunk)
        for due in handled:
            profiles.delete_due(due.bucket, due.sort_key)
    return +counts  # drop zero counts


def _due_from_item(bucket: str, item: Mapping[str, Any]) -> DueItem | None:
    try:
        return DueItem(
            bucket=bucket, customer_id=str(item["customer_id"]),
            version=datetime.fromisoformat(str(item["version"])), due_at=datetime.fromisoformat(str(item["due_at"])),
        )
    except (KeyError, ValueError):
        return None  # not a due item this code wrote; it expires by TTL


# ------------------------------------------------------------------------------------------------
# Wiring for the two handlers: built once per container, lazily (nudge.storage is imported only
# here, so the functions above stay plain Python).
# ------------------------------------------------------------------------------------------------
def delay_from(settings: Any) -> timedelta:
    """The configured cart delay (NUDGE_CART_DELAY_MINUTES), checked."""
    from nudge.errors import ConfigError

    try:
        minutes = int(settings.cart_delay_minutes)
    except (TypeError, ValueError):
        raise ConfigError(f"NUDGE_CART_DELAY_MINUTES must be a whole number of minutes, got {settings.cart_delay_minutes!r}") from None
    if not 1 <= minutes <= 4320:
        raise ConfigError(f"NUDGE_CART_DELAY_MINUTES must be in 1..4320 (the cart rule's 72-hour limit), got {minutes}")
    return timedelta(minutes=minutes)


@dataclass
class CartService:
    profiles: Any
    delay: timedelta
    events: Any = None  # nudge.storage.EventLog: every OrderPlaced becomes an "order" event (conversions)
    pseudonym_key: bytes = b""

    @classmethod
    def from_settings(cls, settings: Any) -> "CartService":
        from nudge.service import pseudonym_key
        from nudge.storage import EventLog, ProfileStore

        settings.require("profile_table", "output_bucket")
        key = pseudonym_key(settings, purpose="for the order events' pseudonymous ids")
        return cls(ProfileStore(settings.profile_table), delay_from(settings), EventLog(settings.output_bucket), key)

    def apply(self, event: Mapping[str, Any], *, now: datetime | None = None) -> str:
        parsed = parse_cart_event(event)
        if parsed.kind == ORDER_PLACED and self.events is not None:
            # Logged first, whatever the profile update then finds (an unknown customer, a stale
            # cart): an order is a conversion either way, and it is logged once per order id.
            from nudge.eventlog import order_event
            from nudge.identity import pseudonymize

            self.events.put(order_event(parsed.order_key(), pseudonymous_id=pseudonymize(parsed.customer_id, key=self.pseudonym_key),
                                        at=parsed.at, revenue=parsed.total))
        return apply_cart_event(parsed, profiles=self.profiles, delay=self.delay, now=now or datetime.now(timezone.utc))


@dataclass
class SweepService:
    profiles: Any
    queue: Any
    options: PlanOptions
    delay: timedelta
    events: Any = None  # nudge.storage.EventLog for the "assigned" events of cart reminders

    @classmethod
    def from_settings(cls, settings: Any) -> "SweepService":
        from nudge.errors import ConfigError
        from nudge.service import pseudonym_key
        from nudge.storage import EventLog, JobQueue, ProfileStore

        settings.require("profile_table", "output_bucket")
        queue_url = settings.triggers_queue_url or settings.jobs_queue_url  # reminders have their own queue when deployed
        if not queue_url:
            raise ConfigError("missing required environment variable: NUDGE_TRIGGERS_QUEUE_URL (or NUDGE_JOBS_QUEUE_URL)")
        key = pseudonym_key(settings, purpose="for the holdout hash")
        options = PlanOptions(
            holdout_share=settings.holdout_share, frequency_cap_days=settings.frequency_cap_days, holdout_key=key
        )
        return cls(ProfileStore(settings.profile_table, record_days=settings.record_retention_days), JobQueue(queue_url),
                   options, delay_from(settings),
                   EventLog(settings.output_bucket))

    def sweep(self, *, now: datetime | None = None) -> dict[str, int]:
        return dict(sweep_due(profiles=self.profiles, queue=self.queue, options=self.options, delay=self.delay,
                              now=now or datetime.now(timezone.utc), events=self.events))
