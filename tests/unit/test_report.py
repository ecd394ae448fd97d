"""The outcomes report: GIVEN a tiny event log whose right answer is known WHEN scripts/report.py runs
its SQL in DuckDB THEN the funnel, the group counts, the conversions in the window, the attributed
revenue and the lift come out as counted by hand; the same log read from S3 (moto) gives the same
numbers; Athena's text results parse to the same types; and, end to end, the simulator's known
lifts land inside the report's 95% intervals about as often as 95% promises."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from nudge.eventlog import Event, assigned_event, event_key, iso, order_event, sent_event, to_json_line
from nudge_local.response_sim import SimulationConfig, simulate_event_log, write_events
from scripts.report import AthenaEngine, DuckDBEngine, ReportConfig, load_sql, main, render_html

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def at(**delta) -> datetime:
    return T0 + timedelta(**delta)


def ses(kind: str, pid: str, when: datetime, *, campaign: str = "c1", flags: tuple[str, ...] = (), detail: str = "") -> Event:
    return Event(event_id=f"{kind}:m-{pid}:{iso(when)}:{detail}", type=kind, at=iso(when), pseudonymous_id=pid, campaign_id=campaign,
                 message_id=f"m-{pid}", flags=flags, detail=detail, source="ses")


def tiny_log() -> list[Event]:
    """Campaign c1: 4 treated (t4's email never sent), 2 held out; campaign c2: treated only.

    t1 opens and clicks, then orders 30 (attributed); t2's open is a proxy's (5 s after delivery) and
    its clicks a scanner's (3 links in a second), then it orders 20 (converted, not attributed); t3
    bounces for good; h1 orders 10 in the window, h2 orders 99 after it; t1's order before the email
    counts for nothing."""
    events = [assigned_event("c1", p, group="treated", at=T0, campaign_type="win_back") for p in ("t1", "t2", "t3", "t4")]
    events += [assigned_event("c1", p, group="holdout", at=T0, campaign_type="win_back") for p in ("h1", "h2")]
    events += [assigned_event("c2", "u1", group="treated", at=T0, campaign_type="loyalty")]
    for pid in ("t1", "t2", "t3"):
        events.append(sent_event(f"m-{pid}", campaign_id="c1", pseudonymous_id=pid, at=at(minutes=5)))
    events += [ses("delivery", "t1", at(minutes=5, seconds=2)), ses("delivery", "t2", at(minutes=5, seconds=2)),
               Event(event_id="bounce:m-t3:permanent", type="bounce", at=iso(at(minutes=5, seconds=3)), pseudonymous_id="t3",
                     campaign_id="c1", message_id="m-t3", flags=("permanent",), detail="Permanent/General", source="ses"),
               ses("open", "t1", at(hours=2)), ses("click", "t1", at(hours=2, minutes=1), detail="link=000000000001"),
               ses("open", "t2", at(minutes=5, seconds=7))]
    events += [ses("click", "t2", at(minutes=40), detail=f"link={n:012d}") for n in range(3)]
    events += [order_event("o-t1", pseudonymous_id="t1", at=at(hours=5), revenue=30.0),
               order_event("o-t2", pseudonymous_id="t2", at=at(days=1), revenue=20.0),
               order_event("o-h1", pseudonymous_id="h1", at=at(days=2), revenue=10.0),
               order_event("o-h2", pseudonymous_id="h2", at=at(days=8), revenue=99.0),
               order_event("o-t1-before", pseudonymous_id="t1", at=at(days=-1), revenue=55.0)]
    return events


def write_mixed(root: Path, events: list[Event]) -> None:
    """Orders and SES events one object each (as EventLog.put writes them), the rest in batches (put_many)."""
    single = [e for e in events if e.type not in ("assigned", "sent")]
    for event in single:
        path = root / event_key(event)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_json_line(event))
    write_events(root, [e for e in events if e.type in ("assigned", "sent")])


@pytest.fixture
def tiny(tmp_path):
    root = tmp_path / "log"
    write_mixed(root, tiny_log())
    config = ReportConfig(events=str(root), html_out=tmp_path / "out" / "report.html", json_out=tmp_path / "reports" / "outcomes.json",
                          resamples=200)
    return config, main(config)


def campaign(outcomes, campaign_id):
    return next(c for c in outcomes["campaigns"] if c["campaign_id"] == campaign_id)


def test_the_funnel_counts_distinct_customers_and_keeps_machines_out_of_the_human_steps(tiny):
    _, outcomes = tiny
    funnel = campaign(outcomes, "c1")["funnel"]
    assert {k: funnel[k] for k in ("sent", "delivered", "opened", "clicked", "converted")} == {
        "sent": 3, "delivered": 2, "opened": 1, "clicked": 1, "converted": 1}
    assert (funnel["bounced"], funnel["bounced_permanent"], funnel["opened_any"], funnel["clicked_any"]) == (1, 1, 2, 2)
    assert (funnel["machine_open_customers"], funnel["bot_click_customers"]) == (1, 1)


def test_groups_count_every_assigned_customer_and_orders_inside_the_window_only(tiny):
    _, outcomes = tiny
    groups = campaign(outcomes, "c1")["groups"]
    assert (groups["treated"]["customers"], groups["treated"]["converted"], groups["treated"]["revenue"]) == (4, 2, 50.0)
    assert (groups["holdout"]["customers"], groups["holdout"]["converted"], groups["holdout"]["revenue"]) == (2, 1, 10.0)
    assert groups["treated"]["conversion_rate"] == 0.5 and groups["holdout"]["revenue_per_customer"] == 5.0
    assert groups["treated"]["by_source"] == {"planner": {"customers": 4, "converted": 2}}


def test_lift_comes_from_nudge_uplift_and_says_not_significant_when_it_crosses_zero(tiny):
    from nudge.uplift import conversion_lift

    _, outcomes = tiny
    lift = campaign(outcomes, "c1")["conversion_lift"]
    expected = conversion_lift(treated_conversions=2, treated=4, holdout_conversions=1, holdout=2)
    assert lift["absolute"] == expected.absolute == 0.0
    assert lift["absolute_interval"] == list(expected.absolute_interval)
    assert lift["verdict"] == "not significant"
    assert campaign(outcomes, "c1")["revenue_lift"]["absolute"] == pytest.approx(50 / 4 - 10 / 2)


def test_attributed_revenue_is_beside_the_lift_not_instead(tiny):
    _, outcomes = tiny
    c1 = campaign(outcomes, "c1")
    assert c1["attributed"] == {"orders": 1, "customers": 1, "revenue": 30.0, "by_touch": {"click": 1, "open": 0}}
    assert c1["conversion_lift"] is not None


def test_a_campaign_without_a_holdout_says_its_lift_cannot_be_measured(tiny):
    _, outcomes = tiny
    c2 = campaign(outcomes, "c2")
    assert c2["conversion_lift"] is None and "no holdout" in c2["lift_note"]


def test_both_files_are_written_and_describe_themselves(tiny):
    config, outcomes = tiny
    saved = json.loads(config.json_out.read_text())
    assert saved["schema_version"] == 1 and saved["simulated"] is False
    assert saved["config"]["uplift_window_days"] == 7 and "Newcombe" in saved["methods"]["conversion_absolute"]
    page = config.html_out.read_text()
    assert "<svg" in page and "not significant" in page and "SIMULATED" not in page
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")


def test_the_sql_is_the_same_text_for_both_engines_with_only_the_window_put_in(tmp_path):
    write_mixed(tmp_path, tiny_log())
    text = load_sql("groups", uplift_window_days=3)
    assert "${" not in text and str(3 * 86_400) in text
    rows = DuckDBEngine(tmp_path).query(text)
    by_group = {(r["campaign_id"], r["group"]): (r["customers"], r["converted"]) for r in rows}
    # with a 3-day window h1's order (day 2) still counts; h2's (day 8) never does
    assert by_group == {("c1", "holdout"): (2, 1), ("c1", "treated"): (4, 2), ("c2", "treated"): (1, 0)}


def test_athena_text_results_become_the_types_duckdb_returns():
    class FakeAthena:
        def start_query_execution(self, **request):
            self.request = request
            return {"QueryExecutionId": "q1"}

        def get_query_execution(self, QueryExecutionId):
            return {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}}

        def get_paginator(self, name):
            assert name == "get_query_results"
            columns = [{"Name": "campaign_id", "Type": "varchar"}, {"Name": "customers", "Type": "bigint"},
                       {"Name": "revenue", "Type": "double"}, {"Name": "machine_open", "Type": "boolean"}]
            row = lambda *values: {"Data": [{"VarCharValue": v} if v is not None else {} for v in values]}  # noqa: E731
            pages = [{"ResultSet": {"ResultSetMetadata": {"ColumnInfo": columns},
                                    "Rows": [row("campaign_id", "customers", "revenue", "machine_open"), row("c1", "4", "50.0", "true")]}},
                     {"ResultSet": {"ResultSetMetadata": {"ColumnInfo": columns}, "Rows": [row("c2", "1", None, "false")]}}]
            return type("Paginator", (), {"paginate": lambda self, **kw: iter(pages)})()

    athena = FakeAthena()
    engine = AthenaEngine(database="nudge_events", workgroup="nudge-events", athena=athena)
    rows = engine.query(load_sql("funnel", uplift_window_days=7))
    assert rows == [{"campaign_id": "c1", "customers": 4, "revenue": 50.0, "machine_open": True},
                    {"campaign_id": "c2", "customers": 1, "revenue": None, "machine_open": False}]
    assert athena.request["QueryExecutionContext"] == {"Database": "nudge_events"} and athena.request["WorkGroup"] == "nudge-events"
    assert athena.request["QueryString"] == load_sql("funnel", uplift_window_days=7)


def test_an_empty_log_is_refused_with_where_it_looked(tmp_path):
    from scripts.report import ReportError

    with pytest.raises(ReportError, match="no event log under"):
        main(ReportConfig(events=str(tmp_path), html_out=tmp_path / "r.html", json_out=tmp_path / "o.json"))


def test_the_log_read_from_s3_gives_the_same_numbers(aws, tmp_path, tiny):
    import boto3

    from nudge.storage import EventLog

    config, local = tiny
    boto3.client("s3").create_bucket(Bucket="nudge-events-test")
    log = EventLog("nudge-events-test")
    events = tiny_log()
    for event in events:
        if event.type not in ("assigned", "sent"):
            assert log.put(event)
    batch = [e for e in events if e.type in ("assigned", "sent")]
    assert log.put_many(batch) == 2  # one object per type and day
    assert log.put(events[-1]) is False and log.put_many(batch) == 0  # replays write nothing
    remote = main(replace(config, events="s3://nudge-events-test", html_out=tmp_path / "s3.html", json_out=tmp_path / "s3.json"))
    assert remote["campaigns"] == local["campaigns"]


# ------------------------------------------------------------------------------------------------
# End to end: simulator → event log files → SQL → estimate, against the simulator's known truth
# ------------------------------------------------------------------------------------------------
def test_the_report_recovers_the_simulated_true_lift_inside_its_interval_across_seeds(tmp_path):
    # GIVEN 12 seeded simulations of three campaigns, 2,000 synthetic customers each, half held out
    campaigns = {"ac": "abandoned_cart", "lo": "loyalty", "na": "new_arrivals"}
    inside, total = 0, 0
    for seed in range(12):
        root = tmp_path / f"seed{seed}"
        simulation = simulate_event_log(root, campaigns=campaigns, config=SimulationConfig(seed=seed, synthetic_customers=2000))
        # WHEN the report reads the files the simulator wrote
        outcomes = main(ReportConfig(events=str(root), html_out=root / "r.html", json_out=root / "o.json", resamples=100))
        # THEN every customer is counted once per group, and the truth sits inside the interval at about 95%
        for c in outcomes["campaigns"]:
            drawn = simulation["campaigns"][c["campaign_id"]]["synthetic"]
            assert (c["groups"]["treated"]["customers"], c["groups"]["holdout"]["customers"]) == (drawn["treated"], drawn["holdout"])
            inside += c["simulated_truth"]["absolute_lift_inside_interval"]
            total += 1
    assert outcomes["simulated"] is True
    page = (root / "r.html").read_text()
    assert "SIMULATED" in page and "simulated true lift" in page
    # 36 intervals at 95%: 34.2 expected; 31 or more unless something is wrong (P(<= 30) is about 1%)
    assert inside >= 31, f"{inside} of {total}"


def test_the_page_escapes_what_it_shows():
    outcomes = {"simulated": False, "simulation": None, "events": "<b>log</b>", "engine": "duckdb", "generated_at": "now",
                "methods": {k: "m" for k in ("conversion", "conversion_absolute", "conversion_relative", "revenue_per_customer", "attribution")},
                "summary": {}, "campaigns": []}
    assert "<b>log</b>" not in render_html(outcomes) and "&lt;b&gt;log&lt;/b&gt;" in render_html(outcomes)
