"""template.yaml's PlanStateMachine, played locally with the real plan handler.

As Step Functions runs it: a Start task, then a Map over the segments the start step returns, each
segment's task invoked again while it returns "done": false (the Choice state's loop), at most
`max_concurrency` segments at a time (the Map's MaxConcurrency: here a thread pool), then a
Finish task. Payloads are the same JSON dicts the state machine passes, so what runs here is what
the deployed plan function receives.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from nudge_local.esm import LambdaContext

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
FINISH_FIELDS = ("campaign_type", "campaign_id", "send_date", "total_segments")
SEGMENT_FIELDS = ("campaign_type", "campaign_id", "send_date", "limit", "total_segments", "started_at", "decision_time",
                  "offer_id")


@dataclass
class SegmentRun:
    segment: int
    invocations: int = 0
    pages: int = 0
    enqueued: int = 0  # jobs this execution's invocations sent
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in self.__dict__.items()}


@dataclass
class PlanExecution:
    started: dict[str, Any]
    summary: dict[str, Any]
    segments: list[SegmentRun] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def enqueued_this_run(self) -> int:
        return sum(s.enqueued for s in self.segments)


def run_plan_state_machine(
    handler: Handler, request: dict[str, Any], *, default_segments: int = 16, max_concurrency: int = 4,
    context: Callable[[], Any] = lambda: LambdaContext(function_name="nudge-local-plan", timeout_ms=900_000),
) -> PlanExecution:
    """Run one plan execution: `request` is the state machine's input ({campaign_type, campaign_id?,
    send_date?, limit?, segments?}); `context` makes each invocation's Lambda context (its
    get_remaining_time_in_millis is the segment's time budget)."""
    began = time.perf_counter()
    started = handler({"mode": "start", "request": request, "default_segments": default_segments}, context())

    def run(segment: int) -> SegmentRun:
        record, clock = SegmentRun(segment), time.perf_counter()
        event: dict[str, Any] = {"mode": "segment", **{k: started.get(k) for k in SEGMENT_FIELDS}, "segment": segment}
        while True:
            output = handler(event, context())
            record.invocations += 1
            record.enqueued += output["enqueued_now"]
            record.pages = output["pages"]
            if output["done"]:
                break
            event = {"mode": "segment", **output}  # the Choice state loops the output back into the task
        record.seconds = time.perf_counter() - clock
        return record

    if max_concurrency <= 1:
        segments = [run(segment) for segment in started["segments"]]
    else:
        with ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="plan-segment") as pool:
            segments = list(pool.map(run, started["segments"]))
    summary = handler({"mode": "finish", **{k: started[k] for k in FINISH_FIELDS}}, context())
    return PlanExecution(started, summary, segments, time.perf_counter() - began)
