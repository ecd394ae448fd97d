"""Publish: a store's profiles to the profile table and the trained artifacts to the bucket.

Inputs: a store directory (nudge.store format; validated, rejections reported), the artifacts
directory (catalog/ + recommender/ from scripts/train_recommender.py), the stack's table name and
bucket (`--table`, `--bucket`, or NUDGE_PROFILE_TABLE / NUDGE_OUTPUT_BUCKET).
Outputs: one profile item per customer (BatchWriteItem, unprocessed items retried), the artifacts
under s3://<bucket>/artifacts/ (with the store's offers and loyalty tiers written to store/ first:
nudge.store.facts), and a JSON summary on stdout (counts only, no personal data).

Republishing overwrites each profile's history, cart and last-sent stamp with the store's view
(see docs/TRIGGERS.md); send, holdout and due-time items are left alone.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class PublishConfig:
    store_dir: Path = ROOT / "build" / "store"
    artifacts_dir: Path | None = ROOT / "build" / "artifacts"  # None: profiles only
    table: str = ""  # default: NUDGE_PROFILE_TABLE
    bucket: str = ""  # default: NUDGE_OUTPUT_BUCKET
    strict: bool = False  # refuse to publish when any store row was rejected


def main(config: PublishConfig) -> dict:
    from nudge.errors import ConfigError
    from nudge.profiles import build_profiles
    from nudge.storage import ProfileStore, upload_dir
    from nudge.store import load_store

    table = config.table or os.environ.get("NUDGE_PROFILE_TABLE", "")
    bucket = config.bucket or os.environ.get("NUDGE_OUTPUT_BUCKET", "")
    if not table:
        raise ConfigError("a profile table is required: --table or NUDGE_PROFILE_TABLE")
    if config.artifacts_dir is not None and not bucket:
        raise ConfigError("a bucket is required to publish artifacts: --bucket or NUDGE_OUTPUT_BUCKET (or --profiles-only)")
    store = load_store(config.store_dir, strict=config.strict)
    profiles = build_profiles(store.customers, store.events, store.products)
    # The pseudonym key (the stack's secret, or NUDGE_PSEUDONYM_KEY): with it, each new customer's
    # PSEUDO# mapping is written once here instead of with every email (ProfileStore.put_profiles).
    key = os.environ.get("NUDGE_PSEUDONYM_KEY", "")
    if not key and os.environ.get("NUDGE_SECRET_ARN"):
        from nudge.storage import load_secret_keys

        key = load_secret_keys(os.environ["NUDGE_SECRET_ARN"]).get("pseudonym_key", "")
    written = ProfileStore(table).put_profiles(profiles.values(), pseudonym_key=key.encode() or None)
    if config.artifacts_dir is not None:  # the store's offers and loyalty tiers travel with the artifacts (artifacts/store/)
        from nudge.store.facts import save_store_facts

        save_store_facts(config.artifacts_dir, offers=store.offers, currency=store.info.currency,
                         points_name=store.points_name, tiers=store.loyalty_tiers)
    uploaded = upload_dir(config.artifacts_dir, f"s3://{bucket}/artifacts/") if config.artifacts_dir is not None else 0
    summary = {"profiles_written": written, "pseudonyms": "recorded" if key else "left to the generate step (no key)",
               "artifact_files": uploaded, "store_report": store.report.counts}
    print(json.dumps(summary, default=str))
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=PublishConfig.store_dir)
    parser.add_argument("--artifacts", type=Path, default=PublishConfig.artifacts_dir)
    parser.add_argument("--profiles-only", action="store_true")
    parser.add_argument("--table", default="")
    parser.add_argument("--bucket", default="")
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()
    main(PublishConfig(store_dir=args.store, artifacts_dir=None if args.profiles_only else args.artifacts,
                       table=args.table, bucket=args.bucket, strict=args.strict))
