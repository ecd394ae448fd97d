"""The holiday calendar: date rules, the shipped `calendar.json`, and lookups by day and locale.

A rule turns a year into a date. Three kinds cover the calendar: a fixed month and day, the n-th
weekday of a month (n = -1 for the last), and an offset from Western (Gregorian) Easter Sunday.
Any rule may add `offset_days` (Black Friday is Thanksgiving + 1) and may name an Easter offset to
avoid, with a fallback rule (the French Fête des Mères moves when it falls on Pentecost).

>>> easter_sunday(2026)
datetime.date(2026, 4, 5)
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import json
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any

from nudge.errors import ConfigError, ValidationError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
RULE_TYPES = ("fixed", "nth_weekday", "easter")
SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class Holiday:
    """One holiday on one date for one locale. `name` is what a customer in `locale` calls it."""

    key: str  # stable id shared across locales, e.g. "mothers_day"
    name: str  # display name in the locale, e.g. "Mothering Sunday" (en_GB), "Fête des Mères"
    day: date
    locale: str  # e.g. "en_GB"
    giftable: bool  # a day people buy presents for (the birthday/holiday campaign's audience)


@dataclass(frozen=True, slots=True)
class _Entry:
    key: str
    rule: dict[str, Any]
    names: dict[str, str]  # locale -> display name
    giftable: bool


def easter_sunday(year: int) -> date:
    """Western Easter Sunday of `year` (Gregorian; the anonymous Meeus/Jones/Butcher algorithm).

    >>> easter_sunday(2024), easter_sunday(2025)
    (datetime.date(2024, 3, 31), datetime.date(2025, 4, 20))
    """
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the algorithm's own name
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th `weekday` (0 = Monday) of a month; n = -1 is the last one.

    >>> nth_weekday(2026, 11, 3, 4)  # the 4th Thursday of November 2026 (US Thanksgiving)
    datetime.date(2026, 11, 26)
    """
    if n == 0 or not -5 <= n <= 5:
        raise ValueError(f"n must be 1..5 or -1..-5, got {n}")
    if n > 0:
        first = date(year, month, 1)
        result = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    else:
        last = date(year, month, _stdlib_calendar.monthrange(year, month)[1])
        result = last - timedelta(days=(last.weekday() - weekday) % 7 + 7 * (-n - 1))
    if result.month != month:
        raise ValueError(f"there is no weekday #{n} {WEEKDAYS[weekday]} in {year}-{month:02d}")
    return result


def date_for_rule(rule: dict[str, Any], year: int) -> date:
    """The date a calendar rule gives in `year` (see the module docstring for the rule kinds)."""
    kind = rule["type"]
    if kind == "fixed":
        result = date(year, rule["month"], rule["day"])
    elif kind == "nth_weekday":
        result = nth_weekday(year, rule["month"], WEEKDAYS.index(rule["weekday"]), rule["n"])
    elif kind == "easter":
        result = easter_sunday(year) + timedelta(days=rule["offset"])
    else:
        raise ConfigError(f"holiday rule type must be one of {RULE_TYPES}, got {kind!r}")
    result += timedelta(days=rule.get("offset_days", 0))
    avoid = rule.get("avoid_easter_offset")
    if avoid is not None and result == easter_sunday(year) + timedelta(days=avoid):
        result = date_for_rule(rule["fallback"], year)
    return result


def _check_rule(key: str, rule: Any) -> None:
    """Fail at load time, naming the entry, rather than on the first customer of some year."""
    if not isinstance(rule, dict) or rule.get("type") not in RULE_TYPES:
        raise ConfigError(f"holiday {key!r}: rule must be an object with type in {RULE_TYPES}, got {rule!r}")
    if rule["type"] == "nth_weekday" and rule.get("weekday") not in WEEKDAYS:
        raise ConfigError(f"holiday {key!r}: weekday must be one of {WEEKDAYS}, got {rule.get('weekday')!r}")
    if "avoid_easter_offset" in rule:
        _check_rule(key, rule.get("fallback"))
    try:
        for year in (2024, 2025, 2026, 2028):  # a leap year and Easter early and late
            date_for_rule(rule, year)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"holiday {key!r}: rule {rule!r} is malformed: {exc}") from exc


def parse_calendar(raw: dict[str, Any]) -> tuple[tuple[str, ...], tuple[_Entry, ...]]:
    """Check a calendar document (the shape of calendar.json) and return (locales, entries)."""
    if raw.get("schema_version") != SCHEMA_VERSION:
        raise ConfigError(f"calendar.json schema_version must be {SCHEMA_VERSION}, got {raw.get('schema_version')!r}")
    locales = tuple(raw.get("locales", ()))
    entries = []
    seen: set[tuple[str, str]] = set()  # (key, locale): one rule per holiday per locale
    for item in raw.get("holidays", ()):
        key = item.get("key", "?")
        _check_rule(key, item.get("rule"))
        names = item.get("names")
        if not isinstance(names, dict) or not names or set(names) - set(locales):
            raise ConfigError(f"holiday {key!r}: names must map supported locales {locales} to names, got {names!r}")
        clashes = {(key, locale) for locale in names} & seen
        if clashes:
            raise ConfigError(f"holiday {key!r} is defined twice for {sorted(loc for _, loc in clashes)}")
        seen |= {(key, locale) for locale in names}
        entries.append(_Entry(key=key, rule=item["rule"], names=dict(names), giftable=bool(item.get("giftable", False))))
    return locales, tuple(entries)


@cache
def load_calendar() -> tuple[tuple[str, ...], tuple[_Entry, ...]]:
    """The shipped calendar as (supported locales, entries); read and checked once per container."""
    text = resources.files(__package__).joinpath("calendar.json").read_text(encoding="utf-8")
    return parse_calendar(json.loads(text))


def normalize_locale(locale: str) -> str:
    """'en-gb' and 'en_GB' name the same locale; return the calendar's spelling, 'en_GB'."""
    language, _, region = locale.replace("-", "_").partition("_")
    return f"{language.lower()}_{region.upper()}" if region else language.lower()


def supported_locales() -> tuple[str, ...]:
    return load_calendar()[0]


def holidays_in_year(year: int, locale: str) -> list[Holiday]:
    """Every holiday of `locale` in `year`, sorted by date. An unsupported locale has none."""
    return list(_holidays_in_year(year, normalize_locale(locale)))


@cache
def _holidays_in_year(year: int, locale: str) -> tuple[Holiday, ...]:
    # Cached per (year, locale): the planner asks once per customer, a million times a campaign.
    found = [
        Holiday(key=e.key, name=e.names[locale], day=date_for_rule(e.rule, year), locale=locale, giftable=e.giftable)
        for e in load_calendar()[1]
        if locale in e.names
    ]
    return tuple(sorted(found, key=lambda h: (h.day, h.key)))


def holidays_on(day: date, locale: str) -> list[Holiday]:
    """The holidays of `locale` that fall on `day` (a local calendar date).

    >>> [h.name for h in holidays_on(date(2026, 3, 15), "en_GB")]
    ['Mothering Sunday']
    """
    return [h for h in holidays_in_year(day.year, locale) if h.day == day]


def upcoming(day: date, locale: str, within_days: int) -> list[Holiday]:
    """Holidays of `locale` from `day` through `day + within_days` inclusive, soonest first.

    `within_days=0` is the same as `holidays_on(day, locale)`.

    >>> [(h.key, h.day.isoformat()) for h in upcoming(date(2026, 11, 20), "en_US", within_days=7)]
    [('thanksgiving', '2026-11-26'), ('black_friday', '2026-11-27')]
    """
    if within_days < 0:
        raise ValidationError(f"within_days must be >= 0, got {within_days}")
    end = day + timedelta(days=within_days)
    found = [h for year in range(day.year, end.year + 1) for h in holidays_in_year(year, locale)]
    return [h for h in found if day <= h.day <= end]
