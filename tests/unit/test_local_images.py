"""The demo's product pictures (nudge_local/images.py): one PNG per (category, colour), and local
previews that point at them while the .eml keeps the catalog's https image URLs."""

from __future__ import annotations

import email
import io
import json
import re
from email import policy
from pathlib import Path

from PIL import Image

from nudge.render import samples
from nudge_local.images import SIZE, localize_previews, picture_name, product_picture

IMG_SRC = re.compile(r'<img\b[^>]*?\ssrc="([^"]*)"')


def test_a_picture_is_a_small_png_the_same_for_the_same_category_and_colour():
    # GIVEN a category and a colour WHEN drawn twice THEN the same bytes, a SIZE x SIZE PNG of a few KB
    first, again = product_picture("mugs", "sage green"), product_picture("mugs", "sage green")
    assert first == again
    image = Image.open(io.BytesIO(first))
    assert image.format == "PNG" and image.size == (SIZE, SIZE)
    assert len(first) < 8_000
    # ... and another colour or category gives another picture
    assert product_picture("mugs", "navy") != first
    assert product_picture("vases", "sage green") != first


def test_unknown_blank_and_hostile_values_still_give_a_picture_and_a_safe_file_name():
    for category, colour in (("", ""), ("lamps", "ultraviolet"), ("<script>alert(1)</script>", "مريم"), ("x" * 5000, "🎉")):
        data = product_picture(category, colour)
        assert Image.open(io.BytesIO(data)).size == (SIZE, SIZE)
        name = picture_name(category, colour)
        assert re.fullmatch(r"[a-z0-9-]+\.png", name), name
    # names that slug alike stay apart
    assert picture_name("bath & body", "") != picture_name("bath body", "")
    assert picture_name("mugs", "sage green") == picture_name("Mugs", " Sage Green ")


def sample_site(root: Path) -> list[dict]:
    """The sample emails (nudge.render.samples) written as the demo writes them, with their entries."""
    samples.write_samples(root)
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted((root / "emails").glob("*.json"))]


def test_previews_point_at_local_pictures_and_the_eml_keeps_the_catalog_urls(tmp_path):
    # GIVEN rendered emails whose products p-1, p-2 are in the catalog and p-4's image URL is not
    entries = sample_site(tmp_path)
    catalog = [p for p, _ in samples.items() if p.product_id in ("p-1", "p-2")]
    emls_before = {e["eml_path"]: (tmp_path / e["eml_path"]).read_bytes() for e in entries}
    # WHEN the previews are localized
    report = localize_previews(tmp_path, entries, catalog)
    # THEN each catalog image URL in a preview became a relative path to a picture that exists
    assert report["previews"] == len(entries) and report["rewritten"] == 2 * len(entries)
    assert report["images"] == 2 and report["image_bytes"] == sum(p.stat().st_size for p in (tmp_path / "images").iterdir())
    assert report["unmapped"] == ["https://img.example.com/p-4.jpg"]
    for entry in entries:
        html_path = tmp_path / entry["html_path"]
        sources = IMG_SRC.findall(html_path.read_text(encoding="utf-8"))
        local = [src for src in sources if not src.startswith("https://")]
        assert len(local) == 2 and all(src.startswith("../images/") for src in local)
        assert all((html_path.parent / src).resolve().is_file() for src in local)
        assert "https://img.example.com/p-1.jpg" not in sources
    # ... and the .eml (what production sends) is untouched, with the catalog's https URLs
    for eml_path, before in emls_before.items():
        assert (tmp_path / eml_path).read_bytes() == before
        html_part = email.message_from_bytes(before, policy=policy.default).get_body(preferencelist=("html",))
        assert "https://img.example.com/p-1.jpg" in IMG_SRC.findall(html_part.get_content())


def test_localizing_twice_changes_nothing_more(tmp_path):
    entries = sample_site(tmp_path)
    catalog = [p for p, _ in samples.items()]
    localize_previews(tmp_path, entries, catalog)
    pages = {e["html_path"]: (tmp_path / e["html_path"]).read_text(encoding="utf-8") for e in entries}
    again = localize_previews(tmp_path, entries, catalog)
    assert again["rewritten"] == 0 and again["unmapped"] == []
    assert pages == {e["html_path"]: (tmp_path / e["html_path"]).read_text(encoding="utf-8") for e in entries}
