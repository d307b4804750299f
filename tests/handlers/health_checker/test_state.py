"""Transition rules (pure) and the version-conditional state write against moto DynamoDB."""

from __future__ import annotations

from typing import Any

from health_probes import CheckResult
from health_state import (
    HEALTHY,
    UNHEALTHY,
    UNKNOWN,
    TargetState,
    load_states,
    next_state,
    save_state,
)

OK = CheckResult("api", True, 5.0, "HTTP 200")
BAD = CheckResult("api", False, 5.0, "HTTP 500")


def run(results: list[CheckResult], threshold: int) -> list[tuple[str, str] | None]:
    state, seen = TargetState(), []
    for result in results:
        state, transition = next_state(state, result, threshold)
        seen.append(None if transition is None else (transition.old_status, transition.new_status))
    return seen


def test_down_only_at_the_threshold_and_once() -> None:
    assert run([OK, BAD, BAD, BAD, BAD], 3) == [None, None, None, (HEALTHY, UNHEALTHY), None]


def test_recovery_is_reported_once_on_the_first_success() -> None:
    assert run([BAD, OK, OK], 1) == [(UNKNOWN, UNHEALTHY), (UNHEALTHY, HEALTHY), None]


def test_a_success_resets_the_failure_count() -> None:
    assert run([BAD, BAD, OK, BAD, BAD], 3) == [None] * 5


def test_new_target_that_starts_healthy_does_not_alert() -> None:
    assert run([OK], 1) == [None]


def test_stale_write_is_refused_and_reported(health_aws: Any) -> None:
    table = health_aws.table
    first, _ = next_state(TargetState(), BAD, 3)
    assert save_state(table, "api", first, "HTTP 500", 1000.0)
    # A second run that read the same (empty) state before the first wrote must not overwrite.
    assert not save_state(table, "api", first, "HTTP 500", 1001.0)
    newer, _ = next_state(load_states(table, ["api"])["api"], BAD, 3)
    assert save_state(table, "api", newer, "HTTP 500", 1002.0)
    assert load_states(table, ["api"])["api"] == TargetState(UNKNOWN, 2, 2)


def test_load_states_reads_more_than_one_batch(health_aws: Any) -> None:
    names = [f"t{i}" for i in range(130)]  # BatchGetItem takes 100 keys per call
    for name in names[::10]:
        save_state(health_aws.table, name, TargetState(UNHEALTHY, 4, 1), "down", 1000.0)
    states = load_states(health_aws.table, names)
    assert len(states) == 130
    assert {n for n, s in states.items() if s.status == UNHEALTHY} == set(names[::10])
