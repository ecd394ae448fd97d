"""Plan function: {campaign_type, campaign_id?, send_date?} → audience → SQS jobs → counts.

Invoked by an EventBridge schedule or by hand (see the README). A thin adapter over
`nudge.service.PlanService`.
"""

from datetime import date, datetime, timezone

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from nudge.config import Settings
from nudge.errors import ValidationError
from nudge.jobs import SAFE_ID
from nudge.service import PlanService

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
    import re

    if not isinstance(event, dict) or "campaign_type" not in event:
        raise ValidationError("plan request must be a JSON object with campaign_type (and optional campaign_id, send_date)")
    send_date = date.fromisoformat(event["send_date"]) if event.get("send_date") else datetime.now(timezone.utc).date()
    campaign_id = event.get("campaign_id") or f"{event['campaign_type'].replace('_', '-')}-{send_date.isoformat()}"
    if not re.match(SAFE_ID, campaign_id):
        raise ValidationError(f"campaign_id must match {SAFE_ID}, got {campaign_id!r}")
    limit = event.get("limit")
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise ValidationError(f"limit must be a non-negative integer, got {limit!r}")
    return {"campaign_type": event["campaign_type"], "campaign_id": campaign_id, "send_date": send_date, "limit": limit}


@logger.inject_lambda_context(log_event=True)
@metrics.log_metrics
def handler(event, context):
    result = service().plan(**parse_request(event))
    metrics.add_metric(name="enqueued", unit=MetricUnit.Count, value=result["enqueued"])
    for reason, count in result["excluded"].items():
        metrics.add_metric(name=f"excluded_{reason}", unit=MetricUnit.Count, value=count)
    logger.info("plan done", extra=result)
    return result
