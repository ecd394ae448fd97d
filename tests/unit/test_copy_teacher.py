"""Teacher samples for the copywriter's corpus: GIVEN a stand-in teacher (the committed student, a GPT-2
with its own tokenizer) or a hand-written log WHEN sampled under the phrasebook constraint, checked or
read back after a kill THEN only phrasebook emails with the customer's own facts are kept, and no stop
loses a finished sample.

Needs the training virtualenv (torch, transformers):
  .venv-train/bin/python -m pytest tests/unit/test_copy_teacher.py
"""

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from scripts import build_copy_corpus as corpus  # noqa: E402

from nudge.copy.constraint import ConstraintCache  # noqa: E402
from nudge.copy.phrasebook import Phrasebook  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
STUDENT = ROOT / "models" / "copywriter-student"


@pytest.fixture(scope="module")
def stand_in_teacher():
    """Any causal LM with a tokenizer will do; the committed fp32 student is small and local."""
    from transformers import GPT2LMHeadModel, PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(STUDENT / "tokenizer.json"), eos_token="<|endoftext|>",
                                        pad_token="<|endoftext|>", padding_side="left")
    return GPT2LMHeadModel.from_pretrained(STUDENT).eval(), tokenizer


def test_constrained_teacher_samples_are_phrasebook_emails_with_the_customers_facts_only(stand_in_teacher):
    # GIVEN six drawn customers (one per campaign) and the teacher's constraint for each
    model, tokenizer = stand_in_teacher
    book = Phrasebook.load()
    config = corpus.CorpusConfig()
    jobs = [corpus.teacher_job(config, i) for i in range(6)]
    cache = ConstraintCache(lambda text: tokenizer.encode(text, add_special_tokens=False), book)
    # WHEN the teacher samples with a prompt it has never seen (the student's own format is not needed)
    written = corpus.sample_constrained(
        model, tokenizer, [f"{j['campaign_type']} {j['tone']}\nSubject:" for j in jobs],
        [cache.get(j["campaign_type"], j["tone"], j["facts"]) for j in jobs],
        seed=7, temperature=1.0, top_p=0.95, max_new_tokens=config.teacher_max_new_tokens)
    # THEN every sample ended where its intro ends and passes guardrails, fact check and gate
    for job, tokens in zip(jobs, written):
        text = tokenizer.decode(tokens)
        assert text.endswith("\n") and text.count("\n") == 3, text
        fields = corpus.parse_teacher(text)
        assert [v for v in corpus.teacher_violations(book, job, fields) if v != "intro:echo"] == [], text
    assert len({tuple(t) for t in written}) == 6


def test_the_same_customer_is_drawn_for_a_sample_index_on_every_run():
    config = corpus.CorpusConfig()
    assert corpus.teacher_job(config, 41) == corpus.teacher_job(config, 41)
    assert [corpus.teacher_job(config, i)["campaign_type"] for i in range(6)] == sorted(
        {corpus.teacher_job(config, i)["campaign_type"] for i in range(6)})


@pytest.mark.parametrize("fields, facts, expected", [
    # a slot the customer has no fact for: the fact check fails it
    ({"subject": "We kept {cart_item} in your cart", "preheader": "Your cart is right where you left it.",
      "intro": "Your cart at {store_name} is saved. A few {category} ideas are below, in case you want to compare."},
     [], "subject:unknown_slot:cart_item"),
    # a sentence the phrasebook cannot write
    ({"subject": "Your cart is waiting for you", "preheader": "Your cart is right where you left it.",
      "intro": "We kept your picks are safe for you."}, ["cart_item"], "intro:ungrammatical"),
    # two sentences naming the cart: clumsy
    ({"subject": "Your cart is waiting for you", "preheader": "Your cart is right where you left it.",
      "intro": "Your cart at {store_name} is just as you left it. Your cart still holds {cart_item}, kept for you."},
     ["cart_item"], "intro:echo"),
])
def test_a_teacher_sample_breaking_a_rule_is_not_kept(fields, facts, expected):
    row = {"campaign_type": "abandoned_cart", "facts": facts}
    found = corpus.teacher_violations(Phrasebook.load(), row, fields)
    assert any(code.startswith(expected) for code in found), found


def test_a_teacher_log_cut_mid_line_by_a_kill_keeps_every_finished_sample(tmp_path):
    # GIVEN a log whose writer was killed while writing its third line
    log = tmp_path / "teacher_raw.jsonl"
    rows = [{"index": 0, "fields": None}, {"index": 1, "fields": None}]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"index": 2, "fie')
    # WHEN it is read back (as a resumed run does before appending)
    assert corpus.read_teacher_log(log) == rows
    # THEN the cut line is gone, so the next sample starts on a fresh line
    with open(log, "a") as handle:
        handle.write(json.dumps({"index": 2, "fields": None}) + "\n")
    assert [r["index"] for r in corpus.read_teacher_log(log)] == [0, 1, 2]


def test_a_corrupt_line_inside_the_teacher_log_is_an_error_naming_it(tmp_path):
    log = tmp_path / "teacher_raw.jsonl"
    log.write_text('{"index": 0}\nnot json\n{"index": 2}\n')
    with pytest.raises(SystemExit, match="teacher_raw.jsonl:2: expected one JSON object per line"):
        corpus.read_teacher_log(log)
