"""Copy the generated emails from S3 to a local folder with a manifest and a browsable gallery."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nudge.pipeline import EMAIL_PREFIX


def export_emails(s3: Any, bucket: str, out_dir: Path) -> list[dict[str, Any]]:
    """Download every email object; return one manifest entry per email (from its JSON record)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{EMAIL_PREFIX}/"):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            target = out_dir / key
            if not target.resolve().is_relative_to(out_dir.resolve()):
                raise ValueError(f"refusing to write {key!r} outside {out_dir}")
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, key, str(target))
            if key.endswith("/email.json"):
                record = json.loads(target.read_text(encoding="utf-8"))
                base = Path(key).parent
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
