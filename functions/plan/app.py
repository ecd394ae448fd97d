"""Plan function: a campaign → audience → SQS jobs → counts. A thin adapter over
`nudge.service.PlanService`, in one of four modes (the event's "mode"):

- none: the whole plan in this invocation ({campaign_type, campaign_id?, send_date?, limit?}), for
  small stores, a test send and the local demo (see the README);
- "start", "segment", "finish": the steps of template.yaml's PlanStateMachine, which plans a large
  audience as parallel Scan segments, each looping until it returns "done" (docs/ARCHITECTURE.md,
  "Planning at scale"). Segments stop themselves before the function's timeout and go on from a
  checkpoint, so a re-run with the same campaign id enqueues nothing twice.
"""

import re
from datetime import date, datetime, timezone

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from nudge.config import Settings
from nudge.errors import ValidationError
from nudge.jobs import SAFE_ID
from nudge.service import MAX_SEGMENTS, PlanService

logger = Logger()
metrics = Metrics()
_service: PlanService | None = None


def service() -> PlanService:
    global _service
    if _service is None:
        _service = PlanService.from_settings(Settings.from_env())
    return _service


def parse_request(event: dict) -> dict:
    """Read the plan request; the campaign id defaults to '<type>-<date>'."""
    if not isinstance(event, dict) or "campaign_type" not in event:
        raise ValidationError("plan request must be a JSON object with campaign_type (and optional campaign_id, send_date)")
    send_date = date.fromisoformat(event["send_date"]) if event.get("send_date") else datetime.now(timezone.utc).date()
    campaign_id = event.get("campaign_id") or f"{event['campaign_type'].replace('_', '-')}-{send_date.isoformat()}"
    if not re.match(SAFE_ID, campaign_id):
        raise ValidationError(f"campaign_id must match {SAFE_ID}, got {campaign_id!r}")
    limit = event.get("limit")
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise ValidationError(f"limit must be a non-negative integer, got {limit!r}")
    offer_id = event.get("offer_id")  # the store's offer this run carries (offers.json), checked per email
    if offer_id is not None and not (isinstance(offer_id, str) and re.match(SAFE_ID, offer_id) and len(offer_id) <= 64):
        raise ValidationError(f"offer_id must be an offer id of offers.json ({SAFE_ID}, at most 64 characters), got {offer_id!r}")
    return {"campaign_type": event["campaign_type"], "campaign_id": campaign_id, "send_date": send_date, "limit": limit,
            "offer_id": offer_id}


def parse_segment(event: dict) -> dict:
    """Read a segment step's input (what the state machine's Map passes, or a segment's own output)."""
    fields = {k: event.get(k) for k in ("campaign_type", "campaign_id", "send_date", "limit", "total_segments",
                                        "started_at", "decision_time", "offer_id", "segment")}
    total, segment = fields["total_segments"], fields["segment"]
    if not (isinstance(total, int) and isinstance(segment, int) and 0 <= segment < total <= MAX_SEGMENTS):
        raise ValidationError(f"a segment needs 0 <= segment < total_segments <= {MAX_SEGMENTS}, got {segment!r} of {total!r}")
    if not re.match(SAFE_ID, str(fields["campaign_id"])) or not fields["started_at"]:
        raise ValidationError("a segment needs the campaign_id and started_at that the start step returned")
    return fields


@logger.inject_lambda_context(log_event=True)
@metrics.log_metrics
def handler(event, context):
    mode = event.get("mode") if isinstance(event, dict) else None
    if mode == "start":
        request = parse_request(event.get("request"))
        segments = event.get("request", {}).get("segments", event.get("default_segments", 1))
        if not isinstance(segments, int):
            raise ValidationError(f"segments must be a whole number, got {segments!r}")
        started = service().start(**request, total_segments=segments)
        logger.info("plan started", extra={k: v for k, v in started.items() if k != "segments"})
        return started
    if mode == "segment":
        result = service().plan_segment(**parse_segment(event), time_left_ms=context.get_remaining_time_in_millis)
        logger.info("segment planned", extra={k: result[k] for k in ("segment", "done", "pages", "enqueued_now")})
        return {"mode": "segment", **result}  # the state machine loops this output back in while "done" is false
    if mode == "finish":
        result = service().finish(**{k: event.get(k) for k in ("campaign_type", "campaign_id", "send_date", "total_segments")})
    elif mode is None:
        result = service().plan(**parse_request(event), time_left_ms=context.get_remaining_time_in_millis)
    else:
        raise ValidationError(f"mode must be start, segment or finish (or absent for a whole plan), got {mode!r}")
    metrics.add_metric(name="enqueued", unit=MetricUnit.Count, value=result["enqueued"])
    for reason, count in result["excluded"].items():
        metrics.add_metric(name=f"excluded_{reason}", unit=MetricUnit.Count, value=count)
    logger.info("plan done", extra=result)
    return result
