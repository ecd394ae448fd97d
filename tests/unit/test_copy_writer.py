"""Copywriter: GIVEN briefs WHEN written THEN model copy when clean, reviewed copy otherwise,
with the reasons recorded, the same input always giving the same email."""

import json

import pytest

from nudge.copy.generator import PROMPT_FORMAT, Sample, read_meta
from nudge.copy.writer import Copywriter, CopyBrief, GenerationSettings, SeedCopy, stable_seed, tone_for
from nudge.errors import ArtifactMismatchError


def brief(**overrides):
    base = dict(
        campaign_type="loyalty", tone="grateful", first_name="Ada", product_names=("Blue Mug",),
        categories=("Mugs",), store_name="Kiln", seed_key="spring-loyalty:c-1", tier="gold",
    )
    base.update(overrides)
    return CopyBrief(**base)


class ScriptedModel:
    """Stands in for OnnxLanguageModel: returns fixed completions, records what it was asked."""

    model_version = "test-v1"
    meta = {"generation": {"candidates": 2}}

    def __init__(self, completions):
        self.completions = completions  # per candidate index: (text, mean_logprob)
        self.calls = []

    def generate(self, prompts, *, seeds, **kwargs):
        self.calls.append((prompts, seeds, kwargs))
        return [[Sample(text, (), logprob, True) for text, logprob in self.completions[: len(s)]] for s in seeds]


# Completions in the phrasebook's own sentences (the grammar gate accepts nothing else)
CLEAN = (" Thank you for being a {tier} member, {first_name}\nPreheader: Start with {product}, picked with you in mind.\n"
         "Intro: Hi {first_name}, customers like you are why we love what we do. "
         "As a small thank you, we picked {product} and a few {category} pieces for you.\n")
CLEAN_2 = (" {first_name}, a thank you from {store_name}\nPreheader: Thank you for being with us, {first_name}.\n"
           "Intro: {first_name}, we simply wanted to say thank you. Every pick was chosen with your taste in mind.\n")
DIRTY = " Save 20% now, {first_name}\nPreheader: Visit www.kiln.com today.\nIntro: Hurry {first_name}, click here for free gifts.\n"
# Guardrail-clean, but spliced: the sentences the previous model wrote (issue #11)
SPLICED = (" {first_name}, a thank you from {store_name}\nPreheader: Thank you for being with us, {first_name}.\n"
           "Intro: We simply wanted to thanks for being with us. We kept your picks are safe for you.\n")


def writer_with(completions, candidates=2):
    # unconstrained: these completions are scripted, so the gate and guardrails after sampling are what is tested
    return Copywriter(seed_copy=SeedCopy.load(), model=ScriptedModel(completions), settings=GenerationSettings(candidates=candidates),
                      constrained=False)


def test_without_a_model_every_email_gets_reviewed_copy():
    copies = Copywriter.load(None).write_batch([brief(), brief(seed_key="other")])
    assert [c.source for c in copies] == ["fallback", "fallback"]
    assert all(c.rejected_reasons == () and c.model_version == "reviewed" for c in copies)
    assert copies[0].intro.count("Ada") >= 1 or "Ada" in copies[0].subject + copies[0].preheader


def test_a_missing_model_folder_means_reviewed_copy(tmp_path):
    writer = Copywriter.load(tmp_path / "nowhere")
    assert writer.model is None and writer.write_batch([brief()])[0].source == "fallback"


def test_same_brief_gives_the_same_reviewed_copy():
    assert Copywriter.load(None).write_batch([brief()]) == Copywriter.load(None).write_batch([brief()])


def test_clean_model_copy_is_used_and_filled():
    copy = writer_with([(CLEAN, -1.0), (DIRTY, -0.1)]).write_batch([brief()])[0]
    assert copy.source == "model" and copy.model_version == "test-v1"
    assert copy.subject == "Thank you for being a Gold member, Ada" and "Blue Mug" in copy.intro


def test_the_clean_candidate_holding_more_of_the_customer_wins_whatever_its_log_probability():
    # CLEAN mentions the tier and its subject the name (2); CLEAN_2 only the name in its subject (1)
    copy = writer_with([(CLEAN_2, -0.1), (CLEAN, -3.0)]).write_batch([brief()])[0]
    assert copy.subject == "Thank you for being a Gold member, Ada"


def test_between_equally_personal_candidates_the_first_sampled_wins():
    # log-probability is not the tie-breaker: choosing the likeliest collapsed the demo's variety
    assert writer_with([(CLEAN_2, -3.0), (CLEAN_2.replace("simply", "just"), -0.1)]).write_batch([brief()])[0].intro.startswith(
        "Ada, we simply")


def test_a_spliced_sentence_is_rejected_like_a_guardrail_failure():
    # GIVEN a guardrail-clean candidate whose intro is not phrasebook English, and a clean one
    writer = writer_with([(SPLICED, -0.1), (CLEAN, -3.0)])
    # WHEN written THEN the clean one wins despite its lower log-probability
    assert writer.write_batch([brief()])[0].preheader == "Start with Blue Mug, picked with you in mind."
    # AND alone, the spliced one falls back to reviewed copy with the gate's reason
    copy = writer_with([(SPLICED, -0.1)], candidates=1).write_batch([brief()])[0]
    assert copy.source == "fallback" and copy.rejected_reasons == ("intro:ungrammatical",)


def test_a_fact_the_customer_does_not_have_is_an_unknown_slot():
    # GIVEN no tier in the data WHEN the model writes {tier} THEN the candidate is rejected
    copy = writer_with([(CLEAN, -0.1)], candidates=1).write_batch([brief(tier="")])[0]
    assert copy.source == "fallback" and "subject:unknown_slot:tier" in copy.rejected_reasons


def test_the_brief_knows_its_facts_and_its_allowed_slots():
    b = brief(first_name="", last_bought="Oak Board", colour="navy", material="  ", sentiment="negative")
    assert b.facts == {"last_bought", "colour", "tier", "unhappy"}
    assert b.allowed_slots == {"first_name", "product", "category", "store_name", "last_bought", "colour", "tier"}
    assert b.slot_values()["tier"] == "Gold" and b.slot_values()["last_bought"] == "Oak Board"


def test_the_prompt_says_which_facts_the_customer_has_never_their_values():
    model = ScriptedModel([(CLEAN, -1.0)] * 2)
    writer = Copywriter(seed_copy=SeedCopy.load(), model=model, settings=GenerationSettings(candidates=2), constrained=False)
    writer.write_batch([brief(last_bought="Secret Oak Board", colour="navy")])
    prompt = model.calls[0][0][0]
    assert prompt.splitlines()[0].endswith("| name bought tier colour") and "Oak" not in prompt and "navy" not in prompt


def test_dirty_model_copy_falls_back_with_reasons():
    writer = writer_with([(DIRTY, -0.1), ("no format at all", -0.1)])
    copy = writer.write_batch([brief()])[0]
    assert copy.source == "fallback"
    assert "subject:digit" in copy.rejected_reasons and "format" in copy.rejected_reasons
    assert "%" not in copy.subject and "www" not in copy.preheader
    assert writer.counters["rejected"] == 1 and writer.counters["fallback"] == 1


def test_seeds_depend_on_seed_key_model_version_and_candidate():
    model = ScriptedModel([(CLEAN, -1.0)] * 3)
    writer = Copywriter(seed_copy=SeedCopy.load(), model=model, settings=GenerationSettings(candidates=3), constrained=False)
    writer.write_batch([brief(seed_key="a"), brief(seed_key="b")])
    (_, seeds, _) = model.calls[0]
    assert seeds[0] == [stable_seed("a", "test-v1", str(i)) for i in range(3)]
    assert len({s for row in seeds for s in row}) == 6


def test_prompt_carries_no_personal_data_or_product_names():
    model = ScriptedModel([(CLEAN, -1.0)] * 2)
    writer = Copywriter(seed_copy=SeedCopy.load(), model=model, settings=GenerationSettings(candidates=2), constrained=False)
    writer.write_batch([brief(first_name="Zelda", product_names=("Secret Mug 9000",), store_name="Kiln")])
    prompt = model.calls[0][0][0]
    assert "Zelda" not in prompt and "Secret" not in prompt and "9000" not in prompt and "Kiln" not in prompt
    assert prompt.endswith("\nSubject:") and prompt.startswith("loyalty ")


def test_negative_sentiment_gets_caring_tone():
    assert tone_for("clearance", "negative") == "caring"
    assert tone_for("clearance") == "urgent"


def test_stable_seed_is_stable():
    assert stable_seed("a", "b") == stable_seed("a", "b") != stable_seed("a", "c")
    assert stable_seed("spring:c-1", "v1", "0") == 5344706223396796237  # pinned: a change re-rolls every email


def write_artifact(folder, **meta_overrides):
    (folder / "model.onnx").write_bytes(b"not really onnx")
    (folder / "tokenizer.json").write_text("{}")
    from nudge.copy.generator import sha256_file

    meta = {
        "artifact": "nudge-copywriter", "schema_version": 1, "prompt_format": PROMPT_FORMAT, "model_version": "t",
        "files": {name: {"bytes": (folder / name).stat().st_size, "sha256": sha256_file(folder / name)}
                  for name in ("model.onnx", "tokenizer.json")},
    }
    meta.update(meta_overrides)
    (folder / "meta.json").write_text(json.dumps(meta))
    return meta


def test_meta_json_that_matches_is_accepted(tmp_path):
    write_artifact(tmp_path)
    assert read_meta(tmp_path)["model_version"] == "t"


@pytest.mark.parametrize("override", [{"schema_version": 2}, {"artifact": "recommender"}, {"prompt_format": PROMPT_FORMAT - 1}])
def test_meta_json_that_does_not_match_is_refused(tmp_path, override):
    write_artifact(tmp_path, **override)
    with pytest.raises(ArtifactMismatchError, match="expected"):
        Copywriter.load(tmp_path)


def test_a_tampered_model_file_is_refused(tmp_path):
    write_artifact(tmp_path)
    (tmp_path / "model.onnx").write_bytes(b"not really onnx!")
    with pytest.raises(ArtifactMismatchError, match="bytes"):
        read_meta(tmp_path)


def test_a_model_folder_without_meta_is_refused(tmp_path):
    (tmp_path / "model.onnx").write_bytes(b"x")
    with pytest.raises(ArtifactMismatchError, match="meta.json"):
        Copywriter.load(tmp_path)



def test_the_scorer_prefers_copy_that_does_not_say_the_same_thing_twice():
    # GIVEN candidates found reading sampled emails, and the same copy without the repetition
    from nudge.copy.writer import personal_score

    repeated_verb = {"subject": "Clearance finds for you", "preheader": "Our sale is on.",
                     "intro": "We chose a few clearance pieces for you. We chose {product} with your taste in mind."}
    varied_verb = dict(repeated_verb, intro="We chose a few clearance pieces for you. We picked {product} with your taste in mind.")
    preheader_again = {"subject": "Clearance finds for you", "preheader": "Our clearance is on at {store_name}.",
                       "intro": "Our clearance is on at {store_name}. We picked {product} with your taste in mind."}
    preheader_new = dict(preheader_again, preheader="A few sale pieces we think you will like.")
    # THEN the one a person would send scores higher
    assert personal_score(varied_verb) > personal_score(repeated_verb)
    assert personal_score(preheader_new) > personal_score(preheader_again)
