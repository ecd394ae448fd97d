"""The local runner end to end on the tiny store: every campaign planned and generated through a
moto server on loopback, exported with a manifest and a gallery; the whole log is free of
personal data and every .eml is sendable."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest



@pytest.fixture(scope="module")
def demo_run(tiny_demo):
    return tiny_demo


def test_the_daily_birthday_campaign_is_planned_day_after_day_until_its_limit():
    from scripts.demo import DemoConfig, _plan_requests

    # GIVEN a daily campaign with a limit of 5, two days planned so far (2 + 2 enqueued)
    config = DemoConfig(limit_per_campaign=5, daily_campaign_days=4)
    plans = [{"campaign_type": "birthday_holiday", "enqueued": 2}]
    requests = _plan_requests("birthday_holiday", date(2026, 11, 20), config, plans)
    first = next(requests)
    plans.append({"campaign_type": "birthday_holiday", "enqueued": 2})
    second = next(requests)
    plans.append({"campaign_type": "birthday_holiday", "enqueued": 1})
    # THEN each day is its own plan (default campaign id), asking only for what is left, and it stops at the limit
    assert (first["send_date"], first["limit"]) == ("2026-11-20", 3)
    assert (second["send_date"], second["limit"]) == ("2026-11-21", 1)
    assert "campaign_id" not in first and list(requests) == []
    # AND a batch campaign is one plan on the send date
    assert list(_plan_requests("loyalty", date(2026, 11, 20), config, [])) == [
        {"campaign_type": "loyalty", "send_date": "2026-11-20", "limit": 5}]


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


def test_the_german_customer_reads_german_and_the_report_checks_it(demo_run):
    # GIVEN the tiny store's one German customer (c004, de_DE, consenting) among English ones
    out, summary = demo_run
    languages = summary["languages"]["by_language"]
    # THEN their emails are written in German, wrapped in German wording with lang="de-DE", and the report says so
    assert languages["de"]["emails"] > 0 and languages["de"]["copy_language"] == {"de": languages["de"]["emails"]}
    assert languages["de"]["with_english_chrome"] == 0 and languages["de"]["lang_mismatch"] == 0
    assert set(languages["en"]["copy_language"]) == {"en"}
    # AND the report's bars name what the tiny store lacks (no French consent, no zh/es/it/nl customers), nothing else
    assert summary["languages"]["failed_bars"] and all(bar.endswith("no email in the demo") for bar in summary["languages"]["failed_bars"])


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


def test_emls_keep_catalog_image_urls_and_previews_show_local_pictures(demo_run, tiny_store):
    import email
    from email import policy

    out, summary = demo_run
    catalog_urls = {p.image_url for p in tiny_store.products.values() if p.image_url}
    img_src = re.compile(r'<img\b[^>]*?\ssrc="([^"]*)"')
    for entry in json.loads((out / "manifest.json").read_text())["emails"]:
        message = email.message_from_bytes((out / entry["eml_path"]).read_bytes(), policy=policy.default)
        sent = img_src.findall(message.get_body(preferencelist=("html",)).get_content())
        preview = img_src.findall((out / entry["html_path"]).read_text(encoding="utf-8"))
        # THEN the .eml carries the catalog's absolute https URLs, as production does
        assert sent and set(sent) <= catalog_urls, sent
        # ... and its local preview the same number of pictures, each a file under out/images/
        assert len(preview) == len(sent)
        for src in preview:
            assert src.endswith(".png") and (out / entry["html_path"]).parent.joinpath(src).resolve().is_file(), src
            assert (out / entry["html_path"]).parent.joinpath(src).resolve().parent == (out / "images").resolve()
    assert summary["images"]["unmapped"] == [] and summary["images"]["images"] > 0
