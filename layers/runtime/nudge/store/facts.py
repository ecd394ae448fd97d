"""The store's facts an email shows beside the catalog: its offers and its loyalty tiers.

Written offline next to the recommender's artifacts, read by the generate function's Engine at cold
start (no store directory there):

    <artifacts>/store/offers.json    nudge.offers (checked when written, read back checked)
    <artifacts>/store/loyalty.json   {"schema_version": 1, "points_name": ..., "tiers": [{tier, points}, ...]}

Both are optional: a store without offers or points gets emails without them.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> _ = save_store_facts(folder, offers=[], currency="GBP", points_name="points", tiers=(("bronze", 0), ("silver", 500)))
>>> load_store_facts(folder).tiers
(('bronze', 0), ('silver', 500))
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nudge.errors import ArtifactMismatchError
from nudge.loyalty import DEFAULT_POINTS_NAME, Tiers, loyalty_to_dict, parse_loyalty
from nudge.offers import Offer, load_offers_file, save_offers_file

FACTS_DIR = "store"  # under the artifacts folder (and prefix)
OFFERS_FILE = "offers.json"
LOYALTY_FILE = "loyalty.json"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class StoreFacts:
    offers: list[Offer] = field(default_factory=list)
    points_name: str = DEFAULT_POINTS_NAME
    tiers: Tiers = ()


def save_store_facts(artifacts_dir: str | Path, *, offers: Iterable[Offer], currency: str, points_name: str,
                     tiers: Tiers) -> Path:
    """Write <artifacts_dir>/store/ (both files, every time: a removed offer must not linger) and return it."""
    folder = Path(artifacts_dir) / FACTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    save_offers_file(folder / OFFERS_FILE, offers, currency)
    loyalty = {"schema_version": SCHEMA_VERSION, **loyalty_to_dict(points_name, tiers)}  # "tiers": [] without tiers
    (folder / LOYALTY_FILE).write_text(json.dumps(loyalty, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return folder


def load_store_facts(artifacts_dir: str | Path) -> StoreFacts:
    """The facts under <artifacts_dir>/store/; empty ones when the folder or a file is missing.

    Raises ArtifactMismatchError for a loyalty.json of another schema version; offers.json raises
    nudge.errors.OfferError (named, with the offer and field) when it does not check.
    """
    folder = Path(artifacts_dir) / FACTS_DIR
    offers = load_offers_file(folder / OFFERS_FILE)
    path = folder / LOYALTY_FILE
    if not path.is_file():
        return StoreFacts(offers=offers)
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or raw.get("schema_version") != SCHEMA_VERSION:
        raise ArtifactMismatchError(f"{path}: expected schema_version {SCHEMA_VERSION}, got {raw.get('schema_version')!r}"
                                    if isinstance(raw, dict) else f"{path}: expected a JSON object")
    if not raw.get("tiers"):
        return StoreFacts(offers=offers, points_name=raw.get("points_name") or DEFAULT_POINTS_NAME)
    points_name, tiers = parse_loyalty({k: v for k, v in raw.items() if k != "schema_version"}, where=str(path))
    return StoreFacts(offers=offers, points_name=points_name, tiers=tiers)


__all__ = ["FACTS_DIR", "StoreFacts", "load_store_facts", "save_store_facts"]
