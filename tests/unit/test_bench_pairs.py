"""How the copywriter benchmark pairs two sides (scripts/bench_copywriter.paired_speedup): GIVEN sides whose run
times are known WHEN paired THEN each side's median timed run counts, the first-run ratio is reported beside it,
and the warm-up runs never count. Plain Python: no torch, no model."""

from scripts.bench_copywriter import Run, paired_speedup


def scripted(seconds: list[float], tokens: int = 100):
    """A side that writes `tokens` tokens per run and takes the scripted seconds in order; it records its calls."""
    calls = []

    def run(prompts, seed):
        calls.append(seed)
        return Run(tokens, seconds[len(calls) - 1], [(1, 2)])

    run.calls = calls
    return run


def test_each_side_counts_its_median_timed_run_and_reports_the_first_run_beside_it():
    # GIVEN one pair: the ONNX side warms up (9 s, never counted), then is paused once on its first timed run
    onnx = scripted([9.0, 0.5, 0.1, 0.1])
    baseline = scripted([9.0, 1.0, 1.0, 1.2])
    # WHEN paired with three timed runs each
    result = paired_speedup(onnx, baseline, [(["p"], ["w"], 7)], timed=3)
    # THEN the ratio is over the median runs (0.1 s vs 1.0 s), the first runs alone give 2x
    assert result["speedup"] == 10.0 and result["speedup_first_run"] == 2.0 and result["timed_runs"] == 3
    assert result["onnx_tokens"] == [100] and result["tokens"] == [100]
    # AND each side warmed up on the warm-up seed before its own timed runs on the pair's seed
    assert onnx.calls == [1007, 7, 7, 7] and baseline.calls == [1007, 7, 7, 7]


def test_one_timed_run_is_the_single_run_protocol():
    # GIVEN sides timed once per pair WHEN paired over two pairs THEN the median ratio equals the first-run one
    onnx, baseline = scripted([1.0, 0.2, 1.0, 0.1]), scripted([1.0, 1.0, 1.0, 2.0])
    result = paired_speedup(onnx, baseline, [(["a"], ["w"], 0), (["b"], ["w"], 1)], timed=1)
    assert result["speedup_pairs"] == [5.0, 20.0] and result["speedup"] == result["speedup_first_run"] == 12.5
