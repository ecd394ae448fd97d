"""Shared fixtures: moto through fixtures (no network), the tiny hand-written store, and
recommender artifacts trained on it once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TINY_STORE = ROOT / "tests" / "fixtures" / "store_tiny"
EVENTS = ROOT / "tests" / "events"
AS_OF = "2026-11-20"


@pytest.fixture
def aws_credentials(monkeypatch):
    """Fake credentials and no endpoint override, so boto3 can only reach moto."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def aws(aws_credentials):
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture(scope="session")
def tiny_store():
    from nudge.store import load_store

    return load_store(TINY_STORE)


@pytest.fixture(scope="session")
def tiny_profiles(tiny_store):
    from nudge.profiles import build_profiles

    return build_profiles(tiny_store.customers, tiny_store.events, tiny_store.products)


@pytest.fixture(scope="session")
def tiny_artifacts(tmp_path_factory):
    """Recommender artifacts (catalog/ + recommender/) trained on the tiny store."""
    from scripts.train_recommender import TrainConfig, main as train

    out = tmp_path_factory.mktemp("artifacts")
    train(TrainConfig(source=str(TINY_STORE), out_dir=str(out / "recommender"), catalog_dir=str(out / "catalog")))
    return out


@pytest.fixture(scope="session")
def tiny_demo(tmp_path_factory, tiny_artifacts):
    """`scripts/demo.py` run once on the tiny store, every campaign (one day of the daily birthday
    campaign: a later day's birthday, c004's, would cap that customer out of win-back): (out, summary).
    Shared by the functional demo tests and the browser image tests; read it, never write into it."""
    from scripts.demo import DemoConfig, run

    out = tmp_path_factory.mktemp("demo-out")
    config = DemoConfig(store_dir=TINY_STORE, artifacts_dir=tiny_artifacts, out_dir=out, holdout_share=0.0,
                        limit_per_campaign=50, daily_campaign_days=1)
    return out, run(config)

