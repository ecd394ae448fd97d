"""Audience planning: a campaign and a date → who gets a job message, and why each other
customer does not. Plain Python over profiles; the plan function feeds it pages from DynamoDB
and sends the jobs with SendMessageBatch.

Checks, in order (the first that fails names the exclusion):
consent → suppression → opt-out (of everything, or of this campaign type) → audience rule →
frequency cap → holdout.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable, Iterable, Iterator

from nudge.campaigns import CampaignDefinition
from nudge.identity import holdout_bucket
from nudge.jobs import Job, JobContext
from nudge.types import LOYALTY_TIERS, Profile

ENQUEUED = "enqueued"
EXCLUSIONS = ("no_consent", "suppressed", "opted_out", "not_in_audience", "frequency_capped", "holdout")


@dataclass(frozen=True)
class PlanOptions:
    holdout_share: float = 0.1
    frequency_cap_days: int = 7
    holdout_key: bytes = b""
    now: datetime | None = None  # default: the send date at 00:00 UTC
    offer_id: str | None = None  # the store's offer this run names; every job carries it (JobContext.offer_id)


@dataclass
class PlanResult:
    jobs: list[Job] = field(default_factory=list)
    holdout: list[str] = field(default_factory=list)  # customer ids recorded as holdout
    counts: Counter[str] = field(default_factory=Counter)


# Audience rules: name → predicate(profile, audience spec, now). Adding a rule is adding a function.
def _taste_match(p: Profile, spec: dict, now: datetime) -> bool:
    return len(p.purchased) + len(p.viewed) + len(p.carted) >= int(spec.get("min_history_events", 1))


def _cart_abandoned(p: Profile, spec: dict, now: datetime) -> bool:
    if not p.carted or p.cart_updated_at is None:
        return False
    # Abandoned: untouched for at least the delay, and not so long ago that the reminder is stale.
    oldest = now - timedelta(hours=float(spec.get("max_age_hours", 72)))
    return oldest <= p.cart_updated_at <= now - timedelta(hours=float(spec.get("delay_hours", 2)))


def _birthday_in_window(p: Profile, spec: dict, now: datetime) -> bool:
    from nudge.holidays import holidays_on, is_birthday, local_date

    c = p.customer
    if is_birthday(c.birthday, now, c.timezone):
        return True
    if not spec.get("holidays", True):
        return False
    return any(h.giftable for h in holidays_on(local_date(now, c.timezone), c.locale))  # not e.g. New Year's Day


def _loyalty_tier_at_least(p: Profile, spec: dict, now: datetime) -> bool:
    tier = p.customer.loyalty_tier if p.customer.loyalty_tier in LOYALTY_TIERS else "none"
    return LOYALTY_TIERS.index(tier) >= LOYALTY_TIERS.index(spec.get("tier", "gold"))


def _lapsed(p: Profile, spec: dict, now: datetime) -> bool:
    if p.last_order_at is None:
        return False  # never ordered: not lapsed, a prospect (another campaign's audience)
    return p.last_order_at <= now - timedelta(days=int(spec.get("days_since_last_order", 60)))


AUDIENCE_RULES: dict[str, Callable[[Profile, dict, datetime], bool]] = {
    "taste_match": _taste_match,
    "cart_abandoned": _cart_abandoned,
    "birthday_in_window": _birthday_in_window,
    "loyalty_tier_at_least": _loyalty_tier_at_least,
    "lapsed": _lapsed,
}


def decide(profile: Profile, campaign: CampaignDefinition, *, campaign_id: str, now: datetime, options: PlanOptions) -> str:
    """ENQUEUED or the name of the first exclusion that applies."""
    if not profile.customer.consent:
        return "no_consent"
    if profile.suppressed:
        return "suppressed"
    if profile.opted_out_of(campaign.campaign_type):
        return "opted_out"
    rule = AUDIENCE_RULES[campaign.audience["rule"]]
    if not rule(profile, campaign.audience, now):
        return "not_in_audience"
    last = profile.last_marketing_sent_at
    if last is not None and options.frequency_cap_days > 0 and last > now - timedelta(days=options.frequency_cap_days):
        return "frequency_capped"
    if options.holdout_share > 0 and holdout_bucket(profile.customer.customer_id, campaign_id, key=options.holdout_key) < options.holdout_share:
        return "holdout"
    return ENQUEUED


def plan_campaign(
    profiles: Iterable[Profile],
    campaign: CampaignDefinition,
    *,
    campaign_id: str,
    send_date: date,
    options: PlanOptions,
) -> Iterator[tuple[Profile, str, Job | None]]:
    """Yield (profile, decision, job or None) for every profile; streaming, so a million
    customers never sit in memory at once."""
    if campaign.audience["rule"] not in AUDIENCE_RULES:
        raise KeyError(f"campaign {campaign.campaign_type!r} names unknown audience rule {campaign.audience['rule']!r}")
    now = options.now or datetime.combine(send_date, time(0, 0), tzinfo=timezone.utc)
    for profile in profiles:
        decision = decide(profile, campaign, campaign_id=campaign_id, now=now, options=options)
        job = None
        if decision == ENQUEUED:
            job = Job(
                campaign_id=campaign_id,
                campaign_type=campaign.campaign_type,
                customer_id=profile.customer.customer_id,
                send_date=send_date,
                context=_context(profile, campaign, now).model_copy(update={"offer_id": options.offer_id}),
            )
        yield profile, decision, job


def _context(profile: Profile, campaign: CampaignDefinition, now: datetime) -> JobContext:
    if campaign.pool.cart_first:
        return JobContext(cart_items=tuple(profile.carted[:10]))
    if campaign.audience["rule"] == "birthday_in_window":
        from nudge.holidays import holidays_on, is_birthday, local_date

        c = profile.customer
        if not is_birthday(c.birthday, now, c.timezone):
            found = [h for h in holidays_on(local_date(now, c.timezone), c.locale) if h.giftable]
            if found:
                return JobContext(holiday=found[0].name[:80])
    return JobContext()


def collect(stream: Iterable[tuple[Profile, str, Job | None]]) -> PlanResult:
    """Gather a plan stream into a PlanResult (for tests and small audiences)."""
    result = PlanResult()
    for profile, decision, job in stream:
        result.counts[decision] += 1
        if job is not None:
            result.jobs.append(job)
        elif decision == "holdout":
            result.holdout.append(profile.customer.customer_id)
    return result
