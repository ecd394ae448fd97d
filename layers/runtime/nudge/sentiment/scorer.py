"""Review sentiment in [-1, 1]: VADER's lexicon and rules, an online-shopping lexicon, and the stars.

Why a lexicon and not a model: on the hand-written held-out reviews (scripts/eval_sentiment.py,
build/reports/sentiment.md) VADER plus the domain lexicon is the most accurate scorer we can ship
in a few hundred kilobytes with no model file, and every score can be explained word by word.

The text score is VADER's `compound` after the domain words and phrases of `domain_lexicon.json`
are added. The star rating maps linearly, 1 -> -1, 3 -> 0, 5 -> +1. When both are present the
stars weigh more (`RATING_WEIGHT`): a one-star "Great, broke after a day. Just great." is sarcasm
that no lexicon reads, while the stars say what the customer meant.

>>> score_review("Not bad at all, does the job", rating=None) > 0
True
>>> score_review("Arrived broken and nobody answers my emails", rating=1) < -0.5
True
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from nudge.errors import ConfigError, ValidationError

if TYPE_CHECKING:  # the analyzer is built lazily, once per container
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

# Share of the stars in the blended score; the text gets the rest. At 0.8 the stars decide the
# label (a 3-star review stays within +-0.2, a 4-star one above 0.2) and the text orders reviews
# within their band: on the held-out set every extra weight on the text cost accuracy (the weight
# sweep in build/reports/sentiment.md). The unhappy check in tone.py still reads the text alone.
RATING_WEIGHT = 0.8
LABEL_THRESHOLD = 0.2  # |score| below this is "neutral" (VADER's own default is 0.05; see the eval)
LABELS = ("negative", "neutral", "positive")
_PHRASE_TOKEN = "nudgephrase{}"  # one lowercase word, so VADER's tokenizer keeps it whole


@cache
def _analyzer() -> tuple[SentimentIntensityAnalyzer, tuple[tuple[re.Pattern[str], str], ...]]:
    """VADER with the domain lexicon added, plus the phrase rewrites (built once per container)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    raw = json.loads(resources.files(__package__).joinpath("domain_lexicon.json").read_text(encoding="utf-8"))
    if raw.get("schema_version") != 1:
        raise ConfigError(f"domain_lexicon.json schema_version must be 1, got {raw.get('schema_version')!r}")
    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update({word.lower(): float(valence) for word, valence in raw["words"].items()})
    rewrites = []
    # Longest phrases first, so "not as described" wins over "as described".
    for index, (phrase, valence) in enumerate(sorted(raw["phrases"].items(), key=lambda kv: -len(kv[0]))):
        token = _PHRASE_TOKEN.format(index)
        analyzer.lexicon[token] = float(valence)
        words = r"\s+".join(re.escape(word) for word in phrase.split())
        rewrites.append((re.compile(rf"(?<![\w']){words}(?![\w'])", re.IGNORECASE), token))
    return analyzer, tuple(rewrites)


@cache
def _plain_analyzer() -> SentimentIntensityAnalyzer:
    """VADER with its stock lexicon only (the baseline in the evaluation)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def text_score(text: str, *, domain: bool = True) -> float:
    """The sentiment of review text alone, in [-1, 1]; 0.0 for empty text.

    `domain=False` scores with VADER's stock lexicon (kept for the side-by-side evaluation).
    """
    if not text or not text.strip():
        return 0.0
    if not domain:
        return float(_plain_analyzer().polarity_scores(text)["compound"])
    analyzer, rewrites = _analyzer()
    for pattern, token in rewrites:
        text = pattern.sub(token, text)
    return float(analyzer.polarity_scores(text)["compound"])


def rating_score(rating: int | None) -> float | None:
    """Stars 1..5 as a score in [-1, 1] (3 -> 0.0); None when there is no rating."""
    if rating is None:
        return None
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationError(f"rating must be an int from 1 to 5 or None, got {rating!r}")
    return (rating - 3) / 2


def score_review(text: str, rating: int | None) -> float:
    """How happy a review sounds, in [-1, 1]: the text score blended with the stars when given.

    >>> score_review("", rating=5)
    1.0
    """
    stars = rating_score(rating)
    has_text = bool(text and text.strip())
    if stars is None:
        return text_score(text)
    if not has_text:
        return stars
    return RATING_WEIGHT * stars + (1 - RATING_WEIGHT) * text_score(text)


def label_for(score: float, *, threshold: float = LABEL_THRESHOLD) -> str:
    """'negative', 'neutral' or 'positive' for a score (|score| < threshold is neutral)."""
    if score <= -threshold:
        return "negative"
    if score >= threshold:
        return "positive"
    return "neutral"
