"""Holidays and birthdays in the customer's locale and timezone: known answers, checked by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nudge.errors import ConfigError, ValidationError
from nudge.holidays import (
    birthday_in_year,
    birthday_within,
    days_until_birthday,
    easter_sunday,
    holidays_in_year,
    holidays_on,
    is_birthday,
    local_date,
    next_birthday,
    supported_locales,
    upcoming,
)
from nudge.holidays.rules import load_calendar, parse_calendar

UTC = timezone.utc


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def holiday_day(key: str, year: int, locale: str) -> date:
    (found,) = [h.day for h in holidays_in_year(year, locale) if h.key == key]
    return found


# --- the calendar ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2019, date(2019, 4, 21)), (2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)),
     (2026, date(2026, 4, 5)), (2027, date(2027, 3, 28)), (2038, date(2038, 4, 25))],
)
def test_easter_matches_published_dates(year, easter):
    # GIVEN a year WHEN Easter is computed THEN it is the published Western Easter Sunday
    assert easter_sunday(year) == easter


def test_mothers_day_2026_differs_between_uk_and_us():
    # GIVEN 2026 (Easter on 5 April; 1 May is a Friday)
    # WHEN Mother's Day is looked up for the UK and the US
    uk = holiday_day("mothers_day", 2026, "en_GB")
    us = holiday_day("mothers_day", 2026, "en_US")
    # THEN the UK has Mothering Sunday three weeks before Easter, the US the 2nd Sunday of May
    assert uk == date(2026, 3, 15)
    assert us == date(2026, 5, 10)
    assert [h.name for h in holidays_on(date(2026, 3, 15), "en_GB")] == ["Mothering Sunday"]
    assert holidays_on(date(2026, 3, 15), "en_US") == []


@pytest.mark.parametrize(
    ("year", "expected"),
    [(2026, date(2026, 5, 31)),  # last Sunday of May
     (2020, date(2020, 6, 7))],  # 31 May 2020 was Pentecost, so the first Sunday of June
)
def test_french_fete_des_meres_moves_off_pentecost(year, expected):
    # GIVEN the French rule WHEN computed THEN the last Sunday of May, or 1st of June on Pentecost
    assert holiday_day("mothers_day", year, "fr_FR") == expected


def test_thanksgiving_2026_is_november_26_and_black_friday_follows():
    # GIVEN the US calendar WHEN the 2026 dates are computed THEN the 4th Thursday and the day after
    assert holiday_day("thanksgiving", 2026, "en_US") == date(2026, 11, 26)
    assert holiday_day("black_friday", 2026, "en_US") == date(2026, 11, 27)
    assert holiday_day("cyber_monday", 2026, "en_US") == date(2026, 11, 30)


def test_thanksgiving_is_american_and_boxing_day_british():
    # GIVEN the locale calendars WHEN looked up on the day THEN only the right country has it
    assert [h.key for h in holidays_on(date(2026, 11, 26), "en_US")] == ["thanksgiving"]
    assert holidays_on(date(2026, 11, 26), "en_GB") == []
    assert [h.name for h in holidays_on(date(2026, 12, 26), "en_GB")] == ["Boxing Day"]
    assert [h.key for h in holidays_on(date(2026, 12, 26), "en_US")] == []


def test_german_vatertag_is_ascension_day():
    # GIVEN 2026, Easter on 5 April WHEN Vatertag is computed THEN Easter + 39 days, a Thursday
    assert holiday_day("fathers_day", 2026, "de_DE") == date(2026, 5, 14)


def test_names_are_in_the_customers_language():
    # GIVEN Christmas Day WHEN looked up per locale THEN each locale has its own name
    names = {loc: holidays_on(date(2026, 12, 25), loc)[0].name for loc in ("en_GB", "de_DE", "fr_FR")}
    assert names == {"en_GB": "Christmas Day", "de_DE": "1. Weihnachtstag", "fr_FR": "Noël"}


def test_locale_spelling_is_normalized_and_unknown_locales_have_no_holidays():
    # GIVEN a hyphenated lower-case locale and an unsupported one WHEN looked up
    # THEN the first matches en_GB, the second has no holidays rather than failing the email
    assert holidays_on(date(2026, 12, 26), "en-gb")[0].locale == "en_GB"
    assert holidays_on(date(2026, 12, 25), "es_ES") == []
    assert set(supported_locales()) >= {"en_GB", "en_US", "de_DE", "fr_FR"}


def test_upcoming_is_inclusive_sorted_and_crosses_the_new_year():
    # GIVEN 24 Dec 2026 in Germany WHEN asking for the next 8 days
    found = upcoming(date(2026, 12, 24), "de_DE", within_days=8)
    # THEN Heiligabend (today) through Neujahr 2027, soonest first
    assert [(h.key, h.day) for h in found] == [
        ("christmas_eve", date(2026, 12, 24)),
        ("christmas_day", date(2026, 12, 25)),
        ("second_christmas_day", date(2026, 12, 26)),
        ("new_years_eve", date(2026, 12, 31)),
        ("new_year", date(2027, 1, 1)),
    ]
    assert upcoming(date(2026, 3, 15), "en_GB", within_days=0) == holidays_on(date(2026, 3, 15), "en_GB")
    with pytest.raises(ValidationError):
        upcoming(date(2026, 1, 1), "en_GB", within_days=-1)


@given(year=st.integers(min_value=1900, max_value=2200))
def test_every_locale_computes_every_year(year):
    # GIVEN any year WHEN all calendars are computed THEN every holiday lands in that year
    for locale in supported_locales():
        days = holidays_in_year(year, locale)
        assert days and all(h.day.year == year for h in days)
        assert easter_sunday(year).weekday() == 6  # a Sunday


def calendar_with(*holidays: dict) -> dict:
    return {"schema_version": 1, "locales": ["en_GB", "en_US"], "holidays": list(holidays)}


def entry(**overrides) -> dict:
    base = {"key": "x", "giftable": True, "rule": {"type": "fixed", "month": 1, "day": 2}, "names": {"en_GB": "X"}}
    return {**base, **overrides}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"schema_version": 2, "locales": [], "holidays": []}, "schema_version"),
        (calendar_with(entry(rule={"type": "lunar"})), "rule must be"),
        (calendar_with(entry(rule={"type": "fixed", "month": 2, "day": 30})), "malformed"),
        (calendar_with(entry(rule={"type": "nth_weekday", "month": 5, "weekday": "sun", "n": 2})), "weekday"),
        (calendar_with(entry(names={"xx_XX": "X"})), "names"),
        (calendar_with(entry(), entry()), "defined twice"),
    ],
)
def test_malformed_calendar_is_refused_at_load(document, message):
    # GIVEN a calendar document with one mistake WHEN parsed THEN ConfigError names the mistake
    with pytest.raises(ConfigError, match=message):
        parse_calendar(document)


def test_shipped_calendar_is_valid_and_covers_the_seed_holidays():
    # GIVEN the calendar shipped in the layer WHEN loaded THEN it parses, and each locale has the basics
    _, entries = load_calendar()
    keys = {(e.key, locale) for e in entries for locale in e.names}
    for locale in ("en_GB", "en_US", "de_DE", "fr_FR"):
        assert {("christmas_day", locale), ("valentines_day", locale), ("mothers_day", locale)} <= keys
    assert ("boxing_day", "en_GB") in keys and ("thanksgiving", "en_US") in keys


# --- local dates and birthdays ----------------------------------------------------------------


def test_birthday_at_2330_utc_is_the_next_local_day_in_tokyo():
    # GIVEN 23:30 UTC on 14 March, which is 08:30 on 15 March in Tokyo (UTC+9)
    now = utc(2026, 3, 14, 23, 30)
    # WHEN checking a 15 March birthday in Tokyo and in London
    # THEN it is the birthday in Tokyo already, and not yet in London
    assert local_date(now, "Asia/Tokyo") == date(2026, 3, 15)
    assert is_birthday(date(1990, 3, 15), now, "Asia/Tokyo")
    assert not is_birthday(date(1990, 3, 15), now, "Europe/London")
    assert is_birthday(date(1990, 3, 14), now, "Europe/London")


def test_birthday_west_of_utc_is_still_the_previous_day():
    # GIVEN 03:00 UTC on 1 July (23:00 on 30 June in New York, EDT)
    now = utc(2026, 7, 1, 3, 0)
    # WHEN checking THEN New York still celebrates 30 June
    assert is_birthday(date(1985, 6, 30), now, "America/New_York")
    assert not is_birthday(date(1985, 7, 1), now, "America/New_York")


def test_leap_day_birthday_is_celebrated_on_feb_28_in_common_years():
    # GIVEN a customer born on 29 February
    born = date(2000, 2, 29)
    # WHEN it is 28 Feb / 1 Mar of a common year, and 28 / 29 Feb of a leap year
    # THEN the greeting is on 28 Feb in 2027 and on 29 Feb in 2028, never twice
    assert is_birthday(born, utc(2027, 2, 28, 12), "Europe/Paris")
    assert not is_birthday(born, utc(2027, 3, 1, 12), "Europe/Paris")
    assert is_birthday(born, utc(2028, 2, 29, 12), "Europe/Paris")
    assert not is_birthday(born, utc(2028, 2, 28, 12), "Europe/Paris")
    assert birthday_in_year(born, 2027) == date(2027, 2, 28)


def test_missing_birthday_is_never_today():
    # GIVEN no birthday on file WHEN checked THEN it is not the birthday
    assert not is_birthday(None, utc(2026, 1, 1), "UTC")
    assert not birthday_within(None, utc(2026, 1, 1), "UTC", window_days=30)


def test_birthday_window_and_next_birthday_wrap_the_year():
    # GIVEN 30 Dec 2026 in London and a 2 January birthday
    born = date(1970, 1, 2)
    # WHEN looking ahead THEN it is 3 days away, in 2027
    assert next_birthday(born, date(2026, 12, 30)) == date(2027, 1, 2)
    assert days_until_birthday(born, date(2026, 12, 30)) == 3
    assert birthday_within(born, utc(2026, 12, 30, 10), "Europe/London", window_days=3)
    assert not birthday_within(born, utc(2026, 12, 30, 10), "Europe/London", window_days=2)


def test_bad_inputs_are_refused_with_a_clear_error():
    # GIVEN a naive datetime or an unknown timezone WHEN converting THEN a ValidationError names it
    with pytest.raises(ValidationError, match="timezone-aware"):
        local_date(datetime(2026, 1, 1, 12), "Europe/London")
    with pytest.raises(ValidationError, match="Mars/Olympus_Mons"):
        local_date(utc(2026, 1, 1), "Mars/Olympus_Mons")


@given(
    instant=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    zone=st.sampled_from(["Asia/Tokyo", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Berlin", "UTC"]),
)
def test_local_date_is_within_a_day_of_the_utc_date(instant, zone):
    # GIVEN any instant and zone WHEN converted THEN the local date is the UTC date or one either side
    now = instant.replace(tzinfo=UTC)
    assert abs(local_date(now, zone) - now.date()) <= timedelta(days=1)
