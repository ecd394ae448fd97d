"""The SQS job message: one customer of one campaign. Parsed with Pydantic (the Powertools Parser
model), so a malformed body fails alone with a message that says what was expected.

Example body (tests/events/job_abandoned_cart.json):
    {"schema_version": 1, "campaign_id": "cart-2026-11-20", "campaign_type": "abandoned_cart",
     "customer_id": "c00042", "send_date": "2026-11-20", "context": {"cart_items": ["P0001"]}}
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError as PydanticValidationError

from nudge.errors import BadJobError
from nudge.types import CAMPAIGN_TYPES

# Ids travel into S3 keys (campaign id) and DynamoDB keys: a strict alphabet, no path separators.
SAFE_ID = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
CampaignType = Literal[CAMPAIGN_TYPES]  # type: ignore[valid-type]
MAX_BODY_BYTES = 16_384


class JobContext(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cart_items: tuple[Annotated[str, Field(pattern=SAFE_ID)], ...] = Field(default=(), max_length=50)
    holiday: str | None = Field(default=None, max_length=80)
    # The store's offer this run names (offers.json's offer_id, a plan request's "offer_id"); None: the
    # campaign's own offer for the send date, if the store has one (nudge.pipeline.Engine.offer_for)
    offer_id: str | None = Field(default=None, pattern=SAFE_ID, max_length=64)


class Job(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)

    schema_version: Literal[1] = 1
    campaign_id: str = Field(pattern=SAFE_ID)
    campaign_type: CampaignType
    customer_id: str = Field(pattern=SAFE_ID)
    send_date: date
    context: JobContext = JobContext()

    def to_body(self) -> str:
        return self.model_dump_json()


def parse_job(body: str | bytes | None) -> Job:
    """Parse one SQS body into a Job, or raise BadJobError naming what was expected."""
    if body is None or body == "":
        raise BadJobError("job body is empty; expected a JSON object with campaign_id, campaign_type, customer_id, send_date")
    if len(body) > MAX_BODY_BYTES:
        raise BadJobError(f"job body is {len(body)} bytes; expected at most {MAX_BODY_BYTES}")
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadJobError(f"job body is not valid JSON ({exc.msg if hasattr(exc, 'msg') else exc}); expected a JSON object") from None
    if not isinstance(data, dict):
        raise BadJobError(f"job body is a JSON {type(data).__name__}; expected a JSON object")
    try:
        return Job.model_validate(data)
    except PydanticValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()[:5]
        )
        raise BadJobError(f"job body does not match the job schema: {problems}") from None
