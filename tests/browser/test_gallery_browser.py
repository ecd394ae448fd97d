"""Rendered emails and the gallery in a real browser (headless Chromium, DevTools protocol).

GIVEN one sample email per campaign plus a hostile one, and the gallery, served on loopback
WHEN each page is opened at 375 px (a phone) and 800 px (a desktop pane), light and dark
THEN nothing scrolls sideways on the phone, the console stays clean, every <img> has alt text
and loads, and screenshots land in build/reports/screens/ for a human to look at.

Needs Debian's chromium: `apt-get install -y chromium` (skipped with that reason without it).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import struct
import threading
import zlib
from dataclasses import replace
from pathlib import Path

import pytest

from nudge.render import samples
from tests.browser.devtools import CHROMIUM, Chromium

ROOT = Path(__file__).resolve().parents[2]
SCREENS = ROOT / "build" / "reports" / "screens"
PHONE, DESKTOP = 375, 800

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium: apt-get install -y chromium"),
]

PAGE_CHECK = """(() => {
  const images = Array.from(document.images);
  return {
    scrollWidth: document.documentElement.scrollWidth,
    withoutAlt: images.filter(i => !i.hasAttribute("alt")).map(i => i.src),
    broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src),
    scripts: document.scripts.length,
  };
})()"""


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour PNG (stdlib only), so product images load from the loopback server."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack("!I", len(data)) + kind + data + struct.pack("!I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack("!IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass


@contextlib.contextmanager
def serving(root: Path):
    """`root` served on 127.0.0.1 (a free port) while the block runs; yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def with_images(args: dict, base_url: str) -> list:
    """`args`' items with their pictures on the loopback server (an item without a picture stays without)."""
    return [(replace(p, image_url=f"{base_url}/img/{p.product_id}.png") if p.image_url else p, r) for p, r in args["items"]]


def hostile_email(base_url: str) -> dict:
    """Everything at once: a 1,000-character unbroken name, script tags, RTL, a missing image."""
    items = [
        (
            samples.product("h-1", name="W" * 1000, image_url=f"{base_url}/img/h-1.png"),
            samples.ranked("h-1", "X" * 1000),
        ),
        (
            samples.product("h-2", name='<script>alert("x")</script> "quoted" مريم', image_url=""),
            samples.ranked("h-2", "<img src=x onerror=alert(1)>"),
        ),
    ]
    return samples.email_args(
        "clearance",
        customer=samples.customer(first_name="A" * 1000),
        copy=samples.copy(subject="<b>Hostile</b> " + "S" * 300, intro="Y" * 600),
        items=items,
        campaign_id="hostile-2026-11-29",
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The sample emails and the gallery, served from a temporary folder on 127.0.0.1."""
    root = tmp_path_factory.mktemp("site")
    with serving(root) as base_url:
        (root / "img").mkdir()
        colours = [(163, 177, 138), (221, 161, 94), (188, 108, 37), (96, 108, 56), (40, 54, 24)]
        emails = []
        for name in ("new_arrivals", "abandoned_cart", "birthday_holiday", "loyalty", "clearance", "win_back"):
            args = samples.email_args(name)
            args["items"] = with_images(args, base_url)
            emails.append(args)
        emails.append(hostile_email(base_url))
        rtl = samples.email_args("win_back", customer=samples.customer(locale="ar_EG", first_name="مريم"),
                                 campaign_id="rtl-2026-11-29")
        rtl["items"] = emails[0]["items"]
        emails.append(rtl)
        for index, product_id in enumerate(["p-1", "p-2", "p-3", "p-4", "h-1"]):
            (root / "img" / f"{product_id}.png").write_bytes(png(240, 240, colours[index]))
        (root / "favicon.ico").write_bytes(png(16, 16, colours[0]))
        samples.write_samples(root, emails=emails)
        yield base_url, root


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    with Chromium.launch(tmp_path_factory.mktemp("chromium-profile")) as browser:
        yield browser.open()


def check_page(page, url: str, *, width: int, screenshot: Path, dark: bool = False) -> dict:
    page.set_viewport(width=width, height=900, dark=dark)
    page.navigate(url)
    result = page.evaluate(PAGE_CHECK)
    result["errors"] = page.errors
    page.screenshot(screenshot)
    return result


def test_every_email_fits_a_phone_with_a_clean_console(site, page):
    base_url, root = site
    htmls = sorted(p.relative_to(root).as_posix() for p in (root / "emails").glob("*.html"))
    assert len(htmls) == 8
    for html in htmls:
        stem = html.split("/")[-1].split("_u_")[0]
        for width in (PHONE, DESKTOP):
            # WHEN the email is opened at this width
            result = check_page(page, f"{base_url}/{html}", width=width, screenshot=SCREENS / f"{stem}_{width}.png")
            # THEN no sideways scroll, no console error, every image has alt text and loaded
            assert result["scrollWidth"] <= width, (html, width, result)
            assert result["errors"] == [], (html, width)
            assert result["withoutAlt"] == [] and result["broken"] == [], (html, result)
            assert result["scripts"] == 0
        # ... and in dark mode the page still renders (screenshot for a human check)
        check_page(page, f"{base_url}/{html}", width=DESKTOP, dark=True, screenshot=SCREENS / f"{stem}_dark.png")


def test_gallery_fits_a_phone_and_filters_by_campaign(site, page):
    base_url, _ = site
    for width in (PHONE, DESKTOP):
        result = check_page(page, f"{base_url}/index.html", width=width, screenshot=SCREENS / f"gallery_{width}.png")
        assert result["scrollWidth"] <= width, result
        assert result["errors"] == []
        assert result["withoutAlt"] == []
    # WHEN a campaign is chosen in the filter
    shown = page.evaluate("""(() => {
      const select = document.getElementById("campaign-filter");
      select.value = "clearance";
      select.dispatchEvent(new Event("change"));
      return Array.from(document.querySelectorAll(".email-card")).filter(c => !c.hidden).length;
    })()""")
    # THEN only that campaign's emails stay visible (the sample and the hostile one)
    assert shown == 2
    assert page.evaluate("document.getElementById('shown-count').textContent") == "2"
    assert page.errors == []
    page.screenshot(SCREENS / "gallery_800_filtered.png")


def test_the_checks_catch_what_they_look_for(page):
    # GIVEN a page that breaks every rule: too wide, an image without alt, a console error
    bad = (
        'data:text/html,<html><body><div style="width:900px">wide</div><img src="x.png">'
        '<script>console.error("boom")</script></body></html>'
    )
    page.set_viewport(width=PHONE, height=600)
    page.navigate(bad)
    result = page.evaluate(PAGE_CHECK)
    # THEN each check fails as it should (so a pass above means something)
    assert result["scrollWidth"] > PHONE
    assert len(result["withoutAlt"]) == 1 and len(result["broken"]) == 1
    assert any("boom" in error for error in page.errors)


LANGUAGE_CUSTOMERS = {"fr": ("fr_FR", "Léa", "fr-FR"), "de": ("de_DE", "Jürgen", "de-DE"), "es": ("es_ES", "Lucía", "es-ES"),
                      "it": ("it_IT", "Niccolò", "it-IT"), "nl": ("nl_NL", "Maartje", "nl-NL"),
                      "zh_Hans": ("zh_CN", "晓燕", "zh-Hans-CN")}


@pytest.fixture(scope="module")
def language_site(tmp_path_factory):
    """One win-back email per copy language, its copy the language's reviewed copy (the longest intro, to test line
    breaking), served like the samples above."""
    from nudge.copy.languages import present
    from nudge.copy.slots import fill_slots
    from nudge.copy.writer import SeedCopy

    root = tmp_path_factory.mktemp("languages")
    with serving(root) as base_url:
        (root / "img").mkdir()
        emails = []
        for language, (locale, name, _) in LANGUAGE_CUSTOMERS.items():
            seed = SeedCopy.load(language)
            values = {"product": "Stoneware mug, sage", "store_name": samples.store().name}
            intro = max(seed.variants("win_back", "caring", "intro"), key=len)
            copy = samples.copy(subject=fill_slots(seed.variants("win_back", "caring", "subject")[0], values),
                                preheader=fill_slots(seed.variants("win_back", "caring", "preheader")[0], values),
                                intro=present(language, fill_slots(intro, values)), language=language, tone="caring")
            # reasons with their message keys, as the recommender gives them (the samples' plain English strings are not)
            args = samples.email_args("win_back", customer=samples.customer(locale=locale, first_name=name), copy=copy,
                                      campaign_id=f"lang-{language}-2026-11-29", items=samples.keyed_items())
            args["items"] = with_images(args, base_url)
            emails.append(args)
        for product_id in ["p-1", "p-2", "p-3", "p-4"]:
            (root / "img" / f"{product_id}.png").write_bytes(png(240, 240, (163, 177, 138)))
        (root / "favicon.ico").write_bytes(png(16, 16, (163, 177, 138)))
        samples.write_samples(root, emails=emails)
        yield base_url, root


def test_an_email_in_each_copy_language_fits_a_phone_in_its_own_language(language_site, page):
    # GIVEN a win-back email written in each copy language besides English (the samples above are English)
    base_url, root = language_site
    htmls = sorted(p.relative_to(root).as_posix() for p in (root / "emails").glob("*.html"))
    assert len(htmls) == len(LANGUAGE_CUSTOMERS)
    for language, (_, _, html_lang) in LANGUAGE_CUSTOMERS.items():
        html = next(h for h in htmls if f"lang-{language}-" in h)
        # WHEN it is opened on a phone
        result = check_page(page, f"{base_url}/{html}", width=PHONE, screenshot=SCREENS / f"lang_{language}_{PHONE}.png")
        # THEN it breaks its lines without sideways scroll, loads every image, and says which language it is in
        assert result["scrollWidth"] <= PHONE, (language, result)
        assert result["errors"] == [] and result["broken"] == [], (language, result)
        assert page.evaluate("document.documentElement.lang") == html_lang
        fonts = page.evaluate("getComputedStyle(document.querySelector('.content')).fontFamily")
        assert "PingFang SC" in fonts and "Noto Sans CJK SC" in fonts  # a CJK stack for Chinese (harmless elsewhere)
