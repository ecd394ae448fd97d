"""Events function: SES events (configuration set → EventBridge → SQS) → the event log; a permanent
bounce or a complaint suppresses the customer (nudge.ses_events; docs/LOOP.md).

A thin adapter: one record handler per SQS record; Powertools turns a record's exception (a
malformed event, a failed write) into a `batchItemFailures` entry, so it fails alone and, after
the queue's retries, waits in EventsDLQ.
"""

from collections import Counter

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from nudge.config import Settings
from nudge.ses_events import EventsService

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
_service: EventsService | None = None


def service() -> EventsService:
    global _service
    if _service is None:
        _service = EventsService.from_settings(Settings.from_env())
    return _service


@logger.inject_lambda_context(log_event=False)  # SES events carry recipient addresses: never logged
@metrics.log_metrics
def handler(event, context):
    counts: Counter[str] = Counter()

    def record_handler(record):
        try:
            outcome = service().handle(record.body)
        except Exception as exc:
            counts["failed"] += 1
            # nudge's messages name message ids and fields only, never an address
            logger.warning("SES event failed", extra={"message_id": record.message_id, "error": type(exc).__name__,
                                                      "detail": str(exc)[:300]})
            raise
        counts[outcome] += 1
        return outcome

    response = process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    for name, value in counts.items():
        metrics.add_metric(name=f"ses_{name}", unit=MetricUnit.Count, value=value)
    logger.info("SES events done", extra={"counts": dict(counts), "failures": len(response["batchItemFailures"])})
    return response
