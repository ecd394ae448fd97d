"""Local dates and birthdays in the customer's own timezone.

A customer's day is the calendar date on their wall clock: at 23:30 UTC it is already tomorrow in
Tokyo and still today in New York. Timezones come from the IANA database through `zoneinfo`; the
runtime depends on the `tzdata` package so that it works where the OS has no /usr/share/zoneinfo.

Leap-day birthdays: a customer born on 29 February is greeted on 28 February in common years, so
the greeting stays in their birth month and never slips into March (the choice most consumer
services make; the legal convention in some countries is 1 March).
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nudge.errors import ValidationError


@cache
def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"timezone must be an IANA name such as 'Europe/London', got {timezone!r}") from exc


def local_date(now_utc: datetime, timezone: str) -> date:
    """The calendar date on the wall clock in `timezone` at the instant `now_utc`.

    >>> from datetime import timezone as tz
    >>> local_date(datetime(2026, 3, 14, 23, 30, tzinfo=tz.utc), "Asia/Tokyo")
    datetime.date(2026, 3, 15)
    """
    if now_utc.tzinfo is None or now_utc.utcoffset() is None:
        raise ValidationError(f"now_utc must be timezone-aware (UTC), got naive {now_utc.isoformat()}")
    return now_utc.astimezone(_zone(timezone)).date()


def birthday_in_year(birthday: date, year: int) -> date:
    """The day the birthday is celebrated in `year`: 29 February becomes 28 February in common years.

    >>> birthday_in_year(date(2000, 2, 29), 2027)
    datetime.date(2027, 2, 28)
    """
    if birthday.month == 2 and birthday.day == 29 and not _stdlib_calendar.isleap(year):
        return date(year, 2, 28)
    return birthday.replace(year=year)


def next_birthday(birthday: date, on_or_after: date) -> date:
    """The first celebrated birthday on or after `on_or_after` (for planning a window of days)."""
    this_year = birthday_in_year(birthday, on_or_after.year)
    return this_year if this_year >= on_or_after else birthday_in_year(birthday, on_or_after.year + 1)


def days_until_birthday(birthday: date, today: date) -> int:
    """0 on the birthday itself, 1 the day before, and so on (at most 365)."""
    return (next_birthday(birthday, today) - today).days


def is_birthday(birthday: date | None, now_utc: datetime, timezone: str) -> bool:
    """True when, at the instant `now_utc`, it is the customer's birthday in their own timezone.

    A missing birthday is never today. Leap-day birthdays count on 28 February in common years.

    >>> from datetime import timezone as tz
    >>> is_birthday(date(1990, 3, 15), datetime(2026, 3, 14, 23, 30, tzinfo=tz.utc), "Asia/Tokyo")
    True
    """
    if birthday is None:
        return False
    today = local_date(now_utc, timezone)
    return birthday_in_year(birthday, today.year) == today


def birthday_within(birthday: date | None, now_utc: datetime, timezone: str, *, window_days: int) -> bool:
    """True when the birthday falls within the next `window_days` local days (0 = today only)."""
    if birthday is None:
        return False
    if window_days < 0:
        raise ValidationError(f"window_days must be >= 0, got {window_days}")
    return days_until_birthday(birthday, local_date(now_utc, timezone)) <= window_days

