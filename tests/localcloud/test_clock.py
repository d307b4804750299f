"""The clock: time moves only by advance, due jobs run in time order, each at its own time."""

import pytest

from localcloud.clock import Clock, ClockError


def test_time_moves_only_when_advanced() -> None:
    clock = Clock(start=1000.0)
    assert clock.now() == 1000.0
    assert clock.advance(60) == 1060.0
    assert clock.now() == 1060.0


def test_due_jobs_run_in_time_order_each_seeing_its_own_time() -> None:
    clock = Clock(start=0.0)
    seen: list[tuple[str, float]] = []
    clock.call_at(120, lambda: seen.append(("late", clock.now())), "late")
    clock.call_at(60, lambda: seen.append(("early", clock.now())), "early")
    clock.call_at(500, lambda: seen.append(("future", clock.now())), "future")
    clock.advance(300)
    assert seen == [("early", 60.0), ("late", 120.0)]
    assert clock.pending() == [(500.0, "future")]


def test_jobs_scheduled_by_jobs_run_within_the_same_advance() -> None:
    clock = Clock(start=0.0)
    ticks: list[float] = []

    def tick() -> None:
        ticks.append(clock.now())
        clock.call_later(60, tick, "tick")

    clock.call_at(0, tick, "tick")
    clock.advance(180)
    assert ticks == [0.0, 60.0, 120.0, 180.0]


def test_equal_due_times_run_in_scheduling_order() -> None:
    clock = Clock(start=0.0)
    order: list[int] = []
    for number in range(5):
        clock.call_at(10, lambda n=number: order.append(n), f"job {number}")
    clock.advance(0)
    assert order == []
    clock.advance(10)
    assert order == [0, 1, 2, 3, 4]


def test_a_failing_job_is_recorded_and_the_rest_still_run() -> None:
    clock = Clock(start=0.0)
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    clock.call_at(1, broken, "broken")
    clock.call_at(2, lambda: ran.append("after"), "after")
    clock.advance(5)
    assert ran == ["after"]
    assert [(label, str(error)) for label, error in clock.failures] == [("broken", "boom")]


def test_cancelled_jobs_do_not_run() -> None:
    clock = Clock(start=0.0)
    ran: list[str] = []
    entry = clock.call_at(1, lambda: ran.append("x"), "x")
    clock.cancel(entry)
    clock.advance(5)
    assert ran == []


def test_misuse_is_refused_with_the_reason() -> None:
    clock = Clock(start=0.0)
    with pytest.raises(ClockError, match="cannot go backwards"):
        clock.advance(-1)
    clock.call_at(1, lambda: clock.advance(1), "nested")
    clock.advance(1)
    assert "cannot advance the clock it runs on" in str(clock.failures[0][1])
