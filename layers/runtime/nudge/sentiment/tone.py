"""The email's tone from the campaign and the customer's most recent review.

Policy: a customer whose recent review is unhappy gets the "caring" tone and no hard sell (no
urgency, no sale wording), whatever the campaign. Unhappy means a low rating (1 or 2 stars), or
negative text when the stars do not say otherwise (no rating, or 3 stars). A 4- or 5-star review
is trusted over its words unless the words are strongly negative: the lexicon misreads praise like
"no complaints, nothing broke" more often than customers misclick the stars.

Wrongly caring costs a softer email; wrongly hard-selling an angry customer costs the customer, so
the thresholds lean towards care.

>>> choose_tone("urgent", recent_review_text="Broke in a week.", recent_review_rating=1)[0]
'caring'
>>> choose_tone("excited", recent_review_text="", recent_review_rating=None)[0]
'excited'
"""

from __future__ import annotations

from dataclasses import dataclass

from nudge.campaigns import TONES
from nudge.errors import ConfigError
from nudge.sentiment.scorer import rating_score, score_review, text_score

CARING_TONE = "caring"
HARD_SELL_TONES = ("urgent",)  # tones that push scarcity or sale wording
UNHAPPY_MAX_RATING = 2  # 1 or 2 stars is an unhappy review, whatever the words say
UNHAPPY_TEXT_SCORE = -0.05  # VADER's own "negative" cut-off; no rating, or 3 stars
STRONGLY_NEGATIVE_TEXT_SCORE = -0.6  # text at or below this is unhappy even with 4-5 stars


@dataclass(frozen=True, slots=True)
class ReviewMood:
    """What one recent review says about the customer's mood, and why."""

    score: float  # score_review(text, rating), in [-1, 1]
    text_score: float  # the text alone, in [-1, 1]; 0.0 when there is no text
    rating: int | None
    unhappy: bool
    reason: str  # human-readable, safe to log (no review text)

    @property
    def hard_sell_allowed(self) -> bool:
        return not self.unhappy


def assess_review(text: str, rating: int | None) -> ReviewMood:
    """Score one review and decide whether it is unhappy (see the module docstring for the policy).

    >>> assess_review("not bad at all", rating=None).unhappy
    False
    """
    text = text or ""
    stars = rating_score(rating)  # validates the rating
    words = text_score(text)
    score = score_review(text, rating)
    if stars is None and not text.strip():
        return ReviewMood(score, words, rating, False, "no recent review")
    if rating is not None and rating <= UNHAPPY_MAX_RATING:
        return ReviewMood(score, words, rating, True, f"recent review rated {rating}/5")
    if (rating is None or rating == 3) and words <= UNHAPPY_TEXT_SCORE:
        return ReviewMood(score, words, rating, True, f"recent review text reads negative ({words:+.2f})")
    if words <= STRONGLY_NEGATIVE_TEXT_SCORE:
        return ReviewMood(score, words, rating, True, f"recent review text reads strongly negative ({words:+.2f}) despite {rating}/5")
    rated = f"rated {rating}/5, " if rating is not None else ""
    return ReviewMood(score, words, rating, False, f"recent review {rated}text {words:+.2f}: not unhappy")


def hard_sell_allowed(*, recent_review_text: str, recent_review_rating: int | None) -> bool:
    """False when the recent review is unhappy: skip urgency, countdowns and sale wording."""
    return assess_review(recent_review_text, recent_review_rating).hard_sell_allowed


def choose_tone(campaign_tone: str, *, recent_review_text: str, recent_review_rating: int | None) -> tuple[str, str]:
    """The tone to write in and why: the campaign's tone, or "caring" after an unhappy review.

    >>> choose_tone("warm", recent_review_text="Lovely, fits perfectly", recent_review_rating=5)
    ('warm', 'campaign tone warm; recent review rated 5/5, text +0.84: not unhappy')
    """
    if campaign_tone not in TONES:
        raise ConfigError(f"campaign_tone must be one of {TONES}, got {campaign_tone!r}")
    mood = assess_review(recent_review_text, recent_review_rating)
    if mood.unhappy:
        instead = "" if campaign_tone == CARING_TONE else f" instead of {campaign_tone}"
        return CARING_TONE, f"caring{instead}, no hard sell: {mood.reason}"
    return campaign_tone, f"campaign tone {campaign_tone}; {mood.reason}"
