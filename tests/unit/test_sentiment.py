"""Review sentiment and the tone it calls for: known answers, the held-out fixture, the eval script."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nudge.campaigns import TONES
from nudge.errors import ConfigError, ValidationError
from nudge.sentiment import (
    CARING_TONE,
    assess_review,
    choose_tone,
    hard_sell_allowed,
    label_for,
    score_review,
    text_score,
)
from scripts.eval_sentiment import (
    EvalConfig,
    Review,
    classification_metrics,
    cross_validated_bag_of_words,
    main,
    read_heldout,
)

HELDOUT = Path(__file__).resolve().parents[1] / "fixtures" / "reviews_heldout.csv"


# --- scoring -----------------------------------------------------------------------------------


def test_not_bad_at_all_reads_positive():
    # GIVEN a double negative that means "good" WHEN scored as text alone THEN it is positive
    assert text_score("not bad at all") > 0
    assert label_for(score_review("Not bad at all, actually quite good", rating=None)) == "positive"


@pytest.mark.parametrize(
    "text",
    ["Stopped working after a week.", "Fell apart the first time I used it.", "Cheaply made and flimsy, sending it back."],
)
def test_domain_phrases_read_negative(text):
    # GIVEN shopping complaints the stock lexicon scores as neutral WHEN scored THEN they are negative
    assert text_score(text) < 0
    assert text_score(text, domain=False) > text_score(text)


@pytest.mark.parametrize(
    ("text", "language", "sign"),
    [
        ("Das Produkt ist leider nicht gut.", "de", -1),
        ("Die Qualität ist super, war ein tolles Geschenk.", "de", 1),  # "die", "war" are not English here
        ("Funktioniert nicht mehr, Finger weg.", "de", -1),
        ("Ce n'est pas mauvais du tout, je recommande.", "fr", 1),  # ne ... pas around the verb
        ("Je ne recommande pas ce vendeur.", "fr", -1),
        ("Très déçues, les verres sont arrivés cassés.", "fr", -1),  # inflected adjectives
        ("Not bad at all, the gift was a hit.", "en", 1),
    ],
)
def test_german_and_french_reviews_are_read_in_their_language(text, language, sign):
    # GIVEN a review in German, French or English WHEN scored THEN its language is detected and read
    from nudge.sentiment.scorer import detect_language

    assert detect_language(text) == language
    assert text_score(text) * sign > 0.2


def test_stars_decide_when_the_words_are_sarcastic():
    # GIVEN sarcasm that reads positive, with one star
    text = "Great, another charger that stops charging after a week. Just what I needed."
    # WHEN scored THEN the text alone is fooled, the blend with the stars is not
    assert text_score(text) > 0
    assert label_for(score_review(text, rating=1)) == "negative"


def test_stars_alone_and_empty_review():
    # GIVEN no text WHEN scored THEN the stars map linearly, and nothing at all is neutral
    assert [score_review("", rating=r) for r in (1, 3, 5)] == [-1.0, 0.0, 1.0]
    assert score_review("   ", rating=None) == 0.0


@pytest.mark.parametrize("rating", [0, 6, 2.5, "4", True])
def test_bad_rating_is_refused(rating):
    # GIVEN a rating outside 1..5 or not an int WHEN scored THEN ValidationError names it
    with pytest.raises(ValidationError, match="rating"):
        score_review("fine", rating=rating)


@given(text=st.text(max_size=200), rating=st.one_of(st.none(), st.integers(min_value=1, max_value=5)))
def test_score_is_always_in_range(text, rating):
    # GIVEN any text and rating WHEN scored THEN the score is in [-1, 1]
    assert -1.0 <= score_review(text, rating) <= 1.0


# --- tone --------------------------------------------------------------------------------------


def test_unhappy_review_gets_caring_and_no_hard_sell():
    # GIVEN a clearance campaign (urgent) and a customer whose last review was one star
    review = {"recent_review_text": "Arrived broken and nobody answers my emails.", "recent_review_rating": 1}
    # WHEN the tone is chosen
    tone, why = choose_tone("urgent", **review)
    # THEN it is caring, the reason says why, and the pipeline may not hard-sell
    assert tone == CARING_TONE
    assert "1/5" in why and "urgent" in why
    assert hard_sell_allowed(**review) is False


def test_negative_text_without_stars_gets_caring():
    # GIVEN a negative review with no rating WHEN the tone is chosen THEN caring
    tone, why = choose_tone("excited", recent_review_text="Complete waste of money, it fell apart.", recent_review_rating=None)
    assert tone == CARING_TONE and "negative" in why


def test_three_stars_with_negative_text_gets_caring():
    # GIVEN three stars and a complaint WHEN the tone is chosen THEN the words tip it to caring
    assert choose_tone("urgent", recent_review_text="It works, but stopped working twice.", recent_review_rating=3)[0] == "caring"


def test_happy_or_missing_review_keeps_the_campaign_tone():
    # GIVEN a happy review, or none WHEN the tone is chosen THEN the campaign's own tone, hard sell allowed
    assert choose_tone("urgent", recent_review_text="Love it, fits perfectly", recent_review_rating=5)[0] == "urgent"
    assert choose_tone("excited", recent_review_text="", recent_review_rating=None) == ("excited", "campaign tone excited; no recent review")
    assert hard_sell_allowed(recent_review_text="not bad at all", recent_review_rating=4) is True


def test_good_stars_survive_praise_the_lexicon_misreads():
    # GIVEN five stars and praise phrased with negative words WHEN the tone is chosen THEN not caring
    mood = assess_review("No complaints, nothing broke, no problems at all.", rating=5)
    assert not mood.unhappy


def test_strongly_negative_text_overrides_good_stars():
    # GIVEN five stars (a misclick) on a furious review WHEN assessed THEN unhappy all the same
    mood = assess_review("Horrible, disgusting, broken, useless junk. Worst purchase ever, I hate it.", rating=5)
    assert mood.unhappy and "despite 5/5" in mood.reason


@pytest.mark.parametrize("tone", TONES)
def test_every_campaign_tone_becomes_caring_after_a_bad_review(tone):
    # GIVEN any campaign tone WHEN the last review is two stars THEN caring, and the reason says so
    chosen, why = choose_tone(tone, recent_review_text="", recent_review_rating=2)
    assert chosen == "caring" and why.startswith("caring")
    assert ("instead of" in why) == (tone != "caring")


def test_unknown_campaign_tone_is_a_config_error():
    # GIVEN a tone the campaigns do not define WHEN chosen THEN ConfigError lists the valid ones
    with pytest.raises(ConfigError, match="excited"):
        choose_tone("shouty", recent_review_text="", recent_review_rating=None)


# --- the held-out fixture and the evaluation ---------------------------------------------------


def test_heldout_fixture_is_large_balanced_and_varied():
    # GIVEN the hand-written held-out set WHEN read
    # THEN >= 300 unique English reviews, balanced, many styles, plus German and French ones
    everything = read_heldout(HELDOUT)
    reviews = [r for r in everything if r.lang == "en"]
    assert {lang: n >= 45 for lang, n in Counter(r.lang for r in everything).items()} == {"en": True, "de": True, "fr": True}
    labels = Counter(r.label for r in reviews)
    assert len(reviews) >= 300
    assert set(labels) == {"negative", "neutral", "positive"} and min(labels.values()) >= 100
    assert len({r.text for r in reviews}) == len(reviews)
    styles = Counter(r.style for r in reviews)
    assert {"sarcasm", "negation", "mixed", "short", "long", "typos", "non_native", "formal", "slang"} <= set(styles)
    with HELDOUT.open(encoding="utf-8", newline="") as handle:
        assert csv.DictReader(handle).fieldnames[:4] == ["id", "text", "rating", "label"]


def test_accuracy_floor_on_heldout():
    # GIVEN the held-out set WHEN the shipped scorer labels it THEN it stays above measured floors
    # (build/reports/sentiment.md has the numbers; a drop below these means a regression)
    reviews = [r for r in read_heldout(HELDOUT) if r.lang == "en"]
    gold = [r.label for r in reviews]
    text_only = classification_metrics(gold, [label_for(score_review(r.text, None)) for r in reviews])
    with_stars = classification_metrics(gold, [label_for(score_review(r.text, r.rating)) for r in reviews])
    assert text_only["accuracy"] >= 0.62 and text_only["macro_f1"] >= 0.6
    assert with_stars["accuracy"] >= 0.93
    unhappy = [assess_review(r.text, r.rating).unhappy for r in reviews if r.label == "negative"]
    assert sum(unhappy) / len(unhappy) >= 0.95


@pytest.mark.parametrize("lang", ["de", "fr"])
def test_german_and_french_text_beats_the_english_only_lexicon(lang):
    # GIVEN the German or French held-out reviews WHEN labelled from text alone
    reviews = [r for r in read_heldout(HELDOUT) if r.lang == lang]
    gold = [r.label for r in reviews]
    ours = classification_metrics(gold, [label_for(text_score(r.text)) for r in reviews])
    stock = classification_metrics(gold, [label_for(text_score(r.text, domain=False)) for r in reviews])
    # THEN the language lexicons read them far better than VADER alone (measured 0.78 de, 0.71 fr)
    assert ours["accuracy"] >= 0.65 and ours["accuracy"] >= stock["accuracy"] + 0.25


def test_metrics_known_answer():
    # GIVEN 4 predictions, 3 right WHEN scored THEN accuracy 0.75 and the confusion matrix counts them
    m = classification_metrics(["negative", "neutral", "positive", "positive"], ["negative", "neutral", "positive", "neutral"])
    assert m["accuracy"] == 0.75
    assert m["confusion"]["positive"] == {"negative": 0, "neutral": 1, "positive": 1}
    assert m["f1"]["negative"] == 1.0


def test_eval_script_writes_json_and_markdown(tmp_path):
    # GIVEN the eval script's config pointed at a temp folder WHEN main runs THEN both reports exist
    config = EvalConfig(heldout_csv=str(HELDOUT), out_dir=str(tmp_path), generated_store=False, trained_baseline=False)
    report = main(config)
    saved = json.loads((tmp_path / "sentiment.json").read_text(encoding="utf-8"))
    assert saved["heldout_n"] == report["heldout_n"] >= 300
    assert set(saved["heldout"]) >= {"text_only", "text_and_rating", "tone"}
    assert "text only" in (tmp_path / "sentiment.md").read_text(encoding="utf-8")


def test_eval_scores_generated_store_reviews_when_the_generator_exists(tmp_path):
    # GIVEN the store generator (another module; skipped when absent) and a tiny store size
    pytest.importorskip("nudge.store.generate")
    config = EvalConfig(heldout_csv=str(HELDOUT), out_dir=str(tmp_path), trained_baseline=False,
                        generated_products=60, generated_customers=80, generated_events=3000)
    # WHEN the evaluation runs THEN generated reviews are scored, and with stars they are all right
    report = main(config)
    generated = report["generated"]
    assert generated["n"] > 0, generated["source"]
    chosen = next(iter(generated["text_and_rating"].values()))
    assert chosen["accuracy"] == 1.0  # the generator's mood is the stars' bucket


def test_trained_baseline_learns_an_obvious_vocabulary():
    # GIVEN reviews whose label is carried by one word each
    words = {"negative": "awful", "neutral": "okay", "positive": "superb"}
    reviews = [Review(f"{words[label]} item number {i}", None, label) for i in range(10) for label in words]
    # WHEN cross-validated THEN every held-out fold is labelled right
    predicted = cross_validated_bag_of_words(reviews, folds=5, ridge=1.0, seed=0)
    assert predicted == [r.label for r in reviews]


def test_malformed_heldout_row_names_the_row(tmp_path):
    # GIVEN a CSV with a rating of 7 WHEN read THEN ValidationError names the file and row
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text,rating,label,style\nr1,fine,7,neutral,plain\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="bad.csv:2"):
        read_heldout(bad)
