"""Train the copywriter student: a small GPT2LMHeadModel on the guardrail-accepted corpus.

Inputs : build/copywriter/corpus/corpus.jsonl (scripts/build_copy_corpus.py)
         optionally --init-from DIR: a local GPT-2 checkpoint (distilgpt2, or your own) to fine-tune
Outputs: build/copywriter/student/
           ckpt.pt            resumable training state (model, optimizer, step), rewritten every
                              `checkpoint_every` steps; re-running the same command continues from it
           final/             save_pretrained() model + tokenizer.json + train_meta.json

Sequence-level distillation: the corpus is (reviewed + teacher) text, the student learns to write
it given the prompt of nudge.copy.prompt; loss on the completion tokens only. With
`--distill-alpha > 0` and a student that shares the teacher's tokenizer (`--tokenizer` pointing to
the teacher's tokenizer.json), a token-level KL term against the teacher's next-token distribution
is added (teacher forward passes only).

Run: .venv-train/bin/python scripts/train_copywriter.py   (defaults are the shipped run)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "runtime"))  # scripts run from a checkout; the runtime is not installed

import torch  # noqa: E402
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: E402
from tqdm import tqdm  # noqa: E402

from nudge.copy.guardrails import SLOTS  # noqa: E402
from nudge.copy.prompt import build_prompt, format_completion  # noqa: E402

EOS = "<|endoftext|>"


@dataclass
class TrainConfig:
    corpus: str = "build/copywriter/corpus/corpus.jsonl"
    out_dir: str = "build/copywriter/student"
    init_from: str = ""  # a local checkpoint folder (e.g. distilgpt2); empty: a fresh model of the size below
    tokenizer: str = "corpus"  # "corpus": train a byte-level BPE on the corpus; or a tokenizer.json path (the teacher's)
    vocab_size: int = 4096  # for "corpus": the LM head is vocab x n_embd, the largest matmul per step
    # Size chosen by measurement (docs/COPYWRITER.md): 4 x 128 trained 2,400 steps reached a lower held-out loss
    # (0.178) than 4 x 256 trained 900 steps (0.190) in the same ~8 minutes, and decodes ~2x faster
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    n_positions: int = 160  # prompt (~16 tokens) + completion (<= ~110 tokens)
    dropout: float = 0.1
    batch_size: int = 16
    max_steps: int = 2400  # ~2 epochs of the 18,000-example phrasebook corpus; ~8 min on one idle core
    learning_rate: float = 1e-3  # for a fresh model; use ~1e-4 with --init-from
    min_lr_ratio: float = 0.1  # cosine decay down to learning_rate * this
    warmup_steps: int = 50
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    eval_every: int = 150
    eval_fraction: float = 0.04  # held-out share of the corpus
    checkpoint_every: int = 50
    distill_alpha: float = 0.0  # weight of the token-level KL to the teacher (0: sequence-level only)
    distill_temperature: float = 2.0
    teacher: str = "smollm2"  # as in build_copy_corpus.py; used only when distill_alpha > 0
    seed: int = 1234
    threads: int = 1  # torch threads; the build box has 2 shared cores


def read_corpus(path: Path) -> list[dict]:
    return [json.loads(line) for line in open(path, encoding="utf-8")]


def example_texts(example: dict) -> tuple[str, str]:
    prompt = build_prompt(
        campaign_type=example["campaign_type"], tone=example["tone"], sentiment=example.get("sentiment", "neutral"),
        categories=tuple(example.get("categories", ())), history_categories=tuple(example.get("history_categories", ())),
        facts=frozenset(example.get("facts", ())),
    )
    return prompt, format_completion(subject=example["subject"], preheader=example["preheader"], intro=example["intro"])


def train_tokenizer(texts: list[str], vocab_size: int) -> Tokenizer:
    """Byte-level BPE (any text encodes) with the slots as single added tokens."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=2, special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    tokenizer.add_tokens(["{" + s + "}" for s in SLOTS])
    return tokenizer


def load_student(config: TrainConfig, texts: list[str]):
    """(model, tokenizer, eos_id): from --init-from, or fresh with a corpus or given tokenizer."""
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    if config.init_from:
        source = Path(config.init_from)
        if (source / "tokenizer.json").is_file():
            tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
        else:
            tokenizer = AutoTokenizer.from_pretrained(str(source)).backend_tokenizer
        model = GPT2LMHeadModel.from_pretrained(str(source))
        tokenizer.add_tokens(["{" + s + "}" for s in SLOTS])
        if tokenizer.get_vocab_size() > model.config.vocab_size:
            model.resize_token_embeddings(tokenizer.get_vocab_size())
    else:
        if config.tokenizer == "corpus":
            tokenizer = train_tokenizer(texts, config.vocab_size)
        else:
            tokenizer = Tokenizer.from_file(config.tokenizer)
        model = GPT2LMHeadModel(
            GPT2Config(
                vocab_size=tokenizer.get_vocab_size(), n_positions=config.n_positions, n_embd=config.n_embd,
                n_layer=config.n_layer, n_head=config.n_head, resid_pdrop=config.dropout,
                embd_pdrop=config.dropout, attn_pdrop=config.dropout, tie_word_embeddings=True,
            )
        )
    eos_id = tokenizer.token_to_id(EOS)
    if eos_id is None:
        raise SystemExit(f"the tokenizer has no {EOS} token; a GPT-2 style end token is required")
    model.config.eos_token_id = model.config.bos_token_id = model.config.pad_token_id = eos_id
    return model, tokenizer, eos_id


def encode(examples: list[dict], tokenizer: Tokenizer, eos_id: int, max_len: int) -> list[tuple[list[int], int]]:
    """(token ids, prompt length) per example; prompt and completion encoded apart, as at run time."""
    out = []
    for example in examples:
        prompt, completion = example_texts(example)
        p = tokenizer.encode(prompt, add_special_tokens=False).ids
        c = tokenizer.encode(completion, add_special_tokens=False).ids + [eos_id]
        if len(p) + len(c) <= max_len:
            out.append((p + c, len(p)))
    return out


def collate(rows: list[tuple[list[int], int]], pad_id: int) -> dict[str, torch.Tensor]:
    longest = max(len(ids) for ids, _ in rows)
    input_ids = torch.full((len(rows), longest), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), longest), -100, dtype=torch.long)  # loss on the completion only
    attention = torch.zeros((len(rows), longest), dtype=torch.long)
    for i, (ids, prompt_len) in enumerate(rows):
        input_ids[i, : len(ids)] = torch.tensor(ids)
        labels[i, prompt_len : len(ids)] = torch.tensor(ids[prompt_len:])
        attention[i, : len(ids)] = 1
    return {"input_ids": input_ids, "labels": labels, "attention_mask": attention}


def lr_at(step: int, config: TrainConfig) -> float:
    if step < config.warmup_steps:
        return config.learning_rate * (step + 1) / config.warmup_steps
    progress = min(1.0, (step - config.warmup_steps) / max(1, config.max_steps - config.warmup_steps))
    floor = config.learning_rate * config.min_lr_ratio
    return floor + (config.learning_rate - floor) * 0.5 * (1 + math.cos(math.pi * progress))


@torch.no_grad()
def evaluate(model, rows, pad_id: int, batch_size: int) -> float:
    """Mean completion-token cross-entropy (nats) on held-out rows."""
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(rows), batch_size):
        batch = collate(rows[start : start + batch_size], pad_id)
        n = int((batch["labels"][:, 1:] != -100).sum())
        total += float(model(**batch).loss) * n
        count += n
    model.train()
    return total / max(count, 1)


def main(config: TrainConfig) -> dict:
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    out_dir = ROOT / config.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    corpus_path = ROOT / config.corpus
    examples = read_corpus(corpus_path)
    corpus_sha = hashlib.sha256(corpus_path.read_bytes()).hexdigest()
    random.Random(config.seed).shuffle(examples)
    n_eval = max(1, int(len(examples) * config.eval_fraction))
    texts = [p + c for p, c in map(example_texts, examples)]
    model, tokenizer, eos_id = load_student(config, texts)
    max_len = model.config.n_positions
    eval_rows = encode(examples[:n_eval], tokenizer, eos_id, max_len)
    train_rows = encode(examples[n_eval:], tokenizer, eos_id, max_len)

    teacher = None
    if config.distill_alpha > 0:
        try:  # imported as scripts.<name> (tests) or run as a script (scripts/ on sys.path)
            from scripts.build_copy_corpus import load_teacher
        except ImportError:
            from build_copy_corpus import load_teacher

        teacher, teacher_tokenizer = load_teacher(config.teacher, ROOT / "build/copywriter/teacher_fp32")
        if teacher_tokenizer.backend_tokenizer.get_vocab() != tokenizer.get_vocab():
            raise SystemExit("token-level distillation needs the teacher's tokenizer: pass --tokenizer <teacher tokenizer.json>")

    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay, betas=(0.9, 0.95))
    step, history = 0, []
    ckpt_path = out_dir / "ckpt.pt"
    if ckpt_path.is_file():
        state = torch.load(ckpt_path, weights_only=False)
        if state["config"] != asdict(config) or state["corpus_sha256"] != corpus_sha:
            raise SystemExit(f"{ckpt_path} was written with another config or corpus; delete it to start over")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, history = state["step"], state["history"]
        tokenizer = Tokenizer.from_str(state["tokenizer"])

    def batch_for(step_index: int) -> list[tuple[list[int], int]]:
        per_epoch = max(1, len(train_rows) // config.batch_size)
        epoch, offset = divmod(step_index, per_epoch)
        order = list(range(len(train_rows)))
        random.Random(config.seed + epoch).shuffle(order)  # deterministic order: resuming replays the same batches
        return [train_rows[i] for i in order[offset * config.batch_size : (offset + 1) * config.batch_size]]

    model.train()
    started = time.monotonic()
    tokens_seen = 0
    bar = tqdm(total=config.max_steps, initial=step, desc="train")
    while step < config.max_steps:
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, config)
        batch = collate(batch_for(step), eos_id)
        out = model(**batch)
        loss = out.loss
        if teacher is not None:
            with torch.no_grad():
                teacher_logits = teacher(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            mask = (batch["labels"][:, 1:] != -100).float()
            t = config.distill_temperature
            student_logp = torch.log_softmax(out.logits[:, :-1] / t, dim=-1)
            teacher_p = torch.softmax(teacher_logits[:, :-1, : out.logits.shape[-1]] / t, dim=-1)
            kl = (teacher_p * (torch.log(teacher_p + 1e-9) - student_logp)).sum(-1)
            loss = (1 - config.distill_alpha) * loss + config.distill_alpha * (t * t) * (kl * mask).sum() / mask.sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        step += 1
        tokens_seen += int(batch["attention_mask"].sum())
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.3f}", tok_s=f"{tokens_seen / (time.monotonic() - started):.0f}")
        if step % config.eval_every == 0 or step == config.max_steps:
            history.append({"step": step, "train_loss": round(loss.item(), 4),
                            "eval_loss": round(evaluate(model, eval_rows, eos_id, config.batch_size), 4)})
            tqdm.write(json.dumps(history[-1]))
        if step % config.checkpoint_every == 0 or step == config.max_steps:
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                        "history": history, "config": asdict(config), "corpus_sha256": corpus_sha,
                        "tokenizer": tokenizer.to_str()}, ckpt_path)
    bar.close()

    final = out_dir / "final"
    final.mkdir(parents=True, exist_ok=True)
    model.eval()
    model.save_pretrained(final)
    tokenizer.save(str(final / "tokenizer.json"))
    meta = {
        "config": asdict(config),
        "corpus_sha256": corpus_sha,
        "corpus_examples": len(examples),
        "train_rows": len(train_rows),
        "eval_rows": len(eval_rows),
        "eos_token_id": eos_id,
        "parameters": sum(p.numel() for p in model.parameters()),
        "history": history,
        "final_eval_loss": history[-1]["eval_loss"] if history else None,
        "train_seconds_this_run": round(time.monotonic() - started, 1),
    }
    (final / "train_meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name, default in asdict(TrainConfig()).items():
        parser.add_argument("--" + name.replace("_", "-"), type=type(default), default=default)
    result = main(TrainConfig(**vars(parser.parse_args())))
    print(json.dumps({k: result[k] for k in ("parameters", "final_eval_loss", "train_rows")}, indent=2))
