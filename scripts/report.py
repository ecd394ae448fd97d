"""The outcomes report: the event log → per campaign the funnel, and the uplift against the holdout.

Inputs: the event log (nudge.eventlog): a directory that holds events/type=<t>/dt=<day>/*.jsonl
(the demo's out/eventlog/, or a copy of the bucket's events/), or s3://bucket[/prefix] (copied
to a temporary directory first); with --engine athena, the Glue table over the bucket's events/
instead. A simulation.json beside events/ (written by nudge_local/response_sim.py) marks the log
as simulated and carries the true lifts.
Outputs: out/report.html (self-contained: a funnel table per campaign, an inline SVG of each
campaign's lift with its 95% interval, the simulated true lift marked) and
build/reports/outcomes.json (the same numbers, with this run's configuration).

The SQL in sql/*.sql runs unchanged in DuckDB (the default, over the files) and Athena
(deployed): see the notes at the top of sql/groups.sql. Python adds what SQL should not decide:
machine opens, bot clicks and last-touch attribution (nudge.attribution), and the intervals
(nudge.uplift):
  conversion rate, absolute lift   Newcombe's hybrid score interval (from two Wilson intervals)
  conversion rate, relative lift   Katz's log interval for the ratio of the rates
  revenue per customer             a seeded percentile bootstrap of the difference in means
An interval that contains zero reads "not significant". Attributed revenue (orders after a human
open or click, last touch) is shown beside the uplift, never instead of it.

    python scripts/report.py                              # DuckDB over out/eventlog (the demo's)
    python scripts/report.py --events s3://my-bucket      # DuckDB over a copy of the bucket's events/
    python scripts/report.py --engine athena --database nudge_events --workgroup nudge-events
"""

from __future__ import annotations

import argparse
import html
import json
import math
import string
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = ROOT / "sql"
SCHEMA_VERSION = 1
# The event log's columns as the SQL sees them; "type" and "dt" come from the Hive partitions (the
# Glue table declares the same columns, with type and dt as its partition keys).
COLUMNS = {
    "event_id": "VARCHAR", "at": "VARCHAR", "pseudonymous_id": "VARCHAR", "campaign_id": "VARCHAR",
    "message_id": "VARCHAR", "product_id": "VARCHAR", "group": "VARCHAR", "revenue": "DOUBLE",
    "flags": "VARCHAR[]", "detail": "VARCHAR", "source": "VARCHAR",
}


@dataclass
class ReportConfig:
    events: str = str(ROOT / "out" / "eventlog")  # a directory holding events/ (the demo writes out/eventlog/), or s3://bucket[/prefix]
    engine: str = "duckdb"  # duckdb (the files) | athena (the Glue table; deployed)
    athena_database: str = "nudge_events"  # the stack's EventsDatabase output
    athena_workgroup: str = "nudge-events"  # the stack's EventsWorkGroup output (encrypted results)
    simulation: str = ""  # simulation.json; default: beside events/ when there is one
    html_out: Path = ROOT / "out" / "report.html"
    json_out: Path = ROOT / "build" / "reports" / "outcomes.json"
    uplift_window_days: int = 7  # an order within this many days after assignment is a conversion
    click_window_days: float = 5.0  # last-touch attribution windows (nudge.attribution.Rules)
    open_window_days: float = 1.0
    resamples: int = 2000  # revenue bootstrap resamples
    seed: int = 0  # revenue bootstrap seed


class ReportError(RuntimeError):
    """The event log could not be read or queried; the message says where and what."""


# ------------------------------------------------------------------------------------------------
# The two engines: query(sql) → rows as dicts
# ------------------------------------------------------------------------------------------------
def load_sql(name: str, *, uplift_window_days: int) -> str:
    """sql/<name>.sql with its one parameter put in (an integer, so nothing can be injected)."""
    window = int(uplift_window_days)
    if not 1 <= window <= 366:
        raise ReportError(f"uplift_window_days must be in 1..366, got {uplift_window_days}")
    return string.Template((SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")).substitute(
        uplift_window_seconds=window * 86_400)


class DuckDBEngine:
    """DuckDB over a local copy of the log: a view "events" on the JSON Lines files."""

    def __init__(self, root: Path) -> None:
        import duckdb

        files = sorted((root / "events").glob("type=*/dt=*/*.jsonl"))
        if not files:
            raise ReportError(f"no event log under {root / 'events'} (expected type=<t>/dt=<day>/*.jsonl)")
        self.connection = duckdb.connect()
        columns = ", ".join(f"'{name}': '{kind}'" for name, kind in COLUMNS.items())
        pattern = str(root / "events" / "type=*" / "dt=*" / "*.jsonl").replace("'", "''")
        self.connection.execute(
            f"CREATE VIEW events AS SELECT * FROM read_json('{pattern}', format = 'newline_delimited', "
            f"hive_partitioning = true, hive_types = {{'type': 'VARCHAR', 'dt': 'VARCHAR'}}, columns = {{{columns}}})"
        )
        self.files = len(files)

    def query(self, sql: str) -> list[dict[str, Any]]:
        cursor = self.connection.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


class AthenaEngine:
    """Athena over the Glue table (deployed). Not exercised here (no AWS account in CI); its result
    parsing is the same as DuckDB's rows after the type conversion below."""

    def __init__(self, *, database: str, workgroup: str, athena: Any = None, poll_seconds: float = 1.0,
                 timeout_seconds: float = 900.0) -> None:
        from nudge.storage import client

        self.database, self.workgroup = database, workgroup
        self.athena = athena or client("athena")
        self.poll_seconds, self.timeout_seconds = poll_seconds, timeout_seconds

    def query(self, sql: str) -> list[dict[str, Any]]:
        started = self.athena.start_query_execution(
            QueryString=sql, QueryExecutionContext={"Database": self.database}, WorkGroup=self.workgroup)
        query_id = started["QueryExecutionId"]
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            status = self.athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
            if status["State"] == "SUCCEEDED":
                break
            if status["State"] in ("FAILED", "CANCELLED"):
                raise ReportError(f"Athena query {query_id} {status['State']}: {status.get('StateChangeReason', '')[:500]}")
            if time.monotonic() > deadline:
                raise ReportError(f"Athena query {query_id} still {status['State']} after {self.timeout_seconds:.0f} s")
            time.sleep(self.poll_seconds)
        rows: list[dict[str, Any]] = []
        names: list[str] = []
        types: list[str] = []
        for page in self.athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
            if not names:
                info = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
                names, types = [c["Name"] for c in info], [c["Type"] for c in info]
            for row in page["ResultSet"]["Rows"]:
                values = [cell.get("VarCharValue") for cell in row["Data"]]
                if values == names:
                    continue  # the header row, first on the first page
                rows.append({n: _athena_value(v, t) for n, v, t in zip(names, values, types)})
        return rows


def _athena_value(value: str | None, kind: str) -> Any:
    """Athena returns every value as text; back to the types DuckDB returns."""
    if value is None:
        return None
    if kind in ("bigint", "integer", "smallint", "tinyint"):
        return int(value)
    if kind in ("double", "float", "real", "decimal"):
        return float(value)
    if kind == "boolean":
        return value == "true"
    return value


# ------------------------------------------------------------------------------------------------
# The log's location
# ------------------------------------------------------------------------------------------------
def local_copy(events: str, work: Path) -> Path:
    """A local directory holding events/: the given one, or a copy of s3://bucket[/prefix]/events/
    (and of its simulation.json, when there is one)."""
    if not events.startswith("s3://"):
        return Path(events)
    from nudge.storage import StorageError, download_prefix

    try:
        download_prefix(f"{events.rstrip('/')}/events/", work / "events")
    except StorageError:
        raise ReportError(f"no event log under {events.rstrip('/')}/events/") from None
    fetch_simulation(events, work)
    return work


def fetch_simulation(events: str, work: Path) -> None:
    """Copy s3://bucket[/prefix]/simulation.json to work/ when it exists (a real log has none)."""
    from nudge.storage import EmailStore

    bucket, _, prefix = events[len("s3://"):].partition("/")
    body = EmailStore(bucket).get(f"{prefix.strip('/')}/simulation.json".lstrip("/"))
    if body is not None:
        work.mkdir(parents=True, exist_ok=True)
        (work / "simulation.json").write_bytes(body)


def load_simulation(config: ReportConfig, root: Path | None) -> dict[str, Any] | None:
    path = Path(config.simulation) if config.simulation else (root / "simulation.json" if root else None)
    if path is None or not path.exists():
        return None
    simulation = json.loads(path.read_text(encoding="utf-8"))
    if simulation.get("simulated") is not True or not isinstance(simulation.get("campaigns"), dict):
        raise ReportError(f"{path} is not a simulation.json written by nudge_local/response_sim.py")
    return simulation


# ------------------------------------------------------------------------------------------------
# The numbers
# ------------------------------------------------------------------------------------------------
def build_outcomes(engine: Any, *, config: ReportConfig, simulation: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every campaign's funnel, groups, lifts and attributed revenue, as outcomes.json holds them."""
    from nudge.attribution import Rules, attribute, flag_touches, is_human
    from nudge.eventlog import Event, order_event, parse_time
    from nudge.uplift import conversion_lift, revenue_lift

    window = config.uplift_window_days
    groups = engine.query(load_sql("groups", uplift_window_days=window))
    converters = engine.query(load_sql("converters", uplift_window_days=window))
    funnel_rows = {r["campaign_id"]: r for r in engine.query(load_sql("funnel", uplift_window_days=window))}
    touch_rows = engine.query(load_sql("touches", uplift_window_days=window))
    order_rows = engine.query(load_sql("orders", uplift_window_days=window))

    rules = Rules(click_window=timedelta(days=config.click_window_days), open_window=timedelta(days=config.open_window_days))
    reached = {r["message_id"]: parse_time(r["reached_at"]) for r in touch_rows if r["reached_at"]}
    touches = flag_touches(
        (Event(event_id=r["event_id"], type=r["type"], at=r["at"], pseudonymous_id=r["pseudonymous_id"],
               campaign_id=r["campaign_id"], message_id=r["message_id"] or "", detail=r["detail"] or "",
               flags=tuple(f for f in ("machine_open", "bot_click") if r[f])) for r in touch_rows),
        reached=reached, rules=rules)
    orders = [order_event(r["event_id"].removeprefix("order:"), pseudonymous_id=r["pseudonymous_id"],
                          at=parse_time(r["at"]), revenue=float(r["revenue"] or 0.0)) for r in order_rows]
    credits = attribute(orders, touches, rules=rules)

    truth = (simulation or {}).get("campaigns", {})
    campaign_ids = sorted({r["campaign_id"] for r in groups} | set(funnel_rows))
    campaigns = []
    for campaign_id in campaign_ids:
        mine = [r for r in groups if r["campaign_id"] == campaign_id]
        campaign_type = next((r["campaign_type"] for r in mine if r["campaign_type"]), "") or truth.get(campaign_id, {}).get("campaign_type", "")
        sides: dict[str, dict[str, Any]] = {}
        revenue_arrays: dict[str, np.ndarray] = {}
        for side in ("treated", "holdout"):
            rows = [r for r in mine if r["group"] == side]
            customers = sum(int(r["customers"]) for r in rows)
            converted = sum(int(r["converted"]) for r in rows)
            revenue = sum(float(r["revenue"] or 0.0) for r in rows)
            spent = [float(r["revenue"] or 0.0) for r in converters if r["campaign_id"] == campaign_id and r["group"] == side]
            revenue_arrays[side] = np.concatenate([np.asarray(spent, dtype=np.float64), np.zeros(max(0, customers - len(spent)))])
            sides[side] = {
                "customers": customers, "converted": converted,
                "conversion_rate": converted / customers if customers else None,
                "revenue": round(revenue, 2), "revenue_per_customer": revenue / customers if customers else None,
                "by_source": {str(r["source"]): {"customers": int(r["customers"]), "converted": int(r["converted"])} for r in rows},
            }
        entry: dict[str, Any] = {"campaign_id": campaign_id, "campaign_type": campaign_type, "groups": sides}
        treated, holdout = sides["treated"], sides["holdout"]
        if treated["customers"] and holdout["customers"]:
            lift = conversion_lift(treated_conversions=treated["converted"], treated=treated["customers"],
                                   holdout_conversions=holdout["converted"], holdout=holdout["customers"])
            entry["conversion_lift"] = {
                "absolute": lift.absolute, "absolute_interval": list(lift.absolute_interval),
                "relative": lift.relative, "relative_interval": list(lift.relative_interval) if lift.relative_interval else None,
                "relative_note": lift.relative_note, "verdict": lift.verdict,
            }
            money = revenue_lift(revenue_arrays["treated"], revenue_arrays["holdout"], resamples=config.resamples, seed=config.seed)
            entry["revenue_lift"] = {"treated_per_customer": money.treated_per_customer, "holdout_per_customer": money.holdout_per_customer,
                                     "absolute": money.absolute, "interval": list(money.interval), "verdict": money.verdict,
                                     "resamples": money.resamples}
        else:
            entry["conversion_lift"] = None
            entry["revenue_lift"] = None
            entry["lift_note"] = "no holdout customers: the lift cannot be measured" if treated["customers"] else "no treated customers"
        entry["funnel"] = _funnel(campaign_id, funnel_rows.get(campaign_id, {}), touches, credits, is_human)
        mine_credits = [c for c in credits if c.campaign_id == campaign_id]
        entry["attributed"] = {"orders": len(mine_credits), "customers": len({c.pseudonymous_id for c in mine_credits}),
                               "revenue": round(sum(c.revenue for c in mine_credits), 2),
                               "by_touch": {kind: sum(1 for c in mine_credits if c.touch_type == kind) for kind in ("click", "open")}}
        if campaign_id in truth:
            entry["simulated_truth"] = _truth(truth[campaign_id], entry)
        campaigns.append(entry)

    inside = [c["simulated_truth"]["absolute_lift_inside_interval"] for c in campaigns if c.get("simulated_truth")]
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "engine": config.engine,
        "events": config.events,
        "simulated": simulation is not None,
        "simulation": {k: v for k, v in (simulation or {}).items() if k != "campaigns"} or None,
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()},
        "methods": {
            "conversion_absolute": "Newcombe hybrid score interval (method 10, 1998), 95%",
            "conversion_relative": "Katz log interval for the ratio of rates, 95%",
            "revenue_per_customer": f"seeded percentile bootstrap of the difference in means, {config.resamples} resamples, 95%",
            "conversion": f"an order within {window} days after the customer's assignment (treated or holdout)",
            "attribution": (f"last human touch: {config.click_window_days:g} days after a click, {config.open_window_days:g} after an "
                            f"open; machine opens (Apple MPP agent/address, or < {rules.machine_open_seconds:g} s after delivery) and bot "
                            f"clicks (< {rules.bot_click_seconds:g} s after delivery, or >= {rules.burst_links} links within "
                            f"{rules.burst_seconds:g} s) excluded"),
        },
        "campaigns": campaigns,
        "summary": {"campaigns": len(campaigns),
                    "with_lift": sum(1 for c in campaigns if c["conversion_lift"]),
                    "significant": sum(1 for c in campaigns if c["conversion_lift"] and c["conversion_lift"]["verdict"] == "significant"),
                    "simulated_truth_inside_interval": sum(inside) if inside else None,
                    "simulated_campaigns": len(inside) if inside else None},
    }


def _funnel(campaign_id: str, row: Mapping[str, Any], touches: list[Any], credits: list[Any], is_human: Any) -> dict[str, int]:
    mine = [t for t in touches if t.campaign_id == campaign_id]
    human_opens = {t.pseudonymous_id for t in mine if t.type == "open" and is_human(t)}
    human_clicks = {t.pseudonymous_id for t in mine if t.type == "click" and is_human(t)}
    return {
        "sent": int(row.get("sent") or 0), "delivered": int(row.get("delivered") or 0),
        "opened": len(human_opens), "clicked": len(human_clicks),
        "converted": len({c.pseudonymous_id for c in credits if c.campaign_id == campaign_id}),
        "bounced": int(row.get("bounced") or 0), "bounced_permanent": int(row.get("bounced_permanent") or 0),
        "complained": int(row.get("complained") or 0), "rejected": int(row.get("rejected") or 0),
        "unsubscribed": int(row.get("unsubscribed") or 0),
        "opened_any": int(row.get("opened_any") or 0), "clicked_any": int(row.get("clicked_any") or 0),
        "machine_open_customers": len({t.pseudonymous_id for t in mine if "machine_open" in t.flags}),
        "bot_click_customers": len({t.pseudonymous_id for t in mine if "bot_click" in t.flags}),
    }


def _truth(known: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    lift = entry.get("conversion_lift")
    true_absolute = float(known["true_absolute_lift"])
    inside = bool(lift and lift["absolute_interval"][0] <= true_absolute <= lift["absolute_interval"][1])
    revenue = entry.get("revenue_lift")
    true_revenue = float(known.get("true_revenue_lift", float("nan")))
    return {
        "base_rate": known.get("base_rate"), "absolute_lift": true_absolute,
        "relative_lift": known.get("true_relative_lift"), "revenue_per_customer_lift": true_revenue,
        "absolute_lift_inside_interval": inside,
        "revenue_lift_inside_interval": bool(revenue and revenue["interval"][0] <= true_revenue <= revenue["interval"][1]),
        "synthetic_customers": known.get("synthetic_customers"),
    }


# ------------------------------------------------------------------------------------------------
# The page
# ------------------------------------------------------------------------------------------------
CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1d2330}
h1{margin-bottom:.2rem} h2{margin-top:2.4rem;border-bottom:1px solid #d6dae3;padding-bottom:.2rem}
.meta{color:#5b6475} .sim{background:#fff4d6;border:2px solid #e0a800;padding:.7rem 1rem;border-radius:6px;margin:1rem 0}
.sim b{color:#8a5a00;letter-spacing:.05em} table{border-collapse:collapse;margin:.6rem 0 1rem} th,td{padding:.3rem .6rem;
border-bottom:1px solid #e5e8ee;text-align:right} th:first-child,td:first-child{text-align:left} thead th{background:#f3f5f9}
.ns{color:#8a5a00;font-weight:600} .sig{color:#1a7f37;font-weight:600} .note{color:#5b6475;font-size:.9em}
.tag{display:inline-block;background:#e0a800;color:#fff;font-size:.75em;font-weight:700;border-radius:3px;padding:0 .35em;margin-left:.4em;vertical-align:middle}
code{background:#f3f5f9;padding:0 .2em;border-radius:3px}
"""


def _pct(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{100 * value:.{digits}f}%"


def _pp(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:+.2f} pp"


def _money(value: float | None) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.2f}"


def lift_svg(rows: list[tuple[str, float, tuple[float, float], float | None]], *, width: int = 860) -> str:
    """An inline SVG forest plot: per row its absolute lift (percentage points) with the 95% interval,
    a zero line, and the simulated true lift as a diamond when known."""
    if not rows:
        return ""
    values = [v for _, est, (lo, hi), truth in rows for v in (est, lo, hi, truth if truth is not None else est)]
    low, high = min(min(values), 0.0), max(max(values), 0.0)
    pad = (high - low) * 0.08 or 0.01
    low, high = low - pad, high + pad
    left = 24 + 7 * max(len(label) for label, *_ in rows)  # room for the labels at 12 px (about 7 px a character)
    right, row_height, top = 30, 34, 12
    height = top + row_height * len(rows) + 50
    x = lambda v: left + (v - low) / (high - low) * (width - left - right)  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="absolute lift in conversion rate with 95% intervals" font-family="system-ui,sans-serif" font-size="12">']
    step = _nice_step(high - low)
    tick = math.ceil(low / step) * step
    while tick <= high:
        parts.append(f'<line x1="{x(tick):.1f}" y1="{top - 6}" x2="{x(tick):.1f}" y2="{height - 44}" stroke="#eef0f4"/>'
                     f'<text x="{x(tick):.1f}" y="{height - 28}" text-anchor="middle" fill="#5b6475">{100 * tick:+.1f} pp</text>')
        tick += step
    parts.append(f'<line x1="{x(0):.1f}" y1="{top - 6}" x2="{x(0):.1f}" y2="{height - 44}" stroke="#5b6475" stroke-dasharray="4 3"/>')
    for i, (label, estimate, (lo, hi), truth) in enumerate(rows):
        y = top + i * row_height + row_height / 2
        crosses = lo <= 0 <= hi
        colour = "#b07800" if crosses else "#1f6feb"
        parts.append(f'<text x="{left - 10}" y="{y + 4:.1f}" text-anchor="end">{html.escape(label)}</text>'
                     f'<line x1="{x(lo):.1f}" y1="{y:.1f}" x2="{x(hi):.1f}" y2="{y:.1f}" stroke="{colour}" stroke-width="3"/>'
                     f'<line x1="{x(lo):.1f}" y1="{y - 6:.1f}" x2="{x(lo):.1f}" y2="{y + 6:.1f}" stroke="{colour}" stroke-width="2"/>'
                     f'<line x1="{x(hi):.1f}" y1="{y - 6:.1f}" x2="{x(hi):.1f}" y2="{y + 6:.1f}" stroke="{colour}" stroke-width="2"/>'
                     f'<circle cx="{x(estimate):.1f}" cy="{y:.1f}" r="5" fill="{colour}"><title>estimate {100 * estimate:+.2f} pp, '
                     f'95% interval {100 * lo:+.2f} to {100 * hi:+.2f} pp</title></circle>')
        if truth is not None:
            cx = x(truth)
            parts.append(f'<path d="M{cx:.1f} {y - 9:.1f} L{cx + 6:.1f} {y:.1f} L{cx:.1f} {y + 9:.1f} L{cx - 6:.1f} {y:.1f} Z" '
                         f'fill="none" stroke="#d1242f" stroke-width="2"><title>simulated true lift {100 * truth:+.2f} pp</title></path>')
    parts.append(f'<text x="10" y="{height - 8}" fill="#5b6475">absolute lift in conversion rate (treated minus holdout): '
                 f'dot = estimate, bar = 95% interval{", red diamond = simulated true lift" if any(r[3] is not None for r in rows) else ""}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _nice_step(span: float) -> float:
    raw = span / 6
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def render_html(outcomes: Mapping[str, Any]) -> str:
    """The self-contained report page (no scripts, no external files)."""
    simulated = outcomes["simulated"]
    sim = outcomes.get("simulation") or {}
    out = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>nudge outcomes{' (simulated)' if simulated else ''}</title>"
           f"<meta name='viewport' content='width=device-width,initial-scale=1'><style>{CSS}</style></head><body>"]
    out.append(f"<h1>nudge outcomes{'<span class=tag>SIMULATED</span>' if simulated else ''}</h1>")
    out.append(f"<p class=meta>Event log <code>{html.escape(str(outcomes['events']))}</code>, {html.escape(outcomes['engine'])}, "
               f"generated {html.escape(outcomes['generated_at'])}.</p>")
    if simulated:
        out.append("<div class=sim><b>SIMULATED DATA.</b> The demo store has no real customers, so nothing real came back from its "
                   "emails. Every delivery, open, click and order below was written by the seeded response simulator "
                   f"(<code>nudge_local/response_sim.py</code>, seed {html.escape(str(sim.get('seed', '?')))}), which knows the true "
                   "lift of each campaign; the report estimates it from the event log as it would from real events and marks the "
                   f"truth beside the estimate. {html.escape(str(sim.get('note', '')))}</div>")
    methods = outcomes["methods"]
    out.append("<p class=note>Uplift compares every customer the planner assigned to the email (treated) with the holdout it kept out, "
               f"whatever they did with the email: a conversion is {html.escape(methods['conversion'])}. Intervals: absolute lift, "
               f"{html.escape(methods['conversion_absolute'])}; relative lift, {html.escape(methods['conversion_relative'])}; revenue "
               f"per customer, {html.escape(methods['revenue_per_customer'])}. An interval that contains zero reads "
               "<span class=ns>not significant</span>. Attributed revenue (what email tools report: "
               f"{html.escape(methods['attribution'])}) is shown beside the uplift, never instead of it: an attributed customer "
               "might have bought anyway.</p>")

    rows = [(c["campaign_id"], c["conversion_lift"]["absolute"], tuple(c["conversion_lift"]["absolute_interval"]),
             (c.get("simulated_truth") or {}).get("absolute_lift")) for c in outcomes["campaigns"] if c["conversion_lift"]]
    out.append("<h2>Lift per campaign</h2>" + lift_svg(rows))
    summary = outcomes["summary"]
    if summary.get("simulated_campaigns"):
        out.append(f"<p>The simulated true lift lies inside the 95% interval for <b>{summary['simulated_truth_inside_interval']} of "
                   f"{summary['simulated_campaigns']}</b> campaigns (about 19 in 20 is what a 95% interval promises).</p>")
    out.append("<table><thead><tr><th>campaign</th><th>treated</th><th>holdout</th><th>conv. treated</th><th>conv. holdout</th>"
               "<th>absolute lift [95%]</th><th>relative lift [95%]</th><th>verdict</th><th>revenue / customer lift [95%]</th>"
               f"<th>attributed revenue</th>{'<th>simulated true lift</th>' if simulated else ''}</tr></thead><tbody>")
    for c in outcomes["campaigns"]:
        out.append(_summary_row(c, simulated))
    out.append("</tbody></table>")
    for c in outcomes["campaigns"]:
        out.append(_campaign_section(c, simulated))
    out.append("</body></html>\n")
    return "".join(out)


def _interval(values: list[float] | None, *, percent: bool, digits: int = 2) -> str:
    if not values:
        return "–"
    fmt = (lambda v: f"{100 * v:+.{digits}f}") if percent else (lambda v: f"{v:+,.{digits}f}")  # noqa: E731
    return f"[{fmt(values[0])}, {fmt(values[1])}]"


def _verdict(text: str | None) -> str:
    if not text:
        return "–"
    return f"<span class={'ns' if text == 'not significant' else 'sig'}>{text}</span>"


def _summary_row(c: Mapping[str, Any], simulated: bool) -> str:
    t, h, lift, money = c["groups"]["treated"], c["groups"]["holdout"], c["conversion_lift"], c["revenue_lift"]
    truth = c.get("simulated_truth")
    cells = [html.escape(c["campaign_id"]), f"{t['customers']:,}", f"{h['customers']:,}", _pct(t["conversion_rate"]), _pct(h["conversion_rate"])]
    if lift:
        relative = (f"{100 * lift['relative']:+.0f}% {_interval(lift['relative_interval'], percent=True, digits=0)}"
                    if lift["relative"] is not None else html.escape(lift["relative_note"]))
        cells += [f"{_pp(lift['absolute'])} {_interval(lift['absolute_interval'], percent=True)}", relative, _verdict(lift["verdict"]),
                  f"{money['absolute']:+,.2f} {_interval(money['interval'], percent=False)} {_verdict(money['verdict'])}"]
    else:
        cells += [html.escape(c.get("lift_note", "")), "–", "–", "–"]
    cells.append(_money(c["attributed"]["revenue"]))
    if simulated:
        cells.append(f"{_pp(truth['absolute_lift'])} {'(inside)' if truth['absolute_lift_inside_interval'] else '(OUTSIDE)'}" if truth else "–")
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def _campaign_section(c: Mapping[str, Any], simulated: bool) -> str:
    f, t, h = c["funnel"], c["groups"]["treated"], c["groups"]["holdout"]
    label = html.escape(c["campaign_id"]) + (f" <span class=meta>({html.escape(c['campaign_type'])})</span>" if c["campaign_type"] else "")
    out = [f"<h2>{label}{'<span class=tag>SIMULATED</span>' if simulated else ''}</h2>"]
    sent = f["sent"] or 0
    steps = [("sent", f["sent"]), ("delivered", f["delivered"]), ("opened (human)", f["opened"]), ("clicked (human)", f["clicked"]),
             ("converted (attributed, last touch)", f["converted"])]
    out.append("<table><thead><tr><th>funnel step</th><th>customers</th><th>of sent</th></tr></thead><tbody>")
    for name, value in steps:
        out.append(f"<tr><td>{name}</td><td>{value:,}</td><td>{_pct(value / sent if sent else None, 1)}</td></tr>")
    out.append("</tbody></table>")
    out.append(f"<p class=note>Kept out of the human counts: {f['machine_open_customers']:,} customers with machine opens (Apple Mail Privacy "
               f"Protection and other prefetches), {f['bot_click_customers']:,} with bot clicks (link scanners). Bounced {f['bounced']:,} "
               f"({f['bounced_permanent']:,} permanent: suppressed), complaints {f['complained']:,}, rejected {f['rejected']:,}, "
               f"unsubscribed {f['unsubscribed']:,}. Attributed: {c['attributed']['orders']:,} orders, "
               f"{_money(c['attributed']['revenue'])} revenue ({c['attributed']['by_touch']['click']:,} after a click, "
               f"{c['attributed']['by_touch']['open']:,} after an open).</p>")
    out.append("<table><thead><tr><th>group</th><th>customers</th><th>converted</th><th>conversion rate</th><th>revenue</th>"
               "<th>revenue / customer</th><th>assigned by</th></tr></thead><tbody>")
    for name, side in (("treated", t), ("holdout", h)):
        sources = ", ".join(f"{html.escape(k)} {v['customers']:,}" for k, v in sorted(side["by_source"].items()))
        out.append(f"<tr><td>{name}</td><td>{side['customers']:,}</td><td>{side['converted']:,}</td><td>{_pct(side['conversion_rate'])}</td>"
                   f"<td>{_money(side['revenue'])}</td><td>{_money(side['revenue_per_customer'])}</td><td>{sources or '–'}</td></tr>")
    out.append("</tbody></table>")
    lift, money = c["conversion_lift"], c["revenue_lift"]
    if lift:
        truth = c.get("simulated_truth")
        relative = (f"{100 * lift['relative']:+.1f}% {_interval(lift['relative_interval'], percent=True, digits=1)}"
                    if lift["relative"] is not None else html.escape(lift["relative_note"]))
        out.append(f"<p>Absolute lift {_pp(lift['absolute'])}, 95% interval {_interval(lift['absolute_interval'], percent=True)} pp: "
                   f"{_verdict(lift['verdict'])}. Relative lift {relative}. Revenue per customer {money['absolute']:+,.2f}, 95% interval "
                   f"{_interval(money['interval'], percent=False)}: {_verdict(money['verdict'])}.</p>")
        if truth:
            out.append(f"<p class=note>Simulated truth: base rate {_pct(truth['base_rate'])}, true absolute lift {_pp(truth['absolute_lift'])} "
                       f"({'inside' if truth['absolute_lift_inside_interval'] else 'OUTSIDE'} the interval), true revenue per customer lift "
                       f"{_money(truth['revenue_per_customer_lift'])}. {html.escape(_synthetic_note(truth, t, h))}</p>")
        out.append(lift_svg([(c["campaign_id"], lift["absolute"], tuple(lift["absolute_interval"]), (truth or {}).get("absolute_lift"))]))
    else:
        out.append(f"<p class=ns>{html.escape(c.get('lift_note', ''))}</p>")
    return "".join(out)


def _synthetic_note(truth: Mapping[str, Any], treated: Mapping[str, Any], holdout: Mapping[str, Any]) -> str:
    synthetic = truth.get("synthetic_customers") or 0
    if not synthetic:
        return ""
    return (f"{synthetic:,} of the {treated['customers'] + holdout['customers']:,} customers are a synthetic population the simulator "
            "added to this campaign (assigned by 'simulator'), so the interval means something; the rest are the demo's planned customers "
            "(assigned by 'planner').")


# ------------------------------------------------------------------------------------------------
# The job
# ------------------------------------------------------------------------------------------------
def main(config: ReportConfig) -> dict[str, Any]:
    """Query the log, compute, write out/report.html and build/reports/outcomes.json; returns the outcomes."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nudge-report-") as work:
        if config.engine == "duckdb":
            root = local_copy(config.events, Path(work))
            engine: Any = DuckDBEngine(root)
            simulation = load_simulation(config, root)
        elif config.engine == "athena":
            engine = AthenaEngine(database=config.athena_database, workgroup=config.athena_workgroup)
            if config.events.startswith("s3://") and not config.simulation:
                fetch_simulation(config.events, Path(work))
            simulation = load_simulation(config, Path(work))
        else:
            raise ReportError(f"engine must be 'duckdb' or 'athena', got {config.engine!r}")
        outcomes = build_outcomes(engine, config=config, simulation=simulation)
    outcomes["seconds"] = round(time.perf_counter() - started, 2)
    config.json_out.parent.mkdir(parents=True, exist_ok=True)
    config.json_out.write_text(json.dumps(outcomes, indent=2, ensure_ascii=False, default=_json_default) + "\n", encoding="utf-8")
    config.html_out.parent.mkdir(parents=True, exist_ok=True)
    config.html_out.write_text(render_html(outcomes), encoding="utf-8")
    return outcomes


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def print_summary(outcomes: Mapping[str, Any], out: Any = sys.stdout) -> None:
    label = " (SIMULATED)" if outcomes["simulated"] else ""
    print(f"outcomes{label}: {outcomes['summary']['campaigns']} campaigns, {outcomes['seconds']} s", file=out)
    print(f"{'campaign':<30}{'treated':>9}{'holdout':>9}{'conv t':>8}{'conv h':>8}  {'abs lift [95%] (pp)':<26}{'verdict':<17}{'true':>8}", file=out)
    for c in outcomes["campaigns"]:
        t, h, lift, truth = c["groups"]["treated"], c["groups"]["holdout"], c["conversion_lift"], c.get("simulated_truth")
        interval = (f"{100 * lift['absolute']:+.2f} [{100 * lift['absolute_interval'][0]:+.2f}, {100 * lift['absolute_interval'][1]:+.2f}]"
                    if lift else c.get("lift_note", "")[:25])
        true = f"{100 * truth['absolute_lift']:+.2f}{'' if truth['absolute_lift_inside_interval'] else '!'}" if truth else ""
        print(f"{c['campaign_id']:<30}{t['customers']:>9,}{h['customers']:>9,}{_pct(t['conversion_rate']):>8}{_pct(h['conversion_rate']):>8}  "
              f"{interval:<26}{(lift or {}).get('verdict', '-'):<17}{true:>8}", file=out)
    summary = outcomes["summary"]
    if summary.get("simulated_campaigns"):
        print(f"simulated true lift inside the 95% interval: {summary['simulated_truth_inside_interval']} of {summary['simulated_campaigns']}", file=out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", default=ReportConfig.events, help="directory holding events/, or s3://bucket[/prefix]")
    parser.add_argument("--engine", choices=("duckdb", "athena"), default=ReportConfig.engine)
    parser.add_argument("--database", default=ReportConfig.athena_database, help="Athena: the Glue database (stack output EventsDatabase)")
    parser.add_argument("--workgroup", default=ReportConfig.athena_workgroup, help="Athena: the work group (stack output EventsWorkGroup)")
    parser.add_argument("--simulation", default="", help="simulation.json (default: beside events/ when present)")
    parser.add_argument("--html", type=Path, default=ReportConfig.html_out)
    parser.add_argument("--json", type=Path, default=ReportConfig.json_out)
    parser.add_argument("--window-days", type=int, default=ReportConfig.uplift_window_days, help="uplift conversion window")
    parser.add_argument("--resamples", type=int, default=ReportConfig.resamples)
    args = parser.parse_args()
    result = main(ReportConfig(events=args.events, engine=args.engine, athena_database=args.database, athena_workgroup=args.workgroup,
                               simulation=args.simulation, html_out=args.html, json_out=args.json,
                               uplift_window_days=args.window_days, resamples=args.resamples))
    print_summary(result)
    print(f"look at {args.html} and {args.json}")
