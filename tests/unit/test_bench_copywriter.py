"""Copywriter benchmark contract: GIVEN a tiny student trained and exported by the offline scripts WHEN the
export writes its fp32 student and the bench runs its baselines THEN the student reloads as trained, the
PyTorch loop writes the ONNX runtime's tokens, tokens are counted as sampled, and a foreign student is refused.

Needs the training virtualenv (torch, transformers, optimum-onnx): skipped elsewhere.
  .venv-train/bin/python -m pytest tests/unit/test_bench_copywriter.py
"""

import json
import shutil

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("optimum.exporters.onnx")

import torch  # noqa: E402
from test_copy_training import corpus, tiny_checkpoint  # noqa: E402,F401  (the offline chain's fixtures, reused)
from transformers import GPT2LMHeadModel  # noqa: E402

from nudge.copy.generator import STOP_AFTER_NEWLINES, OnnxLanguageModel, Sample  # noqa: E402
from nudge.copy.writer import Copywriter  # noqa: E402
from nudge.errors import ArtifactMismatchError  # noqa: E402
from scripts import bench_copywriter, check_package, export_copywriter, train_copywriter  # noqa: E402

pytestmark = pytest.mark.slow

END_LOGIT = 2.0  # an untrained student's logits are ~0: this makes the end token ~15% likely per step


@pytest.fixture(scope="module")
def exported(tmp_path_factory, corpus, tiny_checkpoint):  # noqa: F811
    """(trained student folder, shipped ONNX folder, fp32 student folder) of a tiny GPT-2 exported in fp32.

    The trained student ends a row on its own: ln_f's dimension 0 is pinned to 1 and only the end token reads
    it, so rows stop at different steps (what the token counts must see) without training for minutes.
    """
    base = tmp_path_factory.mktemp("bench_export")
    student = base / "student"
    meta = train_copywriter.main(train_copywriter.TrainConfig(
        corpus=str(corpus[0] / "corpus.jsonl"), out_dir=str(student), init_from=str(tiny_checkpoint),
        batch_size=4, max_steps=1, eval_every=1, eval_fraction=0.02, learning_rate=1e-4))
    model = GPT2LMHeadModel.from_pretrained(student / "final")
    with torch.no_grad():
        model.transformer.ln_f.weight[0], model.transformer.ln_f.bias[0] = 0.0, 1.0
        model.transformer.wte.weight[:, 0] = 0.0
        model.transformer.wte.weight[meta["eos_token_id"], 0] = END_LOGIT
    model.save_pretrained(student / "final")
    export_copywriter.main(export_copywriter.ExportConfig(
        student_dir=str(student / "final"), corpus_report=str(corpus[0] / "report.json"), work_dir=str(base / "work"),
        out_dir=str(base / "shipped"), student_out_dir=str(base / "copywriter-student"), quantize="fp32"))
    return student / "final", base / "shipped", base / "copywriter-student"


@pytest.fixture(scope="module")
def prompts(exported):
    writer = Copywriter.load(exported[1])
    return [writer.prompt_for(b) for b in bench_copywriter.briefs(10)]


def test_export_writes_the_fp32_student_it_exported_from(exported):
    # GIVEN the trained student and what the export wrote
    trained_dir, shipped, student_dir = exported
    shipped_meta = json.loads((shipped / "meta.json").read_text())
    # THEN the student folder holds the fp32 weights, tokenizer and a meta.json naming the ONNX model it is the source of
    assert {"model.safetensors", "config.json", "tokenizer.json", "README.md", "meta.json"} <= {p.name for p in student_dir.iterdir()}
    student_meta = json.loads((student_dir / "meta.json").read_text())
    assert student_meta["model_version"] == shipped_meta["model_version"] and student_meta["precision"] == "fp32"
    assert student_meta["onnx"]["sha256"] == shipped_meta["files"]["model.onnx"]["sha256"]
    assert shipped_meta["model_version"] in (student_dir / "README.md").read_text()
    # WHEN loaded with from_pretrained THEN its logits are the trained model's
    reloaded, trained = (GPT2LMHeadModel.from_pretrained(d).eval() for d in (student_dir, trained_dir))
    assert {p.dtype for p in reloaded.parameters()} == {torch.float32}
    ids = torch.randint(0, reloaded.config.vocab_size, (2, 9), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(reloaded(ids).logits, trained(ids).logits)


def test_the_student_goes_beside_the_output_and_never_into_the_package(tmp_path):
    # the shipped output's student lives in the top-level models/, an export elsewhere keeps its student beside it
    shipped = export_copywriter.student_out_dir(export_copywriter.ExportConfig())
    assert shipped == export_copywriter.ROOT / "models" / "copywriter-student"
    assert export_copywriter.student_out_dir(export_copywriter.ExportConfig(out_dir=str(tmp_path / "x"))) == tmp_path / "x-student"
    with pytest.raises(SystemExit, match="outside layers/ and functions/"):
        export_copywriter.student_out_dir(export_copywriter.ExportConfig(student_out_dir="layers/model/student"))
    # and template.yaml builds functions and layers from folders none of which holds models/
    template = check_package.load_template(check_package.ROOT / "template.yaml")
    uris = [props.get("CodeUri") or props.get("ContentUri") for props in
            (r.get("Properties", {}) for r in template["Resources"].values())]
    packaged = [(check_package.ROOT / uri).resolve() for uri in uris if isinstance(uri, str)]
    assert packaged and all(not shipped.is_relative_to(p) for p in packaged)


def test_torch_loop_writes_the_onnx_runtimes_tokens_and_counts_no_padding(exported, prompts):
    # GIVEN the ONNX fp32 runtime and the same student in the PyTorch loop, same prompts, same seeds
    _, shipped, student_dir = exported
    lm = OnnxLanguageModel.load(shipped)
    settings = Copywriter.load(shipped).settings
    model, tokenizer = bench_copywriter.load_student(student_dir)
    onnx = bench_copywriter.runtime_side(lm, settings)
    torch_loop = bench_copywriter.runtime_side(bench_copywriter.torch_loop_model(model, tokenizer, lm.meta), settings)
    # WHEN both write the batch
    a, b = onnx(prompts, 3), torch_loop(prompts, 3)
    # THEN they sample the same tokens (the logits differ only by float rounding)
    same = [x == y for x, y in zip(a.token_ids, b.token_ids)]
    assert len(same) == 10 * settings.candidates and sum(same) / len(same) >= 0.9
    # and the count is the tokens sampled: each candidate's tokens plus its end token when it drew one
    samples = lm.generate(prompts, seeds=bench_copywriter.candidate_seeds(10, settings.candidates, 3),
                          max_new_tokens=settings.max_new_tokens, temperature=settings.temperature,
                          top_k=settings.top_k, top_p=settings.top_p)
    flat = [s for per in samples for s in per]
    assert [s.token_ids for s in flat] == a.token_ids
    ended_on_eos = sum(s.finished and int(lm.newlines[list(s.token_ids)].sum()) < STOP_AFTER_NEWLINES for s in flat)
    assert a.tokens == sum(len(s.token_ids) for s in flat) + ended_on_eos
    lengths = {len(s.token_ids) for s in flat}
    assert ended_on_eos > 0 and len(lengths) > 3  # rows ended at different steps: padding existed to be left out
    assert a.tokens < len(flat) * (max(lengths) + 1)


def test_generate_counts_each_rows_sampled_tokens_not_its_padding(exported, prompts):
    # GIVEN transformers generate() on the student, rows ending at different steps (padded with the end token after)
    _, shipped, student_dir = exported
    lm = OnnxLanguageModel.load(shipped)
    settings = Copywriter.load(shipped).settings
    model, tokenizer = bench_copywriter.load_student(student_dir)
    run = bench_copywriter.generate_side(model, tokenizer, lm, settings)(prompts, 0)
    # THEN fewer tokens are counted than rows x the longest row, and more than one per row
    rows = 10 * settings.candidates
    assert rows < run.tokens < rows * settings.max_new_tokens and run.token_ids is None


def test_token_counts_on_known_rows():
    newlines = np.array([0, 0, 0, 1, 0, 0, 0, 0])  # token 3 is a newline, token 0 the end token
    # generate() output: the end token is sampled once, then padding; a row stopped at its third newline; a full row
    rows = np.array([[5, 7, 0, 0, 0], [5, 3, 3, 3, 0], [5, 6, 7, 6, 5]])
    assert bench_copywriter.sampled_lengths(rows, eos_id=0, newlines=newlines).tolist() == [3, 4, 5]
    # the runtime's samples: token_ids never hold the end token, so a row that drew it counts one more
    assert bench_copywriter.sampled_token_count(Sample("", (5, 7), 0.0, finished=True), newlines) == 3
    assert bench_copywriter.sampled_token_count(Sample("", (5, 3, 3, 3), 0.0, finished=True), newlines) == 4
    assert bench_copywriter.sampled_token_count(Sample("", (5, 6, 7, 6, 5), 0.0, finished=False), newlines) == 5


def test_conv1d_to_linear_keeps_logits_and_int8_quantizes_every_linear(exported, prompts):
    # GIVEN the fp32 student (GPT-2 Conv1D layers)
    from torch.ao.nn.quantized.dynamic import Linear as QuantizedLinear
    from transformers.pytorch_utils import Conv1D

    model, tokenizer = bench_copywriter.load_student(exported[2])
    ids, mask = bench_copywriter.left_padded([tokenizer.encode(p, add_special_tokens=False).ids for p in prompts], 0)
    # WHEN its Conv1D layers become nn.Linear THEN none is left and the logits stay equal
    import copy

    linear = bench_copywriter.conv1d_to_linear(copy.deepcopy(model))
    assert not any(isinstance(m, Conv1D) for m in linear.modules())
    reference = bench_copywriter.last_logprobs(model, ids, mask)
    assert float((reference - bench_copywriter.last_logprobs(linear, ids, mask)).abs().max()) <= 1e-5
    # WHEN quantized THEN every Linear is int8 and the log-probabilities move a little
    quantized, check = bench_copywriter.quantize_int8(model, tokenizer, prompts, pad_id=0)
    n_layer = model.config.n_layer
    assert check["quantized_linear_modules"] == 4 * n_layer + 1 == sum(isinstance(m, QuantizedLinear) for m in quantized.modules())
    assert 0 < check["max_abs_logprob_diff_vs_fp32"] < 0.5 and check["float_linear_or_conv1d_left"] == 0
    assert any(isinstance(m, Conv1D) for m in model.modules())  # the fp32 model itself is left as it was


def test_bench_refuses_a_student_of_another_model(exported, tmp_path, corpus):  # noqa: F811
    # GIVEN the student folder with another tokenizer, and one recorded for another model_version
    _, shipped, student_dir = exported
    meta = json.loads((shipped / "meta.json").read_text())
    assert bench_copywriter.check_same_student(student_dir, meta) == ["architecture", "tokenizer.json sha256", "model_version"]
    other_tokenizer = tmp_path / "tokenizer"
    shutil.copytree(student_dir, other_tokenizer)
    texts = [p + c for p, c in map(train_copywriter.example_texts, train_copywriter.read_corpus(corpus[0] / "corpus.jsonl"))]
    train_copywriter.train_tokenizer(texts[:200], vocab_size=300).save(str(other_tokenizer / "tokenizer.json"))
    other_version = tmp_path / "version"
    shutil.copytree(student_dir, other_version)
    student_meta = json.loads((other_version / "meta.json").read_text())
    (other_version / "meta.json").write_text(json.dumps(student_meta | {"model_version": "copywriter-000000000000"}))
    # THEN the bench refuses both, saying what differs
    with pytest.raises(ArtifactMismatchError, match="tokenizer.json sha256"):
        bench_copywriter.check_same_student(other_tokenizer, meta)
    with pytest.raises(ArtifactMismatchError, match="model_version"):
        bench_copywriter.check_same_student(other_version, meta)


def test_bench_reports_three_ratios_or_says_why_not(exported, tmp_path):
    # GIVEN the tiny export WHEN the bench runs once per baseline
    _, shipped, student_dir = exported
    config = dict(model_dir=str(shipped), repeats=1, baseline_repeats=1, teacher="")
    result = bench_copywriter.main(bench_copywriter.BenchConfig(student_dir=str(student_dir), out_json=str(tmp_path / "b.json"),
                                                                **config))
    # THEN each student baseline has a numeric ratio, its precision and both sides' token counts
    assert json.loads((tmp_path / "b.json").read_text()) == result
    for key, name in (("speedup_vs_transformers", "transformers_generate"), ("speedup_vs_torch_loop_fp32", "torch_loop_fp32"),
                      ("speedup_vs_torch_loop_int8", "torch_loop_int8")):
        baseline = result["baselines"][name]
        assert isinstance(result[key], float) and result[key] > 0 and baseline["tokens"][0] > 0 and baseline["onnx_tokens"][0] > 0
    assert result["baselines"]["torch_loop_fp32"]["identical_share"] >= 0.9
    assert result["baselines"]["torch_loop_int8"]["precision"] == "int8 dynamic (qint8 Linear)"
    assert result["onnx_precision"] in {"fp32 fused graph", "fp32 optimum graph"}  # exported with quantize="fp32"
    assert result["baselines"]["teacher"]["status"] == "missing" and result["speedup_vs_teacher_transformers"] is None
    # WHEN the student folder is missing THEN each student baseline says so, with the folder's name
    result = bench_copywriter.main(bench_copywriter.BenchConfig(student_dir=str(tmp_path / "nowhere"),
                                                                out_json=str(tmp_path / "c.json"), **config))
    reason = result["baselines"]["transformers_generate"]["reason"]
    assert result["speedup_vs_transformers"] is None and "nowhere" in reason and "export_copywriter" in reason
    assert "status: " not in bench_copywriter.summary(result) and "missing: no fp32 student" in bench_copywriter.summary(result)


def test_teacher_baseline_is_a_forced_greedy_rate_or_says_why_not(exported, tiny_checkpoint, tmp_path):  # noqa: F811
    # GIVEN a local stand-in teacher (the tiny checkpoint with a transformers tokenizer) and one that does not load
    from transformers import PreTrainedTokenizerFast

    teacher = tmp_path / "teacher"
    shutil.copytree(tiny_checkpoint, teacher)
    PreTrainedTokenizerFast(tokenizer_file=str(teacher / "tokenizer.json"), eos_token="<|endoftext|>").save_pretrained(teacher)
    writer = Copywriter.load(exported[1])
    # WHEN the bench measures it THEN the ratio is over ONNX's batch-10 rate and the JSON says how it decoded
    measured = bench_copywriter.teacher_baseline(bench_copywriter.BenchConfig(teacher=str(teacher)), writer, 1000.0, None)
    assert measured["status"] == "ok" and measured["speedup"] == round(1000.0 / measured["tokens_per_s"], 1)
    assert "32 new tokens forced" in measured["decoding"] and measured["paired"] is False and measured["precision"] == "fp32"
    # WHEN torch is missing THEN it says so instead of a number
    missing = bench_copywriter.teacher_baseline(bench_copywriter.BenchConfig(), writer, 1000.0, "torch is not installed")
    assert missing["status"] == "missing" and missing["reason"] == "torch is not installed" and "speedup" not in missing
