"""A run hands each result on as its probe ends, so the per-target work of the fast targets
(metrics, log lines) happens while the slow ones are still answering, not after the slowest."""

from __future__ import annotations

from collections.abc import Callable

from health_probes import CheckResult
from health_runner import HealthSettings, run_checks
from health_targets import HttpTarget

from tests.support.http_receiver import Gate, HttpReceiver


def test_a_fast_result_is_handed_on_while_a_slow_target_is_still_answering(
    make_http_receiver: Callable[[], HttpReceiver],
) -> None:
    slow, fast = make_http_receiver(), make_http_receiver()
    # The slow target answers only once the fast one's result was handed on; were results handed
    # on after the wait, the gate would stay shut and the slow target fail with a 503.
    gate = Gate(timeout=5.0)
    slow.script(200, hold=gate)
    targets = [
        HttpTarget(name="slow", url=f"{slow.url}/health"),
        HttpTarget(name="fast", url=f"{fast.url}/health"),
    ]
    handed_on: list[CheckResult] = []

    def on_result(result: CheckResult) -> None:
        handed_on.append(result)
        if result.name == "fast":
            gate.open()

    settings = HealthSettings(targets, "table", "topic", "test", 3, 10.0, True)
    results = run_checks(settings, {}, 30.0, on_result=on_result)
    assert [result.name for result in handed_on] == ["fast", "slow"]
    assert [(result.name, result.healthy) for result in results] == [
        ("slow", True),
        ("fast", True),
    ], results
    assert {id(result) for result in results} == {id(result) for result in handed_on}


def test_a_probe_that_times_out_is_handed_on_once_as_failed(
    make_http_receiver: Callable[[], HttpReceiver],
) -> None:
    stuck = make_http_receiver()
    gate = Gate(timeout=10.0)
    stuck.script(200, hold=gate)
    settings = HealthSettings(
        [HttpTarget(name="stuck", url=f"{stuck.url}/", timeout_seconds=1)],
        "table",
        "topic",
        "test",
        3,
        1.0,
        True,
    )
    handed_on: list[CheckResult] = []
    try:
        results = run_checks(settings, {}, 30.0, on_result=handed_on.append)
    finally:
        gate.open()
    assert handed_on == results
    assert len(results) == 1 and not results[0].healthy
