"""Runtime recommendation: catalog arrays, request-time fold-in, campaign rules. Numpy only.

>>> from nudge.recommend import Catalog, Recommender, PopularityRecommender
>>> rec = Recommender.load("build/recommender")  # doctest: +SKIP
>>> catalog = Catalog.load("build/recommender/catalog")  # doctest: +SKIP
>>> rec.rank(profile, rules, k=4, catalog=catalog, as_of=date(2026, 5, 1))  # doctest: +SKIP
"""

from nudge.recommend.catalog import Catalog, is_giftable
from nudge.recommend.ranker import (
    ARTIFACT_KIND,
    EVENT_WEIGHTS,
    SCHEMA_VERSION,
    PopularityRecommender,
    Recommender,
)
from nudge.types import RankedItem

__all__ = [
    "ARTIFACT_KIND",
    "EVENT_WEIGHTS",
    "SCHEMA_VERSION",
    "Catalog",
    "PopularityRecommender",
    "RankedItem",
    "Recommender",
    "is_giftable",
]
