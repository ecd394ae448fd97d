"""A whole stack in moto: bucket, table, queues as template.yaml defines them, profiles loaded,
artifacts published, handler services pointed at it."""

from __future__ import annotations

import importlib

import pytest

from tests.conftest import ROOT


@pytest.fixture
def stack(aws, tiny_profiles, tiny_artifacts, monkeypatch):
    from nudge.storage import ProfileStore, upload_dir
    from nudge.types import StoreInfo
    from nudge_local.stack import create_stack, function_env

    created = create_stack()
    ProfileStore(created.table).put_profiles(tiny_profiles.values())
    upload_dir(tiny_artifacts, f"s3://{created.bucket}/artifacts/")
    env = function_env(
        created,
        store=StoreInfo(name="Hearth & Thread", postal_address="12 Example Street, Bristol BS1 4XX, United Kingdom",
                        base_url="https://shop.example.com", sender="Hearth & Thread <news@shop.example.com>"),
        model_dir=str(ROOT / "layers" / "model" / "copywriter"),
        pseudonym_key="test-pseudonym-key-0123456789abcdef",
        link_key="test-link-key-0123456789abcdef",
        NUDGE_HOLDOUT_SHARE="0",
        NUDGE_FREQUENCY_CAP_DAYS="7",
        POWERTOOLS_DEV="false",
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return created


def cold_started(function: str):
    """Yield a function's handler module with a fresh per-container service (a cold start), and
    drop that service afterwards so the next test starts cold too."""
    module = importlib.import_module(f"{function}.app")
    module._service = None
    yield module
    module._service = None


@pytest.fixture
def generate_app(stack):
    yield from cold_started("generate")


@pytest.fixture
def plan_app(stack):
    yield from cold_started("plan")


def completed_email(stack, customer_id: str, campaign_id: str, eml: bytes, *, now, campaign_type: str = "",
                    pseudonym_key: bytes = b"test-pseudonym-key-0123456789abcdef") -> None:
    """What the generate function leaves behind for one email, the way it does it: a claim, the .eml
    under its key, then the claim completed with the object's SHA-256 and S3 version."""
    import hashlib

    from nudge.identity import pseudonymize
    from nudge.pipeline import email_keys
    from nudge.storage import EmailStore, ProfileStore

    profiles = ProfileStore(stack.table)
    assert profiles.claim_send(customer_id, campaign_id, now=now, token="writer") == "claimed"
    key = email_keys(campaign_id, pseudonymize(customer_id, key=pseudonym_key))["eml"]
    version = EmailStore(stack.bucket).put(key, eml, content_type="message/rfc822")
    assert profiles.mark_sent(customer_id, campaign_id, now=now, token="writer", campaign_type=campaign_type,
                              eml_sha256=hashlib.sha256(eml).hexdigest(), eml_version=version)
