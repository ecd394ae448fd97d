"""Review sentiment and the tone it calls for: an unhappy reviewer gets care, not a hard sell.

>>> tone, why = choose_tone("urgent", recent_review_text="Fell apart in a week", recent_review_rating=None)
>>> tone, hard_sell_allowed(recent_review_text="Fell apart in a week", recent_review_rating=None)
('caring', False)
"""

from nudge.sentiment.scorer import LABELS, LANGUAGES, detect_language, label_for, rating_score, score_review, text_score
from nudge.sentiment.tone import (
    CARING_TONE,
    HARD_SELL_TONES,
    ReviewMood,
    assess_review,
    choose_tone,
    hard_sell_allowed,
)

__all__ = [
    "CARING_TONE",
    "HARD_SELL_TONES",
    "LABELS",
    "LANGUAGES",
    "ReviewMood",
    "assess_review",
    "choose_tone",
    "detect_language",
    "hard_sell_allowed",
    "label_for",
    "rating_score",
    "score_review",
    "text_score",
]
