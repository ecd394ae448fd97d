"""Services behind the two Lambda handlers: they wire configuration, storage and the core.

Built once per container (lazily, never at import time), so tests and the local runner can
point them at moto.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

from nudge.campaigns import get_campaign
from nudge.config import Settings
from nudge.errors import BadJobError, ClaimBusyError, ConfigError
from nudge.jobs import Job, parse_job
from nudge.pipeline import Email, Engine, compose_batch
from nudge.render.links import LinkTtl
from nudge.planner import ENQUEUED, EXCLUSIONS, PlanOptions, plan_campaign
from nudge.storage import EmailStore, JobQueue, ProfileStore, download_prefix, load_secret_keys
from nudge.identity import pseudonymize
from nudge.types import StoreInfo

log = logging.getLogger("nudge.service")  # a child of the Powertools service logger ("nudge")


def _keys(settings: Settings) -> dict[str, str]:
    if settings.secret_arn:
        return load_secret_keys(settings.secret_arn)
    return {"pseudonym_key": settings.pseudonym_key, "link_key": settings.link_key}


def pseudonym_key(settings: Settings, *, purpose: str) -> bytes:
    """The pseudonymization key, or a ConfigError at cold start saying what it is needed for."""
    key = _keys(settings).get("pseudonym_key")
    if not key:
        raise ConfigError(f"pseudonym_key is required {purpose} (NUDGE_SECRET_ARN or NUDGE_PSEUDONYM_KEY)")
    return key.encode()


def link_key(settings: Settings, *, purpose: str) -> bytes:
    """The link-signing key, or a ConfigError at cold start saying what it is needed for."""
    key = _keys(settings).get("link_key")
    if not key:
        raise ConfigError(f"link_key is required {purpose} (NUDGE_SECRET_ARN or NUDGE_LINK_KEY)")
    return key.encode()


def endpoint_urls(link_base_url: str, *, open_pixel: bool = False) -> dict[str, str]:
    """StoreInfo's link fields for the link endpoint at `link_base_url` ({} when there is none):
    unsubscribe, preferences and click routes, and the open pixel when switched on.

    >>> endpoint_urls("https://abc.lambda-url.eu-west-1.on.aws/")["unsubscribe_url"]
    'https://abc.lambda-url.eu-west-1.on.aws/unsubscribe'
    """
    base = (link_base_url or "").strip().rstrip("/")
    if not base:
        return {}
    if not base.lower().startswith("https://"):
        raise ConfigError(f"NUDGE_LINK_BASE_URL must be an https URL (one-click unsubscribe needs https), got {link_base_url!r}")
    urls = {"unsubscribe_url": f"{base}/unsubscribe", "preferences_url": f"{base}/preferences", "click_url": f"{base}/click"}
    if open_pixel:
        urls["open_url"] = f"{base}/open"
    return urls


@dataclass
class PreparedBatch:
    """The outcome of composing a whole SQS batch, finished record by record."""

    service: "GenerateService"
    outcomes: dict[str, Email | Exception]
    counts: Counter[str] = field(default_factory=Counter)

    def finish(self, record: Any) -> str:
        """The record handler: raise for a failed record (BatchProcessor reports it), else write."""
        message_id = record["messageId"] if isinstance(record, Mapping) else record.message_id
        outcome = self.outcomes.get(message_id)
        if outcome is None:
            raise BadJobError(f"record {message_id} was not prepared")
        if isinstance(outcome, Exception):
            self.counts["failed"] += 1
            # Messages name pseudonymous ids and schema fields only, never personal data.
            log.warning("record failed", extra={"message_id": message_id, "error": type(outcome).__name__, "detail": str(outcome)[:500]})
            raise outcome
        if outcome.skipped:
            self.counts[f"skipped_{outcome.skipped}"] += 1
            return outcome.skipped
        if not self.service.write(outcome):
            self.counts["duplicates_skipped"] += 1
            return "duplicate"
        self.counts["emails"] += 1
        self.counts[f"copy_{outcome.copy_source}"] += 1
        return "written"


@dataclass
class GenerateService:
    settings: Settings
    engine: Engine
    profiles: ProfileStore
    emails: EmailStore

    @classmethod
    def from_settings(cls, settings: Settings) -> "GenerateService":
        settings.require("output_bucket", "profile_table", "artifacts_uri")
        keys = _keys(settings)
        if not keys.get("pseudonym_key") or not keys.get("link_key"):
            raise ConfigError("pseudonym_key and link_key are required (NUDGE_SECRET_ARN, or NUDGE_PSEUDONYM_KEY and NUDGE_LINK_KEY)")
        artifacts = download_prefix(settings.artifacts_uri, Path(tempfile.gettempdir()) / "nudge-artifacts")
        model_dir = settings.model_dir if settings.model_dir and Path(settings.model_dir).exists() else None
        store = StoreInfo(
            name=settings.store_name, postal_address=settings.store_address, base_url=settings.store_url, sender=settings.sender,
            **endpoint_urls(settings.link_base_url, open_pixel=settings.open_pixel),
        )
        engine = Engine.load(
            artifacts_dir=artifacts, model_dir=model_dir, store=store,
            pseudonym_key=keys["pseudonym_key"].encode(), link_key=keys["link_key"].encode(),
            link_ttl=LinkTtl(click_days=settings.link_click_ttl_days, account_days=settings.link_unsubscribe_ttl_days),
        )
        return cls(settings, engine, ProfileStore(settings.profile_table), EmailStore(settings.output_bucket))

    def prepare(self, records: Iterable[Mapping[str, Any]], *, now: datetime | None = None) -> PreparedBatch:
        """Parse every record and compose the batch's emails together (one batched copy call)."""
        outcomes: dict[str, Email | Exception] = {}
        parsed: list[tuple[str, Job]] = []
        for record in records:
            try:
                parsed.append((record["messageId"], parse_job(record.get("body"))))
            except BadJobError as exc:
                outcomes[record["messageId"]] = exc
        try:
            profiles = self.profiles.get_profiles([job.customer_id for _, job in parsed])
        except Exception as exc:  # noqa: BLE001 - every record of the batch fails and is retried
            return PreparedBatch(self, {**outcomes, **{mid: exc for mid, _ in parsed}})
        composed = compose_batch([job for _, job in parsed], profiles, self.engine, now=now)
        outcomes.update({mid: result for (mid, _), result in zip(parsed, composed)})
        return PreparedBatch(self, outcomes)

    def write(self, email: Email) -> bool:
        """Write the email once per (campaign, customer): False when it was already written."""
        job, now = email.job, datetime.now(timezone.utc)
        claim = self.profiles.claim_send(job.customer_id, job.campaign_id, now=now, token=uuid.uuid4().hex)
        if claim == "done":
            return False
        if claim == "busy":
            raise ClaimBusyError(f"{email.pseudonymous_id} in {job.campaign_id} is being written by another attempt; retry later")
        try:
            # The way back from the email's links (which name the pseudonymous id only) to the
            # customer, recorded before the email exists; the same item each time.
            self.profiles.put_pseudonym(email.pseudonymous_id, job.customer_id)
            for key, body, content_type in email.objects():
                self.emails.put_once(key, body, content_type=content_type)
            self.profiles.mark_sent(job.customer_id, job.campaign_id, now=now, campaign_type=job.campaign_type)
        except Exception:
            try:
                self.profiles.release_send(job.customer_id, job.campaign_id)
            except Exception:  # noqa: BLE001 - the lease expires anyway; the original error matters
                pass
            raise
        return True


@dataclass
class PlanService:
    settings: Settings
    profiles: ProfileStore
    queue: JobQueue
    holdout_key: bytes  # also the pseudonymization key (nudge.identity): one key, as the secret holds it
    events: Any = None  # nudge.storage.EventLog for the "assigned" events (the uplift's denominators); None: not logged

    @classmethod
    def from_settings(cls, settings: Settings) -> "PlanService":
        from nudge.storage import EventLog

        settings.require("profile_table", "jobs_queue_url", "output_bucket")
        key = pseudonym_key(settings, purpose="for the holdout hash")
        return cls(settings, ProfileStore(settings.profile_table), JobQueue(settings.jobs_queue_url), key,
                   EventLog(settings.output_bucket))

    def plan(
        self, *, campaign_type: str, campaign_id: str, send_date: date, now: datetime | None = None, limit: int | None = None
    ) -> dict[str, Any]:
        """Plan one campaign: stream profiles page by page, enqueue in batches of 10, count.

        `limit` caps the number of jobs (a test send or a staged rollout); eligible customers past
        it are counted as `over_limit`, not silently dropped."""
        campaign = get_campaign(campaign_type)
        options = PlanOptions(
            holdout_share=self.settings.holdout_share,
            frequency_cap_days=self.settings.frequency_cap_days,
            holdout_key=self.holdout_key,
            now=now,
        )
        counts: Counter[str] = Counter()
        sent_before, failed_before = self.queue.sent, len(self.queue.failed)
        moment = now or datetime.now(timezone.utc)
        buffer: list[Job] = []
        holdout: list[str] = []
        held_out: list[str] = []  # holdout customers not yet in the event log
        for profile, decision, job in plan_campaign(
            self.profiles.scan_profiles(), campaign, campaign_id=campaign_id, send_date=send_date, options=options
        ):
            if job is not None and limit is not None and counts[ENQUEUED] >= limit:
                decision, job = "over_limit", None
            counts[decision] += 1
            if job is not None:
                buffer.append(job)
                if len(buffer) >= 100:
                    self._log_assigned(campaign_type, campaign_id, [j.customer_id for j in buffer], "treated", moment)
                    self.queue.send(buffer)
                    buffer = []
            elif decision == "holdout":
                holdout.append(profile.customer.customer_id)
                held_out.append(profile.customer.customer_id)
                if len(held_out) >= 1000:
                    self._log_assigned(campaign_type, campaign_id, held_out, "holdout", moment)
                    held_out = []
        if buffer:
            self._log_assigned(campaign_type, campaign_id, [j.customer_id for j in buffer], "treated", moment)
            self.queue.send(buffer)
        self._log_assigned(campaign_type, campaign_id, held_out, "holdout", moment)
        self.profiles.record_holdout(campaign_id, holdout, now=moment)
        return {
            "campaign_id": campaign_id,
            "campaign_type": campaign_type,
            "send_date": send_date.isoformat(),
            "considered": sum(counts.values()),
            "enqueued": self.queue.sent - sent_before,
            "send_failures": len(self.queue.failed) - failed_before,
            "excluded": {reason: counts.get(reason, 0) for reason in (*EXCLUSIONS, "over_limit")},
        }

    def _log_assigned(self, campaign_type: str, campaign_id: str, customer_ids: list[str], group: str, moment: datetime) -> None:
        """One "assigned" event per customer, written as one object per batch before the batch's jobs
        are enqueued: a treated customer is in the log before any email of theirs can be (intent to
        treat; a job that then fails to enqueue still counts as treated, which can only understate
        the lift). A re-run plan writes the same batches under the same keys, so nothing twice."""
        if self.events is None or not customer_ids:
            return
        from nudge.eventlog import assigned_event

        self.events.put_many([
            assigned_event(campaign_id, pseudonymize(cid, key=self.holdout_key), group=group, at=moment, campaign_type=campaign_type)
            for cid in customer_ids
        ])


def erase_customer(customer_id: str, *, settings: Settings) -> dict[str, Any]:
    """Delete a customer's profile items and every version of every email written for them."""
    from nudge.identity import pseudonymize

    settings.require("profile_table", "output_bucket")
    pseudo = pseudonymize(customer_id, key=pseudonym_key(settings, purpose="to find the customer's emails"))
    emails = EmailStore(settings.output_bucket)
    versions = sum(emails.delete_prefix(f"{prefix}{pseudo}/") for prefix in emails.campaign_prefixes())
    profiles = ProfileStore(settings.profile_table)
    items = profiles.delete_customer(customer_id)
    profiles.delete_pseudonym(pseudo)  # links in old emails now resolve to nobody (the endpoint answers 404)
    log.info("customer erased", extra={"customer": pseudo, "items": items, "object_versions": versions})
    return {"customer": pseudo, "profile_items_deleted": items, "email_object_versions_deleted": versions}
