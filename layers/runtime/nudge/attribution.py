"""Attribution: which email gets the credit for an order (last touch), and which touches a machine made.

Attributed revenue is what email tools usually report: orders that followed an open or a click. It
is shown beside the uplift against the holdout (nudge.uplift), never instead of it: a customer who
clicked might have bought anyway. Plain Python over nudge.eventlog events; no AWS.

Rules (each threshold is a field of `Rules`):

  machine open  an open whose user agent is exactly "Mozilla/5.0" (the bare agent of Apple Mail
                Privacy Protection's image proxy) or whose address is in Apple's 17.0.0.0/8,
                decided when SES reports it (the log keeps neither agent nor address:
                `is_machine_open_agent`); or an open within 60 s of its email's delivery (proxies
                and prefetchers fetch images as the mail arrives; a person rarely opens that fast)
  bot click     a click within 15 s of its email's delivery (link scanners such as Safe Links
                follow links on arrival), or 3 or more distinct links of one email clicked within
                2 s of each other (a scanner follows every link; a person cannot)
  last touch    an order goes to the customer's latest human touch before it whose window still
                covers it: 5 days after a click, 1 day after an open; at the same second a click
                beats an open. One order, one email; an order no window covers is unattributed.

"Delivery" is the SES Delivery event's time, else the send time. Flagged touches stay in the log
and in the funnel's machine columns; they are only kept out of attribution and the human counts.

>>> from datetime import datetime, timezone
>>> at = lambda h: datetime(2026, 11, 20, h, tzinfo=timezone.utc)
>>> from nudge.eventlog import Event, iso, order_event
>>> click = Event(event_id="click:m1:1", type="click", at=iso(at(10)), pseudonymous_id="p_1", campaign_id="c1", message_id="m1")
>>> order = order_event("o1", pseudonymous_id="p_1", at=at(12), revenue=40.0)
>>> [(c.campaign_id, c.touch_type, c.revenue) for c in attribute([order], [click])]
[('c1', 'click', 40.0)]
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Iterable, Mapping, Sequence

from nudge.eventlog import Event, parse_time

# Apple Mail Privacy Protection fetches remote images through Apple's proxies with this bare agent.
PROXY_USER_AGENTS = frozenset({"Mozilla/5.0"})
APPLE_NETWORK = ipaddress.ip_network("17.0.0.0/8")  # Apple's own block, where its proxies egress


@dataclass(frozen=True)
class Rules:
    click_window: timedelta = timedelta(days=5)  # an order within this long after a click is credited to it
    open_window: timedelta = timedelta(days=1)  # ... after a (human) open
    machine_open_seconds: float = 60.0  # an open this soon after delivery is a machine's
    bot_click_seconds: float = 15.0  # a click this soon after delivery is a scanner's
    burst_seconds: float = 2.0  # distinct links clicked within this span ...
    burst_links: int = 3  # ... this many or more: a scanner following every link


@dataclass(frozen=True)
class Credit:
    """One attributed order: its revenue goes to `campaign_id` through the touch `touch_id`."""

    order_id: str  # the order's event_id
    pseudonymous_id: str
    campaign_id: str
    message_id: str
    touch_type: str  # "click" or "open"
    touch_id: str
    revenue: float


def is_machine_open_agent(user_agent: str | None, ip_address: str | None) -> bool:
    """True for an open fetched by Apple's Mail Privacy Protection proxy, by its agent or address.

    >>> is_machine_open_agent("Mozilla/5.0", "203.0.113.9"), is_machine_open_agent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)", "17.58.1.2")
    (True, True)
    """
    if (user_agent or "").strip() in PROXY_USER_AGENTS:
        return True
    try:
        return ipaddress.ip_address((ip_address or "").strip()) in APPLE_NETWORK
    except ValueError:
        return False


def flag_touches(touches: Iterable[Event], *, reached: Mapping[str, datetime], rules: Rules = Rules()) -> list[Event]:
    """The opens and clicks with machine_open / bot_click added where the timing rules say so.

    `reached`: message id → when the email was delivered (else sent). Flags already on an event
    (set at ingestion from the agent and address) are kept."""
    touches = list(touches)
    bursts = _burst_clicks(touches, rules)
    flagged = []
    for touch in touches:
        flags = set(touch.flags)
        landed = reached.get(touch.message_id)
        seconds = (parse_time(touch.at) - landed).total_seconds() if landed is not None else None
        if touch.type == "open" and seconds is not None and seconds < rules.machine_open_seconds:
            flags.add("machine_open")
        if touch.type == "click" and ((seconds is not None and seconds < rules.bot_click_seconds) or touch.event_id in bursts):
            flags.add("bot_click")
        flagged.append(replace(touch, flags=tuple(sorted(flags))) if flags != set(touch.flags) else touch)
    return flagged


def is_human(touch: Event) -> bool:
    return touch.type in ("open", "click") and not {"machine_open", "bot_click"} & set(touch.flags)


def attribute(orders: Sequence[Event], touches: Sequence[Event], *, rules: Rules = Rules()) -> list[Credit]:
    """Credit each order to the latest human touch of the same customer whose window covers it.

    `touches` should already be flagged (flag_touches); machine opens and bot clicks get no credit."""
    by_customer: dict[str, list[tuple[datetime, int, Event]]] = {}
    for touch in touches:
        if is_human(touch) and touch.campaign_id:
            rank = 1 if touch.type == "click" else 0  # at the same second, a click beats an open
            by_customer.setdefault(touch.pseudonymous_id, []).append((parse_time(touch.at), rank, touch))
    for timeline in by_customer.values():
        timeline.sort(key=lambda item: (item[0], item[1]))
    credits = []
    for order in orders:
        ordered_at = parse_time(order.at)
        for touched_at, _, touch in reversed(by_customer.get(order.pseudonymous_id, [])):
            if touched_at > ordered_at:
                continue
            window = rules.click_window if touch.type == "click" else rules.open_window
            if ordered_at - touched_at <= window:
                credits.append(Credit(order.event_id, order.pseudonymous_id, touch.campaign_id, touch.message_id,
                                      touch.type, touch.event_id, float(order.revenue)))
                break
    return credits


def _burst_clicks(touches: Sequence[Event], rules: Rules) -> set[str]:
    """Event ids of clicks in a burst: `burst_links` or more distinct links of one email within
    `burst_seconds` of each other."""
    by_message: dict[str, list[tuple[datetime, str, str]]] = {}
    for touch in touches:
        if touch.type == "click" and touch.message_id:
            link = touch.detail if touch.detail.startswith("link=") else touch.event_id
            by_message.setdefault(touch.message_id, []).append((parse_time(touch.at), link, touch.event_id))
    found: set[str] = set()
    span = timedelta(seconds=rules.burst_seconds)
    for clicks in by_message.values():
        clicks.sort()
        start = 0
        for end in range(len(clicks)):
            while clicks[end][0] - clicks[start][0] > span:
                start += 1
            window = clicks[start : end + 1]
            if len({link for _, link, _ in window}) >= rules.burst_links:
                found.update(event_id for _, _, event_id in window)
    return found


__all__ = ["Credit", "Rules", "attribute", "flag_touches", "is_human", "is_machine_open_agent"]
