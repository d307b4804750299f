"""EventBridge schedule expressions: `rate(N unit)` and AWS's six-field `cron(...)`.

cron fields: minutes hours day-of-month month day-of-week year, in UTC. Supported: `*`, `,`,
`-`, `/`, `?` (exactly one of the two day fields), names (JAN-DEC, SUN-SAT), and in the day
fields `L` (last day of the month; in day-of-week `nL`, the month's last such weekday), `nW`
and `LW` (nearest weekday), `n#k` (the k-th such weekday). Anything else is refused at PutRule.
"""

from __future__ import annotations

import calendar
import datetime
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_MONTHS = {name: n for n, name in enumerate(_MONTH_NAMES, 1)}
_WEEKDAYS = {name: n for n, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}
_SEARCH_DAYS = 366 * 8  # a cron that matches nothing in 8 years never fires (leap days fit)
DayTest = Callable[[datetime.date], bool]


class ScheduleError(ValueError):
    """A schedule expression EventBridge would refuse or localcloud does not support."""


class Schedule:
    def next_after(self, now: float) -> float | None:
        raise NotImplementedError


@dataclass(frozen=True)
class Rate(Schedule):
    seconds: int
    start: float  # runs at start + k * seconds (the rule's creation), k >= 1

    def next_after(self, now: float) -> float:
        periods = math.floor((now - self.start) / self.seconds) + 1
        return self.start + max(periods, 1) * self.seconds


def parse(expression: str, created: float) -> Schedule:
    if rate := _RATE.match(expression):
        return _rate(int(rate.group(1)), rate.group(2), created)
    if cron := _CRON.match(expression):
        return Cron.parse(cron.group(1))
    raise ScheduleError(f"{expression!r} is neither rate(value unit) nor cron(six fields)")


def _rate(value: int, unit: str, created: float) -> Rate:
    if value <= 0:
        raise ScheduleError(f"rate value must be positive, got {value}")
    singular = unit.rstrip("s")
    if (value == 1) != (unit == singular):  # AWS: rate(1 minute), rate(5 minutes)
        raise ScheduleError(f"rate({value} {unit}): use '{singular}' for 1 and '{singular}s' above")
    return Rate(value * _UNIT_SECONDS[singular], created)


def _field_values(text: str, low: int, high: int, names: dict[str, int], field: str) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        values |= _field_part(part, low, high, names, field)
    return values


def _field_part(part: str, low: int, high: int, names: dict[str, int], field: str) -> set[int]:
    base, _, step_text = part.partition("/")
    step = _number(step_text, names, field) if step_text else 1
    if base == "*":
        first, last = low, high
    elif "-" in base:
        first, last = (_number(x, names, field) for x in base.split("-", 1))
    else:
        first = _number(base, names, field)
        last = high if step_text else first
    if not (low <= first <= high and low <= last <= high) or step < 1:
        raise ScheduleError(f"cron {field} {part!r} is outside {low}-{high}")
    if first <= last:
        sequence = list(range(first, last + 1))
    else:  # a range that wraps, such as FRI-MON
        sequence = list(range(first, high + 1)) + list(range(low, last + 1))
    return set(sequence[::step])


def _number(text: str, names: dict[str, int], field: str) -> int:
    if text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise ScheduleError(f"cron {field} value {text!r} is not supported by localcloud")
    return int(text)


def _aws_weekday(day: datetime.date) -> int:
    return (day.weekday() + 1) % 7 + 1  # Python: Monday 0; AWS: Sunday 1 ... Saturday 7


def _last_day(day: datetime.date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _nearest_weekday(day: datetime.date, target: int) -> int:
    target = min(target, _last_day(day))
    weekday = datetime.date(day.year, day.month, target).weekday()
    if weekday == 5:  # Saturday: Friday before, unless that leaves the month
        return target - 1 if target > 1 else target + 2
    if weekday == 6:  # Sunday: Monday after, unless that leaves the month
        return target + 1 if target < _last_day(day) else target - 2
    return target


def _day_of_month_test(text: str) -> DayTest:
    if text == "L":
        return lambda day: day.day == _last_day(day)
    if text == "LW":
        return lambda day: day.day == _nearest_weekday(day, _last_day(day))
    if text.endswith("W") and text[:-1].isdigit():
        target = int(text[:-1])
        if not 1 <= target <= 31:
            raise ScheduleError(f"cron day-of-month {text!r} is outside 1-31")
        return lambda day: day.day == _nearest_weekday(day, target)
    days = _field_values(text, 1, 31, {}, "day-of-month")
    return lambda day: day.day in days


def _day_of_week_test(text: str) -> DayTest:
    if text == "L":
        return lambda day: _aws_weekday(day) == 7
    if text.endswith("L"):
        weekday = _number(text[:-1], _WEEKDAYS, "day-of-week")
        return lambda day: _aws_weekday(day) == weekday and day.day + 7 > _last_day(day)
    if "#" in text:
        weekday_text, _, nth_text = text.partition("#")
        weekday, nth = _number(weekday_text, _WEEKDAYS, "day-of-week"), int(nth_text or 0)
        if not 1 <= weekday <= 7 or not 1 <= nth <= 5:
            raise ScheduleError(f"cron day-of-week {text!r}: use 1-7#1-5")
        return lambda day: _aws_weekday(day) == weekday and (day.day - 1) // 7 + 1 == nth
    weekdays = _field_values(text, 1, 7, _WEEKDAYS, "day-of-week")
    return lambda day: _aws_weekday(day) in weekdays


@dataclass(frozen=True)
class Cron(Schedule):
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int]
    day_test: DayTest

    @classmethod
    def parse(cls, fields_text: str) -> Cron:
        fields = fields_text.split()
        if len(fields) != 6:
            raise ScheduleError(f"cron takes 6 fields, got {len(fields)}: {fields_text!r}")
        minute, hour, day_of_month, month, day_of_week, year = fields
        if (day_of_month == "?") == (day_of_week == "?"):
            raise ScheduleError("cron: exactly one of day-of-month and day-of-week must be '?'")
        day_test = (
            _day_of_week_test(day_of_week)
            if day_of_month == "?"
            else _day_of_month_test(day_of_month)
        )
        return cls(
            frozenset(_field_values(minute, 0, 59, {}, "minutes")),
            frozenset(_field_values(hour, 0, 23, {}, "hours")),
            frozenset(_field_values(month, 1, 12, _MONTHS, "month")),
            frozenset(_field_values(year, 1970, 2199, {}, "year")),
            day_test,
        )

    def next_after(self, now: float) -> float | None:
        start = datetime.datetime.fromtimestamp(now, tz=datetime.UTC)
        for offset in range(_SEARCH_DAYS):
            day = start.date() + datetime.timedelta(days=offset)
            if day.year in self.years and day.month in self.months and self.day_test(day):
                moment = self._first_time_in(day, start)
                if moment is not None:
                    return moment
        return None

    def _first_time_in(self, day: datetime.date, after: datetime.datetime) -> float | None:
        for hour in sorted(self.hours):
            for minute in sorted(self.minutes):
                moment = datetime.datetime(
                    day.year, day.month, day.day, hour, minute, tzinfo=datetime.UTC
                )
                if moment > after:
                    return moment.timestamp()
        return None
