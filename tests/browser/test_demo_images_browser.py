"""The demo's own output in a real browser: every product picture loads.

GIVEN the local demo run on the tiny store (scripts/demo.py, five campaigns) and its out/ folder
      served on loopback, as `python -m http.server -d out` would
WHEN the gallery is opened with every preview expanded, and each exported email on its own
THEN every <img> in the gallery, in each preview frame and in each email has loaded
     (complete, naturalWidth > 0), each email shows at least one picture from out/images/, the
     console stays clean (no failed loads), and screenshots land in build/reports/screens/.

Needs Debian's chromium: `make browser-deps` (skipped with that reason without it).
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
import urllib.request
from pathlib import Path

import pytest

from tests.browser.devtools import CHROMIUM, Chromium, Page, WebSocket

ROOT = Path(__file__).resolve().parents[2]
SCREENS = ROOT / "build" / "reports" / "screens"
WIDTH = 800

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium: make browser-deps"),
]

# Waits (at most 10 s) for the document's images, then reports each one.
IMAGES_LOADED = """(async () => {
  const images = Array.from(document.images);
  const settled = images.map(i => i.complete ? null : new Promise(r => {
    i.addEventListener("load", r); i.addEventListener("error", r); }));
  await Promise.race([Promise.all(settled), new Promise(r => setTimeout(r, 10000))]);
  return {
    url: location.href,
    sources: images.map(i => i.src),
    broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src),
  };
})()"""

# Expands every preview in the gallery and waits (at most 15 s each) for its frame to load.
OPEN_PREVIEWS = """(async () => {
  const frames = Array.from(document.querySelectorAll("iframe"));
  const loaded = frames.map(f => new Promise(r => { f.addEventListener("load", r, {once: true}); setTimeout(r, 15000); }));
  frames.forEach(f => { f.loading = "eager"; });
  document.querySelectorAll("details").forEach(d => { d.open = true; });
  await Promise.all(loaded);
  return frames.map(f => f.getAttribute("src"));
})()"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:
        if self.path == "/favicon.ico":  # the browser asks for one; the demo has none, which is no failed load
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()


@pytest.fixture(scope="module")
def demo_site(tiny_demo):
    """The demo's out/ folder for the tiny store (tests/conftest.py), served from 127.0.0.1."""
    out, summary = tiny_demo
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", out, summary
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with Chromium.launch(tmp_path_factory.mktemp("chromium-profile")) as chromium:
        yield chromium


@pytest.fixture(scope="module")
def page(browser):
    return browser.open()


def preview_frames(browser, base_url: str) -> list[Page]:
    """The gallery's preview frames, each attached as its own DevTools target: a sandboxed iframe
    has an opaque origin, so Chromium runs it out of process and the page cannot look inside."""
    with urllib.request.urlopen(f"http://127.0.0.1:{browser.port}/json/list", timeout=30) as response:
        targets = json.load(response)
    return [Page(WebSocket(t["webSocketDebuggerUrl"])) for t in targets
            if t["type"] == "iframe" and t["url"].startswith(f"{base_url}/")]


def test_every_picture_in_the_gallery_previews_loads(demo_site, browser, page):
    base_url, out, summary = demo_site
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert summary["emails_written"] == manifest["count"] >= 5  # the six campaigns on the tiny store
    page.set_viewport(width=WIDTH, height=900)
    page.navigate(f"{base_url}/index.html")
    # WHEN every preview is expanded
    sources = page.evaluate(OPEN_PREVIEWS)
    assert sorted(sources) == sorted(e["html_path"] for e in manifest["emails"])
    # THEN the gallery itself and every preview frame show only images that loaded
    assert page.evaluate(IMAGES_LOADED)["broken"] == []
    frames = preview_frames(browser, base_url)
    seen = []
    for frame in frames:
        found = frame.evaluate(IMAGES_LOADED)
        frame.ws.close()
        seen.append(found["url"].removeprefix(f"{base_url}/"))
        assert found["sources"], f"no image in the preview {found['url']}"
        assert found["broken"] == [], found
        assert all(src.startswith(f"{base_url}/images/") for src in found["sources"]), found
    assert sorted(seen) == sorted(sources), "a preview frame did not load"
    assert page.errors == []
    # out-of-process frames below the viewport are not painted into a full-page capture: make the
    # viewport the page's height first, so the screenshot shows every preview a person would see
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport(width=WIDTH, height=min(height, 8000))
    page.evaluate("new Promise(r => requestAnimationFrame(() => setTimeout(r, 300)))")
    page.screenshot(SCREENS / "demo_gallery_previews.png")


def test_every_picture_in_each_demo_email_loads(demo_site, page):
    base_url, out, _ = demo_site
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["emails"]:
        # WHEN an exported email is opened on its own
        page.set_viewport(width=WIDTH, height=900)
        page.navigate(f"{base_url}/{entry['html_path']}")
        found = page.evaluate(IMAGES_LOADED)
        # THEN it shows product pictures from out/images/, every one loaded, and nothing failed to load
        assert found["sources"] and found["broken"] == [], found
        assert all(src.startswith(f"{base_url}/images/") for src in found["sources"]), found
        assert page.errors == [], entry["html_path"]
        page.screenshot(SCREENS / f"demo_{entry['campaign_type']}_{WIDTH}.png")


def test_the_image_check_catches_a_broken_picture(demo_site, page):
    base_url, _, _ = demo_site
    # GIVEN a page whose picture points at the catalog's (unserved) address, as the .eml does
    page.navigate(f'data:text/html,<img alt="x" src="{base_url}/img/p001.jpg"><img alt="y" src="{base_url}/images/">')
    # THEN the check reports both as broken (so a pass above means something)
    assert len(page.evaluate(IMAGES_LOADED)["broken"]) == 2
    page.errors  # drain the failed-load errors
