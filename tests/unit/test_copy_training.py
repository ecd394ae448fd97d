"""Offline chain contract: GIVEN a tiny corpus and a tiny local GPT-2 checkpoint WHEN the corpus,
training (--init-from) and export scripts run THEN the runtime loads what they ship.

Needs the training virtualenv (torch, transformers, optimum-onnx): skipped elsewhere.
  .venv-train/bin/python -m pytest tests/unit/test_copy_training.py
"""

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("optimum.exporters.onnx")

from scripts import build_copy_corpus, copywriter_graph, export_copywriter, train_copywriter  # noqa: E402

from nudge.copy.writer import Copywriter, CopyBrief  # noqa: E402
from nudge.errors import ExportParityError  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    report = build_copy_corpus.main(build_copy_corpus.CorpusConfig(
        out_dir=str(out), examples_per_campaign=40, teacher_log=str(out / "teacher_raw.jsonl")))
    return out, report


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory, corpus):
    """A 1-layer, 32-dim GPT-2 with its own tokenizer.json: stands in for distilgpt2."""
    from transformers import GPT2Config, GPT2LMHeadModel

    folder = tmp_path_factory.mktemp("tiny_gpt2")
    texts = [p + c for p, c in map(train_copywriter.example_texts, train_copywriter.read_corpus(corpus[0] / "corpus.jsonl"))]
    tokenizer = train_copywriter.train_tokenizer(texts, vocab_size=400)
    GPT2LMHeadModel(GPT2Config(vocab_size=tokenizer.get_vocab_size(), n_positions=160, n_embd=32, n_layer=1, n_head=2)).save_pretrained(folder)
    tokenizer.save(str(folder / "tokenizer.json"))
    return folder


def test_corpus_is_guardrail_clean_and_reports_its_hash(corpus):
    out, report = corpus
    rows = [json.loads(line) for line in open(out / "corpus.jsonl")]
    assert report["examples"] == len(rows) and report["by_source"]["phrasebook"] == 6 * 40
    assert len(report["corpus_sha256"]) == 64 and report["teacher"]["samples"] == 0


def test_training_from_a_local_checkpoint_then_export_ships_a_loadable_model(tmp_path, corpus, tiny_checkpoint):
    student = tmp_path / "student"
    meta = train_copywriter.main(train_copywriter.TrainConfig(
        corpus=str(corpus[0] / "corpus.jsonl"), out_dir=str(student), init_from=str(tiny_checkpoint),
        batch_size=4, max_steps=2, eval_every=2, eval_fraction=0.02, learning_rate=1e-4))
    assert meta["config"]["init_from"] == str(tiny_checkpoint) and (student / "final" / "tokenizer.json").is_file()

    shipped = tmp_path / "shipped"
    export = export_copywriter.main(export_copywriter.ExportConfig(
        student_dir=str(student / "final"), corpus_report=str(corpus[0] / "report.json"),
        work_dir=str(tmp_path / "work"), out_dir=str(shipped)))
    assert export["export"]["fp32_parity"]["max_abs_logit_diff"] < 1e-3
    assert set(export["export"]["parity"]) == {"fused_fp32", "fused_int8", "optimum_fp32", "optimum_int8"}
    assert export["export"]["graph"] in {"fused", "optimum"}
    assert {p.name for p in shipped.iterdir()} == {"model.onnx", "tokenizer.json", "meta.json", "MODEL_CARD.md"}

    writer = Copywriter.load(shipped)
    copies = writer.write_batch([CopyBrief(campaign_type="loyalty", tone="grateful", first_name="Ada",
                                           product_names=("Mug",), categories=("Mugs",), store_name="Kiln", seed_key="k")])
    assert copies[0].model_version == export["model_version"] and copies[0].source in {"model", "fallback"}

    with pytest.raises(ExportParityError, match="expected max abs logit diff"):
        export_copywriter.main(export_copywriter.ExportConfig(
            student_dir=str(student / "final"), corpus_report=str(corpus[0] / "report.json"),
            work_dir=str(tmp_path / "work2"), out_dir=str(tmp_path / "never"), fp32_tolerance=-1.0))
    assert not (tmp_path / "never").exists()


def test_a_lossy_int8_graph_is_recorded_and_never_shipped(tmp_path, corpus, tiny_checkpoint):
    # GIVEN a trained student and an int8 tolerance no quantized graph can meet
    student = tmp_path / "student"
    train_copywriter.main(train_copywriter.TrainConfig(
        corpus=str(corpus[0] / "corpus.jsonl"), out_dir=str(student), init_from=str(tiny_checkpoint),
        batch_size=4, max_steps=1, eval_every=1, eval_fraction=0.02, learning_rate=1e-4))
    config = dict(student_dir=str(student / "final"), corpus_report=str(corpus[0] / "report.json"), int8_tolerance=-1.0)
    # WHEN exported with the precision left to the export THEN fp32 ships and both int8 checks are on record
    export = export_copywriter.main(export_copywriter.ExportConfig(work_dir=str(tmp_path / "w1"), out_dir=str(tmp_path / "ok"),
                                                                   **config))
    assert export["export"]["quantization"] == "fp32"
    assert export["export"]["parity"]["fused_int8"]["passed"] is False and export["export"]["parity"]["optimum_int8"]["passed"] is False
    # WHEN int8 is demanded THEN a named error says what was expected, and nothing is written
    with pytest.raises(ExportParityError, match="ONNX int8 vs PyTorch: expected"):
        export_copywriter.main(export_copywriter.ExportConfig(work_dir=str(tmp_path / "w2"), out_dir=str(tmp_path / "never"),
                                                              quantize="int8", **config))
    assert not (tmp_path / "never").exists()


def test_the_model_version_changes_with_the_generation_settings_not_with_the_clock():
    files = {"model.onnx": {"sha256": "a" * 64}, "tokenizer.json": {"sha256": "b" * 64}}
    settings = {"candidates": 3, "max_new_tokens": 96, "temperature": 0.9, "top_k": 40, "top_p": 0.95}
    version = export_copywriter.model_version(files, settings)
    assert version == export_copywriter.model_version(files, dict(settings)) and version.startswith("copywriter-")
    assert version != export_copywriter.model_version(files, settings | {"temperature": 0.85})
    assert version != export_copywriter.model_version(files | {"model.onnx": {"sha256": "c" * 64}}, settings)


def test_resuming_training_continues_from_the_checkpoint(tmp_path, corpus):
    config = dict(corpus=str(corpus[0] / "corpus.jsonl"), out_dir=str(tmp_path / "s"), n_layer=1, n_embd=32, n_head=2,
                  vocab_size=400, batch_size=4, eval_every=2, eval_fraction=0.02, checkpoint_every=1)
    first = train_copywriter.main(train_copywriter.TrainConfig(max_steps=2, **config))
    again = train_copywriter.main(train_copywriter.TrainConfig(max_steps=2, **config))  # resumes at step 2: nothing to do
    assert again["history"] == first["history"]
    with pytest.raises(SystemExit, match="another config"):
        train_copywriter.main(train_copywriter.TrainConfig(max_steps=3, **config))  # a changed config is refused


def test_token_level_distillation_runs_with_a_teacher_sharing_the_tokenizer(tmp_path, corpus, tiny_checkpoint):
    # GIVEN a local teacher whose tokenizer the student shares (tiny stand-in for SmolLM2)
    from transformers import PreTrainedTokenizerFast

    PreTrainedTokenizerFast(tokenizer_file=str(tiny_checkpoint / "tokenizer.json"), eos_token="<|endoftext|>").save_pretrained(tiny_checkpoint)
    meta = train_copywriter.main(train_copywriter.TrainConfig(
        corpus=str(corpus[0] / "corpus.jsonl"), out_dir=str(tmp_path / "kd"), tokenizer=str(tiny_checkpoint / "tokenizer.json"),
        teacher=str(tiny_checkpoint), distill_alpha=0.5, n_layer=1, n_embd=32, n_head=2, batch_size=4, max_steps=2,
        eval_every=2, eval_fraction=0.02))
    # THEN training mixes the KL term in and still produces a model
    assert meta["config"]["distill_alpha"] == 0.5 and meta["final_eval_loss"] > 0


def test_fused_decoder_graph_computes_what_pytorch_computes(tmp_path, tiny_checkpoint):
    # GIVEN a tiny GPT-2 (2 layers, so the residual chain between layers is exercised) and left-padded prompts
    import onnx
    from tokenizers import Tokenizer
    from transformers import GPT2Config, GPT2LMHeadModel

    tokenizer = Tokenizer.from_file(str(tiny_checkpoint / "tokenizer.json"))
    model = GPT2LMHeadModel(GPT2Config(vocab_size=tokenizer.get_vocab_size(), n_positions=160, n_embd=32, n_layer=2,
                                       n_head=2)).eval()
    path = tmp_path / "fused.onnx"
    # WHEN it is written as the fused graph
    onnx.save(copywriter_graph.decoder_graph(model), path)
    ids, mask = export_copywriter.parity_inputs(tokenizer, eos_id=0)
    # THEN the prompts fed two tokens a pass through the cache, and one cached decode step, match PyTorch at the
    # last position of every pass (the only one the graph returns: the runtime samples only there)
    reference = export_copywriter.torch_logits(model, ids, mask)
    fed = export_copywriter.onnx_logits(export_copywriter.session_for(path), ids, mask, 2, 2, 16,
                                        export_copywriter.next_tokens(reference))
    result = export_copywriter.compare(reference, fed, mask)
    assert fed[0].shape[:2] == ids.shape and fed[1].shape[1] == 1
    assert result["max_abs_logit_diff"] < 1e-4 and result["top1_agreement"] == 1.0
    pass_ends = sorted({min(start + 2, ids.shape[1]) - 1 for start in range(0, ids.shape[1], 2)})
    assert result["positions"] == int(mask[:, pass_ends].sum()) + len(ids)  # the real ones, + the decode step


def test_fused_decoder_graph_refuses_a_model_it_does_not_describe():
    from transformers import GPT2Config, GPT2LMHeadModel

    model = GPT2LMHeadModel(GPT2Config(vocab_size=50, n_embd=16, n_layer=1, n_head=2, activation_function="relu"))
    with pytest.raises(ValueError, match="expected the tanh GELU"):
        copywriter_graph.decoder_graph(model)


def test_every_corpus_example_is_a_path_through_the_runtime_constraint(corpus, tiny_checkpoint):
    # GIVEN the corpus and a byte-level BPE trained on it WHEN each example's completion is walked token
    # by token through the constraint the runtime decodes its brief with THEN every token is allowed
    from tokenizers import Tokenizer

    from nudge.copy.constraint import build_constraint
    from nudge.copy.phrasebook import Phrasebook
    from nudge.copy.prompt import format_completion

    tokenizer = Tokenizer.from_file(str(tiny_checkpoint / "tokenizer.json"))
    encode = lambda text: tokenizer.encode(text, add_special_tokens=False).ids  # noqa: E731
    book = Phrasebook.load()
    for row in train_copywriter.read_corpus(corpus[0] / "corpus.jsonl"):
        facts = frozenset(row["facts"]) | ({"unhappy"} if row["sentiment"] == "negative" else set())
        constraint = build_constraint(encode, book, row["campaign_type"], row["tone"], facts)
        state = constraint.start()
        for token in encode(format_completion(subject=row["subject"], preheader=row["preheader"], intro=row["intro"])):
            assert token in set(constraint.allowed(state).tolist()), row
            state = constraint.advance(state, token)
        assert state.node is None  # the intro's closing newline ended it
