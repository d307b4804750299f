"""When cron expressions fire (pure computation: no clock, no server)."""

from __future__ import annotations

import datetime

import pytest

from localcloud.delivery.schedules import Rate, ScheduleError, parse


def _at(text: str) -> float:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC).timestamp()


def _next(expression: str, after: str) -> str:
    due = parse(expression, _at(after)).next_after(_at(after))
    assert due is not None
    return datetime.datetime.fromtimestamp(due, tz=datetime.UTC).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("cron(0 10 * * ? *)", "2026-03-01 10:00", "2026-03-02 10:00"),
        ("cron(15 10 ? * 6L 2026)", "2026-03-01 00:00", "2026-03-27 10:15"),  # last Friday
        ("cron(0 8 ? * MON#2 *)", "2026-03-01 00:00", "2026-03-09 08:00"),  # second Monday
        ("cron(0 8 L * ? *)", "2026-02-01 00:00", "2026-02-28 08:00"),
        ("cron(0 8 LW * ? *)", "2026-05-01 00:00", "2026-05-29 08:00"),  # 31st is a Sunday
        ("cron(0 8 15W * ? *)", "2026-03-01 00:00", "2026-03-16 08:00"),  # 15th is a Sunday
        ("cron(0 8 1W * ? *)", "2026-08-03 09:00", "2026-09-01 08:00"),
        ("cron(0 8 1W * ? *)", "2026-07-31 09:00", "2026-08-03 08:00"),  # 1st Sat -> Mon 3rd
        ("cron(0 9 ? * FRI-MON *)", "2026-03-03 00:00", "2026-03-06 09:00"),  # wraps the week
        ("cron(0/20 * * JAN,MAR ? *)", "2026-01-31 23:50", "2026-03-01 00:00"),
        ("cron(30 2 29 2 ? *)", "2026-01-01 00:00", "2028-02-29 02:30"),
    ],
)
def test_cron_next_run(expression: str, after: str, expected: str) -> None:
    assert _next(expression, after) == expected


def test_a_cron_for_a_past_year_never_fires() -> None:
    assert (
        parse("cron(0 0 1 1 ? 1999)", _at("2026-01-01 00:00")).next_after(_at("2026-01-01 00:00"))
        is None
    )


def test_a_rate_counts_from_its_creation() -> None:
    created = _at("2026-01-01 00:00:30")
    rate = parse("rate(5 minutes)", created)
    assert rate == Rate(300, created)
    assert rate.next_after(created) == created + 300
    assert rate.next_after(created + 300) == created + 600


@pytest.mark.parametrize(
    "expression", ["cron(0 8 ? * 2/L *)", "cron(* * ? * MON#0 *)", "rate(2 weeks)"]
)
def test_unsupported_expressions_are_errors(expression: str) -> None:
    with pytest.raises(ScheduleError):
        parse(expression, 0.0)
