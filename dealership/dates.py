"""Dates that people type, and dates in query strings: one range for the whole portal.

Every date or time a person enters — a promised time, a team event, a due
date, a goal's period, a KPI figure's day, a vehicle's 車検 expiry, the dates
of a results page — lies between 2000-01-01 and 2100-12-31 in local time.
Real dealership dates never leave that range, and inside it nothing the
portal does with a date can overflow: year 1 in Tokyo is 1 BC in UTC, which
PostgreSQL stores but the driver cannot read back (every list holding the row
failed), and 9999-12-31 plus a day is an OverflowError. The years are fixed,
not "within N years of today", so a row saved today stays valid when it is
edited later, and the rule is the same in every form, import and URL.

Forms use `DateField` / `DateTimeField` below (or `validate_in_range` as a
validator, which the goals and feedback models carry too); query strings go
through `parse_day` / `parse_month`, which refuse anything else with
`DateRefused`, whose text is the message for the user.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

FIRST_YEAR = 2000
LAST_YEAR = 2100
FIRST_DAY = date(FIRST_YEAR, 1, 1)
LAST_DAY = date(LAST_YEAR, 12, 31)
# Database constraints on time columns (stored in UTC) use the range widened
# by a day on each side: no site time zone can put a local time of the range
# outside it, so a constraint never refuses what a form accepted.
EARLIEST_STORED = datetime(FIRST_YEAR - 1, 12, 31, tzinfo=UTC)
LATEST_STORED = datetime(LAST_YEAR + 1, 1, 2, tzinfo=UTC)

OUT_OF_RANGE = _("Enter a date between %(first)d and %(last)d.")
RANGE = {"first": FIRST_YEAR, "last": LAST_YEAR}

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")


def local_day(value: date | datetime) -> date | None:
    """The local calendar day of a date or time; None when no local day exists (near year 1 or 9999)."""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            try:
                value = timezone.localtime(value)
            except OverflowError:
                return None
        return value.date()
    return value


def is_in_range(value: date | datetime) -> bool:
    day = local_day(value)
    return day is not None and FIRST_DAY <= day <= LAST_DAY


def validate_in_range(value: date | datetime | None) -> None:
    """A form and model field validator: the date (or the time's local day) lies in the portal's range."""
    if value is not None and not is_in_range(value):
        raise ValidationError(OUT_OF_RANGE, code="date_out_of_range", params=RANGE)


class DateRefused(ValueError):
    """A date in a query string that is no day of the range; `str(error)` is the message for the user."""

    def __init__(self, value: str) -> None:
        shown = "".join(char for char in value[:20] if char.isprintable())
        super().__init__(
            gettext("“%(value)s” is not a date between %(first)d and %(last)d: the default period is shown.")
            % {"value": shown, **RANGE}
        )


def parse_day(value: str | None) -> date | None:
    """A query parameter's day (YYYY-MM-DD); None when it is absent or blank.

    Raises DateRefused for anything else: no such day, another format, or a
    day outside the range (from which `day + timedelta(days=1)` and the time
    zone conversions of the screens could overflow).
    """
    text = (value or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text) if _DAY.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        raise DateRefused(text)
    return day


def parse_month(value: str | None) -> date | None:
    """A query parameter's month (YYYY-MM) as its first day; None when absent or blank, else DateRefused."""
    text = (value or "").strip()
    if not text:
        return None
    if not _MONTH.fullmatch(text):
        raise DateRefused(text)
    return parse_day(f"{text}-01")


def _range_attrs(widget: forms.Widget) -> dict[str, str]:
    """min and max for the browser's picker (the server checks again)."""
    input_type = getattr(widget, "input_type", "")
    if input_type == "date":
        return {"min": FIRST_DAY.isoformat(), "max": LAST_DAY.isoformat()}
    if input_type == "datetime-local":
        return {"min": f"{FIRST_DAY.isoformat()}T00:00", "max": f"{LAST_DAY.isoformat()}T23:59"}
    return {}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class DateField(forms.DateField):
    """A day a person types: in the portal's range, with a date picker limited to it."""

    widget = DateInput
    default_validators = [validate_in_range]

    def widget_attrs(self, widget: forms.Widget) -> dict:
        return {**super().widget_attrs(widget), **_range_attrs(widget)}


class DateTimeField(forms.DateTimeField):
    """A time a person types (local time): its day in the portal's range."""

    widget = DateTimeInput
    default_validators = [validate_in_range]

    def widget_attrs(self, widget: forms.Widget) -> dict:
        return {**super().widget_attrs(widget), **_range_attrs(widget)}
