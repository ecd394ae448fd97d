"""An SQS → Lambda event source mapping, played locally with the real handler.

As the Lambda service does: receive up to `batch_size` messages, invoke the handler with an SQS
event, delete the messages that succeeded, and leave the ones in `batchItemFailures` for
redelivery. The queue's own redrive policy (moto implements it) moves a message to the DLQ once it
has been received `maxReceiveCount` times. One difference, on purpose: a failed message is made
visible again at once (ChangeMessageVisibility 0) instead of after the visibility timeout, so a
local run does not wait minutes between retries.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that Powertools reads."""

    function_name: str = "nudge-local-generate"
    memory_limit_in_mb: int = 1536
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:nudge-local-generate"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    timeout_ms: int = 120_000  # GenerateFunction's Timeout in template.yaml

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_ms


MAX_CRASH_ERRORS = 3  # crashed invocations' errors kept per drain, for the console (make cost prints them)


@dataclass
class DrainStats:
    invocations: int = 0
    received: int = 0
    succeeded: int = 0
    failed_attempts: int = 0
    handler_crashes: int = 0
    seconds: float = 0.0
    crash_errors: list[str] = field(default_factory=list)  # the first MAX_CRASH_ERRORS crashed invocations' errors

    def to_dict(self) -> dict[str, Any]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def to_lambda_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message as the Lambda service hands it to a function."""
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", "0"),
            "SenderId": attributes.get("SenderId", "local"),
            "ApproximateFirstReceiveTimestamp": attributes.get("ApproximateFirstReceiveTimestamp", "0"),
        },
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "us-east-1",
    }


@dataclass
class EventSourceMapping:
    sqs: Any
    queue_url: str
    handler: Handler
    batch_size: int = 10
    max_empty_polls: int = 2

    def drain(self, *, on_batch: Callable[[DrainStats], None] | None = None) -> DrainStats:
        """Poll until the queue is empty (failures redelivered until they dead-letter)."""
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        stats, empty, started = DrainStats(), 0, time.perf_counter()
        while empty < self.max_empty_polls:
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size, AttributeNames=["All"], WaitTimeSeconds=0
            ).get("Messages", [])
            if not messages:
                empty += 1
                continue
            empty = 0
            stats.invocations += 1
            stats.received += len(messages)
            event = {"Records": [to_lambda_record(m, queue_arn) for m in messages]}
            try:
                response = self.handler(event, LambdaContext())
                failed = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])}
            except Exception as exc:  # noqa: BLE001 - a crashed invocation fails its whole batch, as in Lambda
                stats.handler_crashes += 1
                if len(stats.crash_errors) < MAX_CRASH_ERRORS:
                    stats.crash_errors.append(f"{type(exc).__name__}: {str(exc)[:300]}")
                failed = {m["MessageId"] for m in messages}
            done = [m for m in messages if m["MessageId"] not in failed]
            for start in range(0, len(done), 10):
                chunk = done[start : start + 10]
                self.sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
                )
            for message in messages:
                if message["MessageId"] in failed:
                    self.sqs.change_message_visibility(
                        QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
            stats.succeeded += len(done)
            stats.failed_attempts += len(failed)
            if on_batch:
                on_batch(stats)
        stats.seconds = time.perf_counter() - started
        return stats


def queue_depth(sqs: Any, queue_url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def drain_all(mappings: list[EventSourceMapping]) -> DrainStats:
    """Drain several event sources of one function (the generate function reads JobsQueue and
    TriggersJobsQueue) until every queue is empty; one DrainStats for them all."""
    total, started = DrainStats(), time.perf_counter()
    while True:
        runs = [mapping.drain() for mapping in mappings]
        for run in runs:
            for name in ("invocations", "received", "succeeded", "failed_attempts", "handler_crashes"):
                setattr(total, name, getattr(total, name) + getattr(run, name))
            total.crash_errors.extend(run.crash_errors[: max(0, MAX_CRASH_ERRORS - len(total.crash_errors))])
        if not any(run.received for run in runs):  # a drain can refill another queue (a sweep): go round again
            break
    total.seconds = time.perf_counter() - started
    return total
