"""Fault injection for the local runner and tests: a boto3 client answers a chosen share of its
calls with a throttling or 5xx error instead of reaching the (moto) server.

The fault is injected at botocore's `before-send` event, inside the retry loop, so the client's
standard retry mode (exponential backoff with jitter) sees it exactly as it would see a real
throttle; only faults that outlast every retry reach nudge's code. Seeded: a run is repeatable.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse

# Per service: (HTTP status, headers, body) of a retryable error, as the real service sends it.
_ERRORS = {
    "s3": (503, {"Content-Type": "application/xml"},
           b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"),
    "dynamodb": (400, {"Content-Type": "application/x-amz-json-1.0"},
                 json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                             "message": "Rate of requests exceeds the allowed throughput."}).encode()),
    "sqs": (500, {"Content-Type": "application/x-amz-json-1.0"},
            json.dumps({"__type": "com.amazonaws.sqs#InternalError", "message": "injected internal error"}).encode()),
}


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any):
        yield self._body


@dataclass
class FaultInjector:
    rate: float  # share of calls answered with an error, in [0, 1]
    seed: int = 0
    operations: frozenset[str] | None = None  # e.g. {"PutObject"}; None = every operation
    injected: int = 0
    calls: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def attach(self, client: Any) -> Any:
        service = client.meta.service_model.service_name
        if service not in _ERRORS:
            raise ValueError(f"no fault defined for service {service!r}; expected one of {sorted(_ERRORS)}")
        client.meta.events.register(f"before-send.{client.meta.service_model.service_id.hyphenize()}", self._maybe_fail(service))
        return client

    def _maybe_fail(self, service: str):
        status, headers, body = _ERRORS[service]

        def handler(request: Any, **kwargs: Any) -> AWSResponse | None:
            operation = kwargs.get("event_name", "").rsplit(".", 1)[-1]
            if self.operations is not None and operation not in self.operations:
                return None
            self.calls += 1
            if self._rng.random() >= self.rate:
                return None
            self.injected += 1
            return AWSResponse(request.url, status, headers, _Raw(body))

        return handler
