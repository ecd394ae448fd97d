"""Sweep function: every 5 minutes (EventBridge Scheduler), the due cart reminders → abandoned_cart
jobs on the jobs queue, after the planner's checks (nudge.triggers; docs/TRIGGERS.md).

A thin adapter over `nudge.triggers.SweepService`. Idempotent: a rerun finds the handled due
items gone, and a job sent twice still makes one email per (campaign, customer).
"""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from nudge.config import Settings
from nudge.triggers import SweepService

logger = Logger()
metrics = Metrics()
_service: SweepService | None = None


def service() -> SweepService:
    global _service
    if _service is None:
        _service = SweepService.from_settings(Settings.from_env())
    return _service


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def handler(event, context):
    counts = service().sweep()
    for name, value in counts.items():
        metrics.add_metric(name=f"cart_{name}", unit=MetricUnit.Count, value=value)
    logger.info("sweep done", extra={"counts": counts})
    return counts
