"""The minute tick: on every minute boundary of localcloud's clock, SQS queues report their depth
and every alarm of every account and region is evaluated (metric alarms, then composites)."""

from __future__ import annotations

import json
import logging
import math
from datetime import UTC, datetime
from typing import Any

from ..clock import Clock
from .evaluation import Outcome, aws_time, evaluate_metric_alarm
from .rules import compile_rule
from .store import index_of
from .transitions import LOCK, run_actions, transition

logger = logging.getLogger("localcloud.monitoring")
TICK_SECONDS = 60
TICK_LABEL = "monitoring: minute tick (SQS metrics, alarm evaluation)"
_COMPOSITE_ROUNDS = 8  # a composite of composites settles in as many rounds as it is deep
QUEUE_METRICS = {
    "ApproximateNumberOfMessagesVisible": "approximate_number_of_messages",
    "ApproximateNumberOfMessagesNotVisible": "approximate_number_of_messages_not_visible",
    "ApproximateNumberOfMessagesDelayed": "approximate_number_of_messages_delayed",
}


def schedule_ticks(clock: Clock) -> None:
    """The first tick at the next minute boundary; each tick schedules the next."""
    first = (math.floor(clock.now() / TICK_SECONDS) + 1) * TICK_SECONDS

    def tick() -> None:
        due = clock.now()
        clock.call_at(due + TICK_SECONDS, tick, TICK_LABEL)
        run_tick(due)

    clock.call_at(first, tick, TICK_LABEL)


def run_tick(now: float) -> None:
    record_queue_metrics(now)
    for backend in _cloudwatch_backends():
        evaluate_backend(backend, now)


def _cloudwatch_backends() -> list[Any]:
    from moto.cloudwatch.models import cloudwatch_backends

    return [
        backend
        for regions in list(cloudwatch_backends.values())
        for backend in list(regions.values())
    ]


def record_queue_metrics(now: float) -> None:
    """AWS/SQS depth metrics per queue (QueueName dimension), as SQS reports them each minute;
    the datapoint covers the minute that just ended, so this tick's evaluation sees it."""
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.sqs.models import sqs_backends

    stamp = datetime.fromtimestamp(now - TICK_SECONDS, UTC).replace(tzinfo=None)
    for account, regions in list(sqs_backends.items()):
        for region, sqs in list(regions.items()):
            queues = list(sqs.queues.values())
            if queues:
                data = [
                    _queue_datum(queue, metric, attribute, stamp)
                    for queue in queues
                    for metric, attribute in QUEUE_METRICS.items()
                ]
                cloudwatch_backends[account][region].put_metric_data("AWS/SQS", data)


def _queue_datum(queue: Any, metric: str, attribute: str, stamp: datetime) -> dict[str, Any]:
    return {
        "MetricName": metric,
        "Value": float(getattr(queue, attribute)),
        "Unit": "Count",
        "Timestamp": stamp,
        "Dimensions": [{"Name": "QueueName", "Value": queue.name}],
    }


def evaluate_backend(backend: Any, now: float) -> None:
    index = index_of(backend)
    for alarm in list(backend.alarms.values()):
        if alarm.rule is not None:
            continue
        try:
            outcome = evaluate_metric_alarm(alarm, index, now)
        except Exception:  # one broken alarm must not stop the others
            logger.exception("alarm %s could not be evaluated", alarm.name)
            continue
        if outcome is not None and outcome.state != alarm.state_value:
            _move(backend, alarm, outcome, now)
    evaluate_composites(backend, now)


def _move(backend: Any, alarm: Any, outcome: Outcome, now: float) -> None:
    with LOCK:
        change = transition(
            backend,
            alarm,
            state=outcome.state,
            reason=outcome.reason,
            reason_data=outcome.reason_data,
            at=now,
        )
    run_actions(backend, change)


def evaluate_composites(backend: Any, now: float) -> None:
    """Composites follow their rule: ALARM when it holds, else OK."""
    for _ in range(_COMPOSITE_ROUNDS):
        if not any(
            _evaluate_composite(backend, alarm, now)
            for alarm in list(backend.alarms.values())
            if alarm.rule is not None
        ):
            return


def _evaluate_composite(backend: Any, alarm: Any, now: float) -> bool:
    rule = compile_rule(alarm.rule)
    holds = rule.holds(lambda name: _state_of(backend, name))
    state = "ALARM" if holds else "OK"
    if state == alarm.state_value:
        return False
    children = [_child(backend, name) for name in sorted(rule.alarms)]
    triggering = [child for child in children if child is not None]
    reason = _composite_reason(triggering, holds)
    data = {
        "triggeringAlarms": [
            {
                "arn": child.alarm_arn,
                "state": {"value": child.state_value, "timestamp": aws_time(_epoch(child))},
            }
            for child in triggering
        ]
    }
    _move(backend, alarm, Outcome(state, reason, json.dumps(data, separators=(",", ":"))), now)
    return True


def _composite_reason(children: list[Any], holds: bool) -> str:
    states = ", ".join(f"{child.name} is {child.state_value}" for child in children)
    verdict = "matches" if holds else "no longer matches"
    return f"The alarm rule {verdict} the states of its alarms ({states or 'none found'})."


def _epoch(alarm: Any) -> float:
    moment = getattr(alarm, "state_transitioned_timestamp", None) or alarm.state_updated_timestamp
    return float((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def _child(backend: Any, name_or_arn: str) -> Any:
    name = name_or_arn.split(":alarm:", 1)[1] if ":alarm:" in name_or_arn else name_or_arn
    return backend.alarms.get(name)


def _state_of(backend: Any, name_or_arn: str) -> str:
    """A deleted or unknown alarm counts as INSUFFICIENT_DATA."""
    child = _child(backend, name_or_arn)
    return "INSUFFICIENT_DATA" if child is None else str(child.state_value)
