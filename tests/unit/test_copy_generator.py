"""ONNX generator: GIVEN a stand-in session with a known next-token table WHEN generating THEN
left padding, position ids, the KV cache, seeding, stop conditions and token masking behave."""

from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer, models, pre_tokenizers

from nudge.copy.constraint import Constraint
from nudge.copy.generator import OnnxLanguageModel
from nudge.errors import ArtifactMismatchError

VOCAB = ["<|endoftext|>", "Hi", "there", "Ċ", "7", "x", "y", "z"]
ID = {t: i for i, t in enumerate(VOCAB)}
N_LAYER, N_HEAD, HEAD_DIM = 2, 2, 4


def tokenizer() -> Tokenizer:
    tok = Tokenizer(models.WordLevel({t: i for i, t in enumerate(VOCAB)}, unk_token="x"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.add_special_tokens(["<|endoftext|>"])
    return tok


class TableSession:
    """Next token = TABLE[last token] (logit 5, runner-up 4); checks the feeds a GPT-2 export expects."""

    def __init__(self, table, runner_up=None):
        self.table, self.runner_up = table, runner_up or {}
        self.calls = []

    def get_inputs(self):
        names = ["input_ids", "attention_mask", "position_ids"] + [
            f"past_key_values.{i}.{k}" for i in range(N_LAYER) for k in ("key", "value")]
        return [type("Input", (), {"name": n}) for n in names]

    def get_outputs(self):
        names = ["logits"] + [f"present.{i}.{k}" for i in range(N_LAYER) for k in ("key", "value")]
        return [type("Output", (), {"name": n}) for n in names]

    def run(self, _names, feeds):
        ids, mask, positions = feeds["input_ids"], feeds["attention_mask"], feeds["position_ids"]
        past = feeds["past_key_values.0.key"]
        batch, new = ids.shape
        assert mask.shape == (batch, past.shape[2] + new), "mask must cover past + new tokens"
        expected = np.clip(np.cumsum(mask, axis=1) - 1, 0, None)[:, -new:]
        assert (positions[mask[:, -new:] == 1] == expected[mask[:, -new:] == 1]).all(), "positions count real tokens only"
        self.calls.append(ids.copy())
        logits = np.zeros((batch, new, len(VOCAB)), dtype=np.float32)
        for b in range(batch):
            for t in range(new):
                logits[b, t, self.table[int(ids[b, t])]] = 5.0
                if int(ids[b, t]) in self.runner_up:
                    logits[b, t, self.runner_up[int(ids[b, t])]] = 4.0
        grown = np.concatenate([past, np.repeat(ids[:, None, :, None], HEAD_DIM, 3).repeat(N_HEAD, 1).astype(np.float32)], axis=2)
        return [logits] + [grown] * (2 * N_LAYER)


META = {"architecture": {"n_layer": N_LAYER, "n_head": N_HEAD, "n_embd": N_HEAD * HEAD_DIM, "n_positions": 64,
                         "vocab_size": len(VOCAB)},
        "tokenizer": {"eos_token_id": 0}, "model_version": "table-v1"}
CHAIN = {ID["Hi"]: ID["there"], ID["there"]: ID["Ċ"], ID["Ċ"]: ID["Hi"], ID["x"]: ID["y"], ID["y"]: 0, 0: 0,
         ID["7"]: 0, ID["z"]: ID["7"]}


def model(table=CHAIN, runner_up=None) -> OnnxLanguageModel:
    return OnnxLanguageModel(TableSession(table, runner_up), tokenizer(), META)


def test_greedy_generation_follows_the_table_and_stops_after_the_third_newline():
    [[sample]] = model().generate(["Hi"], seeds=[[1]], temperature=0)
    assert sample.text.split() == ["there", "Ċ", "Hi", "there", "Ċ", "Hi", "there", "Ċ"]
    assert sample.finished and sample.mean_logprob < 0


def test_generation_stops_on_the_end_token():
    [[sample]] = model().generate(["x"], seeds=[[1]], temperature=0)
    assert sample.text == "y" and sample.finished


def test_max_new_tokens_bounds_an_unfinished_sample():
    [[sample]] = model().generate(["Hi"], seeds=[[1]], temperature=0, max_new_tokens=2)
    assert len(sample.token_ids) == 2 and not sample.finished


def test_left_padded_batch_matches_single_prompts():
    lm = model()
    batch = lm.generate(["x", "Hi there Ċ Hi"], seeds=[[1], [1]], temperature=0)
    alone = [lm.generate([p], seeds=[[1]], temperature=0)[0] for p in ("x", "Hi there Ċ Hi")]
    assert [s[0].text for s in batch] == [s[0].text for s in alone]


def test_prompt_runs_once_and_its_cache_is_repeated_per_candidate():
    lm = model()
    out = lm.generate(["Hi", "x"], seeds=[[1, 2, 3], [4]], temperature=0)
    assert [len(o) for o in out] == [3, 1]
    assert lm.session.calls[0].shape[0] == 2  # prefill: one row per prompt
    assert lm.session.calls[1].shape[0] == 4  # decode: one row per candidate


def test_digit_tokens_are_never_sampled():
    # "z" prefers "7" (masked), "x" is the runner-up
    [[sample]] = model(runner_up={ID["z"]: ID["x"]}).generate(["z"], seeds=[[1]], temperature=0)
    assert "7" not in sample.text and sample.text.startswith("x")


class OnlyAfter(Constraint):
    """A stand-in constraint: after "Hi" only "x", then only the end token; states count tokens."""

    def start(self):
        return 0

    def allowed(self, state):
        return np.array([ID["x"]] if state == 0 else [0])

    def advance(self, state, token):
        return state + 1


def test_a_constraint_decides_which_tokens_its_prompt_may_sample():
    # GIVEN "Hi" -> "there" (best); the first prompt constrained to "x" and then the end
    lm = model()
    out = lm.generate(["Hi", "Hi"], seeds=[[1, 2], [3]], temperature=0, max_new_tokens=4,
                      constraints=[OnlyAfter(), None])
    # THEN both candidates of the first prompt write "x" and stop; the second prompt is untouched
    assert [(s.text, s.finished) for s in out[0]] == [("x", True), ("x", True)]
    assert out[1][0].text.split()[:2] == ["there", "Ċ"]


def test_same_seed_same_text_and_seeds_diverge_with_temperature():
    flat = {i: i for i in range(len(VOCAB))}  # every logit ties but one: sampling decides
    lm = model(table=flat, runner_up={i: (i + 1) % len(VOCAB) for i in range(len(VOCAB))})
    first = lm.generate(["Hi"], seeds=[[11, 12, 13, 14]], temperature=5.0, top_p=1.0, max_new_tokens=12)[0]
    again = lm.generate(["Hi"], seeds=[[11, 12, 13, 14]], temperature=5.0, top_p=1.0, max_new_tokens=12)[0]
    assert [s.text for s in first] == [s.text for s in again]
    assert len({s.text for s in first}) > 1


def test_finished_rows_leave_the_batch_without_disturbing_the_others():
    # GIVEN sampled rows that end at different steps ("y" ends soon, the rest wander), several per prompt
    wander = {i: i for i in range(len(VOCAB))}
    lm = model(table=wander, runner_up={i: (i + 1) % len(VOCAB) for i in range(len(VOCAB))})
    prompts, seeds = ["Hi", "x", "there"], [[11, 12, 13], [14, 15], [16]]
    # WHEN generated together (rows are dropped from the batch as they finish) and one prompt at a time
    together = lm.generate(prompts, seeds=seeds, temperature=5.0, top_p=1.0, max_new_tokens=12)
    alone = [lm.generate([p], seeds=[s], temperature=5.0, top_p=1.0, max_new_tokens=12)[0] for p, s in zip(prompts, seeds)]
    # THEN every candidate is the same text, so caches, positions and seeds stayed with their rows
    assert [[s.text for s in per] for per in together] == [[s.text for s in per] for per in alone]
    lengths = [len(s.token_ids) for per in together for s in per]
    assert len(set(lengths)) > 1  # rows did finish at different steps
    assert min(call.shape[0] for call in lm.session.calls[1:]) < 6  # and the batch shrank


def test_a_graph_emitting_log_probabilities_scores_samples_the_same():
    # GIVEN the same table as raw logits and as log-softmax output (what the fused graph emits)
    class LogSoftmaxSession(TableSession):
        def run(self, names, feeds):
            logits, *presents = super().run(names, feeds)
            shifted = logits - logits.max(axis=-1, keepdims=True)
            return [shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))] + presents

    normalized = OnnxLanguageModel(LogSoftmaxSession(CHAIN), tokenizer(), META | {"export": {"logits": "log_softmax"}})
    # WHEN both generate THEN the text and the mean log-probability agree
    [[raw]] = model().generate(["Hi"], seeds=[[3]], temperature=0.7)
    [[logs]] = normalized.generate(["Hi"], seeds=[[3]], temperature=0.7)
    assert raw.text == logs.text and raw.mean_logprob == pytest.approx(logs.mean_logprob, abs=1e-5)


def test_a_session_without_the_cache_inputs_is_refused():
    class NoCache(TableSession):
        def get_inputs(self):
            return [type("Input", (), {"name": "input_ids"})]

    with pytest.raises(ArtifactMismatchError, match="past_key_values"):
        OnnxLanguageModel(NoCache(CHAIN), tokenizer(), META)


SHIPPED = Path(__file__).resolve().parents[2] / "layers" / "model" / "copywriter"


@pytest.mark.skipif(not (SHIPPED / "model.onnx").is_file(), reason="no shipped copywriter model yet")
def test_shipped_model_loads_and_writes_clean_or_fallback_copy():
    # Contract test at the seam: what export_copywriter.py ships, the runtime loads and uses.
    from nudge.copy.writer import Copywriter, CopyBrief

    writer = Copywriter.load(SHIPPED)
    briefs = [CopyBrief(campaign_type=c, tone=t, first_name="Ada", product_names=("Blue Mug 2",), categories=("Mugs",),
                        store_name="Kiln", seed_key=f"k{i}")
              for i, (c, t) in enumerate([("loyalty", "grateful"), ("clearance", "urgent"), ("win_back", "caring")])]
    copies = writer.write_batch(briefs)
    assert [c.source in {"model", "fallback"} for c in copies] == [True] * 3
    assert all("{" not in c.intro and "<" not in c.intro for c in copies)
    assert writer.write_batch(briefs) == copies  # same input, same email


HOSTILE = ("Mug 2.0 (350 ml)", "Gift Card £25", "<b>Bold</b> Lamp<script>x()</script>", "Sunny Mug ☀️🎉",
           "Deluxe " * 20 + "Teapot", "Tote\r\nBcc: eve@example.com", "&lt;i&gt;Vase&lt;/i&gt;", "{first_name} Special")


@pytest.mark.skipif(not (SHIPPED / "model.onnx").is_file(), reason="no shipped copywriter model yet")
@pytest.mark.parametrize("product", HOSTILE)
def test_shipped_model_never_leaks_hostile_facts(product):
    # GIVEN a hostile product name WHEN the shipped model writes copy THEN no markup, control
    # character or brace reaches the email, and every digit or currency sign came from the data
    from nudge.copy.slots import clean_value
    from nudge.copy.writer import Copywriter, CopyBrief

    writer = Copywriter.load(SHIPPED)
    briefs = [CopyBrief(campaign_type=c, tone=t, first_name="Ada", product_names=(product,), categories=("Mugs",),
                        store_name="Kiln", seed_key=f"hostile-{i}")
              for i, (c, t) in enumerate([("abandoned_cart", "helpful"), ("clearance", "urgent")])]
    allowed = set(clean_value(product))
    for copy in writer.write_batch(briefs):
        text = " ".join([copy.subject, copy.preheader, copy.intro])
        assert not any(ch in "<>{}\r\n" for ch in text)
        assert {ch for ch in text if ch.isdigit() or ch in "£$€%"} <= allowed


def test_all_constrained_rows_sample_as_the_masked_vocabulary_path_does():
    # GIVEN the same constrained prompts alone (the fast path: only allowed tokens are scored) and beside an
    # unconstrained one (every row through the full -inf bias) WHEN sampled with the same seeds THEN same texts
    flat = {i: i for i in range(len(VOCAB))}
    lm = model(table=flat, runner_up={i: (i + 1) % len(VOCAB) for i in range(len(VOCAB))})

    class TwoWords(OnlyAfter):
        def allowed(self, state):
            return np.array([ID["x"], ID["y"]] if state < 3 else [0])

    kwargs = dict(temperature=5.0, top_p=1.0, max_new_tokens=6)
    alone = lm.generate(["Hi", "z"], seeds=[[1, 2], [3]], constraints=[TwoWords(), TwoWords()], **kwargs)
    mixed = lm.generate(["Hi", "z", "x"], seeds=[[1, 2], [3], [4]], constraints=[TwoWords(), TwoWords(), None], **kwargs)
    assert [[s.text for s in per] for per in alone] == [[s.text for s in per] for per in mixed[:2]]


class ForcedTail(Constraint):
    """A stand-in constraint: a choice between "Hi" and "there", then "x y Ċ" forced, then only the end token."""

    TAIL = [ID["x"], ID["y"], ID["Ċ"]]

    def start(self):
        return 0

    def __init__(self, choose_again: bool = False):
        self.choose_again = choose_again  # a second choice after the tail, then the end token

    def allowed(self, state):
        if state == 0 or (self.choose_again and state == len(self.TAIL) + 1):
            return np.array([ID["Hi"], ID["there"]])
        return np.array([self.TAIL[state - 1]] if state <= len(self.TAIL) else [0])

    def advance(self, state, token):
        return state + 1


def test_jump_forward_writes_forced_tokens_without_a_forward_pass_each():
    # GIVEN a constraint that forces three tokens after its first choice, and greedy decoding
    kwargs = dict(seeds=[[1, 2], [3]], temperature=0, max_new_tokens=8, constraints=[ForcedTail(), ForcedTail()])
    stepwise, jumping = model(), model()
    # WHEN generated one pass per token, and with jump-forward
    one_by_one = stepwise.generate(["Hi", "x"], jump_forward=False, **kwargs)
    jumped = jumping.generate(["Hi", "x"], jump_forward=True, **kwargs)
    # THEN the same texts; after the prefill's one choice everything was forced (the tail, then the end
    # token), so no further pass ran, where token by token took one pass per token
    assert [[s.text for s in per] for per in jumped] == [[s.text for s in per] for per in one_by_one]
    assert jumped[0][0].text.split()[1:] == ["x", "y", "Ċ"] and jumped[0][0].finished
    assert len(jumping.session.calls) == 1 and len(stepwise.session.calls) == 5


def test_a_forced_run_is_fed_in_one_pass_before_the_next_choice():
    # GIVEN a choice, three forced tokens, a second choice, then the end
    lm = model()
    [[sample]] = lm.generate(["Hi"], seeds=[[1]], temperature=0, max_new_tokens=8, constraints=[ForcedTail(True)])
    # THEN the first choice and its tail were fed together (4 tokens), and the second choice read that pass
    assert len(sample.text.split()) == 5 and sample.finished
    assert [call.shape[1] for call in lm.session.calls] == [1, 4]


def test_the_feed_width_feeds_forced_runs_together_and_single_tokens_alone():
    # GIVEN queues of tokens to feed: nothing forced, long forced runs on most rows
    assert OnnxLanguageModel._feed_width(np.array([1, 1, 1])) == 1
    assert OnnxLanguageModel._feed_width(np.array([6, 6, 1])) == 6
    # and never wider than MAX_FEED_WIDTH
    from nudge.copy.generator import MAX_FEED_WIDTH

    assert OnnxLanguageModel._feed_width(np.array([100])) == MAX_FEED_WIDTH


def test_top_k_of_allowed_tokens_matches_the_masked_vocabulary_top_k():
    # GIVEN random log-probabilities and rows allowed none, one, a few, exactly k, and more than k tokens
    lm = model()
    rng = np.random.default_rng(7)
    k = 4
    logits = rng.normal(size=(5, len(VOCAB))).astype(np.float32)
    allowed = [np.zeros(0, dtype=np.int64), np.array([3]), np.array([1, 5, 2]), np.array([0, 1, 2, 3]),
               np.arange(len(VOCAB) - 1, 0, -1)]
    bias = np.full((5, len(VOCAB)), -np.inf, dtype=np.float32)
    for row, tokens in enumerate(allowed):
        bias[row, tokens] = lm.mask_bias[tokens]
    # WHEN the k best are taken from the allowed tokens only, and from the whole vocabulary under a -inf bias
    values, ids = lm._top_k_of(logits, k, allowed)
    ref_values, ref_ids = lm._top_k(logits, k, bias)
    # THEN each row holds the same finite (token, log-probability) pairs; a short row is padded with -inf
    for row in range(5):
        got = {(int(t), float(v)) for t, v in zip(ids[row], values[row]) if np.isfinite(v)}
        want = {(int(t), float(v)) for t, v in zip(ref_ids[row], ref_values[row]) if np.isfinite(v)}
        assert got == want
        assert len(got) == min(k, int((lm.mask_bias[allowed[row]] == 0).sum()))
