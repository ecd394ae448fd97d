"""Benchmark the copywriter runtime on one thread: latency, throughput, cold start, memory, and its speedup
over the same student run with PyTorch.

Inputs : layers/model/copywriter/ (the shipped ONNX model); models/copywriter-student/ (the fp32 PyTorch
         student that model was exported from, written by scripts/export_copywriter.py; refused unless its
         architecture, tokenizer.json sha256 and model_version are the shipped model's)
Outputs: build/reports/bench_copywriter.json, and a table on stdout.

  batch_1 / batch_10: ms_per_email_p50, emails_per_s (write_batch) and tokens_per_s (the runtime's generate);
  cold_start_s and peak_rss_mb of a fresh process (import + load + first email).
  languages: each other language's student (layers/model/copywriter/languages/<language>/): ms per email at batch
  10 on the same briefs in that language, English timed in the same rounds (`vs_english`), size and vocabulary.
  multilingual_alternative: what one student for every language would cost instead: the vocabulary a BPE
  trained on every phrasebook together needs, and a decode step of the shipped shape with that vocabulary
  against the English one (random weights, fused int8 graph: the step's time does not depend on the weights).

  baselines: each paired with the ONNX runtime on the same batch of 10 briefs x candidates (same prompts, same
  sampling settings, same pair seed), one thread each, back to back, each side warmed by an untimed batch
  first, then timed TIMED_RUNS times on its batch (the median time counts); `speedup` = median over pairs of
  ONNX tokens/s over the baseline's tokens/s. The ONNX side decodes as the writer does, with each brief's
  phrasebook constraint (nudge.copy.constraint); so do the two torch loops. Before the pairs the runtime
  writes WARM_EMAILS other emails, as a container does before its steady state: a constraint caches the
  transitions it has met (measured: with every cache cleared a batch takes ~1.23x as long; after 200 other
  emails the first run of a new batch is within ~1.5% of a repeat).
    transformers_generate  generate() on the fp32 student: do_sample with the runtime's temperature, top-k and
                           top-p, its masked tokens suppressed, a row stops after the intro line as in the
                           runtime; torch.manual_seed(pair seed) (one torch generator for the batch, so its
                           tokens are not the runtime's); unconstrained: one forward pass per token. The
                           ONNX side checks the phrasebook constraint at every token, and feeds the
                           tokens it forces (the only ones allowed: ~3 in 4 of a phrasebook email) several
                           to a forward pass without sampling them (jump-forward). Bar: 10x.
    torch_loop_fp32        a plain PyTorch KV-cache loop: the runtime's own loop (prefill each prompt once,
                           repeat its cache per candidate, steps with past_key_values and jump-forward, the same
                           numpy sampler with the same per-candidate seeds, the same stops) with the student's
                           forward in place of onnxruntime: against an fp32 graph both write the same tokens
                           up to float rounding; `identical_share` (candidates whose tokens equal the ONNX
                           side's) shows how far the shipped graph's int8 moves them
    torch_loop_int8        the same loop on torch dynamic int8: GPT-2's Conv1D layers turned into nn.Linear
                           (transposed weights), then quantize_dynamic(..., {nn.Linear}, dtype=torch.qint8)
    teacher                SmolLM2-135M in transformers generate(), fp32, 10 prompts (no candidates), 32 greedy
                           tokens forced (min_new_tokens), unpaired: ONNX batch_10 tokens/s over its tokens/s
    onnx_token_by_token    an ablation, not a baseline: the shipped graph and loop with jump_forward=False
                           (one forward pass per token): the ratio is what jump-forward adds
  A baseline that cannot run has status "missing" (or "refused") and a reason instead of numbers.

Tokens are the tokens a side wrote (sampled, or on the runtime-loop sides forced by the constraint): for each
candidate its tokens up to and including the end token when it sampled one, or up to its intro line's newline
where the runtime stops it; never padding, never a token that is not in the candidate's text.

Run: .venv-train/bin/python scripts/bench_copywriter.py   (without torch: ONNX numbers only)
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "runtime"))  # scripts run from a checkout; the runtime is not installed

from nudge.copy.generator import STOP_AFTER_NEWLINES, OnnxLanguageModel, Sample, sha256_file  # noqa: E402
from nudge.copy.writer import Copywriter, CopyBrief  # noqa: E402
from nudge.errors import ArtifactMismatchError  # noqa: E402

STUDENT_FILES = ("config.json", "model.safetensors", "tokenizer.json")
TORCH_INT8 = "int8 dynamic (qint8 Linear)"
TIMED_RUNS = 3  # timed runs per side and pair (the median counts; see paired_speedup)
WARM_EMAILS = 200  # emails the runtime writes before the pairs: a container past its first few batches


@dataclass
class BenchConfig:
    model_dir: str = "layers/model/copywriter"
    student_dir: str = "models/copywriter-student"  # the fp32 student the ONNX model was exported from (baselines)
    out_json: str = "build/reports/bench_copywriter.json"
    repeats: int = 9  # timed batches per batch size (after one warm-up); rates are medians over them
    baseline_repeats: int = 7  # pairs (ONNX, baseline) per baseline, each on its own batch of 10 briefs
    teacher: str = "smollm2"  # the teacher in transformers as one more baseline ("" skips it)


@dataclass(frozen=True)
class Run:
    tokens: int  # tokens sampled over all candidates (see the module docstring)
    seconds: float
    token_ids: list[tuple[int, ...]] | None  # per candidate, when the side draws the runtime's per-candidate seeds


Side = Callable[[list[str], int], Run]  # (prompts, pair seed) -> Run


def briefs(n: int, offset: int = 0) -> list[CopyBrief]:
    """Briefs over the six campaigns, with the facts a real customer has in varying combinations."""
    campaigns = [("new_arrivals", "excited"), ("abandoned_cart", "helpful"), ("birthday_holiday", "warm"),
                 ("loyalty", "grateful"), ("clearance", "urgent"), ("win_back", "caring")]
    out = []
    for j in range(n):
        i = offset + j
        c, t = campaigns[i % 6]
        out.append(CopyBrief(
            campaign_type=c, tone=t, first_name="Ada" if i % 7 else "", product_names=("Blue Mug",), categories=("Mugs",),
            store_name="Kiln", seed_key=f"bench:{i}", last_bought="Oak Board" if i % 3 else "",
            cart_item="Linen Throw" if c == "abandoned_cart" else "", occasion="birthday" if c == "birthday_holiday" else "",
            tier="gold" if c == "loyalty" else "", material="stoneware" if i % 2 else "", colour="navy" if i % 5 else ""))
    return out


def candidate_seeds(n_prompts: int, candidates: int, seed: int) -> list[list[int]]:
    """One numpy seed per candidate (the runtime draws each candidate from its own Generator), from one pair seed."""
    return [[seed * 100_000 + i * candidates + k for k in range(candidates)] for i in range(n_prompts)]


def sampled_token_count(sample: Sample, newlines: np.ndarray) -> int:
    """Tokens the runtime sampled for one candidate.

    `token_ids` never hold the end token (the generator stops a row on it without keeping it), and a row that
    stopped after its STOP_AFTER_NEWLINES-th newline ends on that newline token. So a finished row whose tokens
    hold fewer newlines stopped on a sampled end token, which counts; an unfinished one ran out of
    max_new_tokens. `newlines`: newlines per token id (OnnxLanguageModel.newlines).

    >>> newlines = np.array([0, 0, 1])  # id 2 is a newline
    >>> sampled_token_count(Sample("", (1, 1), 0.0, finished=True), newlines)  # stopped on the end token
    3
    """
    ids = np.asarray(sample.token_ids, dtype=np.int64)
    stopped_on_newline = int(newlines[ids].sum()) >= STOP_AFTER_NEWLINES
    return len(ids) + int(sample.finished and not stopped_on_newline)


def sampled_lengths(new_tokens: np.ndarray, *, eos_id: int, newlines: np.ndarray) -> np.ndarray:
    """Tokens each row sampled in generate()'s new tokens (rows, steps), padded with eos_id after a row stops.

    A row ends on its first end token (sampled, so it counts) or on its STOP_AFTER_NEWLINES-th newline; what
    follows is padding. A row with neither ran all steps.

    >>> sampled_lengths(np.array([[5, 0, 0], [5, 6, 7]]), eos_id=0, newlines=np.zeros(8, dtype=np.int64)).tolist()
    [2, 3]
    """
    ends = (new_tokens == eos_id) | (np.cumsum(newlines[new_tokens], axis=1) >= STOP_AFTER_NEWLINES)
    return np.where(ends.any(axis=1), ends.argmax(axis=1) + 1, new_tokens.shape[1])


def runtime_side(lm: OnnxLanguageModel, settings, constraints: dict[str, Any] | None = None, *,
                 jump_forward: bool = True) -> Side:
    """The runtime's generate on `lm` (onnxruntime, or PyTorch through TorchDecoder), seeded per candidate.

    `constraints`: prompt -> the phrasebook constraint the writer decodes that brief with (what ships);
    the same mapping on both runtime-loop sides, so they do the same work. `jump_forward=False`: one
    forward pass per token, forced or not (the loop before jump-forward; an ablation).
    """

    def run(prompts: list[str], seed: int) -> Run:
        seeds = candidate_seeds(len(prompts), settings.candidates, seed)
        constrained = [constraints[p] for p in prompts] if constraints is not None else None
        t0 = time.perf_counter()
        samples = lm.generate(prompts, seeds=seeds, max_new_tokens=settings.max_new_tokens, constraints=constrained,
                              temperature=settings.temperature, top_k=settings.top_k, top_p=settings.top_p,
                              jump_forward=jump_forward)
        seconds = time.perf_counter() - t0
        flat = [s for per_prompt in samples for s in per_prompt]
        return Run(sum(sampled_token_count(s, lm.newlines) for s in flat), seconds, [s.token_ids for s in flat])

    return run


def cold_start(model_dir: Path) -> dict:
    code = (
        "import time, resource, json; t0 = time.perf_counter()\n"
        "from nudge.copy.writer import Copywriter, CopyBrief\n"
        f"w = Copywriter.load({str(model_dir)!r}); t1 = time.perf_counter()\n"
        "w.write_batch([CopyBrief(campaign_type='loyalty', tone='grateful', first_name='Ada', product_names=('Mug',),"
        " categories=('Mugs',), store_name='Kiln', seed_key='cold')]); t2 = time.perf_counter()\n"
        "print(json.dumps({'load_s': t1 - t0, 'first_email_s': t2 - t1, 'cold_start_s': t2 - t0,"
        " 'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    env = {"PYTHONPATH": str(ROOT / "layers" / "runtime"), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return {k: round(v, 3) for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items()}


# --------------------------------------------------------------------------------------------------
# The student: found, checked to be the shipped model's, loaded
# --------------------------------------------------------------------------------------------------
def missing_student_reason(student_dir: Path) -> str | None:
    missing = [name for name in STUDENT_FILES if not (student_dir / name).is_file()]
    if not missing:
        return None
    return (f"no fp32 student in {student_dir} (missing {', '.join(missing)}); scripts/export_copywriter.py writes it "
            f"next to the ONNX model it exports (make copywriter)")


def check_same_student(student_dir: Path, meta: dict) -> list[str]:
    """The baseline must run the weights the ONNX model was exported from, or the ratio means nothing.

    Checks architecture and tokenizer.json sha256 against the shipped meta.json and, when the folder has the
    meta.json export_copywriter.py writes, its model_version; returns what was checked.
    """
    config = json.loads((student_dir / "config.json").read_text())
    arch = meta["architecture"]
    differs = {k: (config.get(k), arch[k]) for k in ("n_layer", "n_head", "n_embd", "vocab_size") if config.get(k) != arch[k]}
    if sha256_file(student_dir / "tokenizer.json") != meta["files"]["tokenizer.json"]["sha256"]:
        differs["tokenizer.json sha256"] = (sha256_file(student_dir / "tokenizer.json")[:12],
                                            meta["files"]["tokenizer.json"]["sha256"][:12])
    checked = ["architecture", "tokenizer.json sha256"]
    student_meta_path = student_dir / "meta.json"
    if student_meta_path.is_file():
        recorded = json.loads(student_meta_path.read_text())
        if recorded.get("model_version") != meta["model_version"]:
            differs["model_version"] = (recorded.get("model_version"), meta["model_version"])
        checked.append("model_version")
    if differs:
        raise ArtifactMismatchError(f"{student_dir} is not the student of the shipped model: expected "
                                    f"{meta['model_version']}'s values, got (student, shipped) {differs}")
    return checked


def load_student(student_dir: Path):
    """(fp32 GPT2LMHeadModel in eval mode, tokenizers.Tokenizer)."""
    import torch
    from tokenizers import Tokenizer
    from transformers import GPT2LMHeadModel

    model = GPT2LMHeadModel.from_pretrained(student_dir).eval()  # transformers loads fp32 unless told otherwise
    dtypes = {p.dtype for p in model.parameters()}
    if dtypes != {torch.float32}:
        raise ArtifactMismatchError(f"{student_dir}: expected fp32 weights, got {sorted(map(str, dtypes))}")
    return model, Tokenizer.from_file(str(student_dir / "tokenizer.json"))


def student_meta(student_dir: Path) -> dict:
    path = student_dir / "meta.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def onnx_precision(meta: dict, student: dict) -> str:
    """What the ONNX side computes in, e.g. "int8 (dynamic, 7-bit weights) fused graph"."""
    export = meta.get("export", {})
    graph = f"{export.get('graph', 'optimum')} graph"
    if export.get("quantization") != "int8":
        return f"fp32 {graph}"
    # export_copywriter.py quantizes with reduce_range=True unless told otherwise; the student's meta.json records it
    weights = "7-bit weights" if student.get("onnx", {}).get("reduce_range", True) else "8-bit weights"
    return f"int8 (dynamic, {weights}) {graph}"


# --------------------------------------------------------------------------------------------------
# PyTorch sides
# --------------------------------------------------------------------------------------------------
class TorchDecoder:
    """The part of an onnxruntime session OnnxLanguageModel uses (get_inputs, get_outputs, run), over a GPT-2's
    PyTorch forward: OnnxLanguageModel(TorchDecoder(model), tokenizer, meta).generate is then the runtime's own
    loop (prefill once, cache repeated per candidate, steps with jump-forward, same sampler, seeds and stops) on PyTorch.

    `logits` come back log-softmax normalized at the last position only, (rows, 1, vocab), as the fused graph's
    (the runtime reads only that position); numpy <-> torch conversions share memory.
    """

    def __init__(self, model, n_layer: int):
        self.model, self.n_layer = model, n_layer
        kinds = [(i, kind) for i in range(n_layer) for kind in ("key", "value")]
        inputs = ["input_ids", "attention_mask", "position_ids"] + [f"past_key_values.{i}.{k}" for i, k in kinds]
        self._inputs = [SimpleNamespace(name=name) for name in inputs]
        self._outputs = [SimpleNamespace(name=name) for name in ["logits"] + [f"present.{i}.{k}" for i, k in kinds]]

    def get_inputs(self):
        return self._inputs

    def get_outputs(self):
        return self._outputs

    def run(self, output_names, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        import torch
        from transformers.cache_utils import DynamicCache

        past = None
        if feeds["past_key_values.0.key"].shape[2]:  # prefill passes an empty cache
            past = DynamicCache()
            for i in range(self.n_layer):
                past.update(torch.from_numpy(feeds[f"past_key_values.{i}.key"]),
                            torch.from_numpy(feeds[f"past_key_values.{i}.value"]), i)
        with torch.no_grad():
            out = self.model(input_ids=torch.from_numpy(feeds["input_ids"]),
                             attention_mask=torch.from_numpy(feeds["attention_mask"]),
                             position_ids=torch.from_numpy(feeds["position_ids"]), past_key_values=past, use_cache=True)
            logprobs = torch.log_softmax(out.logits[:, -1:], dim=-1)
        presents = [t.numpy() for layer in out.past_key_values.layers for t in (layer.keys, layer.values)]
        return [logprobs.numpy()] + presents


def torch_loop_model(model, tokenizer, meta: dict) -> OnnxLanguageModel:
    """The runtime's generator over `model`'s PyTorch forward (see TorchDecoder)."""
    meta = copy.deepcopy(meta)
    meta.setdefault("export", {})["logits"] = "log_softmax"  # TorchDecoder normalizes, as the fused graph does
    return OnnxLanguageModel(TorchDecoder(model, int(meta["architecture"]["n_layer"])), tokenizer, meta)


def conv1d_to_linear(model):
    """Replace every transformers Conv1D (y = x @ W + b, W (in, out)) by nn.Linear (W transposed), in place.

    GPT-2 in transformers uses Conv1D, which torch's quantize_dynamic does not know: without this only the
    LM head would be quantized. Returns the model.
    """
    import torch
    from transformers.pytorch_utils import Conv1D

    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, Conv1D):
                linear = torch.nn.Linear(child.nx, child.nf)
                linear.weight = torch.nn.Parameter(child.weight.detach().t().contiguous())
                linear.bias = torch.nn.Parameter(child.bias.detach().clone())
                setattr(parent, name, linear)
    return model


def quantize_int8(model, tokenizer, prompts: list[str], pad_id: int):
    """(int8 copy of `model`, its check): Conv1D -> Linear, then torch dynamic int8 on every nn.Linear.

    The check proves the quantization took: every Linear is a quantized module, no Conv1D is left, and the
    last-position log-probabilities on `prompts` moved a little from fp32 but not the argmax much.
    """
    import torch
    from torch.ao.nn.quantized.dynamic import Linear as QuantizedLinear
    from transformers.pytorch_utils import Conv1D

    linear = conv1d_to_linear(copy.deepcopy(model))
    n_linear = sum(isinstance(m, torch.nn.Linear) for m in linear.modules())
    with warnings.catch_warnings():  # torch.ao.quantization is deprecated in favour of torchao; still the plain API
        warnings.simplefilter("ignore")
        quantized = torch.ao.quantization.quantize_dynamic(linear, {torch.nn.Linear}, dtype=torch.qint8).eval()
    n_quantized = sum(isinstance(m, QuantizedLinear) for m in quantized.modules())
    left = sum(isinstance(m, (Conv1D, torch.nn.Linear)) for m in quantized.modules())
    ids, mask = left_padded([tokenizer.encode(p, add_special_tokens=False).ids for p in prompts], pad_id)
    reference, candidate = (last_logprobs(m, ids, mask) for m in (model, quantized))
    max_diff = float((reference - candidate).abs().max())
    check = {"quantized_linear_modules": n_quantized, "float_linear_or_conv1d_left": left,
             "max_abs_logprob_diff_vs_fp32": round(max_diff, 5),
             "top1_agreement_vs_fp32": float((reference.argmax(-1) == candidate.argmax(-1)).float().mean())}
    if n_quantized != n_linear or left or max_diff == 0:
        raise RuntimeError(f"torch int8: expected all {n_linear} Linear layers quantized and log-probabilities that "
                           f"differ from fp32, got {check}")
    return quantized, check


def left_padded(encoded: list[list[int]], pad_id: int):
    """(input_ids, attention_mask) as torch tensors (rows, longest), prompts left-padded as in the runtime."""
    import torch

    longest = max(map(len, encoded))
    ids = torch.full((len(encoded), longest), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, e in enumerate(encoded):
        ids[row, longest - len(e):] = torch.tensor(e)
        mask[row, longest - len(e):] = 1
    return ids, mask


def last_logprobs(model, ids, mask):
    import torch

    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, position_ids=(mask.cumsum(1) - 1).clamp(min=0))
    return torch.log_softmax(out.logits[:, -1], dim=-1)


def generate_side(model, tokenizer, lm: OnnxLanguageModel, settings) -> Side:
    """transformers generate() on the student, doing the runtime's job: same prompts x candidates, sampling
    settings, masked tokens and stop after the intro line; seeded with torch.manual_seed(pair seed)."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    eos = lm.eos_id
    newlines = torch.from_numpy(lm.newlines)
    suppressed = np.flatnonzero(lm.masked).tolist()  # the runtime never samples these (digits, markup, ...)

    class StopAfterIntro(StoppingCriteria):
        """Per row: done at its STOP_AFTER_NEWLINES-th generated newline, where the runtime stops it."""

        def __init__(self, prompt_length: int):
            self.prompt_length = prompt_length

        def __call__(self, input_ids, scores, **kwargs):
            return newlines[input_ids[:, self.prompt_length:]].sum(dim=1) >= STOP_AFTER_NEWLINES

    def run(prompts: list[str], seed: int) -> Run:
        encoded = [tokenizer.encode(p, add_special_tokens=False).ids for p in prompts for _ in range(settings.candidates)]
        ids, mask = left_padded(encoded, lm.pad_id)
        longest = ids.shape[1]
        torch.manual_seed(seed)
        t0 = time.perf_counter()
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=mask, do_sample=True, temperature=settings.temperature,
                                 top_k=settings.top_k, top_p=settings.top_p,
                                 max_new_tokens=min(settings.max_new_tokens, lm.max_positions - longest),
                                 suppress_tokens=suppressed, stopping_criteria=StoppingCriteriaList([StopAfterIntro(longest)]),
                                 pad_token_id=lm.pad_id, eos_token_id=eos)
        seconds = time.perf_counter() - t0
        lengths = sampled_lengths(out[:, longest:].numpy(), eos_id=eos, newlines=lm.newlines)
        return Run(int(lengths.sum()), seconds, None)

    return run


# --------------------------------------------------------------------------------------------------
# Pairs
# --------------------------------------------------------------------------------------------------
def bench_constraints(writer: Copywriter) -> dict[str, Any]:
    """prompt -> the constraint the writer decodes it with, for every brief the bench uses (a prompt names
    the campaign, tone, mood and facts, which are all a constraint depends on)."""
    every = briefs(2000)
    return {writer.prompt_for(b): writer.constraint_for(b) for b in every}


def pair_batches(writer: Copywriter, repeats: int) -> list[tuple[list[str], list[str], int]]:
    """(prompts, warm-up prompts, pair seed) per pair: 10 briefs each, the same for every baseline."""
    prompts = lambda batch: [writer.prompt_for(b) for b in batch]  # noqa: E731
    return [(prompts(briefs(10, offset=500 + r * 10)), prompts(briefs(10, offset=900 + r * 10)), r) for r in range(repeats)]


def paired_speedup(onnx: Side, baseline: Side, batches: list[tuple[list[str], list[str], int]],
                   timed: int = TIMED_RUNS) -> dict:
    """ONNX and a baseline on the same batch, back to back, once per batch.

    Pairing keeps a noisy neighbour on the shared cores from landing on one side only; the speedup is the
    median of the per-pair ratios, the rates are medians too. Each side runs an untimed batch (another one)
    right before its timed ones: otherwise each side starts with caches the other side just filled, which is
    not how a Lambda container that only writes copy runs (measured: ONNX 30.5k -> 37.5k tokens/s,
    transformers 2.9k -> 3.35k; the ratio's median moved from 10.4 to 11.0-11.4).

    Each side then runs its batch `timed` times (same seeds, so the same tokens each time) and counts the
    median time. A pause of the shared machine costs a short run a larger share than a long one, and the
    ONNX side's batch is ~10x shorter than the baseline's: one timed run each let such pauses pull the ratio
    down (measured on one host: pairs from 6.0 to 11.7 around a median of 8.5-9.0).
    """
    onnx_runs, baseline_runs, first_ratios = [], [], []
    for prompts, warm_up, seed in batches:
        firsts = []
        for side, runs in ((onnx, onnx_runs), (baseline, baseline_runs)):
            side(warm_up, seed + 1000)
            repeats = [side(prompts, seed) for _ in range(timed)]
            runs.append(Run(repeats[0].tokens, statistics.median(r.seconds for r in repeats), repeats[0].token_ids))
            firsts.append(repeats[0].tokens / repeats[0].seconds)
        first_ratios.append(firsts[0] / firsts[1])
    ratios = [(o.tokens / o.seconds) / (b.tokens / b.seconds) for o, b in zip(onnx_runs, baseline_runs)]
    result = {
        "status": "ok",
        "speedup": round(statistics.median(ratios), 2),
        "speedup_range": [round(min(ratios), 2), round(max(ratios), 2)],
        "speedup_pairs": [round(r, 2) for r in ratios],
        "timed_runs": timed,  # per side and pair; the median time counts
        "speedup_first_run": round(statistics.median(first_ratios), 2),  # each side's first timed run alone
        "speedup_first_run_range": [round(min(first_ratios), 2), round(max(first_ratios), 2)],
        "onnx_tokens_per_s": round(statistics.median(o.tokens / o.seconds for o in onnx_runs), 1),
        "tokens_per_s": round(statistics.median(b.tokens / b.seconds for b in baseline_runs), 1),
        "onnx_tokens": [o.tokens for o in onnx_runs],  # per pair: tokens sampled over the batch's candidates
        "tokens": [b.tokens for b in baseline_runs],
        "pairs": len(ratios),
    }
    if baseline_runs[0].token_ids is not None:  # the same sampler and seeds: how often the same tokens came out
        same = [a == b for o, r in zip(onnx_runs, baseline_runs) for a, b in zip(o.token_ids, r.token_ids)]
        result["identical_share"] = round(sum(same) / len(same), 4)
        result["candidates_compared"] = len(same)
    return result


def load_teacher(spec: str):
    """(model, tokenizer) of the teacher in fp32, as build_copy_corpus.py loads it."""
    try:  # imported as scripts.<name> (tests) or run as a script (scripts/ on sys.path)
        from scripts.build_copy_corpus import load_teacher as load
    except ImportError:
        from build_copy_corpus import load_teacher as load

    return load(spec, ROOT / "build/copywriter/teacher_fp32")


def teacher_tokens_per_s(model, tokenizer, writer: Copywriter, new_tokens: int = 32) -> float:
    """The teacher writing copy directly (the no-distillation alternative): transformers, 10 prompts, one thread,
    `new_tokens` greedy tokens forced per prompt."""
    import torch

    torch.set_num_threads(1)
    prompts = [writer.prompt_for(b) for b in briefs(10)]
    batch = tokenizer(prompts, return_tensors="pt", padding=True)
    with torch.no_grad():
        model.generate(**batch, max_new_tokens=4, do_sample=False, pad_token_id=tokenizer.pad_token_id)  # warm-up
        t0 = time.perf_counter()
        model.generate(**batch, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                       pad_token_id=tokenizer.pad_token_id)
    return 10 * new_tokens / (time.perf_counter() - t0)


def teacher_baseline(config: BenchConfig, writer: Copywriter, onnx_batch_10_tokens_per_s: float, torch_missing: str | None) -> dict:
    described = {"precision": "fp32", "paired": False,
                 "decoding": "transformers generate(), greedy, 32 new tokens forced (min_new_tokens=32) on 10 prompts "
                             "(one row per brief, no candidates); ratio over ONNX batch_10 tokens_per_s"}
    if not config.teacher:
        return described | {"status": "missing", "reason": "skipped (--teacher '')"}
    if torch_missing:
        return described | {"status": "missing", "reason": torch_missing}
    try:
        model, tokenizer = load_teacher(config.teacher)
    except (SystemExit, OSError, ValueError) as error:  # not installed (load_teacher exits saying so), not found, bad name
        return described | {"status": "missing", "reason": f"teacher {config.teacher!r} could not be loaded: {error}"}
    rate = teacher_tokens_per_s(model, tokenizer, writer)
    return described | {"status": "ok", "tokens_per_s": round(rate, 1), "speedup": round(onnx_batch_10_tokens_per_s / rate, 1)}


def student_baselines(config: BenchConfig, writer: Copywriter, student_dir: Path, torch_missing: str | None) -> dict:
    """transformers_generate, torch_loop_fp32 and torch_loop_int8, each paired with the ONNX runtime."""
    lm, settings = writer.model, writer.settings
    described = {
        "transformers_generate": {"precision": "fp32", "decoding": "transformers generate(), do_sample; runtime's "
                                  "temperature/top-k/top-p, masked tokens suppressed, stop after the intro line; "
                                  "torch.manual_seed(pair seed); unconstrained: one forward pass per token (the "
                                  "ONNX side applies the phrasebook constraint and feeds the tokens it forces "
                                  "several per pass: jump-forward, see onnx_token_by_token)"},
        "torch_loop_fp32": {"precision": "fp32", "decoding": "the runtime's loop and numpy sampler on the student's "
                            "PyTorch forward, KV cache, same per-candidate seeds and phrasebook constraints as ONNX"},
        "torch_loop_int8": {"precision": TORCH_INT8, "decoding": "as torch_loop_fp32, on torch dynamic int8 "
                            "(Conv1D -> nn.Linear, quantize_dynamic qint8)"},
    }
    reason = torch_missing or missing_student_reason(student_dir)
    status = "missing"
    checked: list[str] = []
    if not reason:
        try:
            checked = check_same_student(student_dir, lm.meta)
        except ArtifactMismatchError as error:  # a stale student: the ONNX numbers still count, no ratio
            reason, status = str(error), "refused"
    if reason:
        return {name: d | {"status": status, "reason": reason} for name, d in described.items()}

    import torch

    torch.set_num_threads(1)
    model, tokenizer = load_student(student_dir)
    batches = pair_batches(writer, config.baseline_repeats)
    int8_model, int8_check = quantize_int8(model, tokenizer, batches[0][0], lm.pad_id)
    constraints = bench_constraints(writer)
    onnx = runtime_side(lm, settings, constraints)
    for r in range(WARM_EMAILS // 10):  # a warm container (module docstring); briefs no pair uses
        onnx([writer.prompt_for(b) for b in briefs(10, offset=1200 + r * 10)], 5000 + r)
    sides = {"transformers_generate": generate_side(model, tokenizer, lm, settings),
             "torch_loop_fp32": runtime_side(torch_loop_model(model, tokenizer, lm.meta), settings, constraints),
             "torch_loop_int8": runtime_side(torch_loop_model(int8_model, tokenizer, lm.meta), settings, constraints)}
    result = {name: described[name] | {"student_checked": checked} | paired_speedup(onnx, side, batches)
              for name, side in sides.items()}
    result["torch_loop_int8"]["int8_check"] = int8_check
    return result


def language_students(config: BenchConfig, writer: Copywriter) -> dict:
    """Each other language's student (layers/model/copywriter/languages/<language>/), timed as the writer runs it:
    ms per email at batch 10 over the same briefs (in that language), English's measured in the same rounds,
    interleaved; and its size. One student per language was chosen over one multilingual student by
    `multilingual_cost` below."""
    from nudge.copy.languages import LANGUAGE_PACKS

    out: dict = {}
    timed = {"en": writer} | {lang: writer.writer_for(lang) for lang in LANGUAGE_PACKS}
    timed = {lang: w for lang, w in timed.items() if w.model is not None}
    per_email: dict[str, list[float]] = {lang: [] for lang in timed}
    for lang, w in timed.items():  # warm-up
        w.write_batch([replace_language(b, lang) for b in briefs(10, offset=999)])
    for r in range(config.repeats):
        for lang, w in timed.items():
            batch = [replace_language(b, lang) for b in briefs(10, offset=r * 10)]
            t0 = time.perf_counter()
            w.write_batch(batch)
            per_email[lang].append((time.perf_counter() - t0) / 10)
    english = statistics.median(per_email["en"]) if "en" in per_email else None
    for lang, w in timed.items():
        size = sum(f["bytes"] for f in w.model.meta["files"].values())
        median = statistics.median(per_email[lang])
        out[lang] = {"model_version": w.model_version, "bytes": size, "vocab_size": w.model.meta["architecture"]["vocab_size"],
                     "parameters": w.model.meta["architecture"]["parameters"], "ms_per_email_p50": round(median * 1000, 1),
                     "vs_english": round(median / english, 2) if english else None}
    missing = [lang for lang in LANGUAGE_PACKS if lang not in timed]
    if missing:
        out["missing"] = {"languages": missing, "reason": "no student in layers/model/copywriter/languages/<language>/ "
                          "(make copywriter-languages); their emails get the language's reviewed copy"}
    return out


def replace_language(brief: CopyBrief, language: str) -> CopyBrief:
    from dataclasses import replace

    return replace(brief, language=language, seed_key=f"{brief.seed_key}:{language}")


def multilingual_cost(config: BenchConfig) -> dict:
    """What one multilingual student would cost against one per language, measured without training one: a
    byte-level BPE trained (as train_copywriter.py does) on every language's phrasebook lines together needs
    this many tokens; a student of the shipped shape with that vocabulary, exported through the same fused int8
    graph, takes this long per decode step against the English student's vocabulary (random weights: the time
    of a step does not depend on them). Needs torch and onnx (the training environment)."""
    try:
        import onnx  # noqa: F401
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from transformers import GPT2Config, GPT2LMHeadModel
    except ImportError as exc:
        return {"status": "missing", "reason": f"{exc.name} is not installed (run in .venv-train: make bench)"}
    import tempfile

    import onnx as onnx_lib
    import onnxruntime as ort

    sys.path.insert(0, str(ROOT / "scripts"))
    from copywriter_graph import decoder_graph
    from train_copywriter import train_tokenizer

    from nudge.copy.languages import COPY_LANGUAGES
    from nudge.copy.phrasebook import Phrasebook

    texts = {lang: [line.text for line in Phrasebook.load(lang).lines] for lang in COPY_LANGUAGES}
    vocab = {lang: train_tokenizer(lines, 4096).get_vocab_size() for lang, lines in texts.items()}
    union = train_tokenizer([t for lines in texts.values() for t in lines], 8192).get_vocab_size()
    english_meta = json.loads((ROOT / config.model_dir / "meta.json").read_text())["architecture"]
    rng = np.random.default_rng(0)
    step_ms = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, size in (("english_vocab", english_meta["vocab_size"]), ("multilingual_vocab", union)):
            torch.manual_seed(0)
            model = GPT2LMHeadModel(GPT2Config(vocab_size=size, n_positions=english_meta["n_positions"], n_embd=english_meta["n_embd"],
                                               n_layer=english_meta["n_layer"], n_head=english_meta["n_head"])).eval()
            fp32, int8 = Path(tmp) / f"{name}.onnx", Path(tmp) / f"{name}.int8.onnx"
            onnx_lib.save(decoder_graph(model), fp32)
            quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=False, reduce_range=True,
                             extra_options={"DefaultTensorType": onnx_lib.TensorProto.FLOAT})
            options = ort.SessionOptions()
            options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
            session = ort.InferenceSession(str(int8), options, providers=["CPUExecutionProvider"])
            rows, past, heads = 40, 50, english_meta["n_head"]
            head_dim = english_meta["n_embd"] // heads
            feeds = {"input_ids": rng.integers(1, size, (rows, 2)), "attention_mask": np.ones((rows, past + 2), np.int64),
                     "position_ids": np.tile(np.arange(past, past + 2), (rows, 1))}
            feeds |= {f"past_key_values.{i}.{k}": rng.standard_normal((rows, heads, past, head_dim)).astype(np.float32)
                      for i in range(english_meta["n_layer"]) for k in ("key", "value")}
            for _ in range(5):
                session.run(None, feeds)
            times = []
            for _ in range(config.repeats * 5):
                t0 = time.perf_counter()
                session.run(None, feeds)
                times.append((time.perf_counter() - t0) * 1000)
            step_ms[name] = {"vocab_size": size, "decode_step_ms_p50": round(statistics.median(times), 3),
                             "int8_bytes": int8.stat().st_size}
    return {"status": "ok", "vocab_per_language": vocab, "vocab_multilingual": union, "decode_step": step_ms,
            "step_ratio": round(step_ms["multilingual_vocab"]["decode_step_ms_p50"] / step_ms["english_vocab"]["decode_step_ms_p50"], 2),
            "shape": "40 rows, 2 new tokens, 50 cached positions, one thread, fused int8 graph, random weights"}


def main(config: BenchConfig) -> dict:
    model_dir = ROOT / config.model_dir
    load_at_start = round(os.getloadavg()[0], 2)
    writer = Copywriter.load(model_dir, threads=1)
    if writer.model is None:
        raise SystemExit(f"no model in {model_dir}; run scripts/export_copywriter.py first")
    lm = writer.model
    student_dir = ROOT / config.student_dir
    result: dict = {"model_version": writer.model_version, "candidates": writer.settings.candidates, "threads": 1,
                    "graph": lm.meta.get("export", {}).get("graph", "optimum"),
                    "onnx_precision": onnx_precision(lm.meta, student_meta(student_dir)),
                    "tokens_counted": "sampled tokens per candidate, a sampled end token included; no padding"}
    onnx = runtime_side(lm, writer.settings, bench_constraints(writer))
    for size in (1, 10):
        writer.write_batch(briefs(size, offset=999))  # warm-up
        per_email, rates = [], []
        for r in range(config.repeats):
            batch = briefs(size, offset=r * size)
            t0 = time.perf_counter()
            writer.write_batch(batch)
            per_email.append((time.perf_counter() - t0) / size)
            run = onnx([writer.prompt_for(b) for b in batch], r)
            rates.append(run.tokens / run.seconds)
        result[f"batch_{size}"] = {
            "ms_per_email_p50": round(statistics.median(per_email) * 1000, 1),
            "emails_per_s": round(1 / statistics.median(per_email), 2),
            "tokens_per_s": round(statistics.median(rates), 1),
        }
    result.update(cold_start(model_dir))

    try:
        import torch  # noqa: F401

        torch_missing = None
    except ImportError:  # the runtime venv: no baselines, the ONNX numbers still count
        torch_missing = "torch is not installed (run in .venv-train: make bench)"
    result["baseline_student"] = str(student_dir.relative_to(ROOT)) if student_dir.is_relative_to(ROOT) else str(student_dir)
    baselines = student_baselines(config, writer, student_dir, torch_missing)
    baselines["teacher"] = teacher_baseline(config, writer, result["batch_10"]["tokens_per_s"], torch_missing)
    baselines["onnx_token_by_token"] = {  # an ablation: what jump-forward adds, on the shipped graph
        "precision": result["onnx_precision"], "status": "ok",
        "decoding": "the shipped ONNX runtime with jump_forward=False: one forward pass per token, forced or not"} | \
        paired_speedup(onnx, runtime_side(lm, writer.settings, bench_constraints(writer), jump_forward=False),
                       pair_batches(writer, config.baseline_repeats))
    result["baselines"] = baselines
    for key, name in (("speedup_vs_transformers", "transformers_generate"), ("speedup_vs_torch_loop_fp32", "torch_loop_fp32"),
                      ("speedup_vs_torch_loop_int8", "torch_loop_int8"), ("speedup_vs_teacher_transformers", "teacher")):
        result[key] = baselines[name].get("speedup")  # None only with baselines[name]["reason"] saying why
    result["languages"] = language_students(config, writer)
    result["multilingual_alternative"] = multilingual_cost(config)
    result["load_average_1min"] = {"start": load_at_start, "end": round(os.getloadavg()[0], 2)}  # 2 shared cores: read numbers with this
    out = ROOT / config.out_json
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


def summary(result: dict) -> str:
    """The headline numbers, then one line per baseline (precision, rates, tokens, ratio or the reason)."""
    lines = [f"model {result['model_version']}, ONNX {result['onnx_precision']}, {result['candidates']} candidates, 1 thread"]
    for size in (1, 10):
        b = result[f"batch_{size}"]
        lines.append(f"batch {size:>2}: {b['ms_per_email_p50']} ms per email p50, {b['tokens_per_s']:,} tokens/s")
    load = result["load_average_1min"]
    lines.append(f"cold start {result['cold_start_s']} s, peak RSS {result['peak_rss_mb']} MB, "
                 f"1-min load average {load['start']} at start, {load['end']} at end")
    lines.append(f"{'speedup vs':<24} {'precision':<28} {'ratio (range)':>18} {'tokens/s':>10} {'ONNX tok/s':>11}  tokens (ONNX)")
    for name, b in result["baselines"].items():
        if b.get("speedup") is None:
            lines.append(f"{name:<24} {b['precision']:<28} {b['status']}: {b['reason']}")
            continue
        spread = f" ({b['speedup_range'][0]}-{b['speedup_range'][1]})" if "speedup_range" in b else ""
        tokens = f"{sum(b['tokens'])} ({sum(b['onnx_tokens'])})" if "tokens" in b else "-"
        identical = f", identical {b['identical_share']:.0%}" if "identical_share" in b else ""
        identical += f"; first run only {b['speedup_first_run']}" if "speedup_first_run" in b else ""
        lines.append(f"{name:<24} {b['precision']:<28} {str(b['speedup']) + spread:>18} {b['tokens_per_s']:>10,} "
                     f"{b.get('onnx_tokens_per_s', result['batch_10']['tokens_per_s']):>11,}  {tokens}{identical}")
    languages = {k: v for k, v in result.get("languages", {}).items() if k != "missing"}
    if languages:
        lines.append(f"{'language':<10} {'ms/email p50':>13} {'vs en':>6} {'MB':>6} {'vocab':>6}  (batch 10, one student each)")
        for lang, b in languages.items():
            lines.append(f"{lang:<10} {b['ms_per_email_p50']:>13} {b['vs_english']:>6} {b['bytes'] / 1e6:>6.2f} {b['vocab_size']:>6}")
    if "missing" in result.get("languages", {}):
        lines.append(f"no student yet: {result['languages']['missing']['languages']}")
    multi = result.get("multilingual_alternative", {})
    if multi.get("status") == "ok":
        lines.append(f"one multilingual student instead: vocabulary {multi['vocab_multilingual']} (per language "
                     f"{min(multi['vocab_per_language'].values())}-{max(multi['vocab_per_language'].values())}), "
                     f"decode step {multi['step_ratio']}x the English student's")
    elif multi:
        lines.append(f"multilingual alternative: {multi['status']}: {multi['reason']}")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name, default in asdict(BenchConfig()).items():
        parser.add_argument("--" + name.replace("_", "-"), type=type(default), default=default)
    print(summary(main(BenchConfig(**vars(parser.parse_args())))))
