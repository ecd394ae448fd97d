"""scripts/plan_scale.py's patch of moto's Scan: GIVEN a table of profiles and other items WHEN it is
scanned page by page in segments, by moto's own Scan and by the patched one THEN every page (items,
order, count, LastEvaluatedKey) is the same."""

from __future__ import annotations

import pytest


@pytest.fixture
def table(aws):
    import boto3

    from scripts.plan_scale import profile_item

    ddb = boto3.client("dynamodb")
    ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    for start in range(0, 200, 25):
        ddb.batch_write_item(RequestItems={"t": [{"PutRequest": {"Item": profile_item(i)}} for i in range(start, start + 25)]})
    for i in range(0, 200, 3):  # other items of the same customers, which the filter drops
        ddb.put_item(TableName="t", Item={"pk": {"S": f"CUST#c{i:08d}"}, "sk": {"S": "HOLDOUT#x"}})
    return ddb


def pages(ddb, segment: int, total: int, limit: int) -> list:
    found, key = [], None
    while True:
        request = {"TableName": "t", "Segment": segment, "TotalSegments": total, "Limit": limit,
                   "FilterExpression": "sk = :p", "ExpressionAttributeValues": {":p": {"S": "PROFILE"}}}
        if key:
            request["ExclusiveStartKey"] = key
        response = ddb.scan(**request)
        found.append((response["Items"], response["Count"], response["ScannedCount"], response.get("LastEvaluatedKey")))
        key = response.get("LastEvaluatedKey")
        if not key:
            return found


def test_the_patched_scan_returns_moto_s_own_pages(table):
    from moto.dynamodb.models import table as ddb_table

    from scripts.plan_scale import fast_moto

    original = ddb_table.Table.scan
    expected = {(s, n, limit): pages(table, s, n, limit) for n in (1, 4) for s in range(n) for limit in (9, 40)}
    undo = fast_moto()
    try:
        assert ddb_table.Table.scan is not original
        for (segment, total, limit), want in expected.items():
            assert pages(table, segment, total, limit) == want, (segment, total, limit)
    finally:
        undo()
    assert ddb_table.Table.scan is original


def test_profiles_loaded_into_moto_s_model_read_back_as_written_through_the_api(aws):
    import boto3

    from scripts.plan_scale import write_profiles

    # GIVEN two tables, one loaded through BatchWriteItem and one straight into moto's table model
    ddb = boto3.client("dynamodb")
    for name in ("api", "direct"):
        ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                               {"AttributeName": "sk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    write_profiles("api", 60, through_api=True)
    write_profiles("direct", 60)
    # WHEN both are scanned through the API THEN they hold the same items
    def everything(name):
        return sorted((ddb.scan(TableName=name)["Items"]), key=lambda item: item["pk"]["S"])

    assert everything("direct") == everything("api") and len(everything("api")) == 60
