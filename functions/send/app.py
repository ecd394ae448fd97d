"""Send function (optional, EnableSending=true): a completed SEND# item on the profile table's
stream → its .eml from S3 → Amazon SES, once per (campaign, customer), consent and suppression
checked at send time (nudge.sending; docs/TRIGGERS.md).

A thin adapter: one record handler per stream record; Powertools turns a record's exception
into a `batchItemFailures` entry, so a failed send is retried alone.
"""

from collections import Counter

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from nudge.config import Settings
from nudge.sending import SendService

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
_service: SendService | None = None


def service() -> SendService:
    global _service
    if _service is None:
        _service = SendService.from_settings(Settings.from_env())
    return _service


@logger.inject_lambda_context(log_event=False)  # stream keys hold customer ids: never logged
@metrics.log_metrics
def handler(event, context):
    counts: Counter[str] = Counter()

    def record_handler(record):
        try:
            outcome = service().deliver_record(record.raw_event)
        except Exception as exc:
            counts["failed"] += 1
            # nudge's messages name pseudonymous ids and error codes only (SES's own text is dropped)
            logger.warning("send failed", extra={"event_id": record.event_id, "error": type(exc).__name__, "detail": str(exc)[:300]})
            raise
        counts[outcome] += 1
        return outcome

    response = process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    for name, value in counts.items():
        metrics.add_metric(name=f"send_{name}", unit=MetricUnit.Count, value=value)
    logger.info("send batch done", extra={"counts": dict(counts), "failures": len(response["batchItemFailures"])})
    return response
