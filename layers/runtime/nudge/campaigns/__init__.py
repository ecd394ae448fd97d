"""Campaign definitions as data. Adding a campaign means adding an entry to `definitions.json`
(and its reviewed fallback copy in `nudge/copy/seed_copy.json`), nothing else.

>>> get_campaign("clearance").pool.only_clearance
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from nudge.errors import ConfigError

TONES = ("excited", "helpful", "warm", "grateful", "urgent", "caring")


@dataclass(frozen=True, slots=True)
class PoolRules:
    """Which products a campaign may show, and how the ranked list is shaped."""

    only_new_days: int | None = None  # only items that arrived within N days of the send date
    only_clearance: bool = False
    cart_first: bool = False  # the trigger's cart items first, then complements
    giftable: bool = False
    exclude_purchased: bool = True
    # up to this many of the customer's purchases that are due to be bought again (a repeatable
    # category, its learned interval passed: nudge.recommend.repurchase) come first, "Time to reorder",
    # even where exclude_purchased holds; 0: none
    due_repurchases: int = 0
    in_stock: bool = True
    require_image: bool = True
    min_price: float | None = None
    max_price: float | None = None
    max_per_category: int = 2  # at most this many of one category ...
    diversity_window: int = 4  # ... within the first N items


@dataclass(frozen=True, slots=True)
class CopyBriefSpec:
    tone: str
    subject_style: str
    intro_max_words: int


@dataclass(frozen=True, slots=True)
class CampaignDefinition:
    campaign_type: str
    title: str
    audience: dict[str, Any]
    pool: PoolRules
    copy: CopyBriefSpec
    send_window: dict[str, Any]
    frequency_class: str
    items: int = 4
    extra: dict[str, Any] = field(default_factory=dict)


def _parse(campaign_type: str, raw: dict[str, Any]) -> CampaignDefinition:
    try:
        copy = CopyBriefSpec(**raw["copy"])
        if copy.tone not in TONES:
            raise ConfigError(f"campaign {campaign_type!r}: tone {copy.tone!r} is not one of {TONES}")
        return CampaignDefinition(
            campaign_type=campaign_type,
            title=raw["title"],
            audience=dict(raw["audience"]),
            pool=PoolRules(**raw.get("pool", {})),
            copy=copy,
            send_window=dict(raw.get("send_window", {})),
            frequency_class=raw.get("frequency_class", "marketing"),
            items=int(raw.get("items", 4)),
        )
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"campaign {campaign_type!r} definition is malformed: {exc}") from exc


@cache
def load_campaigns() -> dict[str, CampaignDefinition]:
    """All campaign definitions shipped with this package, keyed by campaign type."""
    text = resources.files(__package__).joinpath("definitions.json").read_text(encoding="utf-8")
    raw = json.loads(text)
    return {name: _parse(name, spec) for name, spec in raw["campaigns"].items()}


def get_campaign(campaign_type: str) -> CampaignDefinition:
    campaigns = load_campaigns()
    if campaign_type not in campaigns:
        raise ConfigError(f"unknown campaign type {campaign_type!r}; expected one of {sorted(campaigns)}")
    return campaigns[campaign_type]
