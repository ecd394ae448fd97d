"""Publishing: GIVEN a store and trained artifacts WHEN published to the stack THEN every customer
has a profile item and the artifacts are where the generate function reads them."""

import boto3
import pytest

from nudge.errors import ConfigError
from nudge.storage import ProfileStore
from tests.conftest import TINY_STORE


def test_publish_writes_profiles_and_artifacts(aws, tiny_artifacts, tiny_store):
    from nudge_local.stack import create_stack
    from scripts.publish import PublishConfig, main

    stack = create_stack()
    summary = main(PublishConfig(store_dir=TINY_STORE, artifacts_dir=tiny_artifacts, table=stack.table, bucket=stack.bucket))
    assert summary["profiles_written"] == len(tiny_store.customers) == 6
    assert ProfileStore(stack.table).get_profile("c005").carted == ["p011"]
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=stack.bucket, Prefix="artifacts/")["Contents"]]
    assert "artifacts/recommender/meta.json" in keys and any(k.startswith("artifacts/catalog/") for k in keys)


def test_publish_without_a_table_names_the_setting(monkeypatch):
    from scripts.publish import PublishConfig, main

    monkeypatch.delenv("NUDGE_PROFILE_TABLE", raising=False)
    with pytest.raises(ConfigError, match="NUDGE_PROFILE_TABLE"):
        main(PublishConfig(store_dir=TINY_STORE, artifacts_dir=None))
