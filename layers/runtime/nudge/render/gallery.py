"""The gallery: one HTML page listing every rendered email, filterable by campaign.

It shows what a reviewer needs (subject, preheader, products and why they were picked, whether
the copy came from the model or the reviewed fallback, the tone) and links to each email's HTML,
JSON and .eml. Entries are whitelisted field by field: an email address or a first name put in a
manifest entry by mistake is not shown.

>>> write_gallery(Path("build/gallery"), entries)  # doctest: +SKIP
PosixPath('build/gallery/index.html')
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, urlsplit


from nudge.campaigns import CampaignDefinition
from nudge.errors import RenderError
from nudge.render.compose import RenderedEmail
from nudge.render.sanitize import clean_line
from nudge.render.templating import TEMPLATES_DIR, gallery_environment
from nudge.types import Copy, Product, RankedItem

ENTRY_FIELDS = ("campaign_type", "campaign_id", "customer", "subject", "preheader", "copy_source", "tone")
PATH_FIELDS = ("html_path", "json_path", "eml_path")
COPY_SOURCES = ("model", "fallback")


def _relative_href(value: Any, *, field: str) -> str:
    """A safe relative href for a file under the gallery folder ('' when absent)."""
    if not value:
        return ""
    path = str(value).replace("\\", "/")
    parts = urlsplit(path)
    pure = PurePosixPath(path)
    if parts.scheme or parts.netloc or pure.is_absolute() or ".." in pure.parts or any(c in path for c in "\r\n\x00"):
        raise RenderError(f"gallery entry {field} must be a path relative to the gallery folder, got {path!r}")
    return quote(path, safe="/")


def _entry(raw: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {key: clean_line(str(raw.get(key, "") or ""), max_chars=200) for key in ENTRY_FIELDS}
    if entry["copy_source"] not in COPY_SOURCES:
        entry["copy_source"] = "unknown"
    entry["products"] = [
        {
            "name": clean_line(str(p.get("name", "")), max_chars=120),
            "reason": clean_line(str(p.get("reason", "")), max_chars=160),
        }
        for p in raw.get("products", []) or []
        if isinstance(p, dict)
    ]
    for key in PATH_FIELDS:
        entry[key] = _relative_href(raw.get(key), field=key)
    return entry


def _script() -> tuple[str, str]:
    script = (TEMPLATES_DIR / "gallery.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return script, f"sha256-{digest}"


def render_gallery(entries: list[dict[str, Any]]) -> str:
    """The gallery page as a string (see `write_gallery`)."""
    cleaned = [_entry(raw) for raw in entries]
    script, script_hash = _script()
    sources = Counter(entry["copy_source"] for entry in cleaned)
    template = gallery_environment().get_template("gallery.html.j2")
    return template.render(
        entries=cleaned,
        campaigns=sorted(Counter(entry["campaign_type"] for entry in cleaned).items()),
        model_count=sources["model"],
        fallback_count=sources["fallback"],
        script=script,  # our own file, marked |safe in the template and hashed into the CSP
        script_hash=script_hash,
    )


def write_gallery(out_dir: Path, entries: list[dict[str, Any]]) -> Path:
    """Write `out_dir/index.html` listing `entries` (manifest dicts, paths relative to out_dir).

    Each entry: campaign_type, campaign_id, customer (pseudonymous id), subject, preheader,
    copy_source ("model" | "fallback"), tone, products ([{name, reason}]), html_path, json_path,
    eml_path. Other keys are ignored. Returns the path of index.html.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    index = out_dir / "index.html"
    index.write_text(render_gallery(entries), encoding="utf-8")
    return index


def manifest_entry(
    *,
    email: RenderedEmail,
    campaign: CampaignDefinition,
    campaign_id: str,
    pseudonymous_id: str,
    copy: Copy,
    items: list[tuple[Product, RankedItem]],
    html_path: str,
    json_path: str,
    eml_path: str,
) -> dict[str, Any]:
    """The gallery's manifest entry for one rendered email (no email address, no first name)."""
    return {
        "campaign_type": campaign.campaign_type,
        "campaign_id": campaign_id,
        "customer": pseudonymous_id,
        "subject": email.subject,
        "preheader": email.preheader,
        "copy_source": copy.source,
        "tone": copy.tone,
        "model_version": copy.model_version,
        "products": [{"product_id": p.product_id, "name": p.name, "reason": r.reason} for p, r in items],
        "message_id": email.message_id,
        "html_path": html_path,
        "json_path": json_path,
        "eml_path": eml_path,
    }
