"""Services behind the two Lambda handlers: they wire configuration, storage and the core.

Built once per container (lazily, never at import time), so tests and the local runner can
point them at moto.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from nudge.campaigns import get_campaign
from nudge.config import Settings
from nudge.errors import BadJobError, ClaimBusyError, ConfigError
from nudge.jobs import Job, parse_job
from nudge.pipeline import Email, Engine, compose_batch, skip_reason, skipped_email
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


IO_THREADS = 10  # a batch's DynamoDB and S3 calls in flight at once (an SQS batch is at most 10 jobs)


def _in_pool(work: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """`work` over `items` on up to IO_THREADS threads ("nudge-io"), results in order; in this
    thread when there is at most one item."""
    if len(items) <= 1:
        return [work(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(IO_THREADS, len(items)), thread_name_prefix="nudge-io") as pool:
        return list(pool.map(work, items))


@dataclass
class PreparedBatch:
    """The outcome of claiming and composing a whole SQS batch, finished record by record."""

    service: "GenerateService"
    outcomes: dict[str, Email | Exception]
    counts: Counter[str] = field(default_factory=Counter)
    tokens: dict[str, str] = field(default_factory=dict)  # message id -> the fencing token of its claim
    written: dict[str, str | Exception] | None = None  # message id -> write() outcome, once the batch is written
    mapped: set[str] = field(default_factory=set)  # message ids whose customer's PSEUDO# mapping the publish step wrote

    def _write_all(self) -> None:
        """Write every composed email of the batch at once, IO_THREADS in flight (each email's
        pseudonym, object and completion stay in order on one thread): a batch's writes are
        mostly waits on DynamoDB and S3, which then overlap. Done on the first record that needs
        it, so an attempt that lost its claim before finishing still finds out (stale)."""
        pending = [(mid, email) for mid, email in self.outcomes.items()
                   if isinstance(email, Email) and not email.skipped and mid in self.tokens]

        def write(item: tuple[str, Email]) -> tuple[str, str | Exception, Counter[str]]:
            message_id, email = item
            counts: Counter[str] = Counter()
            try:
                return message_id, self.service.write(email, token=self.tokens[message_id], counts=counts,
                                                      record_pseudonym=message_id not in self.mapped), counts
            except Exception as exc:  # noqa: BLE001 - handed to this record's finish(), which raises it
                return message_id, exc, counts

        self.written = {}
        for message_id, outcome, counts in _in_pool(write, pending):
            self.written[message_id] = outcome
            self.counts.update(counts)

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
        if outcome.skipped == "duplicate":
            self.counts["duplicates_skipped"] += 1
            return "duplicate"
        if outcome.skipped:
            self.counts[f"skipped_{outcome.skipped}"] += 1
            return outcome.skipped
        if self.written is None:
            self._write_all()
        written = self.written.get(message_id)
        if written is None:  # not in the batch's writes (a record outside prepare's batch)
            written = self.service.write(outcome, token=self.tokens[message_id], counts=self.counts,
                                         record_pseudonym=message_id not in self.mapped)
        if isinstance(written, Exception):
            raise written
        if written == "stale":
            self.counts["stale_finishes"] += 1
            return "stale"
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
        # per process: a Lambda container has one, while local runs (tests, the demo, the crash runs'
        # workers) would otherwise download different artifacts into one shared folder at once
        artifacts = download_prefix(settings.artifacts_uri, Path(tempfile.gettempdir()) / f"nudge-artifacts-{os.getpid()}")
        model_dir = settings.model_dir if settings.model_dir and Path(settings.model_dir).exists() else None
        store = StoreInfo(
            name=settings.store_name, postal_address=settings.store_address, base_url=settings.store_url, sender=settings.sender,
            default_locale=settings.store_locale or "en_GB",
            **endpoint_urls(settings.link_base_url, open_pixel=settings.open_pixel),
        )
        engine = Engine.load(
            artifacts_dir=artifacts, model_dir=model_dir, store=store,
            pseudonym_key=keys["pseudonym_key"].encode(), link_key=keys["link_key"].encode(),
            link_ttl=LinkTtl(click_days=settings.link_click_ttl_days, account_days=settings.link_unsubscribe_ttl_days),
        )
        return cls(settings, engine, ProfileStore(settings.profile_table, record_days=settings.record_retention_days),
                   EmailStore(settings.output_bucket))

    def check_lease(self, remaining_ms: int | None) -> None:
        """Refuse to run (ConfigError) when a claim's lease would not outlast this invocation: the
        fencing of the write path rests on an attempt being dead (killed at the function's timeout)
        before its lease expires and a retry takes the claim over. `remaining_ms` is the Lambda
        context's remaining time at the start of the invocation, i.e. the function's timeout."""
        if remaining_ms is not None and self.settings.claim_lease_seconds * 1000 <= remaining_ms:
            raise ConfigError(
                f"NUDGE_CLAIM_LEASE_SECONDS ({self.settings.claim_lease_seconds}) must exceed the function's timeout "
                f"({remaining_ms / 1000:.0f} s left at the start of this invocation)"
            )

    def prepare(self, records: Iterable[Mapping[str, Any]], *, now: datetime | None = None, remaining_ms: int | None = None) -> PreparedBatch:
        """Parse every record, claim each job before any work is done, compose the claimed ones
        together (one batched copy call), and give back the claims of those that then failed.

        A job whose customer is gone or may not be emailed is skipped before claiming; a claim
        that finds the email done (a redelivery), refused by the frequency cap, or the customer
        erased is skipped with that reason; one busy elsewhere fails with ClaimBusyError (retried
        later). None of them costs a composition.
        """
        self.check_lease(remaining_ms)
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
        batch = PreparedBatch(self, outcomes)
        claimed: list[tuple[str, Job]] = []
        to_claim: list[tuple[str, Job, str, str]] = []  # (message id, job, pseudonymous id, token)
        for message_id, job in parsed:
            pseudo = pseudonymize(job.customer_id, key=self.engine.pseudonym_key)
            skip = skip_reason(job, profiles.get(job.customer_id))
            if skip:
                outcomes[message_id] = skipped_email(job, pseudo, skip)
            else:
                to_claim.append((message_id, job, pseudo, uuid.uuid4().hex))

        def claim(item: tuple[str, Job, str, str]) -> str | Exception:
            _, job, pseudo, token = item
            try:
                return self._claim(job, token=token, pseudo=pseudo)
            except Exception as exc:  # noqa: BLE001 - this record fails alone (ClaimBusyError, or DynamoDB after retries)
                return exc

        # the batch's claims at once, but one customer's one after another: two campaigns of one customer
        # in a batch both take that customer's CAP item, and the second should see the first's
        # (the conditional write decides either way; in sequence the loser is told, not raced)
        by_customer: dict[str, list[int]] = {}
        for position, (_, job, _, _) in enumerate(to_claim):
            by_customer.setdefault(job.customer_id, []).append(position)
        results: list[str | Exception | None] = [None] * len(to_claim)
        for positions, outcomes_of in zip(by_customer.values(), _in_pool(
                lambda positions: [claim(to_claim[i]) for i in positions], list(by_customer.values()))):
            for position, outcome in zip(positions, outcomes_of):
                results[position] = outcome
        for (message_id, job, pseudo, token), skip in zip(to_claim, results):
            if isinstance(skip, Exception):
                outcomes[message_id] = skip
            elif skip:
                outcomes[message_id] = skipped_email(job, pseudo, skip)
            else:
                batch.tokens[message_id] = token
                claimed.append((message_id, job))
                if profiles[job.customer_id].pseudonym_recorded:
                    batch.mapped.add(message_id)
        composed = compose_batch([job for _, job in claimed], profiles, self.engine, now=now)
        for (message_id, job), result in zip(claimed, composed):
            outcomes[message_id] = result
            if isinstance(result, Exception) or result.skipped:  # no email after all: the claim goes back
                self._release(job, token=batch.tokens[message_id], counts=batch.counts)
        return batch

    def _claim(self, job: Job, *, token: str, pseudo: str) -> str:
        """"" when this attempt now holds the job's claim, else the skip reason; ClaimBusyError when
        another live attempt holds it."""
        claim = self.profiles.claim_send(
            job.customer_id, job.campaign_id, now=datetime.now(timezone.utc), token=token,
            lease_seconds=self.settings.claim_lease_seconds, cap_days=self.settings.frequency_cap_days,
        )
        if claim == "busy":
            raise ClaimBusyError(f"{pseudo} in {job.campaign_id} is being written by another attempt; retry later")
        return {"claimed": "", "done": "duplicate"}.get(claim, claim)

    def _release(self, job: Job, *, token: str, counts: Counter[str]) -> None:
        """Give the claim back (fenced on its token); a stale attempt's release changes nothing."""
        try:
            if not self.profiles.release_send(job.customer_id, job.campaign_id, token=token):
                counts["stale_releases"] += 1
                log.warning("stale release: the claim is no longer this attempt's", extra={"campaign_id": job.campaign_id})
        except Exception:  # noqa: BLE001 - the lease expires anyway; the original outcome matters
            log.warning("release failed; the claim's lease will expire", extra={"campaign_id": job.campaign_id})

    def write(self, email: Email, *, token: str, counts: Counter[str] | None = None, record_pseudonym: bool = True) -> str:
        """Write a claimed email: its one object (the .eml, overwritten: only the claim's holder
        writes it), then complete the claim with the audit record, the object's SHA-256 and S3
        version, so the record always describes the .eml that will be sent. Returns "written", or
        "stale" when the claim had passed to a newer attempt (or the customer was erased): this
        attempt then completes nothing.

        `record_pseudonym` False: the customer's PSEUDO# mapping was written when the profile was
        published (Profile.pseudonym_recorded), so none is written here."""
        job = email.job
        now = datetime.now(timezone.utc)
        try:
            if record_pseudonym:
                # The way back from the email's links (which name the pseudonymous id only) to the
                # customer, recorded before the email exists; kept as long as the email's account links live.
                self.profiles.put_pseudonym(email.pseudonymous_id, job.customer_id, now=now,
                                            keep_days=self.settings.link_unsubscribe_ttl_days + 1)
            version = self.emails.put(email.keys["eml"], email.eml, content_type="message/rfc822")
            done = self.profiles.mark_sent(
                job.customer_id, job.campaign_id, now=now, token=token, campaign_type=job.campaign_type,
                record=email.record, eml_sha256=hashlib.sha256(email.eml).hexdigest(), eml_version=version,
            )
        except Exception:
            self._release(job, token=token, counts=counts if counts is not None else Counter())
            raise
        if not done:
            log.warning("stale finish: the claim is no longer this attempt's", extra={"customer": email.pseudonymous_id,
                                                                                     "campaign_id": job.campaign_id})
            return "stale"
        return "written"


# Segmented planning (PlanService.start / plan_segment / finish; template.yaml's PlanStateMachine).
SEGMENT_PAGE_SIZE = 1000  # items one Scan page evaluates (DynamoDB also cuts a page at 1 MB): one checkpoint per page
SEGMENT_RESERVE_MS = 60_000  # a segment stops taking pages when less than this (or 2x its slowest page) is left
SEND_THREADS = 8  # SendMessageBatch calls in flight at once per segment
MAX_SEGMENTS = 1000  # DynamoDB allows 1,000,000; past ~1,000 a segment is a few pages even at 100M customers
SENT, SEND_FAILURES = "sent", "send_failures"  # checkpoint counters besides the planner's decisions
SEGMENT_FIELDS = ("campaign_type", "campaign_id", "send_date", "limit", "total_segments", "started_at", "decision_time",
                  "offer_id")


def segment_request(plan: Mapping[str, Any], segment: int | None = None) -> dict[str, Any]:
    """The fields a segment (or, without `segment`, the finish step) needs from start()'s result:
    what the state machine's Map ItemSelector passes to each segment."""
    request = {name: plan.get(name) for name in SEGMENT_FIELDS}
    return request if segment is None else {**request, "segment": segment}


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
        return cls(settings, ProfileStore(settings.profile_table, record_days=settings.record_retention_days), JobQueue(settings.jobs_queue_url), key,
                   EventLog(settings.output_bucket))

    def plan(
        self, *, campaign_type: str, campaign_id: str, send_date: date, now: datetime | None = None, limit: int | None = None,
        time_left_ms: Callable[[], int] | None = None, offer_id: str | None = None,
    ) -> dict[str, Any]:
        """Plan one campaign in this invocation: the plan state machine's three steps in a row, its
        segments one after another (one segment unless the campaign id was started with more).

        For small stores, a test send (`limit`) and the local demo; the state machine runs the same
        steps with the segments in parallel (docs/ARCHITECTURE.md, "Planning at scale"). `limit`
        caps the number of jobs; eligible customers past it are counted as `over_limit`, not
        silently dropped. A re-run with the same campaign id finds every checkpoint done and
        enqueues nothing; a run that comes within `SEGMENT_RESERVE_MS` of its time stops at a page
        boundary with "complete": False, and invoking it again carries on from the checkpoint."""
        started = self.start(campaign_type=campaign_type, campaign_id=campaign_id, send_date=send_date, limit=limit,
                             total_segments=1, now=now, offer_id=offer_id)
        enqueued_now, out_of_time = 0, False
        for segment in started["segments"]:
            result = self.plan_segment(**segment_request(started, segment), time_left_ms=time_left_ms)
            enqueued_now += result["enqueued_now"]
            if not result["done"]:
                out_of_time = True
                break
        summary = self.finish(**segment_request(started))
        return {**summary, "enqueued_this_run": enqueued_now, **({"stopped": "out_of_time"} if out_of_time else {})}

    def start(
        self, *, campaign_type: str, campaign_id: str, send_date: date, limit: int | None = None, total_segments: int = 1,
        now: datetime | None = None, offer_id: str | None = None,
    ) -> dict[str, Any]:
        """The state machine's first step: fix a plan's shape once per campaign id (its PLAN# META item).

        A re-run with the same campaign id gets the first run's segment count, decision time and
        start time back, so its segments find their checkpoints; the same id planned for another
        campaign type or date is refused. A `limit` plans in one segment (the cap is exact only there).
        `offer_id` (the store's offer this run carries, checked when an email is composed: nudge.offers) is
        fixed with the rest: a re-run keeps the first run's.
        """
        from nudge.errors import ValidationError

        get_campaign(campaign_type)  # an unknown campaign type fails here, before any segment runs
        if not 1 <= total_segments <= MAX_SEGMENTS:
            raise ValidationError(f"segments must be in 1..{MAX_SEGMENTS}, got {total_segments}")
        moment = datetime.now(timezone.utc)
        meta = self.profiles.start_plan(campaign_id, now=moment, meta={
            "campaign_type": campaign_type, "send_date": send_date.isoformat(), "limit": limit,
            "total_segments": 1 if limit is not None else total_segments, "started_at": moment.isoformat(),
            "decision_time": now.isoformat() if now else None, "offer_id": offer_id,
        })
        if meta["campaign_type"] != campaign_type or meta["send_date"] != send_date.isoformat():
            raise ValidationError(f"campaign id {campaign_id!r} was planned as {meta['campaign_type']} for {meta['send_date']};"
                                  " a different plan needs a different campaign id")
        count = int(meta["total_segments"])
        return {
            "campaign_type": campaign_type, "campaign_id": campaign_id, "send_date": meta["send_date"],
            "limit": int(meta["limit"]) if meta.get("limit") is not None else None, "total_segments": count,
            "started_at": meta["started_at"], "decision_time": meta.get("decision_time"), "offer_id": meta.get("offer_id"),
            "segments": list(range(count)),
        }

    def plan_segment(
        self, *, campaign_type: str, campaign_id: str, send_date: str | date, segment: int, total_segments: int, started_at: str,
        limit: int | None = None, decision_time: str | None = None, time_left_ms: Callable[[], int] | None = None,
        page_size: int | None = None, offer_id: str | None = None,
    ) -> dict[str, Any]:
        """Plan one Scan segment from its checkpoint on, a page at a time, until the segment ends or
        the time left (`time_left_ms`, e.g. the Lambda context's get_remaining_time_in_millis) drops
        under SEGMENT_RESERVE_MS or twice the slowest page. Each page: the planner's decisions, its
        "assigned" events, its holdouts recorded, its jobs sent (SendMessageBatch calls in parallel),
        then the checkpoint moved past it. A crash inside a page replays that page only: at most
        SEGMENT_PAGE_SIZE jobs sent twice, which the generate function's per-(campaign, customer)
        claim turns into one email. Returns the request with "done" (the state machine's loop
        condition), the pages done and the jobs this invocation sent ("enqueued_now")."""
        send_day = send_date if isinstance(send_date, date) else date.fromisoformat(send_date)
        checkpoint = self.profiles.plan_checkpoint(campaign_id, segment=segment, total_segments=total_segments) or {}
        counts: Counter[str] = Counter(checkpoint.get("counts", {}))
        pages, start_key, done = checkpoint.get("pages", 0), checkpoint.get("start_key"), checkpoint.get("done", False)
        campaign = get_campaign(campaign_type)
        options = self._options(datetime.fromisoformat(decision_time) if decision_time else None, offer_id=offer_id)
        moment = datetime.fromisoformat(started_at)
        enqueued_now, slowest_ms, first = 0, 0.0, True
        while not done:
            if not first and time_left_ms is not None and time_left_ms() < max(SEGMENT_RESERVE_MS, 2 * slowest_ms):
                break  # every invocation does at least one page, so a segment always moves on
            first, page_started = False, time.perf_counter()
            profiles, next_key = self.profiles.scan_profile_page(
                segment=segment, total_segments=total_segments, start_key=start_key,
                page_size=page_size or self.settings.plan_page_size or SEGMENT_PAGE_SIZE)
            jobs: list[Job] = []
            holdout: list[str] = []
            for profile, decision, job in plan_campaign(profiles, campaign, campaign_id=campaign_id, send_date=send_day, options=options):
                if job is not None and limit is not None and counts[ENQUEUED] >= limit:
                    decision, job = "over_limit", None
                counts[decision] += 1
                if job is not None:
                    jobs.append(job)
                elif decision == "holdout":
                    holdout.append(profile.customer.customer_id)
            self._log_assigned(campaign_type, campaign_id, [j.customer_id for j in jobs], "treated", moment)
            self._log_assigned(campaign_type, campaign_id, holdout, "holdout", moment)
            if holdout:
                self.profiles.record_holdout(campaign_id, holdout, now=moment)
            sent = self.queue.send_parallel(jobs, threads=SEND_THREADS) if jobs else 0
            counts[SENT] += sent
            counts[SEND_FAILURES] += len(jobs) - sent
            enqueued_now += sent
            pages, start_key, done = pages + 1, next_key, next_key is None
            self.profiles.save_plan_checkpoint(campaign_id, segment=segment, total_segments=total_segments, pages=pages,
                                               start_key=start_key, counts=counts, done=done, now=datetime.now(timezone.utc))
            slowest_ms = max(slowest_ms, (time.perf_counter() - page_started) * 1000)
        return {**segment_request({"campaign_type": campaign_type, "campaign_id": campaign_id, "send_date": send_day.isoformat(),
                                   "limit": limit, "total_segments": total_segments, "started_at": started_at,
                                   "decision_time": decision_time, "offer_id": offer_id}, segment),
                "done": done, "pages": pages, "enqueued_now": enqueued_now}

    def finish(
        self, *, campaign_type: str, campaign_id: str, send_date: str, total_segments: int, **_: Any,
    ) -> dict[str, Any]:
        """The state machine's last step: the plan's totals from its segment checkpoints (one Query),
        and the META item marked done once every segment is."""
        checkpoints = [c for c in self.profiles.plan_checkpoints(campaign_id) if c["total_segments"] == total_segments]
        counts: Counter[str] = Counter()
        for checkpoint in checkpoints:
            counts.update(checkpoint["counts"])
        segments_done = sum(1 for c in checkpoints if c["done"])
        summary = {
            "campaign_id": campaign_id,
            "campaign_type": campaign_type,
            "send_date": send_date,
            "segments": total_segments,
            "complete": segments_done == total_segments,
            "considered": sum(counts[d] for d in (ENQUEUED, *EXCLUSIONS, "over_limit")),
            "enqueued": counts[SENT],
            "send_failures": counts[SEND_FAILURES],
            "excluded": {reason: counts.get(reason, 0) for reason in (*EXCLUSIONS, "over_limit")},
        }
        if summary["complete"]:
            self.profiles.finish_plan(campaign_id, summary=summary)
        return summary

    def _options(self, now: datetime | None, *, offer_id: str | None = None) -> PlanOptions:
        return PlanOptions(holdout_share=self.settings.holdout_share, frequency_cap_days=self.settings.frequency_cap_days,
                           holdout_key=self.holdout_key, now=now, offer_id=offer_id)

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


def erase_customer(customer_id: str, *, settings: Settings, now: datetime | None = None, sleep: Any = None) -> dict[str, Any]:
    """Delete a customer's profile items and every version of every email written for them, safely
    against a generate (or send) attempt racing the erasure (docs/ARCHITECTURE.md, "Erasure"):

    1. a tombstone on the customer's CAP item: from now on every claim fails ("erased");
    2. wait out the leases of claims taken before it (each attempt is dead or done by its
       lease's end, since the lease outlasts the function's timeout), so no write can follow;
    3. delete every version of every email object (S3);
    4. delete the profile, send, delivery and holdout items and the pseudonym item (DynamoDB); the
       tombstone stays until its TTL, longer than any job for the customer can wait in a queue.
    """
    import time

    settings.require("profile_table", "output_bucket")
    pseudo = pseudonymize(customer_id, key=pseudonym_key(settings, purpose="to find the customer's emails"))
    profiles = ProfileStore(settings.profile_table, record_days=settings.record_retention_days)
    moment = now or datetime.now(timezone.utc)
    profiles.mark_erased(customer_id, now=moment, keep_days=settings.record_retention_days)
    waited = 0.0
    until = profiles.live_claims_until(customer_id, now=moment)
    if until:
        waited = max(0.0, until + 1 - moment.timestamp())
        (sleep or time.sleep)(waited)
    emails = EmailStore(settings.output_bucket)
    versions = sum(emails.delete_prefix(f"{prefix}{pseudo}/") for prefix in emails.campaign_prefixes())
    items = profiles.delete_customer(customer_id, keep_tombstone=True)
    profiles.delete_pseudonym(pseudo)  # links in old emails now resolve to nobody (the endpoint answers 404)
    log.info("customer erased", extra={"customer": pseudo, "items": items, "object_versions": versions, "waited_s": round(waited, 1)})
    return {"customer": pseudo, "profile_items_deleted": items, "email_object_versions_deleted": versions,
            "waited_for_claims_s": round(waited, 1)}
