"""The local runner end to end on the tiny store: every campaign planned and generated through a
moto server on loopback, exported with a manifest and a gallery; the whole log is free of
personal data and every .eml is sendable."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import TINY_STORE


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, tiny_artifacts):
    from scripts.demo import DemoConfig, run

    out = tmp_path_factory.mktemp("out")
    config = DemoConfig(store_dir=TINY_STORE, artifacts_dir=tiny_artifacts, out_dir=out, holdout_share=0.0, limit_per_campaign=50)
    return out, run(config)


def test_demo_writes_emails_manifest_and_gallery(demo_run):
    out, summary = demo_run
    manifest = json.loads((out / "manifest.json").read_text())
    assert summary["emails_written"] == manifest["count"] == len(manifest["emails"]) > 0
    assert summary["dead_letters"] == 0 and summary["failed_records"] == 0
    assert {"abandoned_cart", "birthday_holiday", "loyalty", "win_back"} <= set(summary["by_campaign"])
    for entry in manifest["emails"]:
        for path in ("json_path", "html_path", "eml_path"):
            assert (out / entry[path]).is_file()
    assert "<html" in (out / "index.html").read_text().lower()


def test_every_demo_eml_is_sendable(demo_run):
    _, summary = demo_run
    assert summary["eml_check"]["checked"] == summary["emails_written"]
    assert summary["eml_check"]["with_problems"] == 0, summary["eml_check"]["examples"]


def test_demo_log_holds_no_email_address_or_first_name(demo_run, tiny_store):
    out, _ = demo_run
    log = (out / "demo.log").read_text(encoding="utf-8")
    assert "batch done" in log and "plan done" in log, "the functions' logs are captured"
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", log.replace("news@shop.example.com", "")), "an email address in the log"
    for customer in tiny_store.customers.values():
        assert customer.email not in log
        assert re.search(rf"\b{re.escape(customer.first_name)}\b", log) is None, f"first name {customer.first_name!r} in the log"
