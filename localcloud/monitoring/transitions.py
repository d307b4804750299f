"""Moving an alarm to a new state as CloudWatch does: the state, reason and timestamps change,
the alarm history gets a StateUpdate item, and when actions are enabled the actions for the new
state run (SNS topics get the alarm message, Lambda functions the alarm-action payload) and the
"CloudWatch Alarm State Change" event goes to the default event bus."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .messages import StateChange, event_entry, lambda_payload, sns_message, sns_subject

logger = logging.getLogger("localcloud.monitoring")
LOCK = threading.RLock()
"""Evaluation ticks (the clock's thread) and SetAlarmState (a request thread) both move alarms."""
ALARM_ACTION_PRINCIPAL = "lambda.alarms.cloudwatch.amazonaws.com"


def moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def history_of(backend: Any) -> list[dict[str, Any]]:
    """The backend's alarm history (kept after an alarm is deleted, as CloudWatch keeps it);
    on the backend object, so moto's reset drops it."""
    history = backend.__dict__.get("_localcloud_alarm_history")
    if history is None:
        history = backend.__dict__["_localcloud_alarm_history"] = []
    return history  # type: ignore[no-any-return]


def alarm_type(alarm: Any) -> str:
    return "CompositeAlarm" if alarm.rule is not None else "MetricAlarm"


def record(
    backend: Any, alarm: Any, *, kind: str, summary: str, data: dict[str, Any], at: float
) -> None:
    history_of(backend).append(
        {
            "AlarmName": alarm.name,
            "AlarmType": alarm_type(alarm),
            "Timestamp": moment(at),
            "HistoryItemType": kind,
            "HistorySummary": summary,
            "HistoryData": json.dumps(data, separators=(",", ":")),
        }
    )


def transition(
    backend: Any, alarm: Any, *, state: str, reason: str, reason_data: str, at: float
) -> StateChange:
    """Put the alarm in `state` (even the same one: SetAlarmState may only change the reason)."""
    with LOCK:
        old_timestamp = _epoch(
            getattr(alarm, "state_transitioned_timestamp", None) or alarm.state_updated_timestamp
        )
        change = StateChange(
            alarm=alarm,
            account_id=backend.account_id,
            region=backend.region_name,
            old_state=alarm.state_value,
            old_reason=alarm.state_reason,
            old_reason_data=alarm.state_reason_data,
            old_timestamp=old_timestamp,
            new_state=state,
            new_reason=reason,
            new_reason_data=reason_data,
            timestamp=at,
        )
        alarm.state_value, alarm.state_reason, alarm.state_reason_data = state, reason, reason_data
        alarm.state_updated_timestamp = moment(at)
        if change.old_state != state:
            alarm.state_transitioned_timestamp = moment(at)
            _record_state_update(backend, change)
        return change


def _epoch(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def _record_state_update(backend: Any, change: StateChange) -> None:
    try:
        reason_data: Any = json.loads(change.new_reason_data or "{}")
    except ValueError:
        reason_data = change.new_reason_data
    new_state: dict[str, Any] = {"stateValue": change.new_state, "stateReason": change.new_reason}
    if reason_data:
        new_state["stateReasonData"] = reason_data
    data = {
        "version": "1.0",
        "oldState": {"stateValue": change.old_state, "stateReason": change.old_reason},
        "newState": new_state,
    }
    summary = f"Alarm updated from {change.old_state} to {change.new_state}"
    record(
        backend, change.alarm, kind="StateUpdate", summary=summary, data=data, at=change.timestamp
    )


def run_actions(backend: Any, change: StateChange) -> None:
    """The new state's actions (when enabled) and the EventBridge event (always: EventBridge
    gets every state change, whatever ActionsEnabled says)."""
    alarm = change.alarm
    if alarm.actions_enabled:
        for action in _actions_for(alarm, change.new_state):
            _run_action(backend, change, action)
    _put_event(change)


def _actions_for(alarm: Any, state: str) -> list[str]:
    by_state = {
        "ALARM": alarm.alarm_actions,
        "OK": alarm.ok_actions,
        "INSUFFICIENT_DATA": alarm.insufficient_data_actions,
    }
    return list(by_state[state] or [])


def _run_action(backend: Any, change: StateChange, action: str) -> None:
    service = action.split(":")[2] if action.count(":") >= 5 else ""
    runner = _RUNNERS.get(service)
    try:
        if runner is None:
            raise ActionNotSupported(
                f"alarm action {action} is not supported by localcloud (only SNS topics "
                "and Lambda functions are run)"
            )
        runner(change, action)
    except Exception as error:  # one failing action must not stop the others or the tick
        logger.warning("alarm %s: action %s failed: %s", change.alarm.name, action, error)
        summary = f"Failed to execute action {action}. Received error: {error}"
        record(
            backend,
            change.alarm,
            kind="Action",
            summary=summary,
            data={"actionState": "Failed", "error": str(error)},
            at=change.timestamp,
        )
        return
    summary = f"Successfully executed action {action}"
    record(
        backend,
        change.alarm,
        kind="Action",
        summary=summary,
        data={"actionState": "Succeeded"},
        at=change.timestamp,
    )


class ActionNotSupported(Exception):
    """An alarm action of a kind localcloud does not run (EC2, Auto Scaling, Systems Manager)."""


def _publish_to_topic(change: StateChange, topic_arn: str) -> None:
    from moto.sns.models import sns_backends

    _, _, _, region, account, _ = topic_arn.split(":", 5)
    sns_backends[account][region].publish(
        sns_message(change), arn=topic_arn, subject=sns_subject(change)
    )


def _invoke_function(change: StateChange, function_arn: str) -> None:
    from localcloud import lambda_runtime

    _, _, _, region, account, _ = function_arn.split(":", 5)
    lambda_runtime.invoke_async(
        account,
        region,
        function_arn,
        lambda_payload(change),
        principal=ALARM_ACTION_PRINCIPAL,
        source_arn=change.alarm.alarm_arn,
        source_account=change.account_id,
    )


_RUNNERS: dict[str, Callable[[StateChange, str], None]] = {
    "sns": _publish_to_topic,
    "lambda": _invoke_function,
}


def _put_event(change: StateChange) -> None:
    from moto.events.models import events_backends

    try:
        events_backends[change.account_id][change.region].put_events([event_entry(change)])
    except Exception:  # the event bus is best effort, as for CloudWatch itself
        logger.exception("alarm %s: state change event could not be put", change.alarm.name)
