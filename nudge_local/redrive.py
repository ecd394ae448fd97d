"""Move messages from a dead-letter queue back to its source queue (after a fix or an outage).

Works against any SQS endpoint (moto included) with receive → send → delete, 10 at a time; a
message is deleted from the DLQ only after its copy was accepted by the jobs queue, so a crash in
between can duplicate a job but never lose one (and duplicates are harmless: the generate
function writes once per campaign and customer).
"""

from __future__ import annotations

from typing import Any


def redrive(sqs: Any, *, dlq_url: str, queue_url: str, max_messages: int | None = None) -> int:
    moved = 0
    while max_messages is None or moved < max_messages:
        messages = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=60).get("Messages", [])
        if not messages:
            break
        response = sqs.send_message_batch(
            QueueUrl=queue_url, Entries=[{"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(messages)]
        )
        accepted = {int(ok["Id"]) for ok in response.get("Successful", [])}
        done = [m for i, m in enumerate(messages) if i in accepted]
        if done:
            sqs.delete_message_batch(
                QueueUrl=dlq_url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
            )
        moved += len(done)
        if len(done) < len(messages):
            break  # the jobs queue refused some: stop and let the operator look (they stay in the DLQ)
    return moved
