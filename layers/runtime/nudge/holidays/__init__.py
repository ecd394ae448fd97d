"""Birthdays and holidays in the customer's locale and timezone.

The calendar is data (`calendar.json`: fixed dates, n-th weekday rules, Easter offsets), so adding a
holiday or a locale means editing that file. Dates here are local calendar dates: turn the send
instant into the customer's day with `local_date(now_utc, customer.timezone)` first.

>>> from datetime import date
>>> [h.name for h in holidays_on(date(2026, 5, 10), "en_US")]
["Mother's Day"]
"""

from nudge.holidays.birthdays import (
    birthday_in_year,
    birthday_within,
    days_until_birthday,
    is_birthday,
    local_date,
    next_birthday,
)
from nudge.holidays.rules import (
    Holiday,
    date_for_rule,
    easter_sunday,
    holidays_in_year,
    holidays_on,
    normalize_locale,
    nth_weekday,
    supported_locales,
    upcoming,
)

__all__ = [
    "Holiday",
    "birthday_in_year",
    "birthday_within",
    "date_for_rule",
    "days_until_birthday",
    "easter_sunday",
    "holidays_in_year",
    "holidays_on",
    "is_birthday",
    "local_date",
    "next_birthday",
    "normalize_locale",
    "nth_weekday",
    "supported_locales",
    "upcoming",
]
