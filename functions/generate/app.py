"""Generate function: a batch of SQS job messages → one email each, written to S3 (its one
object, the .eml) and recorded on its SEND# claim (the audit record).

A thin adapter (STYLE.md principle 1): the batch is composed by `nudge.service`, each record is
finished by `PreparedBatch.finish`, and Powertools turns a record's exception into a
`batchItemFailures` entry so a bad record fails alone.
"""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from nudge.config import Settings
from nudge.service import GenerateService

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
_service: GenerateService | None = None


def service() -> GenerateService:
    global _service
    if _service is None:
        _service = GenerateService.from_settings(Settings.from_env())
    return _service


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def handler(event, context):
    # the remaining time at the start is the function's timeout, which a claim's lease must outlast
    batch = service().prepare(event.get("Records", []), remaining_ms=context.get_remaining_time_in_millis())
    response = process_partial_response(event=event, record_handler=batch.finish, processor=processor, context=context)
    for name, value in batch.counts.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    logger.info("batch done", extra={"counts": dict(batch.counts), "failures": len(response["batchItemFailures"])})
    return response
