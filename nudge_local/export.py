"""Copy the generated emails from S3 to a local folder with a manifest and a browsable gallery.

Each email is one object in S3, its .eml, and one completed SEND# item in the profile table,
which holds its audit record (nudge.storage.ProfileStore.mark_sent). The export writes, per email,
the .eml exactly as recorded (the S3 version the record names, checked against its SHA-256), and
beside it, for people and the gallery, `email.html` (the .eml's HTML part) and `email.json` (the
audit record): local conveniences, not objects the stack writes.
"""

from __future__ import annotations

import email
import hashlib
import json
from email import policy
from pathlib import Path
from typing import Any

from nudge.pipeline import EMAIL_PREFIX


class ExportMismatchError(RuntimeError):
    """A completed email's record does not describe the .eml stored under its key."""


def mime_part(raw: bytes, subtype: str) -> str:
    """The text/<subtype> part ("html", "plain") of a MIME message ("" when it has none)."""
    message = email.message_from_bytes(raw, policy=policy.default)
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None else ""


def html_part(raw: bytes) -> str:
    """The text/html part of a MIME message ("" when it has none)."""
    return mime_part(raw, "html")


def export_emails(s3: Any, bucket: str, out_dir: Path, *, table: str) -> list[dict[str, Any]]:
    """Download every completed email (its recorded .eml version); return one manifest entry per
    email, from its audit record. Raises ExportMismatchError when a record and its .eml differ."""
    from nudge.storage import ProfileStore

    out_dir.mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, Any]] = []
    for item in ProfileStore(table).completed_sends():
        record = item.get("record")
        if not record:
            continue  # completed without a record: nothing describes it
        key = record["objects"]["eml"]
        base = Path(key).parent
        target = out_dir / base
        if not key.startswith(f"{EMAIL_PREFIX}/") or not target.resolve().is_relative_to(out_dir.resolve()):
            raise ValueError(f"refusing to write {key!r} outside {out_dir}")
        extra = {"VersionId": item["eml_version"]} if item.get("eml_version") else {}
        raw = s3.get_object(Bucket=bucket, Key=key, **extra)["Body"].read()
        if item.get("eml_sha256") and hashlib.sha256(raw).hexdigest() != item["eml_sha256"]:
            raise ExportMismatchError(f"{key}: the .eml does not match its SEND# record's SHA-256")
        target.mkdir(parents=True, exist_ok=True)
        (target / "email.eml").write_bytes(raw)
        (target / "email.html").write_text(html_part(raw), encoding="utf-8")
        full = {**record, "eml": {"key": key, "sha256": item.get("eml_sha256", ""), "version": item.get("eml_version", "")}}
        (target / "email.json").write_text(json.dumps(full, indent=2, ensure_ascii=False, sort_keys=True), encoding="utf-8")
        entries.append(
            {
                "campaign_type": record["campaign"]["type"],
                "campaign_id": record["campaign"]["id"],
                "customer": record["customer"],
                "subject": record["copy"]["subject"],
                "preheader": record["copy"]["preheader"],
                "copy_source": record["copy"]["source"],
                "tone": record["tone"]["chosen"],
                "products": [{"name": i["name"], "reason": i["reason"]} for i in record["items"]],
                "json_path": (base / "email.json").as_posix(),
                "html_path": (base / "email.html").as_posix(),
                "eml_path": (base / "email.eml").as_posix(),
            }
        )
    entries.sort(key=lambda e: (e["campaign_type"], e["customer"]))
    return entries


def write_manifest(out_dir: Path, entries: list[dict[str, Any]]) -> Path:
    path = out_dir / "manifest.json"
    path.write_text(json.dumps({"emails": entries, "count": len(entries)}, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def eml_problems(raw: bytes) -> list[str]:
    """What a bulk-sender review would flag in one .eml (empty when it is sendable)."""
    import email
    from email import policy

    problems: list[str] = []
    try:
        message = email.message_from_bytes(raw, policy=policy.default)
    except Exception as exc:  # noqa: BLE001 - reported, not swallowed
        return [f"does not parse: {exc}"]
    for header in ("From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe"):
        if not message.get(header):
            problems.append(f"missing {header}")
    unsubscribe = str(message.get("List-Unsubscribe", ""))
    if "<https://" not in unsubscribe or "<mailto:" not in unsubscribe:
        problems.append("List-Unsubscribe needs both an https and a mailto URI")
    if message.get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click":
        problems.append("missing List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    if message.get_content_type() != "multipart/alternative":
        problems.append(f"top part is {message.get_content_type()}, expected multipart/alternative")
    types = {part.get_content_type() for part in message.walk()}
    for needed in ("text/plain", "text/html"):
        if needed not in types:
            problems.append(f"no {needed} part")
    return problems


def verify_emails(out_dir: Path, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Check every exported .eml; returns counts and the first problems found."""
    bad: list[str] = []
    for entry in entries:
        problems = eml_problems((out_dir / entry["eml_path"]).read_bytes())
        if problems:
            bad.append(f"{entry['eml_path']}: {'; '.join(problems)}")
    return {"checked": len(entries), "with_problems": len(bad), "examples": bad[:5]}
