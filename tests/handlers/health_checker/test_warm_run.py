"""A warm execution environment starts the targets slowest last time first, on the threads of the
last run; a new one starts them in list order on new threads."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from health_probes import CheckResult
from health_runner import HealthSettings, WarmRun, run_checks
from health_targets import HttpTarget, TcpTarget

from tests.support.http_receiver import Gate, HttpReceiver, barrier_hold
from tests.support.ports import free_loopback_port


def names(targets: list[HttpTarget | TcpTarget]) -> list[str]:
    return [target.name for target in targets]


def tcp_targets(*target_names: str) -> list[HttpTarget | TcpTarget]:
    return [TcpTarget(name=name, host="127.0.0.1", port=9) for name in target_names]


def settings_for(targets: list[HttpTarget | TcpTarget], timeout: float = 10.0) -> HealthSettings:
    return HealthSettings(list(targets), "table", "topic", "test", 3, timeout, True)


def probe_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name.startswith("probe")}


def test_the_targets_slowest_last_run_start_first() -> None:
    warm = WarmRun()
    warm.remember(
        [
            CheckResult("fast", True, 2.0, "ok"),
            CheckResult("slow", True, 900.0, "ok"),
            CheckResult("middle", False, 40.0, "refused"),
        ]
    )
    targets = tcp_targets("fast", "middle", "slow")
    assert names(warm.arrange(targets)) == ["slow", "middle", "fast"]


def test_a_target_not_seen_last_run_starts_first_and_ties_keep_the_list_order() -> None:
    warm = WarmRun()
    assert names(warm.arrange(tcp_targets("b", "a", "c"))) == ["b", "a", "c"]
    warm.remember([CheckResult("a", True, 5.0, "ok"), CheckResult("b", True, 5.0, "ok")])
    assert names(warm.arrange(tcp_targets("a", "b", "new"))) == ["new", "a", "b"]


def test_a_run_remembers_the_latencies_it_measured_and_keeps_results_in_list_order(
    make_http_receiver: Callable[[], HttpReceiver],
) -> None:
    answering, refusing = make_http_receiver(), free_loopback_port()
    targets: list[HttpTarget | TcpTarget] = [
        HttpTarget(name="answers", url=f"{answering.url}/health"),
        TcpTarget(name="refuses", host="127.0.0.1", port=refusing),
        HttpTarget(name="also-answers", url=f"{answering.url}/ready"),
    ]
    warm = WarmRun()
    results = run_checks(settings_for(targets), {}, 30.0, warm=warm)
    assert [(result.name, result.healthy) for result in results] == [
        ("answers", True),
        ("refuses", False),
        ("also-answers", True),
    ]
    by_latency = sorted(results, key=lambda result: -result.latency_ms)
    assert names(warm.arrange(targets)) == [result.name for result in by_latency]
    # Started in another order, the results still come back in the targets' order.
    again = run_checks(settings_for(targets), {}, 30.0, warm=warm)
    assert [result.name for result in again] == ["answers", "refuses", "also-answers"]
    warm.drop_pool()


def test_a_warm_run_probes_on_the_threads_of_the_last_run(
    make_http_receiver: Callable[[], HttpReceiver],
) -> None:
    receiver = make_http_receiver()
    count = 6
    # All six answers wait until the six requests are in flight: the first run needs six threads.
    hold = barrier_hold(count)
    for _ in range(count):
        receiver.script(200, hold=hold)
    targets: list[HttpTarget | TcpTarget] = [
        HttpTarget(name=f"t{index}", url=f"{receiver.url}/{index}") for index in range(count)
    ]
    warm = WarmRun()
    before = probe_threads()
    first = run_checks(settings_for(targets), {}, 30.0, warm=warm)
    made = probe_threads() - before
    second = run_checks(settings_for(targets), {}, 30.0, warm=warm)
    assert all(result.healthy for result in first + second), first + second
    assert len(made) == count
    assert probe_threads() - before == made  # no thread made by the second run
    warm.drop_pool()


def test_a_pool_with_a_probe_still_running_is_not_kept(
    make_http_receiver: Callable[[], HttpReceiver],
) -> None:
    held, fast = make_http_receiver(), make_http_receiver()
    gate = Gate(timeout=10.0)
    held.script(200, hold=gate)
    targets: list[HttpTarget | TcpTarget] = [
        HttpTarget(name="held", url=f"{held.url}/"),
        HttpTarget(name="fast", url=f"{fast.url}/"),
    ]
    warm = WarmRun()
    used = warm.pool(2)

    def fail_on_fast(result: CheckResult) -> None:
        if result.name == "fast":
            raise RuntimeError("metrics could not be written")

    try:
        with pytest.raises(RuntimeError, match="metrics could not be written"):
            run_checks(settings_for(targets), {}, 30.0, on_result=fail_on_fast, warm=warm)
        # The held probe still runs on a thread of that pool: the next run gets new threads.
        assert warm.pool(2) is not used
        assert warm.pool(2) is warm.pool(1), "a pool big enough is kept"
    finally:
        gate.open()
        warm.drop_pool()
