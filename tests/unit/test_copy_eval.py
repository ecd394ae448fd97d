"""Evaluation script: GIVEN fact sheets (hostile ones included) WHEN evaluated THEN grounding is
measured on the filled text against the slot values, and a run writes its reports."""

import json

from scripts import eval_copywriter


def test_grounding_counts_only_facts_that_no_slot_value_brought_in():
    values = {"first_name": "Ada", "product": "Mug 2.0", "category": "Mugs", "store_name": "Kiln"}
    assert eval_copywriter.grounding_problems("Ada, Mug 2.0 is back at Kiln.", values) == []
    assert eval_copywriter.grounding_problems("Ada, Mug 2.0 is back, now 20% off.", values) == ["digit", "percent"]
    assert eval_copywriter.grounding_problems("Ada, see www.kiln.example", values) == ["url"]


def test_fact_sheets_are_seeded_and_include_hostile_products():
    config = eval_copywriter.EvalConfig(n_briefs=60)
    sheets = eval_copywriter.fact_sheets(config)
    assert sheets == eval_copywriter.fact_sheets(config) and len(sheets) == 60
    assert any(p in eval_copywriter.HOSTILE_PRODUCTS for s in sheets for p in s.product_names)


def test_a_run_without_a_model_reports_full_fallback_and_no_grounding_violation(tmp_path):
    config = eval_copywriter.EvalConfig(model_dir=str(tmp_path / "none"), n_briefs=30, teacher="", language_briefs=20,
                                        out_json=str(tmp_path / "r.json"), out_md=str(tmp_path / "r.md"),
                                        corpus_report=str(tmp_path / "missing.json"), out_sample=str(tmp_path / "s.md"))
    result = eval_copywriter.main(config)
    assert result["grounding_violations"] == 0 and result["fallback_rate"] == 1.0
    # reviewed copy is accepted by the gate; the sample for a person holds every email (30 < 100), numbered
    assert result["ungrammatical_rate"] == 0.0 and result["lint_error_rate"] == 0.0
    assert "30. **" in (tmp_path / "s.md").read_text() and "31. **" not in (tmp_path / "s.md").read_text()
    assert json.loads((tmp_path / "r.json").read_text())["emails"] == 30
    assert "random emails, verbatim" in (tmp_path / "r.md").read_text()
    # AND every other language gets its block: its reviewed copy, grounded, and a sample beside copy_sample.md
    french = result["languages"]["fr"]
    assert french["fallback_rate"] == 1.0 and french["grounding_violations"] == 0 and french["ungrammatical_rate"] == 0.0
    assert set(result["languages"]) == {"fr", "de", "es", "it", "nl", "zh_Hans"}
    assert "1. **" in (tmp_path / "copy_sample_zh_Hans.md").read_text()


def test_the_independent_lint_flags_broken_filled_copy_and_passes_good_copy():
    good = {"subject": "Happy birthday, Ada!", "preheader": "A few mug ideas for you.", "intro": "Hi Ada, we picked an oak board."}
    assert eval_copywriter.lint(good) == []
    assert eval_copywriter.lint({**good, "intro": "We simply wanted to thanks for being with us."}) == ["quoted:wanted to thanks"]
    assert eval_copywriter.lint({**good, "intro": "We picked it it. then a oak board."}) == [
        "doubled_word", "lower_case_sentence", "article"]
