"""Redrive: move every message from the jobs DLQ back to the jobs queue.

Inputs: --dlq-url and --queue-url (the stack's Outputs JobsDeadLetterQueueUrl and JobsQueueUrl).
Outputs: the number of messages moved, printed. Uses the ambient AWS credentials and region.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass


@dataclass
class RedriveConfig:
    dlq_url: str
    queue_url: str
    max_messages: int | None = None  # stop after this many (None: until the DLQ is empty)


def main(config: RedriveConfig) -> int:
    from nudge.storage import client
    from nudge_local.redrive import redrive

    moved = redrive(client("sqs"), dlq_url=config.dlq_url, queue_url=config.queue_url, max_messages=config.max_messages)
    print(f"moved {moved} message(s) from the DLQ to the jobs queue")
    return moved


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dlq-url", required=True)
    parser.add_argument("--queue-url", required=True)
    parser.add_argument("--max-messages", type=int)
    args = parser.parse_args()
    main(RedriveConfig(args.dlq_url, args.queue_url, args.max_messages))
