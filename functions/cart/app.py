"""Cart function: a store's CartUpdated / OrderPlaced event (EventBridge) → the profile's cart and,
for a cart left as it is, a due-time item for the sweep (nudge.triggers; docs/TRIGGERS.md).

A thin adapter over `nudge.triggers.CartService`. A malformed event raises ValidationError:
Lambda retries the asynchronous invocation twice, then it waits in TriggersDLQ.
"""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from nudge.config import Settings
from nudge.triggers import CartService

logger = Logger()
metrics = Metrics()
_service: CartService | None = None


def service() -> CartService:
    global _service
    if _service is None:
        _service = CartService.from_settings(Settings.from_env())
    return _service


@logger.inject_lambda_context(log_event=False)  # the event carries a customer id: not logged
@metrics.log_metrics
def handler(event, context):
    outcome = service().apply(event)
    metrics.add_metric(name=f"cart_{outcome}", unit=MetricUnit.Count, value=1)
    logger.info("cart event applied", extra={"detail_type": event.get("detail-type"), "outcome": outcome})
    return {"outcome": outcome}
