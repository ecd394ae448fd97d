"""A seeded response simulator for the demo store: who converts, with or without the email. SIMULATED.

The demo store has no real customers, so nothing real can come back from its emails. To show the
outcome report and to test the uplift estimator (nudge.uplift) against a known answer, each
campaign gets a known base conversion rate (what the holdout does) and a known true lift (what the
email adds); a converting customer spends a lognormal order value. Every figure a report builds
from this is labelled "simulated".

>>> group = simulate_group(customers=1000, rate=0.05, seed=1)
>>> group.conversions, round(float(group.revenue.sum()), 2) > 0
(47, True)
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

# Per campaign: (holdout conversion rate, true absolute lift in conversion rate). Plausible orders of
# magnitude for e-commerce email (abandoned cart converts and lifts most; clearance and win-back least).
TRUE_EFFECTS: dict[str, tuple[float, float]] = {
    "abandoned_cart": (0.060, 0.030),
    "birthday_holiday": (0.030, 0.012),
    "clearance": (0.025, 0.008),
    "loyalty": (0.045, 0.015),
    "new_arrivals": (0.030, 0.010),
    "win_back": (0.010, 0.006),
}
ORDER_VALUE_MEDIAN = 38.0  # currency units; lognormal order values
ORDER_VALUE_SIGMA = 0.6


@dataclass(frozen=True)
class SimulatedGroup:
    customers: int
    converted: np.ndarray  # (customers,) bool
    revenue: np.ndarray  # (customers,) float, 0 for a customer who did not buy

    @property
    def conversions(self) -> int:
        return int(self.converted.sum())


def simulate_group(*, customers: int, rate: float, seed: int) -> SimulatedGroup:
    """Each customer converts with probability `rate` and then spends one lognormal order."""
    if not 0 <= rate <= 1:
        raise ValueError(f"expected a conversion rate in [0, 1], got {rate}")
    rng = np.random.default_rng(seed)
    converted = rng.random(customers) < rate
    values = rng.lognormal(np.log(ORDER_VALUE_MEDIAN), ORDER_VALUE_SIGMA, customers)
    return SimulatedGroup(customers, converted, np.where(converted, np.round(values, 2), 0.0))


def simulate_campaign(campaign_type: str, *, treated: int, holdout: int, seed: int) -> tuple[SimulatedGroup, SimulatedGroup]:
    """(treated group, holdout group) for one campaign, from its TRUE_EFFECTS."""
    base, lift = TRUE_EFFECTS[campaign_type]
    return (simulate_group(customers=treated, rate=base + lift, seed=seed * 2 + 1),
            simulate_group(customers=holdout, rate=base, seed=seed * 2))


def true_revenue_lift(campaign_type: str) -> float:
    """Expected revenue per customer added by the email: the lift in rate times the mean order value."""
    _, lift = TRUE_EFFECTS[campaign_type]
    return lift * ORDER_VALUE_MEDIAN * float(np.exp(ORDER_VALUE_SIGMA ** 2 / 2))


# ------------------------------------------------------------------------------------------------
# The demo's event log, SIMULATED: what would come back from the demo's campaigns
# ------------------------------------------------------------------------------------------------
# The demo plans six campaigns for a 5,000-customer store, writes at most 150 emails each and keeps
# a 10% holdout: 3 to 290 holdout customers a campaign, far too few for an interval that says
# anything about lifts of a point or two. So besides answering for the demo's own planned
# customers (their "assigned" events, as the planner wrote them), the simulator adds a synthetic
# population per campaign, drawn with the same holdout share, assigned by "simulator" and flagged
# "simulated" like everything it writes. The report shows both sources and says which is which.
@dataclass(frozen=True)
class Engagement:
    """Simulated email behaviour of a treated customer (shares are probabilities)."""

    delivery: float = 0.985  # sent → delivered; the rest bounce
    permanent_bounce: float = 0.7  # of the bounces (suppressed); the rest transient
    complaint: float = 0.0008  # of the delivered
    machine_open: float = 0.30  # of the delivered: Apple Mail Privacy Protection fetches the pixel on arrival
    machine_open_agent_flagged: float = 0.5  # of those, told apart at ingestion by agent or address; the rest only by timing
    scanner: float = 0.02  # of the delivered: a link scanner clicks every link within a second of arrival
    open_converter: float = 0.80  # a converting customer opened the email ...
    click_converter: float = 0.55  # ... and clicked (implies opened)
    open_other: float = 0.25  # a customer who did not convert
    click_other: float = 0.12  # of those who opened


@dataclass(frozen=True)
class SimulationConfig:
    seed: int = 7
    synthetic_customers: int = 20_000  # per campaign: the synthetic population drawn for the uplift
    # Half and half: the narrowest interval for a given number of customers. With the planner's 10%
    # holdout a store needs 2.8x as many customers for the same width (1/0.9 + 1/0.1 = 11.1 vs 4).
    holdout_share: float = 0.5
    conversion_days: float = 5.0  # a simulated order falls within this long after assignment (the report counts 7)
    engagement: Engagement = Engagement()
    per_object: int = 5000  # events per JSON Lines file


def simulate_event_log(root: Path, *, campaigns: dict[str, str], config: SimulationConfig = SimulationConfig()) -> dict:
    """Add simulated events under root/events/ for each campaign id → campaign type in `campaigns`:
    responses of the customers the planner assigned (read from root/events/type=assigned/) and of
    a synthetic population; write root/simulation.json with the true lifts. Returns that manifest."""
    import json
    import zlib
    from datetime import datetime, timezone

    from nudge.eventlog import assigned_event, from_json_line, parse_time

    planned: dict[str, list] = {cid: [] for cid in campaigns}
    for path in sorted((root / "events" / "type=assigned").glob("dt=*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            event = from_json_line(line)
            if event.campaign_id in planned:
                planned[event.campaign_id].append(event)
    manifest = {"simulated": True, "seed": config.seed, "generator": "nudge_local/response_sim.py",
                "note": (f"Each campaign adds {config.synthetic_customers:,} synthetic customers ({config.holdout_share:.0%} held out) "
                         "to the demo's planned ones (at most 150 emailed and a 10% holdout: 3 to 300 customers), so that its "
                         "interval means something."),
                "engagement": asdict(config.engagement), "campaigns": {}}
    for campaign_id, campaign_type in campaigns.items():
        # Two streams: the synthetic population's draws do not depend on how many customers the demo planned.
        stream = zlib.crc32(campaign_id.encode())
        rng_synthetic, rng_planned = (np.random.default_rng([config.seed, stream, n]) for n in (1, 2))
        customers = {e.pseudonymous_id: e for e in planned[campaign_id]}  # one per customer (a re-run plan repeats them)
        at = min((parse_time(e.at) for e in customers.values()), default=datetime.now(timezone.utc).replace(microsecond=0))
        held_out = rng_synthetic.random(config.synthetic_customers) < config.holdout_share
        synthetic = [
            assigned_event(campaign_id, "s_" + hashlib.sha256(f"{config.seed}|{campaign_id}|{index}".encode()).hexdigest()[:24],
                           group="holdout" if held_out[index] else "treated", at=at, campaign_type=campaign_type,
                           source="simulator", flags=("simulated",))
            for index in range(config.synthetic_customers)
        ]
        events = (synthetic + _responses(list(customers.values()), campaign_type, rng_planned, config)
                  + _responses(synthetic, campaign_type, rng_synthetic, config))
        write_events(root, events, per_object=config.per_object)
        base, lift = TRUE_EFFECTS[campaign_type]
        manifest["campaigns"][campaign_id] = {
            "campaign_type": campaign_type, "base_rate": base, "true_absolute_lift": lift, "true_relative_lift": lift / base,
            "true_revenue_lift": true_revenue_lift(campaign_type),
            "planned_customers": {g: sum(1 for e in customers.values() if e.group == g) for g in ("treated", "holdout")},
            "synthetic_customers": len(synthetic),
            "synthetic": {g: sum(1 for e in synthetic if e.group == g) for g in ("treated", "holdout")},
            "events": len(events),
        }
    (root / "simulation.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _responses(assigned: list, campaign_type: str, rng: np.random.Generator, config: SimulationConfig) -> list:
    """Sends, deliveries, bounces, complaints, opens, clicks and orders for assigned customers: each
    converts with the campaign's holdout rate, plus the true lift when treated; treated ones are
    sent the email and engage more when they convert (the order then follows their click or open)."""
    from datetime import timedelta

    from nudge.eventlog import Event, iso, order_event, parse_time, sent_event

    base, lift = TRUE_EFFECTS[campaign_type]
    e = config.engagement
    flags = ("simulated",)
    out: list = []
    links = [f"link={hashlib.sha256(f'{campaign_type}|{n}'.encode()).hexdigest()[:12]}" for n in range(4)]
    n = len(assigned)
    u = rng.random((n, 12))  # one row of uniform draws per customer: every draw below is a column
    values = np.round(rng.lognormal(np.log(ORDER_VALUE_MEDIAN), ORDER_VALUE_SIGMA, n), 2)
    for i, a in enumerate(assigned):
        start = parse_time(a.at)
        treated = a.group == "treated"
        converts = u[i, 0] < (base + lift if treated else base)
        ordered_at = start + timedelta(hours=1) + timedelta(days=config.conversion_days) * u[i, 1] * 0.98
        pid, campaign_id = a.pseudonymous_id, a.campaign_id
        if treated:
            message_id = "sim-" + hashlib.sha256(f"{campaign_id}|{pid}".encode()).hexdigest()[:32]
            sent_at = start + timedelta(minutes=1 + 29 * u[i, 2])
            out.append(sent_event(message_id, campaign_id=campaign_id, pseudonymous_id=pid, at=sent_at, source="simulator", flags=flags))
            common = dict(pseudonymous_id=pid, campaign_id=campaign_id, message_id=message_id, source="simulator")
            if u[i, 3] >= e.delivery:
                permanent = u[i, 4] < e.permanent_bounce
                out.append(Event(event_id=f"bounce:{message_id}", type="bounce", at=iso(sent_at + timedelta(seconds=30)),
                                 detail="Permanent/General" if permanent else "Transient/MailboxFull",
                                 flags=(*flags, "permanent" if permanent else "transient"), **common))
            else:
                delivered = sent_at + timedelta(seconds=1 + 20 * u[i, 4])
                out.append(Event(event_id=f"delivery:{message_id}", type="delivery", at=iso(delivered), flags=flags, **common))
                if u[i, 5] < e.machine_open:  # a proxy fetches the pixel on arrival
                    machine = ("machine_open",) if u[i, 6] < e.machine_open_agent_flagged else ()
                    opened = delivered + timedelta(seconds=2 + 25 * u[i, 6])
                    out.append(Event(event_id=f"open:{message_id}:{iso(opened)}:m", type="open", at=iso(opened),
                                     flags=(*flags, *machine), **common))
                if u[i, 7] < e.scanner:  # a scanner follows every link at once
                    scanned = delivered + timedelta(seconds=1 + 5 * u[i, 7] / e.scanner)
                    for link in links[:3]:
                        out.append(Event(event_id=f"click:{message_id}:{iso(scanned)}:{link}", type="click", at=iso(scanned),
                                         detail=link, flags=flags, **common))
                if u[i, 8] < e.complaint:
                    out.append(Event(event_id=f"complaint:{message_id}", type="complaint", at=iso(delivered + timedelta(hours=3)),
                                     detail="abuse", flags=flags, **common))
                ordered_at = max(ordered_at, delivered + timedelta(minutes=30))
                clicks = u[i, 9] < (e.click_converter if converts else e.open_other * e.click_other)
                opens = clicks or u[i, 10] < (e.open_converter if converts else e.open_other)
                if opens:
                    if converts:  # the touch comes shortly before the order (within hours), after arrival
                        touched = ordered_at - (ordered_at - delivered - timedelta(minutes=2)) * min(1.0, u[i, 11] * 0.3)
                    else:
                        touched = delivered + timedelta(minutes=2) + timedelta(hours=6) * float(-np.log(1 - u[i, 11] * 0.999))
                    opened = touched - timedelta(seconds=5 + 100 * u[i, 11]) if clicks else touched
                    opened = max(opened, delivered + timedelta(minutes=2))
                    out.append(Event(event_id=f"open:{message_id}:{iso(opened)}", type="open", at=iso(opened), flags=flags, **common))
                    if clicks:
                        clicked = max(touched, opened + timedelta(seconds=5))
                        link = links[int(u[i, 11] * 4) % 4]
                        out.append(Event(event_id=f"click:{message_id}:{iso(clicked)}:{link}", type="click", at=iso(clicked),
                                         detail=link, flags=flags, **common))
                    if converts and ordered_at <= max(opened, touched):
                        ordered_at = max(opened, touched) + timedelta(minutes=3)
        if converts:
            out.append(order_event(f"sim-{campaign_id}-{pid}", pseudonymous_id=pid, at=ordered_at, revenue=float(values[i]),
                                   source="simulator", flags=flags))
    return out


def write_events(root: Path, events: list, *, per_object: int = 5000) -> int:
    """Write events under root/events/ as nudge.storage.EventLog.put_many does in S3: one JSON Lines
    file per type, day and chunk, named by nudge.eventlog.batch_key. Returns the files written."""
    from nudge.eventlog import batch_key, batches, to_json_lines

    written = 0
    for chunk in batches(events, per_object=per_object):
        path = root / batch_key(chunk)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_json_lines(chunk), encoding="utf-8")
        written += 1
    return written
