"""Attribution: GIVEN a few touches and orders whose right answer is obvious WHEN they are flagged
and attributed THEN machine opens and bot clicks get no credit and each order goes to the last human
touch whose window (5 days after a click, 1 day after an open) still covers it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from nudge.attribution import Rules, attribute, flag_touches, is_machine_open_agent
from nudge.eventlog import Event, iso, order_event

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)  # the email is delivered


def touch(kind: str, after: timedelta, *, campaign: str = "c1", pid: str = "p_1", link: str = "link=aaaaaaaaaaaa",
          flags: tuple[str, ...] = ()) -> Event:
    at = T0 + after
    return Event(event_id=f"{kind}:{campaign}:{pid}:{iso(at)}:{link}", type=kind, at=iso(at), pseudonymous_id=pid,
                 campaign_id=campaign, message_id=f"m-{campaign}-{pid}", detail=link if kind == "click" else "", flags=flags)


def order(after: timedelta, *, pid: str = "p_1", revenue: float = 40.0, order_id: str = "o1") -> Event:
    return order_event(order_id, pseudonymous_id=pid, at=T0 + after, revenue=revenue)


def credited(orders, touches, rules=Rules()):
    reached = {t.message_id: T0 for t in touches}
    return [(c.order_id, c.campaign_id, c.touch_type) for c in attribute(orders, flag_touches(touches, reached=reached, rules=rules), rules=rules)]


def test_an_order_two_hours_after_a_click_goes_to_that_click():
    assert credited([order(timedelta(hours=2))], [touch("click", timedelta(hours=1))]) == [("order:o1", "c1", "click")]


def test_an_order_three_days_after_an_open_is_not_attributed():
    assert credited([order(timedelta(days=3, hours=1))], [touch("open", timedelta(hours=1))]) == []


def test_an_open_past_its_window_does_not_hide_an_earlier_click_still_in_its_window():
    touches = [touch("click", timedelta(hours=1)), touch("open", timedelta(days=1, hours=12))]
    assert credited([order(timedelta(days=3))], touches) == [("order:o1", "c1", "click")]


def test_the_last_touch_wins_across_campaigns():
    touches = [touch("click", timedelta(hours=1), campaign="a"), touch("click", timedelta(days=2), campaign="b")]
    assert credited([order(timedelta(days=3))], touches) == [("order:o1", "b", "click")]


def test_touches_after_the_order_and_other_customers_touches_get_nothing():
    touches = [touch("click", timedelta(days=1)), touch("click", timedelta(hours=1), pid="p_2")]
    assert credited([order(timedelta(hours=5))], touches) == []


def test_a_click_beats_an_open_at_the_same_second():
    touches = [touch("open", timedelta(hours=3), campaign="a"), touch("click", timedelta(hours=3), campaign="b")]
    assert credited([order(timedelta(hours=4))], touches) == [("order:o1", "b", "click")]


def test_an_open_seconds_after_delivery_is_a_machine_open_and_earns_nothing():
    touches = [touch("open", timedelta(seconds=10))]
    [flagged] = flag_touches(touches, reached={touches[0].message_id: T0})
    assert "machine_open" in flagged.flags
    assert credited([order(timedelta(hours=1))], touches) == []


def test_a_machine_open_flagged_at_ingestion_stays_flagged_whenever_it_came():
    touches = [touch("open", timedelta(hours=2), flags=("machine_open",))]
    assert credited([order(timedelta(hours=3))], touches) == []


def test_a_click_seconds_after_delivery_is_a_bot_click():
    touches = [touch("click", timedelta(seconds=5))]
    assert "bot_click" in flag_touches(touches, reached={touches[0].message_id: T0})[0].flags
    assert credited([order(timedelta(hours=1))], touches) == []


def test_every_link_clicked_within_a_second_is_a_bot_even_long_after_delivery():
    burst = [touch("click", timedelta(minutes=10), link=f"link={n:012d}") for n in range(3)]
    flagged = flag_touches(burst, reached={burst[0].message_id: T0})
    assert all("bot_click" in t.flags for t in flagged)
    assert credited([order(timedelta(hours=1))], burst) == []


def test_two_links_clicked_ten_seconds_apart_are_a_person():
    clicks = [touch("click", timedelta(minutes=10), link="link=000000000001"),
              touch("click", timedelta(minutes=10, seconds=10), link="link=000000000002")]
    assert [t.flags for t in flag_touches(clicks, reached={clicks[0].message_id: T0})] == [(), ()]


def test_a_bot_click_does_not_hide_the_person_s_own_click():
    touches = [touch("click", timedelta(seconds=3)), touch("click", timedelta(hours=5), link="link=000000000009")]
    assert credited([order(timedelta(hours=6))], touches) == [("order:o1", "c1", "click")]


def test_windows_are_configurable():
    touches = [touch("click", timedelta(hours=1))]
    short = Rules(click_window=timedelta(hours=12))
    assert credited([order(timedelta(days=1))], touches, rules=short) == []
    assert credited([order(timedelta(hours=12))], touches, rules=short) == [("order:o1", "c1", "click")]


def test_each_order_is_credited_once_with_its_revenue():
    touches = [touch("click", timedelta(hours=1)), touch("open", timedelta(hours=2))]
    credits = attribute([order(timedelta(hours=3), revenue=12.5), order(timedelta(hours=4), revenue=7.5, order_id="o2")],
                        flag_touches(touches, reached={t.message_id: T0 for t in touches}))
    assert [(c.order_id, c.touch_type, c.revenue) for c in credits] == [("order:o1", "open", 12.5), ("order:o2", "open", 7.5)]


@pytest.mark.parametrize("agent, address, machine", [
    ("Mozilla/5.0", "203.0.113.9", True),  # Apple Mail Privacy Protection's bare agent
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)", "17.58.10.1", True),  # Apple's network
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0", "203.0.113.9", False),
    (None, None, False),
    ("Mozilla/5.0 (Macintosh)", "not-an-ip", False),
])
def test_apple_privacy_proxy_opens_are_told_by_agent_or_address(agent, address, machine):
    assert is_machine_open_agent(agent, address) is machine
