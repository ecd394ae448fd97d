"""Review sentiment in [-1, 1]: VADER's lexicon and rules, an online-shopping lexicon, and the stars.

Why a lexicon and not a model: on the hand-written held-out reviews (scripts/eval_sentiment.py,
build/reports/sentiment.md) VADER plus the domain lexicon beats both stock VADER and a small model
trained on the same amount of labelled text, ships in a few hundred kilobytes with no model file,
and every score can be explained word by word.

The text score is VADER's `compound` after the domain words and phrases of `domain_lexicon.json`
are added. German and French reviews (detected from their stopwords) are read with the words,
idioms and negations of `languages.json` instead, mapped onto VADER's rules. The star rating maps
linearly, 1 -> -1, 3 -> 0, 5 -> +1. When both are present the stars weigh more (`RATING_WEIGHT`):
a one-star "Great, broke after a day. Just great." is sarcasm that no lexicon reads, while the
stars say what the customer meant.

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


LANGUAGES = ("en", "de", "fr")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'"})  # typographic apostrophes, common in French
# French wraps the verb in its negation ("je ne recommande pas"); VADER looks for a negator *before*
# the sentiment word, so "ne X pas" becomes "not X" ("n'est pas bon" -> "not est bon").
_FRENCH_NEGATION = re.compile(r"(?<![\w'])(?:ne\s+|n')(\S+)\s+(?:pas|plus|point|jamais)(?![\w'])", re.IGNORECASE)


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    words = r"\s+".join(re.escape(word) for word in phrase.split())
    return re.compile(rf"(?<![\w']){words}(?![\w'])", re.IGNORECASE)


def _read_json(name: str) -> dict:
    raw = json.loads(resources.files(__package__).joinpath(name).read_text(encoding="utf-8"))
    if raw.get("schema_version") != 1:
        raise ConfigError(f"{name} schema_version must be 1, got {raw.get('schema_version')!r}")
    return raw


@cache
def _languages() -> dict:
    raw = _read_json("languages.json")
    if set(raw["stopwords"]) != set(LANGUAGES) or not {"de", "fr"} <= set(raw):
        raise ConfigError(f"languages.json must define stopwords for {LANGUAGES} and sections de, fr")
    return raw


def detect_language(text: str) -> str:
    """'de' or 'fr' when the text uses more of that language's stopwords than English ones, else 'en'.

    >>> detect_language("Das Produkt ist leider nicht gut"), detect_language("Not bad at all")
    ('de', 'en')
    """
    tokens = re.findall(r"[\w']+", text.lower().translate(_APOSTROPHES))
    counts = {lang: sum(token in words for token in tokens) for lang, words in _vocabularies().items()}
    best = max(("de", "fr"), key=lambda lang: counts[lang])
    return best if counts[best] > counts["en"] else "en"


@cache
def _vocabularies() -> dict[str, frozenset[str]]:
    """Words that mark a language: its stopwords, plus for de/fr their own function and sentiment
    words that are not also English ("super", "horrible" say nothing about the language)."""
    raw = _languages()
    english = _analyzer("en")[0].lexicon  # VADER's words plus the domain ones
    out = {}
    for lang, stopwords in raw["stopwords"].items():
        own = {w for w in (*raw[lang]["function_words"], *raw[lang]["words"]) if w not in english} if lang != "en" else set()
        out[lang] = frozenset(stopwords) | frozenset(own)
    return out


@cache
def _analyzer(language: str = "en") -> tuple[SentimentIntensityAnalyzer, tuple[tuple[re.Pattern[str], str], ...]]:
    """VADER with the domain lexicon (and a language's words) added, plus the text rewrites in order.

    Built once per container and language: about 0.1 s, most of it reading VADER's lexicon.
    """
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    if language == "en":
        domain = _read_json("domain_lexicon.json")
        analyzer.lexicon.update({word.lower(): float(valence) for word, valence in domain["words"].items()})
        phrases, function_words = dict(domain["phrases"]), {}
    else:
        # The English lexicon stays (borrowed words like "super", and VADER reads emoji through their
        # English names) minus the false friends: German "die", "war", "Bad", "Gift"; French "pain".
        extra = _languages()[language]
        drop = set(_languages()["stopwords"][language]) | set(extra["function_words"]) | set(extra["false_friends"])
        analyzer.lexicon = {k: v for k, v in analyzer.lexicon.items() if k not in drop}
        analyzer.lexicon.update({word.lower(): float(valence) for word, valence in extra["words"].items()})
        phrases, function_words = dict(extra["phrases"]), extra["function_words"]
    rewrites = []
    # Longest phrases first, so "not as described" wins over "as described".
    for index, (phrase, valence) in enumerate(sorted(phrases.items(), key=lambda kv: -len(kv[0]))):
        token = _PHRASE_TOKEN.format(index)
        analyzer.lexicon[token] = float(valence)
        rewrites.append((_phrase_pattern(phrase), token))
    if language == "fr":
        rewrites.append((_FRENCH_NEGATION, r"not \1"))
    for word, english in function_words.items():
        rewrites.append((_phrase_pattern(word), english))
    return analyzer, tuple(rewrites)


@cache
def _plain_analyzer() -> SentimentIntensityAnalyzer:
    """VADER with its stock lexicon only (the baseline in the evaluation)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def text_score(text: str, *, domain: bool = True) -> float:
    """The sentiment of review text alone, in [-1, 1]; 0.0 for empty text.

    English, German and French are read (`detect_language`); anything else scores as English,
    which usually means close to 0. `domain=False` scores with VADER's stock lexicon only (kept for
    the side-by-side evaluation).
    """
    if not text or not text.strip():
        return 0.0
    if not domain:
        return float(_plain_analyzer().polarity_scores(text)["compound"])
    text = text.translate(_APOSTROPHES)
    language = detect_language(text)
    analyzer, rewrites = _analyzer(language)
    for pattern, replacement in rewrites:
        text = pattern.sub(replacement, text)
    if language != "en":
        own = _languages()[language]
        text = _strip_endings(text, analyzer.lexicon, own=own["words"], endings=tuple(own["endings"]))
    return float(analyzer.polarity_scores(text)["compound"])


def _strip_endings(text: str, lexicon: dict[str, float], *, own: dict[str, float], endings: tuple[str, ...]) -> str:
    """Inflected German and French adjectives to the lexicon's form: "tolles" -> "toll", "déçues" -> "déçu".

    Only stems in the language's own word list count, or "Kissen" (cushions) would become "kiss".
    """

    def base(match: re.Match[str]) -> str:
        word = match.group(0)
        if word.lower() in lexicon:
            return word
        for ending in endings:
            stem = word[: -len(ending)]
            if word.lower().endswith(ending) and len(stem) >= 3 and stem.lower() in own:
                return stem
        return word

    return re.sub(r"[^\W\d_]+", base, text)


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
