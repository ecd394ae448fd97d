"""ONNX text generation for the copywriter: numpy + onnxruntime + tokenizers, nothing else.

The model is a GPT-2 exported by `scripts/export_copywriter.py`, either as the fused decoder graph
of `scripts/copywriter_graph.py` (what ships: its `logits` are log-softmax normalized, meta.json
`export.logits`) or as optimum's `text-generation-with-past` graph. Both take `input_ids`,
`attention_mask`, `position_ids` and `past_key_values.{i}.key|value` and return `logits` and
`present.{i}.*`.

Generation is batched across briefs: prompts are left-padded, the padding is masked out and
position ids count only real tokens, so a prompt yields the same logits alone or in a batch (up to
float rounding). The prompt is run once per brief and its KV cache is repeated for each candidate.
A finished row is no longer sampled, and finished rows leave the batch (their cache rows dropped)
once they are half of it. Sampling (temperature, top-k, top-p) draws from one numpy Generator per
candidate, seeded by the caller, one draw per choice the row makes, so the same seed gives the same
text whatever else is in the batch (up to the float rounding of int8 activations, which are
quantized per batch).

Jump-forward: with a constraint (nudge.copy.constraint), a token that is the only one allowed is
not a choice. It is written at once, with the whole run of forced tokens after a choice (about 3 in
4 tokens of a phrasebook email), and queued tokens are fed several per forward pass, left-padded
inside the pass and masked like the prompt's padding; a row's logits are read only once its queue
is empty. The pass width is the one that feeds the most tokens per unit of cost
(`FEED_OVERHEAD_TOKENS`, `FEED_ROW_OVERHEAD`, measured). Measured on the shipped graph, batch 10 x 3 candidates: 31
passes instead of 83, 1.5-1.7x the tokens per second.

Tokens that could only produce a guardrail violation (digits, markup, `%`, `@`, `$`, `/`) are
masked out before sampling; the guardrails still check every result.

>>> lm = OnnxLanguageModel.load("layers/model/copywriter")  # doctest: +SKIP
>>> lm.generate(["loyalty grateful neutral | mugs | none\\nSubject:"], seeds=[[1, 2]])[0][0].text  # doctest: +SKIP
' Thank you, {first_name}\\nPreheader: ...'
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nudge.errors import ArtifactMismatchError

ARTIFACT_NAME = "nudge-copywriter"
SCHEMA_VERSION = 1
PROMPT_FORMAT = 3  # bump with any change to nudge.copy.prompt (2: one compact line instead of five labelled ones; 3: + the facts the customer has)
STOP_AFTER_NEWLINES = 3  # subject, preheader and intro lines each end with a newline
# Jump-forward: a token the constraint forces (the only one allowed) is written without sampling and fed
# with its neighbours in one pass. A pass costs FEED_OVERHEAD_TOKENS + FEED_ROW_OVERHEAD x rows row-tokens
# on top of rows x width of them: each row's KV cache is copied once a pass whatever the width. Session 11,
# last-position graph (one thread, 20-40 rows, 40-80 cached positions): 50-120 row-tokens a pass, growing
# with the rows; end to end on the bench's batches 20 + 2 x rows gave 1.03-1.06x the tokens per second of
# the constant 38 measured on the all-positions graph (three arms in rotating order, warm constraint caches).
FEED_OVERHEAD_TOKENS = 20
FEED_ROW_OVERHEAD = 2
MAX_FEED_WIDTH = 16
DRAWS_AHEAD = 24  # uniform draws per row taken from its Generator at a time (a phrasebook email makes ~15 choices)
MAX_RUN_FACTS = 100_000  # forced runs whose bookkeeping a container keeps (a few hundred bytes each)
_MASKED_CHARS = re.compile(r"[0-9<>&%@$/\\#|]|http|www", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Sample:
    text: str  # the completion, without the prompt
    token_ids: tuple[int, ...]
    mean_logprob: float  # mean log p(token) under the untempered model, nats per token
    finished: bool  # stopped on the end token or after the intro line, not on max_new_tokens


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_meta(model_dir: Path) -> dict[str, Any]:
    """meta.json of a copywriter artifact, checked against what this runtime can run."""
    meta_path = model_dir / "meta.json"
    if not meta_path.is_file():
        raise ArtifactMismatchError(f"{meta_path} is missing; expected the meta.json written by export_copywriter.py")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    expected = {"artifact": ARTIFACT_NAME, "schema_version": SCHEMA_VERSION, "prompt_format": PROMPT_FORMAT}
    for key, want in expected.items():
        if meta.get(key) != want:
            raise ArtifactMismatchError(f"{meta_path}: expected {key}={want!r}, got {meta.get(key)!r}")
    for name, info in meta.get("files", {}).items():
        path = model_dir / name
        if not path.is_file():
            raise ArtifactMismatchError(f"{path} is listed in meta.json but missing")
        if path.stat().st_size != info["bytes"]:
            raise ArtifactMismatchError(f"{path}: expected {info['bytes']} bytes, got {path.stat().st_size}")
        if sha256_file(path) != info["sha256"]:
            raise ArtifactMismatchError(f"{path}: sha256 differs from meta.json (expected {info['sha256'][:12]}…)")
    for name in ("model.onnx", "tokenizer.json"):
        if name not in meta.get("files", {}):
            raise ArtifactMismatchError(f"{meta_path}: expected {name} under files, got {sorted(meta.get('files', {}))}")
    return meta


class OnnxLanguageModel:
    """A KV-cached causal LM in ONNX with its tokenizer; `generate` is batched and seeded."""

    def __init__(self, session: Any, tokenizer: Any, meta: dict[str, Any]):
        self.session = session
        self.tokenizer = tokenizer
        self.meta = meta
        arch = meta["architecture"]
        self.n_layer, self.n_head = int(arch["n_layer"]), int(arch["n_head"])
        self.head_dim = int(arch["n_embd"]) // self.n_head
        self.max_positions = int(arch["n_positions"])
        self.eos_id = int(meta["tokenizer"]["eos_token_id"])
        self.pad_id = int(meta["tokenizer"].get("pad_token_id", self.eos_id))
        self.input_names = {i.name for i in session.get_inputs()}
        self.output_names = [o.name for o in session.get_outputs()]
        layer_kinds = [(i, kind) for i in range(self.n_layer) for kind in ("key", "value")]
        self.past_names = [f"past_key_values.{i}.{kind}" for i, kind in layer_kinds]
        self.present_names = [f"present.{i}.{kind}" for i, kind in layer_kinds]
        if not set(self.past_names) <= self.input_names or "input_ids" not in self.input_names:
            raise ArtifactMismatchError(
                f"model.onnx inputs {sorted(self.input_names)} do not match meta.json "
                f"(expected input_ids and past_key_values.0..{self.n_layer - 1})"
            )
        self.vocab_size = vocab_size = int(arch["vocab_size"])
        self.newlines = np.zeros(vocab_size, dtype=np.int64)  # newlines each token emits
        self.masked = np.zeros(vocab_size, dtype=bool)  # tokens never sampled
        for token, token_id in tokenizer.get_vocab(with_added_tokens=True).items():
            if token_id >= vocab_size:
                continue
            text = token.replace("Ċ", "\n")  # byte-level BPE spells "\n" as "Ċ"
            self.newlines[token_id] = text.count("\n")
            self.masked[token_id] = bool(_MASKED_CHARS.search(text))
        for token_id, added in tokenizer.get_added_tokens_decoder().items():
            if added.special and token_id != self.eos_id and token_id < vocab_size:
                self.masked[token_id] = True  # pad, chat markers: never part of copy
        self.masked[self.eos_id] = False  # "<|endoftext|>" has markup characters but must stay sampleable
        self.mask_bias = np.where(self.masked, -np.inf, 0.0).astype(np.float32)
        self.special = self.masked | (np.arange(vocab_size) == self.eos_id)  # written token by token, never in a run
        # the fused graph emits log-softmax normalized logits; optimum's graph raw ones
        self.normalized = meta.get("export", {}).get("logits") == "log_softmax"
        # id(forced run) -> (the run, has a special token, its newlines so far per token, where it writes its n-th
        # newline): a phrasebook constraint caches its runs, so each is worked out once per container, not per row
        self._run_facts: dict[int, tuple[np.ndarray, bool, list[int], list[int]]] = {}

    @classmethod
    def load(cls, model_dir: str | Path, *, threads: int = 1) -> OnnxLanguageModel:
        """Check meta.json and the files it lists, then open the session and the tokenizer."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model_dir = Path(model_dir)
        meta = read_meta(model_dir)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads  # Lambda gets ~1 vCPU per 1,769 MB; 1 thread avoids oversubscription
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(str(model_dir / "model.onnx"), options, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        return cls(session, tokenizer, meta)

    @property
    def model_version(self) -> str:
        return str(self.meta["model_version"])

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def _run(self, feeds: dict[str, np.ndarray], top_k: int, scored: np.ndarray, bias: np.ndarray | None,
             allowed: list[np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """One forward pass: the top-k candidates at the last position of each `scored` row, and the new KV cache.

        Candidates are (log-probabilities, token ids), both (len(scored), k), unordered; tokens whose `bias`
        (len(scored), vocab) is -inf never appear unless fewer than k tokens are allowed (then with -inf).
        With `allowed` (every row constrained: each scored row's allowed token ids), only those are looked at.
        """
        feeds = {k: v for k, v in feeds.items() if k in self.input_names}
        named = dict(zip(self.output_names, self.session.run(None, feeds)))
        last = named["logits"][scored, -1, :]
        values, ids = self._top_k(last, top_k, bias) if allowed is None else self._top_k_of(last, top_k, allowed)
        return values, ids, [named[name] for name in self.present_names]

    def _log_probs(self, logits: np.ndarray) -> np.ndarray:
        """Log-softmax over the vocabulary; the fused graph already emits it (meta.json `export.logits`)."""
        if self.normalized:
            return logits
        peak = logits.max(axis=1, keepdims=True)
        return logits - (peak + np.log(np.exp(logits - peak).sum(axis=1, keepdims=True)))

    def _top_k_of(self, logits: np.ndarray, top_k: int, allowed: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """`_top_k` when every row may take only a few tokens: the same candidates, without a pass over the
        vocabulary (measured: argpartition over every row's -inf-masked vocabulary was 15% of a constrained
        batch). Rows with fewer than k allowed tokens are padded with -inf, which is never sampled.

        Every row's allowed tokens are scored in one gather (a loop over rows was 5% of a batch); only a row
        with more than k allowed tokens is cut to its k best on its own.
        """
        logits = self._log_probs(logits)
        counts = np.fromiter((len(tokens) for tokens in allowed), dtype=np.int64, count=len(allowed))
        k = max(1, min(top_k, self.vocab_size, int(counts.max(initial=0))))  # no column only -inf could fill
        values = np.full((len(allowed), k), -np.inf, dtype=np.float32)
        ids = np.full((len(allowed), k), self.eos_id, dtype=np.int64)
        if not counts.any():
            return values, ids
        tokens = np.concatenate(allowed)
        rows = np.repeat(np.arange(len(allowed)), counts)
        slots = np.arange(len(tokens)) - np.repeat(np.cumsum(counts) - counts, counts)  # position within its row
        scores = logits[rows, tokens] + self.mask_bias[tokens]
        fits = slots < k
        values[rows[fits], slots[fits]], ids[rows[fits], slots[fits]] = scores[fits], tokens[fits]
        for row in np.flatnonzero(counts > k):  # more allowed than k: its k best
            mine = rows == row
            best = np.argpartition(scores[mine], counts[row] - k)[counts[row] - k :]
            values[row], ids[row] = scores[mine][best], tokens[mine][best]
        return values, ids

    def _top_k(self, logits: np.ndarray, top_k: int, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each row's k best allowed tokens with their log-probabilities (unordered).

        numpy's argpartition, not onnxruntime's TopK inside the graph: measured end to end, a TopK node
        made a batch of 10 emails ~15% slower (28.5k vs 33.5k tokens/s) than this.
        """
        n_rows, vocab = logits.shape
        logits = self._log_probs(logits)
        scores = logits + bias[:, :vocab]
        k = min(top_k, vocab)
        ids = np.argpartition(scores, vocab - k, axis=1)[:, vocab - k :]
        return scores[np.arange(n_rows)[:, None], ids], ids

    def _step(self, feeds: dict[str, np.ndarray], top_k: int, scored: np.ndarray, constraints: list[Any], states: list[Any],
              every_row_constrained: bool) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """One forward pass and the candidates of the rows that choose next (`scored`: their indices in the pass;
        `constraints` and `states`: theirs); the others still have tokens queued, or have stopped."""
        if every_row_constrained:
            return self._run(feeds, top_k, scored, None, [c.allowed(s) for c, s in zip(constraints, states)])
        return self._run(feeds, top_k, scored, self._bias(constraints, states))

    def _bias(self, constraints: list[Any], states: list[Any]) -> np.ndarray:
        """(rows, vocab) added to the log-probabilities: 0 where a token may be sampled, -inf elsewhere."""
        bias = np.tile(self.mask_bias, (len(states), 1))
        for row, (constraint, state) in enumerate(zip(constraints, states)):
            if constraint is not None:
                allowed = constraint.allowed(state)
                bias[row] = -np.inf
                bias[row, allowed] = self.mask_bias[allowed]
        return bias

    @staticmethod
    def _feed_width(queued: np.ndarray) -> int:
        """How many queued tokens each row is fed in the next forward pass: the width that feeds the most
        tokens per unit of cost, a pass costing FEED_OVERHEAD_TOKENS + rows x (FEED_ROW_OVERHEAD + width) (padding
        included).

        >>> OnnxLanguageModel._feed_width(np.array([1, 1, 1]))  # nothing forced: one token each
        1
        >>> OnnxLanguageModel._feed_width(np.array([6, 6, 1]))  # long forced runs: fed in one pass
        6
        """
        widths = np.arange(1, min(int(queued.max()), MAX_FEED_WIDTH) + 1)
        fed = np.minimum(queued[:, None], widths).sum(axis=0)
        return int(widths[np.argmax(fed / (FEED_OVERHEAD_TOKENS + len(queued) * (FEED_ROW_OVERHEAD + widths)))])

    def _past_feeds(self, presents: list[np.ndarray]) -> dict[str, np.ndarray]:
        return dict(zip(self.past_names, presents))

    def generate(
        self,
        prompts: list[str],
        *,
        seeds: list[list[int]],
        max_new_tokens: int = 96,
        temperature: float = 0.8,
        top_k: int = 40,
        top_p: float = 0.92,
        constraints: list[Any] | None = None,
        jump_forward: bool = True,
    ) -> list[list[Sample]]:
        """`len(seeds[i])` samples for prompt i, one per seed; temperature 0 is greedy.

        `constraints[i]` (a nudge.copy.constraint.PhrasebookConstraint, or None): prompt i's samples
        may only take the tokens it allows at each step, on top of the model's masked tokens.
        """
        if len(prompts) != len(seeds):
            raise ValueError(f"expected one seed list per prompt, got {len(prompts)} prompts and {len(seeds)} seed lists")
        if not prompts:
            return []
        encoded = [self.encode(p) for p in prompts]
        longest = max(len(ids) for ids in encoded)
        max_new_tokens = min(max_new_tokens, self.max_positions - longest)
        n_prompts = len(prompts)

        # Prefill: each prompt once, left-padded. Shapes: (n_prompts, longest).
        input_ids = np.full((n_prompts, longest), self.pad_id, dtype=np.int64)
        attention = np.zeros((n_prompts, longest), dtype=np.int64)
        for row, ids in enumerate(encoded):
            input_ids[row, longest - len(ids) :] = ids
            attention[row, longest - len(ids) :] = 1
        positions = np.clip(np.cumsum(attention, axis=1) - 1, 0, None)
        empty = np.zeros((n_prompts, self.n_head, 0, self.head_dim), dtype=np.float32)
        feeds = {"input_ids": input_ids, "attention_mask": attention, "position_ids": positions}
        feeds.update(self._past_feeds([empty] * len(self.past_names)))
        top_k = max(1, min(top_k, self.vocab_size))
        constraints = list(constraints or [None] * n_prompts)
        starts = [c.start() if c is not None else None for c in constraints]
        every_row_constrained = all(c is not None for c in constraints)
        values, ids, presents = self._step(feeds, top_k, np.arange(n_prompts), constraints, starts, every_row_constrained)

        # Repeat each prompt's cache once per candidate. Rows: (total candidates,).
        owner = np.repeat(np.arange(n_prompts), [len(s) for s in seeds])
        values, ids = values[owner], ids[owner]
        presents = [p[owner] for p in presents]
        row_constraints = [constraints[o] for o in owner]  # per global row
        states = [starts[o] for o in owner]
        attention = attention[owner]
        next_position = positions[owner, -1] + 1
        rngs = [np.random.default_rng(seed) for row_seeds in seeds for seed in row_seeds]
        rows = len(rngs)
        # Each row's uniform draws, taken in order, one per choice: its Generator's stream, drawn ahead in blocks
        # (the same numbers as one rng.random() per choice, without a Python call per row and choice)
        draws = np.array([rng.random(DRAWS_AHEAD) for rng in rngs]).reshape(rows, DRAWS_AHEAD)
        draws_used = np.zeros(rows, dtype=np.int64)

        generated = np.zeros((rows, max(max_new_tokens, 1)), dtype=np.int64)
        lengths = np.zeros(rows, dtype=np.int64)
        logprob_sum = np.zeros(rows)
        scored = np.zeros(rows, dtype=np.int64)  # tokens sampled from the model's scores (not forced)
        newline_count = np.zeros(rows, dtype=np.int64)
        finished = np.zeros(rows, dtype=bool)
        stopped = np.zeros(rows, dtype=bool)  # finished, or out of max_new_tokens
        # A row's feed queue is generated[g, fed_count[g] : lengths[g]]: written, not yet fed (none once stopped)
        fed_count = np.zeros(rows, dtype=np.int64)

        def write(g: int, token: int) -> None:
            """Append one token to global row g's completion (its stops, its constraint; so its feed queue)."""
            if token == self.eos_id:
                finished[g] = stopped[g] = True
                return
            generated[g, lengths[g]] = token
            lengths[g] += 1
            newline_count[g] += self.newlines[token]
            if row_constraints[g] is not None:
                states[g] = row_constraints[g].advance(states[g], token)
            settle(g)

        def settle(g: int) -> None:
            """Row g's stops after it wrote (a stopped row is not fed again)."""
            finished[g] = newline_count[g] >= STOP_AFTER_NEWLINES
            stopped[g] = finished[g] or lengths[g] >= max_new_tokens

        run_facts = self._run_facts
        special = self.special
        if len(run_facts) > MAX_RUN_FACTS:  # runs a constraint does not cache are new arrays each time
            run_facts.clear()

        def write_forced(g: int, run: np.ndarray, after: Any) -> None:
            """`write` for each token of a forced run at once; `after`: the constraint's state after the run."""
            if not len(run):
                return
            facts = run_facts.get(id(run))
            if facts is None or facts[0] is not run:  # a constraint caches its runs: worked out once per container
                seen = np.cumsum(self.newlines[run])  # newlines written after each token of the run
                facts = run_facts[id(run)] = (run, bool(special[run].any()), seen.tolist(),
                                              [int(np.searchsorted(seen, n)) for n in range(STOP_AFTER_NEWLINES + 1)])
            _, has_special, seen, reaches = facts  # reaches[n]: the index of the token that writes the n-th newline
            if has_special:  # never in a phrasebook run: token by token, up to a masked token, through an end token
                cut = int(np.argmax(special[run]))
                for token in run[: cut + int(run[cut] == self.eos_id)]:
                    write(g, int(token))
                return
            length = int(lengths[g])
            k = min(len(seen), max_new_tokens - length, reaches[STOP_AFTER_NEWLINES - int(newline_count[g])] + 1)
            if k <= 0:
                return
            generated[g, length : length + k] = run[:k]
            lengths[g] = length + k
            newline_count[g] += seen[k - 1]
            states[g] = after  # a run cut short stops its row in settle: its state is not read again
            settle(g)

        batch = np.arange(rows)  # the global row of each row still in the batch
        choosing = np.arange(rows)  # the global rows that choose a token now (values, ids: their candidates)
        for _ in range(max_new_tokens):
            if len(choosing) and draws_used[choosing].max() >= draws.shape[1]:
                draws = np.concatenate([draws, np.array([rng.random(DRAWS_AHEAD) for rng in rngs])], axis=1)
            uniforms = draws[choosing, draws_used[choosing]]
            if temperature > 0:  # greedy draws nothing
                draws_used[choosing] += 1
            new, logprobs = self._sample(values, ids, uniforms, temperature=temperature, top_p=top_p)  # values, ids: these rows'
            for g, token, logprob in zip(choosing.tolist(), new.tolist(), logprobs.tolist()):
                if token != self.eos_id:
                    logprob_sum[g] += logprob
                    scored[g] += 1
                if jump_forward and row_constraints[g] is not None and not special[token]:  # no forward pass each
                    write_forced(g, *row_constraints[g].choose(states[g], token))  # the token and the run it forces
                else:
                    write(g, token)
            if stopped[batch].all():
                break
            if stopped[batch].sum() * 2 >= len(batch):  # drop stopped rows once they are half the batch (measured: 1/4 and 1/3 copy too often)
                keep = np.flatnonzero(~stopped[batch])
                presents = [p.take(keep, axis=0) for p in presents]
                attention, next_position, batch = attention[keep], next_position[keep], batch[keep]
            # Feed each row up to `width` queued tokens, left-padded (the padding masked out, as in the prompt)
            queued = np.where(stopped[batch], 0, lengths[batch] - fed_count[batch])
            width = self._feed_width(queued) if jump_forward else 1
            taken = np.minimum(queued, width)
            offset = np.arange(width) - (width - taken)[:, None]  # index into the row's chunk; < 0: padding
            fed = (offset >= 0).astype(np.int64)
            source = np.minimum(fed_count[batch][:, None] + np.maximum(offset, 0), generated.shape[1] - 1)
            tokens = np.where(fed == 1, generated[batch[:, None], source], self.pad_id)
            fed_count[batch] += taken
            positions = np.maximum(next_position[:, None] + np.cumsum(fed, axis=1) - 1, 0)
            attention = np.concatenate([attention, fed], axis=1)
            next_position = next_position + fed.sum(axis=1)
            sampled = np.flatnonzero((queued == taken) & ~stopped[batch])  # queue fed: its last logits are for its next token
            feeds = {"input_ids": tokens, "attention_mask": attention, "position_ids": positions}
            feeds.update(self._past_feeds(presents))
            choosing = batch[sampled]
            values, ids, presents = self._step(feeds, top_k, sampled, [row_constraints[g] for g in choosing],
                                               [states[g] for g in choosing], every_row_constrained)

        out: list[list[Sample]] = []
        row = 0
        for row_seeds in seeds:
            samples = []
            for _ in row_seeds:
                ids = generated[row, : lengths[row]].tolist()
                samples.append(
                    Sample(
                        text=self.tokenizer.decode(ids, skip_special_tokens=True),
                        token_ids=tuple(ids),
                        mean_logprob=float(logprob_sum[row] / max(scored[row], 1)),
                        finished=bool(finished[row]),
                    )
                )
                row += 1
            out.append(samples)
        return out

    def _sample(
        self, values: np.ndarray, ids: np.ndarray, uniforms: np.ndarray, *, temperature: float, top_p: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """One token per row from its top-k candidates, and its log-probability under the untempered model.

        `values` are the candidates' log-probabilities (masked ones -inf), `ids` their tokens, both (rows, k);
        `uniforms` one draw in [0, 1) per row (unused when greedy).
        """
        rows = np.arange(len(ids))[:, None]
        order = np.argsort(-values, axis=1)
        ids, values = ids[rows, order], values[rows, order].astype(np.float64)  # descending
        if temperature <= 0:
            return ids[:, 0], values[:, 0]
        probs = np.exp((values - values[:, :1]) / temperature)  # unnormalized, descending
        cumulative = np.cumsum(probs, axis=1)
        keep = (cumulative - probs) < top_p * cumulative[:, -1:]  # the nucleus; always keeps the first
        cumulative = np.cumsum(np.where(keep, probs, 0.0), axis=1)
        draws = uniforms * cumulative[:, -1]
        choice = np.minimum((cumulative < draws[:, None]).sum(axis=1), ids.shape[1] - 1)
        return ids[rows[:, 0], choice], values[rows[:, 0], choice]
