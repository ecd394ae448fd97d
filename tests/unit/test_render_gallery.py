"""The gallery page: every email, filterable, escaped, and without personal data."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest

from nudge.errors import RenderError
from nudge.render import samples
from nudge.render.gallery import render_gallery, write_gallery
from nudge.render.lint import parse_html


def entry(**overrides) -> dict:
    base = {
        "campaign_type": "clearance",
        "campaign_id": "clearance-2026-11-29",
        "customer": "u_3f9a1c",
        "subject": "Ada, reduced for you",
        "preheader": "While stock lasts",
        "copy_source": "model",
        "tone": "urgent",
        "products": [{"name": "Linen tea towel", "reason": "Similar to things you viewed"}],
        "html_path": "emails/a.html",
        "json_path": "emails/a.json",
        "eml_path": "emails/a.eml",
    }
    return base | overrides


def test_write_samples_renders_every_campaign_and_the_gallery(tmp_path):
    # GIVEN the sample facts; WHEN written with the gallery
    index = samples.write_samples(tmp_path)
    html = index.read_text()
    facts = parse_html(html)
    # THEN one card per campaign, each linking to files that exist
    cards = [attrs for name, attrs in facts.tags if name == "article"]
    assert len(cards) == 6
    for href in (a["href"] for a in facts.all("a")):
        assert (tmp_path / href).is_file(), href
    # ... and the JSON written beside each email is its manifest entry
    manifest = json.loads(next((tmp_path / "emails").glob("*.json")).read_text())
    assert manifest["customer"] == "u_3f9a1c" and "ada@example.com" not in json.dumps(manifest)


def test_gallery_shows_subject_preheader_products_reasons_source_and_tone():
    html = render_gallery([entry()])
    text = parse_html(html).visible_text
    for fact in (
        "Ada, reduced for you",
        "While stock lasts",
        "Linen tea towel",
        "Similar to things you viewed",
        "model",
        "urgent",
        "clearance-2026-11-29",
        "u_3f9a1c",
    ):
        assert fact in text


def test_gallery_filters_by_campaign_with_one_option_per_campaign():
    html = render_gallery([entry(), entry(campaign_type="loyalty"), entry(campaign_type="loyalty")])
    facts = parse_html(html)
    options = [o["value"] for o in facts.all("option")]
    assert options[:3] == ["", "clearance", "loyalty"]
    assert [a["data-campaign"] for a in facts.all("article")] == ["clearance", "loyalty", "loyalty"]
    assert "loyalty (2)" in facts.visible_text


def test_gallery_script_is_the_only_script_and_its_hash_is_in_the_csp():
    html = render_gallery([entry()])
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in html


def test_gallery_escapes_hostile_fields():
    html = render_gallery(
        [
            entry(
                subject="<script>alert(1)</script>",
                campaign_type='x" onclick="alert(1)',
                products=[{"name": "<img src=x onerror=alert(1)>", "reason": "\"'><b>"}],
            )
        ]
    )
    assert html.count("<script>") == 1  # only the gallery's own
    assert "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
    assert not any(k.startswith("on") for _, attrs in parse_html(html).tags for k in attrs)


def test_gallery_shows_no_personal_data_put_in_an_entry_by_mistake():
    # GIVEN an entry carrying an email address and a first name in extra keys
    html = render_gallery([entry(email="ada@example.com", first_name="Adalinde")])
    # THEN neither appears
    assert "ada@example.com" not in html and "Adalinde" not in html


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "../secrets.eml",
        "javascript:alert(1)",
        "https://evil.test/x",
        "emails/../../x.html",
        "C:\\x\\..\\..\\y",
    ],
)
def test_gallery_refuses_paths_outside_its_folder(path):
    with pytest.raises(RenderError, match="relative"):
        render_gallery([entry(html_path=path)])


def test_gallery_paths_are_url_quoted():
    html = render_gallery([entry(html_path="emails/a b#1.html")])
    assert 'href="emails/a%20b%231.html"' in html


def test_unknown_copy_source_is_marked_unknown():
    assert 'data-source="unknown"' in render_gallery([entry(copy_source="<b>")])


def test_write_gallery_creates_the_folder_and_returns_index(tmp_path):
    index = write_gallery(tmp_path / "new", [entry()])
    assert index == tmp_path / "new" / "index.html" and index.is_file()
