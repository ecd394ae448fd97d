"""The event log: one schema for everything that comes back from an email (issue #12).

Every event, wherever it comes from (the planner's treated/holdout assignment, the sender, SES
through its configuration set, the link endpoint, the store's orders), is one `Event`, stored as a
JSON Lines object in S3 under a Hive-style partition, so the same SQL reads it in DuckDB (local)
and Athena (deployed):

    events/type=<type>/dt=<YYYY-MM-DD>/<key of event_id>.jsonl

The object key is a hash of `event_id`, which is each source's idempotency key (an SES event: its
type and SES message id, plus the timestamp for repeatable events such as opens and clicks; an
order: its order id). Writes are conditional (If-None-Match), so a replayed event changes nothing:
the second write finds the object and is counted as a replay.

No personal data: customers appear by pseudonymous id only; never an email address or a name.

>>> e = Event(event_id="delivery:m1", type="delivery", at="2026-12-01T10:00:00Z", pseudonymous_id="p_1", campaign_id="c1", message_id="m1")
>>> event_key(e)
'events/type=delivery/dt=2026-12-01/b00239ebc51dc2d9007608d57a889d14.jsonl'
>>> from_json_line(to_json_line(e)) == e
True
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, Sequence

from nudge.errors import ValidationError

# What happened. "assigned": the planner put a customer in a campaign's treated or holdout group (the
# denominator of uplift); "sent": the sender handed the email to SES; delivery .. click: SES events
# (open/click also from the endpoint); unsubscribe/preferences: the link endpoint; order: the store.
EVENT_TYPES = ("assigned", "sent", "delivery", "bounce", "complaint", "reject", "open", "click",
               "unsubscribe", "preferences", "order")
GROUPS = ("treated", "holdout")
# Flags keep an event in the log but out of attribution: machine_open (Apple Mail Privacy
# Protection and other proxies that fetch every image), bot_click (link scanners), unreliable
# (opens in general: a pixel proves nothing), simulated (written by the demo's response simulator).
FLAGS = ("machine_open", "bot_click", "unreliable", "simulated", "permanent", "transient")
PREFIX = "events/"


class EventError(ValidationError):
    """An event does not match the event log's schema."""


@dataclass(frozen=True, slots=True)
class Event:
    event_id: str  # the source's idempotency key (see the module docstring)
    type: str  # one of EVENT_TYPES
    at: str  # when it happened, UTC ISO 8601 with "Z"
    pseudonymous_id: str  # the customer, pseudonymous (nudge.identity); never an address
    campaign_id: str = ""  # "" for orders (attribution finds the campaign)
    message_id: str = ""  # the SES message id of the email this is about, when known
    product_id: str = ""  # clicks on a product, order lines
    group: str = ""  # "assigned" only: treated or holdout
    revenue: float = 0.0  # "order" only: the order's total in the store's currency
    flags: tuple[str, ...] = field(default=())  # subset of FLAGS
    detail: str = ""  # bounce type, complaint feedback type, a skip reason, an assigned event's campaign type; short, no personal data
    source: str = ""  # planner | sender | ses | endpoint | store | simulator

    def __post_init__(self) -> None:
        problems = []
        if not self.event_id:
            problems.append("event_id is empty")
        if self.type not in EVENT_TYPES:
            problems.append(f"type must be one of {EVENT_TYPES}, got {self.type!r}")
        if not self.pseudonymous_id:
            problems.append("pseudonymous_id is empty")
        if "@" in self.pseudonymous_id or "@" in self.detail:
            problems.append("an email address in an event (pseudonymous ids only)")
        try:
            parse_time(self.at)
        except EventError as exc:
            problems.append(str(exc))
        if self.type == "assigned" and self.group not in GROUPS:
            problems.append(f"an assigned event needs group in {GROUPS}, got {self.group!r}")
        if self.type == "assigned" and not self.campaign_id:
            problems.append("an assigned event needs a campaign_id")
        if not isinstance(self.revenue, (int, float)) or self.revenue < 0 or self.revenue != self.revenue:
            problems.append(f"revenue must be a number >= 0, got {self.revenue!r}")
        unknown = [f for f in self.flags if f not in FLAGS]
        if unknown:
            problems.append(f"flags must be among {FLAGS}, got {unknown}")
        if problems:
            raise EventError(f"event {self.event_id!r}: " + "; ".join(problems))

    @property
    def day(self) -> str:
        return self.at[:10]


def assigned_event(campaign_id: str, pseudonymous_id: str, *, group: str, at: datetime, campaign_type: str = "",
                   source: str = "planner", flags: Sequence[str] = ()) -> Event:
    """The planner put a customer in a campaign's treated or holdout group (one per campaign and customer)."""
    return Event(event_id=f"assigned:{campaign_id}:{pseudonymous_id}", type="assigned", at=iso(at),
                 pseudonymous_id=pseudonymous_id, campaign_id=campaign_id, group=group, detail=campaign_type,
                 source=source, flags=tuple(flags))


def sent_event(message_id: str, *, campaign_id: str, pseudonymous_id: str, at: datetime, source: str = "sender",
               flags: Sequence[str] = ()) -> Event:
    """The sender handed an email to SES. The id is SES's message id, the same one SES's own Send event
    carries (nudge.ses_events), so the two are one event in the log."""
    return Event(event_id=f"sent:{message_id}", type="sent", at=iso(at), pseudonymous_id=pseudonymous_id,
                 campaign_id=campaign_id, message_id=message_id, source=source, flags=tuple(flags))


def order_event(order_id: str, *, pseudonymous_id: str, at: datetime, revenue: float, source: str = "store",
                flags: Sequence[str] = ()) -> Event:
    """The store's OrderPlaced: once per order id, its total as revenue (no campaign: attribution and
    uplift find it by customer and time)."""
    return Event(event_id=f"order:{order_id}", type="order", at=iso(at), pseudonymous_id=pseudonymous_id,
                 revenue=float(revenue), source=source, flags=tuple(flags))


def parse_time(text: str) -> datetime:
    """An event time: ISO 8601 with a zone (a trailing Z is UTC), as an aware UTC datetime."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00")) if isinstance(text, str) else None
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise EventError(f"at must be an ISO 8601 time with a zone, e.g. 2026-12-01T10:00:00Z, got {text!r}")
    return value.astimezone(timezone.utc)


def iso(moment: datetime) -> str:
    """UTC ISO 8601 with "Z", to the second (the log's one time format)."""
    if moment.tzinfo is None:
        raise EventError("event times must be timezone-aware")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_key(event: Event) -> str:
    """The S3 key of an event: Hive partitions by type and day, the name a hash of its event_id."""
    digest = hashlib.sha256(event.event_id.encode("utf-8")).hexdigest()[:32]
    return f"{PREFIX}type={event.type}/dt={event.day}/{digest}.jsonl"


_FIELD_NAMES = tuple(f.name for f in fields(Event))


def batch_key(events: Sequence[Event]) -> str:
    """The S3 key of one object holding many events of one type and day (the planner's "assigned"
    events, a page at a time): the name is a hash of the sorted event ids, so writing the same
    batch again finds the same key (a re-run plan adds nothing). Readers take any number of lines
    per object; a customer who lands in two different batches is still one customer to the SQL,
    which counts distinct ids.
    """
    if not events:
        raise EventError("a batch needs at least one event")
    kinds = {(e.type, e.day) for e in events}
    if len(kinds) != 1:
        raise EventError(f"a batch holds events of one type and day, got {sorted(kinds)[:3]}")
    digest = hashlib.sha256("\n".join(sorted(e.event_id for e in events)).encode("utf-8")).hexdigest()[:32]
    kind, day = kinds.pop()
    return f"{PREFIX}type={kind}/dt={day}/b-{digest}.jsonl"


def batches(events: Iterable[Event], *, per_object: int) -> Iterator[list[Event]]:
    """Events split into the chunks one object holds: one type and day each, at most `per_object` events,
    in the given order within a chunk (every writer of many events at once, S3 or a local folder).

    >>> e = lambda i, t: Event(event_id=str(i), type=t, at="2026-12-01T10:00:00Z", pseudonymous_id="p_1", campaign_id="c1", group="treated")
    >>> [[x.event_id for x in b] for b in batches([e(1, "assigned"), e(2, "assigned"), e(3, "assigned")], per_object=2)]
    [['1', '2'], ['3']]
    """
    groups: dict[tuple[str, str], list[Event]] = {}
    for event in events:
        groups.setdefault((event.type, event.day), []).append(event)
    for group in groups.values():
        for start in range(0, len(group), per_object):
            yield group[start : start + per_object]


def to_json_lines(events: Iterable[Event]) -> str:
    """Several events as JSON Lines (one object per line, in the given order)."""
    return "".join(to_json_line(e) for e in events)


def to_json_line(event: Event) -> str:
    body = {name: getattr(event, name) for name in _FIELD_NAMES}  # not asdict(): it deep-copies, 5x slower
    body["flags"] = list(event.flags)
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def from_json_line(line: str) -> Event:
    """An Event from one JSON line; EventError names what was wrong."""
    try:
        body: Any = json.loads(line)
    except json.JSONDecodeError as exc:
        raise EventError(f"an event line must be a JSON object: {exc}") from exc
    if not isinstance(body, dict):
        raise EventError(f"an event line must be a JSON object, got {type(body).__name__}")
    known = {f.name for f in fields(Event)}
    extra = sorted(set(body) - known)
    if extra:
        raise EventError(f"unknown event fields {extra}; expected some of {sorted(known)}")
    body["flags"] = tuple(body.get("flags") or ())
    try:
        return Event(**body)
    except TypeError as exc:
        raise EventError(f"an event needs event_id, type, at and pseudonymous_id: {exc}") from exc
