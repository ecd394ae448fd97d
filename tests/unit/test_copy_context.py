"""Prompt context: GIVEN the shipped model and a store whose categories it never saw WHEN copy is
written THEN unseen words stay out of the prompt and the model (not the fallback) writes; and the
embedded stores' own category words are all words the model was trained on."""

from pathlib import Path

import pytest

from nudge.copy import CopyBrief, Copywriter

MODEL = Path(__file__).resolve().parents[2] / "layers" / "model" / "copywriter"
pytestmark = pytest.mark.skipif(not (MODEL / "model.onnx").is_file(), reason="no shipped copywriter model")


def brief(i: int, categories: tuple[str, ...]) -> CopyBrief:
    return CopyBrief(
        campaign_type="new_arrivals", tone="excited", first_name="Zara", product_names=("Provence Stem Vase Trio",),
        categories=categories, store_name="Hearth & Thread", seed_key=f"ctx|{i}", history_categories=categories,
    )


def test_unseen_category_words_are_left_out_of_the_prompt():
    writer = Copywriter.load(MODEL)
    prompt = writer.prompt_for(brief(0, ("surfboards", "ceramics")))
    assert "surfboards" not in prompt and "ceramics" in prompt


def test_store_categories_the_model_never_saw_still_get_model_copy():
    writer = Copywriter.load(MODEL)
    copies = writer.write_batch([brief(i, ("surfboards", "kites", "harpoons")) for i in range(10)])
    assert sum(c.source == "model" for c in copies) >= 8


def test_the_embedded_stores_category_words_are_in_the_models_vocabulary():
    from nudge.copy.prompt import context_words
    from nudge.store.online_retail import NOUN_CATEGORIES
    from nudge.store.vocabulary import CATEGORIES

    known = set(Copywriter.load(MODEL).model.meta["context_words"])
    store_words = {w for c in [*CATEGORIES, *NOUN_CATEGORIES.values()] for w in context_words((c,), limit=9).split(", ")}
    assert store_words <= known, sorted(store_words - known)
