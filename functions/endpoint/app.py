"""Endpoint function: a Lambda Function URL request (payload format 2.0) → the link endpoint
(`nudge.endpoints`: one-click unsubscribe, preferences, click redirect, open pixel) → the response.

A thin adapter (STYLE.md principle 1): read the request, call the core, count its outcome. The
query string holds the link token, so neither the event nor the query is ever logged.
"""

import base64
import binascii
from datetime import datetime, timezone

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import LambdaFunctionUrlEvent

from nudge.config import Settings
from nudge.endpoints import Endpoints, Request, Response

logger = Logger()
metrics = Metrics()
_service: Endpoints | None = None


def service() -> Endpoints:
    global _service
    if _service is None:
        _service = Endpoints.from_settings(Settings.from_env())
    return _service


def request_of(event: LambdaFunctionUrlEvent) -> Request:
    body = event.body or ""
    try:
        raw = base64.b64decode(body, validate=True) if event.is_base64_encoded else body.encode("utf-8")
    except (binascii.Error, ValueError):
        raw = b""  # not base64 after all: an empty form, which a POST route refuses with a 400
    epoch_ms = event.request_context.get("timeEpoch")
    return Request(
        method=event.request_context.http.method, path=event.get("rawPath") or "/", query=event.get("rawQueryString") or "",
        headers={name.lower(): value for name, value in (event.headers or {}).items()}, body=raw,
        now=datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc) if isinstance(epoch_ms, (int, float)) else None,
    )


def to_function_url(response: Response) -> dict:
    binary = not response.headers.get("Content-Type", "").startswith("text/")
    return {
        "statusCode": response.status,
        "headers": response.headers,
        "body": base64.b64encode(response.body).decode("ascii") if binary else response.body.decode("utf-8"),
        "isBase64Encoded": binary,
    }


@logger.inject_lambda_context(log_event=False)  # the event holds the token: never logged
@metrics.log_metrics
def handler(event, context):
    request = request_of(LambdaFunctionUrlEvent(event))
    response = service().handle(request)
    metrics.add_metric(name=f"endpoint_{response.outcome}", unit=MetricUnit.Count, value=1)
    if response.rejected:
        metrics.add_metric(name="endpoint_rejected", unit=MetricUnit.Count, value=1)  # the alarm's metric
    logger.info("link request", extra={"route": request.path.rsplit("/", 1)[-1][:20], "status": response.status,
                                       "outcome": response.outcome})
    return to_function_url(response)
