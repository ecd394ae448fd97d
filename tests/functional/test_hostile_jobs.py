"""Hostile SQS bodies (hypothesis): every record either yields a safe email or fails alone with
a clear error; never a crashed batch, never an object outside its prefix.

100 batches of 10 generated records = 1,000 hostile cases per run.
"""

from __future__ import annotations

import json
import re

import boto3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nudge_local.esm import LambdaContext

CUSTOMERS = ["c001", "c002", "c004", "c005", "c006"]
KEY = re.compile(r"^emails/[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}/p_[0-9a-f]{24}/email\.(json|html|eml)$")

nasty_text = st.one_of(
    st.text(max_size=50),
    st.sampled_from(["../../etc/passwd", "..", "a/../../b", "<script>alert(1)</script>", "x\r\nBcc: all@example.com",
                     "\u202eevil", "🎁" * 40, "%2e%2e%2f", "c001\x00", "a" * 5000, "", " ", "NaN", "null"]),
)
any_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), nasty_text),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(nasty_text, children, max_size=4),
    max_leaves=10,
)


@st.composite
def job_like(draw) -> str:
    """A body that is sometimes a valid job, usually a twisted one."""
    body = {
        "schema_version": draw(st.sampled_from([1, 1, 1, 2, "1", None])),
        "campaign_id": draw(st.one_of(st.sampled_from(["hostile-1", "ok.campaign_2"]), nasty_text, st.integers())),
        "campaign_type": draw(st.one_of(st.sampled_from(["clearance", "loyalty", "abandoned_cart"]), nasty_text)),
        "customer_id": draw(st.one_of(st.sampled_from(CUSTOMERS + ["c999"]), nasty_text, st.integers(), st.floats())),
        "send_date": draw(st.one_of(st.just("2026-11-20"), nasty_text, st.integers())),
        "context": draw(st.one_of(st.just({}), st.fixed_dictionaries({"cart_items": st.lists(nasty_text, max_size=3)}), any_json)),
    }
    for field in draw(st.sets(st.sampled_from(list(body)), max_size=2)):
        del body[field]
    if draw(st.booleans()):
        body[draw(nasty_text)] = draw(any_json)
    text = json.dumps(body)
    mode = draw(st.sampled_from(["json", "json", "truncated", "raw", "non_object"]))
    if mode == "truncated":
        return text[: draw(st.integers(0, max(0, len(text) - 1)))]
    if mode == "raw":
        return draw(st.text(max_size=200))
    if mode == "non_object":
        return json.dumps(draw(any_json))
    return text


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(bodies=st.lists(job_like(), min_size=10, max_size=10))
def test_hostile_batches_fail_record_by_record(generate_app, stack, bodies):
    event = {"Records": [{"messageId": f"m{i}", "receiptHandle": "r", "body": b} for i, b in enumerate(bodies)]}
    # WHEN the handler runs on ten hostile records
    response = generate_app.handler(event, LambdaContext())
    # THEN it returns a partial batch response (no crash), naming only records of this batch
    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    assert failed <= {f"m{i}" for i in range(10)}
    # AND every object written is an email under its own campaign prefix and a pseudonymous id
    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=stack.bucket).get("Contents", [])]
    emails = [k for k in keys if not k.startswith("artifacts/")]
    assert all(KEY.match(k) for k in emails), emails
    for key in emails:
        if key.endswith(".eml"):
            from nudge_local.export import html_part

            html = html_part(s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read())
            assert "<script" not in html.lower()
