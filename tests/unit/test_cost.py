"""The cost figure's arithmetic and its request counter, on tiny data whose answer is known:
GIVEN counted requests and a price table WHEN priced THEN dollars per million emails by line."""

from __future__ import annotations

import boto3
import pytest

from nudge_local.metering import RequestMeter, attribute_size, item_size, read_units, write_units
from scripts.cost import function_settings, lambda_dollars, per_million, request_dollars

PRICES = {
    "s3": {"tier1_per_1000": 0.005, "tier2_per_1000": 0.0004},
    "dynamodb": {"write_request_units_per_million": 0.625, "read_request_units_per_million": 0.125},
    "sqs": {"standard_requests_per_million": 0.40},
    "lambda": {"requests_per_million": 0.20, "gb_second": {"x86_64": 0.0000166667, "arm64": 0.0000133334}},
    "cloudwatch_logs": {"ingestion_per_gb": 0.50, "lambda_platform_bytes_per_invocation": 0},
    "xray": {"traces_recorded_per_million": 5.0, "sampled_share": 0.0},
    "ses": {"outbound_emails_per_1000": 0.10},
    "secrets_manager": {"api_calls_per_10000": 0.05},
    "kms": {"requests_per_10000": 0.03},
    "eventbridge": {"custom_events_per_million": 1.0},
    "step_functions": {"express_requests_per_million": 1.0},
}
FUNCTIONS = {name: {"memory_mb": 1024, "architecture": "arm64"}
             for name in ("PlanFunction", "GenerateFunction", "SendFunction", "EventsFunction")}


def measured(**overrides):
    base = {"emails": 1000, "sent": 1000, "enqueued": 1000, "audience": 1000, "scopes": {}, "lambda": {}}
    return {**base, **overrides}


# ------------------------------------------------------------------------------------------------
# Prices × counts
# ------------------------------------------------------------------------------------------------

def test_three_s3_puts_per_email_cost_fifteen_dollars_a_million():
    # GIVEN 1,000 emails, each written as three S3 objects, and one GET each
    counts = {"generate": {"s3.PutObject": {"calls": 3000, "billable": 3000}, "s3.GetObject": {"calls": 1000, "billable": 1000}}}
    # WHEN priced
    dollars = per_million(measured(scopes=counts), PRICES, FUNCTIONS)
    # THEN 3 × $5 per million PUTs plus $0.40 per million GETs, all in the core path
    assert dollars["core"]["s3"] == pytest.approx(15.40)
    assert dollars["total_core"] == pytest.approx(15.40)
    assert dollars["pass_core"] is False


def test_dynamodb_units_and_sqs_chunks_are_priced_per_unit_not_per_call():
    # GIVEN 4 write units and 2 read units per email in one call each, and two 64 KB chunks in one SQS call
    counts = {"generate": {"dynamodb.TransactWriteItems": {"calls": 1000, "write_units": 4000},
                           "dynamodb.GetItem": {"calls": 1000, "read_units": 2000}},
              "jobs_poller": {"sqs.ReceiveMessage": {"calls": 1000, "billable": 2000}}}
    # WHEN priced
    dollars = per_million(measured(scopes=counts), PRICES, FUNCTIONS)
    # THEN 4 × 0.625 + 2 × 0.125 for DynamoDB and 2 × 0.40 for SQS
    assert dollars["core"]["dynamodb"] == pytest.approx(2.75)
    assert dollars["core"]["sqs"] == pytest.approx(0.80)


def test_lambda_gb_seconds_follow_the_template_memory_and_architecture():
    # GIVEN 100 invocations of 1 s each for 1,000 emails (0.1 s per email) at 1769 MB on arm64
    use = {"generate": {"invocations": 100, "seconds": 100.0, "log_bytes": 0}}
    functions = {**FUNCTIONS, "GenerateFunction": {"memory_mb": 1769, "architecture": "arm64"}}
    # WHEN priced
    dollars = per_million(measured(**{"lambda": use}), PRICES, functions)
    # THEN 0.1 s × 1769/1024 GB × $0.0000133334 per GB-s × 1e6 and $0.20 per million of 100,000 requests
    assert dollars["core"]["lambda_compute"] == pytest.approx(0.1 * 1769 / 1024 * 0.0000133334 * 1e6, rel=1e-4)
    assert dollars["core"]["lambda_requests"] == pytest.approx(0.02)
    x86 = lambda_dollars({"invocations": 1, "seconds": 1.0}, {"memory_mb": 1024, "architecture": "x86_64"}, PRICES)
    assert x86["lambda_compute"] == pytest.approx(0.0000166667)


def test_a_plans_scan_is_shared_by_its_audience_and_ses_is_kept_apart():
    # GIVEN a plan that read 10,000 units to enqueue 1,000 jobs of a 10,000-customer audience, and SES sends
    counts = {"plan": {"dynamodb.Scan": {"calls": 10, "read_units": 10_000},
                       "sqs.SendMessageBatch": {"calls": 100, "billable": 100}},
              "send": {"ses.SendRawEmail": {"calls": 1000}}}
    # WHEN priced
    dollars = per_million(measured(scopes=counts, audience=10_000), PRICES, FUNCTIONS)
    # THEN one read unit per audience member, one SQS request per ten jobs, SES's $100 apart from the totals
    assert dollars["core"]["dynamodb"] == pytest.approx(0.125)
    assert dollars["core"]["sqs"] == pytest.approx(0.04)
    assert dollars["ses"] == pytest.approx(100.0)
    assert dollars["total_with_sending"] == pytest.approx(dollars["total_core"])


def test_empty_polls_are_not_per_email_and_unknown_services_are_listed():
    counts = {"jobs_poller": {"sqs.ReceiveMessage.empty": {"calls": 50, "billable": 50}},
              "generate": {"rekognition.DetectLabels": {"calls": 1}}}
    dollars = per_million(measured(scopes=counts), PRICES, FUNCTIONS)
    assert dollars["total_core"] == 0
    assert dollars["unpriced"] == ["generate:rekognition.DetectLabels"]


def test_s3_request_classes():
    assert request_dollars("s3.ListObjectsV2", {"calls": 1000, "billable": 1000}, PRICES) == ("s3", pytest.approx(0.005))
    assert request_dollars("s3.HeadObject", {"calls": 1000, "billable": 1000}, PRICES) == ("s3", pytest.approx(0.0004))
    assert request_dollars("s3.DeleteObject", {"calls": 1000, "billable": 1000}, PRICES) == ("s3", 0.0)


def test_function_settings_resolve_globals_and_parameter_defaults():
    # GIVEN a template whose memory is a parameter and whose architecture comes from Globals
    template = {
        "Parameters": {"GenerateMemorySize": {"Type": "Number", "Default": 1769}},
        "Globals": {"Function": {"Architectures": ["arm64"]}},
        "Resources": {
            "GenerateFunction": {"Type": "AWS::Serverless::Function", "Properties": {"MemorySize": {"Ref": "GenerateMemorySize"}}},
            "PlanFunction": {"Type": "AWS::Serverless::Function", "Properties": {"MemorySize": 1024, "Architectures": ["x86_64"]}},
            "Queue": {"Type": "AWS::SQS::Queue"},
        },
    }
    # WHEN read THEN each function's memory and architecture, resolved
    assert function_settings(template) == {"GenerateFunction": {"memory_mb": 1769, "architecture": "arm64"},
                                           "PlanFunction": {"memory_mb": 1024, "architecture": "x86_64"}}


# ------------------------------------------------------------------------------------------------
# DynamoDB sizes and units (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)
# ------------------------------------------------------------------------------------------------

def test_item_size_counts_names_and_values():
    assert item_size({"pk": {"S": "CUST#1"}, "sk": {"S": "PROFILE"}}) == 2 + 6 + 2 + 7
    assert attribute_size({"N": "123"}) == 3  # 3 significant digits: 2 bytes, plus 1
    assert attribute_size({"BOOL": True}) == 1
    assert attribute_size({"M": {"a": {"S": "xy"}}}) == 3 + 1 + 1 + 2
    assert attribute_size({"L": [{"S": "a"}, {"S": "b"}]}) == 3 + 2 * (1 + 1)


def test_units_round_up_per_kilobyte_and_per_four_kilobytes():
    assert write_units(0) == 1
    assert write_units(1024) == 1
    assert write_units(1025, 10) == 2  # the larger of before and after
    assert write_units(100, transactional=True) == 2
    assert read_units(100) == 0.5  # eventually consistent
    assert read_units(4097, consistent=True) == 2


# ------------------------------------------------------------------------------------------------
# The request counter, against moto
# ------------------------------------------------------------------------------------------------

@pytest.fixture
def meter(aws):
    from nudge.storage import client

    ddb = client("dynamodb")
    ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    client("s3").create_bucket(Bucket="nudge-b")
    return RequestMeter(sizes_client=ddb)


def test_the_meter_counts_s3_requests_by_operation_in_its_scope(meter):
    # GIVEN a metered S3 client
    s3 = meter.attach(boto3.client("s3"))
    # WHEN a function writes two objects and reads one, and the harness lists outside any scope
    with meter.scope("generate"):
        s3.put_object(Bucket="nudge-b", Key="a.eml", Body=b"x")
        s3.put_object(Bucket="nudge-b", Key="a.json", Body=b"{}")
        s3.get_object(Bucket="nudge-b", Key="a.eml")["Body"].read()
    s3.list_objects_v2(Bucket="nudge-b")
    # THEN the function's scope holds exactly those calls and the listing is kept apart
    counts = meter.snapshot()
    assert {k: v["calls"] for k, v in counts["generate"].items()} == {"s3.GetObject": 1, "s3.PutObject": 2}
    assert counts["unmetered"]["s3.ListObjectsV2"]["calls"] == 1


def test_the_meter_computes_dynamodb_units_from_item_sizes(meter):
    ddb = meter.attach(boto3.client("dynamodb"))
    big = {"pk": {"S": "CUST#1"}, "sk": {"S": "PROFILE"}, "blob": {"S": "x" * 1500}}  # ~1.5 KB: 2 write units
    small = {"pk": {"S": "CUST#2"}, "sk": {"S": "PROFILE"}, "n": {"N": "1"}}
    with meter.scope("generate"):
        ddb.put_item(TableName="t", Item=big)
        ddb.put_item(TableName="t", Item=small)
        # an update of the big item: billed on the larger of before and after (2 units)
        ddb.update_item(TableName="t", Key={"pk": big["pk"], "sk": big["sk"]}, UpdateExpression="SET n = :n",
                        ExpressionAttributeValues={":n": {"N": "2"}})
        ddb.get_item(TableName="t", Key={"pk": small["pk"], "sk": small["sk"]})  # eventually consistent: 0.5
        # a filtered Scan that returns one item still reads both (under 4 KB together: 0.5)
        ddb.scan(TableName="t", FilterExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "CUST#2"}})
    counts = meter.snapshot()["generate"]
    assert counts["dynamodb.PutItem"]["write_units"] == 3
    assert counts["dynamodb.UpdateItem"]["write_units"] == 2
    assert counts["dynamodb.GetItem"]["read_units"] == 0.5
    assert counts["dynamodb.Scan"]["read_units"] == 0.5


def test_the_meter_bills_sqs_per_64_kb_chunk(meter):
    sqs = meter.attach(boto3.client("sqs"))
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    with meter.scope("plan"):
        sqs.send_message(QueueUrl=url, MessageBody="x" * 100_000)  # two 64 KB chunks
        sqs.send_message(QueueUrl=url, MessageBody="small")
    with meter.scope("jobs_poller"):
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)
        sqs.purge_queue(QueueUrl=url)
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)  # empty: counted apart
    counts = meter.snapshot()
    assert counts["plan"]["sqs.SendMessage"]["calls"] == 2
    assert counts["plan"]["sqs.SendMessage"]["billable"] == 3
    assert counts["jobs_poller"]["sqs.ReceiveMessage.empty"]["calls"] == 1


def test_the_meter_models_aws_waits_in_series_and_across_the_io_pool(meter):
    from concurrent.futures import ThreadPoolExecutor

    from nudge_local.metering import POOL_THREAD_PREFIX

    # GIVEN assumed round trips (not measured: moto's latency says nothing about AWS's)
    meter.latency_ms = {"s3.PutObject": 30, "s3": 15, "default": 10}
    s3 = meter.attach(boto3.client("s3"))
    # WHEN a function PUTs one object on its own thread, then four on two I/O pool threads
    with meter.scope("generate"):
        s3.put_object(Bucket="nudge-b", Key="one", Body=b"x")
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix=POOL_THREAD_PREFIX) as pool:
            list(pool.map(lambda n: s3.put_object(Bucket="nudge-b", Key=f"k{n}", Body=b"x"), range(4)))
    s3.head_object(Bucket="nudge-b", Key="one")  # outside any scope: no wait billed
    # THEN 30 ms in series, 4 x 30 ms on the pool (which the cost script divides by the 2 threads used)
    assert meter.wait_serial_seconds == pytest.approx(0.030)
    assert meter.wait_pooled_seconds == pytest.approx(0.120)
    assert len(meter.pool_threads) == 2 and meter.latency("s3", "HeadObject") == pytest.approx(0.015)
