"""Health checker Lambda: probe HTTP(S)/TCP targets on a schedule, alert on state transitions."""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from health_emf import target_metrics_line
from health_probes import CheckResult
from health_runner import (
    LAMBDA_RESERVE_SECONDS,
    HealthSettings,
    WarmRun,
    load_secret_headers,
    load_settings,
    run_checks,
)
from health_state import (
    StateUpdate,
    TargetState,
    Transition,
    load_states,
    needs_write,
    next_state,
    save_states,
    save_transitions,
)
from oncall_shared.alerts import publish_alert
from oncall_shared.errors import BadEventError
from oncall_shared.tool import counts_failures, tool_metrics, traced

logger = Logger()
metrics = tool_metrics()
# Kept by a warm execution environment: the next run starts last run's slowest targets first,
# on the threads this run made.
warm_run = WarmRun()
MIN_CHECK_BUDGET_SECONDS = 1.0


@logger.inject_lambda_context(clear_state=True)
@traced
@metrics.log_metrics
@counts_failures(metrics, logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Any JSON object starts a run (a schedule or a manual invoke); its content is unused."""
    return _run(event, context)


def _run(event: Any, context: LambdaContext) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise BadEventError(f"event must be a JSON object, got {type(event).__name__}")
    _log_trigger(event)
    settings = load_settings()
    headers = load_secret_headers(settings.targets)
    names = [target.name for target in settings.targets]
    with ThreadPoolExecutor(max_workers=1) as reader:
        # The state is read while the probes run: at 1,000 targets that is 10 BatchGetItem calls
        # the run would otherwise wait for after its slowest probe.
        stored = reader.submit(load_states, settings.state_table, names)
        # Each target's metrics as its result comes in: the fast targets' are written while the
        # slow ones are still answering, and before the state read can fail.
        results = run_checks(
            settings,
            headers,
            _check_budget(context),
            on_result=lambda result: _emit_target(result, settings.environment),
            warm=warm_run,
        )
        _emit_totals(results)
        previous = stored.result()
    updates = [
        (result, *next_state(previous[result.name], result, settings.failure_threshold))
        for result in results
    ]
    transitions = [transition for _, _, transition in updates if transition is not None]
    if transitions:
        # Alert before saving: a failed save means a duplicate alert on retry, never a lost one.
        _alert(settings, transitions, results)
    lost = _save(settings, previous, updates)
    return _summary(results, transitions, lost)


def _log_trigger(event: dict[str, Any]) -> None:
    # The content is unused, so odd values only mean "not a schedule": never an error.
    if isinstance(event.get("detail-type"), str) and isinstance(event.get("time"), str):
        scheduled = EventBridgeEvent(event)
        logger.info(
            "run started",
            extra={"trigger": scheduled.detail_type, "scheduled_time": scheduled.time},
        )
    else:
        logger.info("run started", extra={"trigger": "direct invoke"})


def _check_budget(context: LambdaContext) -> float:
    remaining = context.get_remaining_time_in_millis() / 1000.0 - LAMBDA_RESERVE_SECONDS
    return max(remaining, MIN_CHECK_BUDGET_SECONDS)


def _emit_target(result: CheckResult, environment: str) -> None:
    # Lambda sends stdout to the log group, where CloudWatch reads EMF objects as metrics.
    sys.stdout.write(target_metrics_line(metrics.namespace, result, environment) + "\n")
    logger.info(
        "target checked",
        extra={
            "target": result.name,
            "healthy": result.healthy,
            "latency_ms": round(result.latency_ms, 1),
            "detail": result.detail,
        },
    )


def _emit_totals(results: list[CheckResult]) -> None:
    unhealthy = sum(1 for result in results if not result.healthy)
    metrics.add_metric(name="TargetsChecked", unit=MetricUnit.Count, value=len(results))
    metrics.add_metric(name="TargetsFailing", unit=MetricUnit.Count, value=unhealthy)


def _save(
    settings: HealthSettings,
    previous: dict[str, TargetState],
    updates: list[tuple[CheckResult, TargetState, Transition | None]],
) -> list[str]:
    """Write only what changed: transitions conditionally, the rest in batches. Names lost."""
    now = time.time()
    guarded: list[StateUpdate] = []
    batched: list[StateUpdate] = []
    for result, state, transition in updates:
        if needs_write(previous[result.name], state, now):
            update = StateUpdate(result.name, state, result.detail)
            (guarded if transition is not None else batched).append(update)
    lost = save_transitions(settings.state_table, guarded, now)
    save_states(settings.state_table, batched, now)
    for name in lost:
        logger.warning(
            "state changed concurrently; this run's update was dropped", extra={"target": name}
        )
    logger.info(
        "state saved",
        extra={"transitions_written": len(guarded), "batched_writes": len(batched)},
    )
    return lost


def _alert(
    settings: HealthSettings, transitions: list[Transition], results: list[CheckResult]
) -> None:
    down = sum(1 for transition in transitions if transition.new_status == "unhealthy")
    recovered = len(transitions) - down
    subject = f"[{settings.environment}] health checker: {down} down, {recovered} recovered"
    message_id = publish_alert(
        settings.topic_arn, subject, format_alert(settings, transitions, results)
    )
    metrics.add_metric(name="Transitions", unit=MetricUnit.Count, value=len(transitions))
    logger.info(
        "alert published", extra={"message_id": message_id, "transitions": len(transitions)}
    )


def format_alert(
    settings: HealthSettings, transitions: list[Transition], results: list[CheckResult]
) -> str:
    lines = [
        f"Health checker, environment {settings.environment}: "
        f"{len(transitions)} target(s) changed state.",
        "",
    ]
    for transition in transitions:
        if transition.new_status == "unhealthy":
            lines.append(
                f"DOWN       {transition.name}: {transition.detail} "
                f"({transition.consecutive_failures} consecutive failures)"
            )
        else:
            lines.append(f"RECOVERED  {transition.name}: {transition.detail}")
    failing = sum(1 for result in results if not result.healthy)
    lines += ["", f"Currently failing checks: {failing} of {len(results)}."]
    return "\n".join(lines)


def _summary(
    results: list[CheckResult], transitions: list[Transition], lost: list[str]
) -> dict[str, Any]:
    return {
        "checked": len(results),
        "healthy": sum(1 for result in results if result.healthy),
        "transitions": [
            {"target": transition.name, "from": transition.old_status, "to": transition.new_status}
            for transition in transitions
        ],
        "concurrent_updates": lost,
    }
