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
