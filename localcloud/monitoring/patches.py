"""What localcloud changes in moto's CloudWatch so alarms behave as on AWS:

- PutMetricAlarm refuses what localcloud cannot evaluate (anomaly-detection bands, unknown
  statistics, unsupported metric-math functions) instead of accepting an alarm that never moves;
  a new alarm starts in INSUFFICIENT_DATA, an updated one keeps its state (as AWS documents);
- PutCompositeAlarm and DescribeAlarmHistory, which moto lacks;
- SetAlarmState moves the alarm through the same path as an evaluation (history, actions);
- PutMetricData without a Timestamp is stamped with localcloud's clock, not the wall clock.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.exceptions import InvalidFormat, ResourceNotFound, ValidationError
from moto.cloudwatch.models import CloudWatchBackend
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult, EmptyResult

from ..clock import CLOCK
from .errors import AlarmFeatureNotSupported
from .evaluation import ANOMALY_OPERATORS, TREATMENTS
from .expressions import compile_expression
from .metric_data import get_metric_data
from .rules import compile_rule
from .statistics import check_statistic
from .store import index_of
from .transitions import LOCK, history_of, moment, record, run_actions, transition

ALARM_STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")


def clock_datetime() -> datetime:
    """Now on localcloud's clock, naive UTC as moto stores its datetimes."""
    return datetime.fromtimestamp(CLOCK.now(), UTC).replace(tzinfo=None)


def check_alarm(arguments: dict[str, Any]) -> None:
    """Refuse at creation what evaluation could not honour (AWS's error shape, named)."""
    if arguments.get("rule") is not None:
        compile_rule(arguments["rule"])
        return
    operator = arguments.get("comparison_operator")
    if operator in ANOMALY_OPERATORS:
        raise AlarmFeatureNotSupported(
            f"ComparisonOperator {operator} (anomaly detection bands) is not supported by "
            "localcloud: use a static threshold"
        )
    treatment = arguments.get("treat_missing_data")
    if treatment is not None and treatment not in TREATMENTS:
        raise ValidationError(
            f"TreatMissingData {treatment!r} is not one of {', '.join(TREATMENTS)}"
        )
    if arguments.get("evaluate_low_sample_count_percentile") == "ignore":
        raise AlarmFeatureNotSupported(
            "EvaluateLowSampleCountPercentile ignore is not supported by localcloud: "
            "percentiles are always evaluated"
        )
    queries = arguments.get("metric_data_queries")
    if queries:
        _check_queries(queries)
    elif arguments.get("extended_statistic") or arguments.get("statistic"):
        check_statistic(arguments.get("extended_statistic") or arguments["statistic"])


def _check_queries(queries: list[Any]) -> None:
    returned = [
        q for q in queries if q.return_data is None or str(q.return_data).lower() != "false"
    ]
    if len(returned) != 1:
        raise ValidationError(
            f"Metrics must have exactly one query with ReturnData true (found {len(returned)})"
        )
    uses: dict[str, frozenset[str]] = {}
    for query in queries:
        if query.expression:
            uses[query.id] = _expression_uses(query.expression)
        elif query.metric_stat is not None:
            check_statistic(query.metric_stat.stat)
    _check_references(uses, known={query.id for query in queries})


def _expression_uses(expression: str) -> frozenset[str]:
    if expression.lstrip().upper().startswith("SELECT"):
        raise AlarmFeatureNotSupported(
            f"Metrics Insights queries ({expression!r}) are not supported by localcloud"
        )
    return compile_expression(expression).metric_ids


def _check_references(uses: dict[str, frozenset[str]], known: set[str]) -> None:
    """Every id an expression names exists, and no expression depends on itself."""
    for query_id, names in uses.items():
        if names - known:
            raise ValidationError(
                f"expression {query_id} uses unknown metric id(s) {sorted(names - known)}"
            )
    visiting: list[str] = []

    def visit(query_id: str) -> None:
        if query_id in visiting:
            cycle = " -> ".join([*visiting[visiting.index(query_id) :], query_id])
            raise ValidationError(f"metric math expressions refer to each other: {cycle}")
        visiting.append(query_id)
        for name in sorted(uses.get(query_id, frozenset())):
            visit(name)
        visiting.pop()

    for query_id in uses:
        visit(query_id)


def _put_metric_alarm(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def put_metric_alarm(self: CloudWatchBackend, *args: Any, **kwargs: Any) -> Any:
        check_alarm(kwargs)
        with LOCK:
            previous = self.alarms.get(kwargs.get("name", args[0] if args else ""))
            alarm = original(self, *args, **kwargs)
            _settle_new_configuration(self, alarm, previous)
        return alarm

    return put_metric_alarm


def _settle_new_configuration(backend: CloudWatchBackend, alarm: Any, previous: Any) -> None:
    now = CLOCK.now()
    alarm.configuration_updated_timestamp = moment(now)
    alarm.alarm_rule = alarm.rule  # DescribeAlarms' CompositeAlarms[].AlarmRule
    if previous is None:
        alarm.state_value = "INSUFFICIENT_DATA"
        alarm.state_updated_timestamp = alarm.state_transitioned_timestamp = moment(now)
        summary, kind = f'Alarm "{alarm.name}" created', "Create"
    else:
        for attribute in (
            "state_value",
            "state_reason",
            "state_reason_data",
            "state_updated_timestamp",
            "state_transitioned_timestamp",
        ):
            setattr(alarm, attribute, getattr(previous, attribute, None))
        summary, kind = f'Alarm "{alarm.name}" updated', "Update"
    data = {"version": "1.0", "type": kind}
    record(backend, alarm, kind="ConfigurationUpdate", summary=summary, data=data, at=now)


def _put_metric_data(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def put_metric_data(
        self: CloudWatchBackend, namespace: str, metric_data: list[dict[str, Any]]
    ) -> None:
        stamped = [
            datum if datum.get("Timestamp") else {**datum, "Timestamp": clock_datetime()}
            for datum in metric_data
        ]
        original(self, namespace, stamped)
        index_of(self)

    return put_metric_data


def set_alarm_state(
    self: CloudWatchBackend, alarm_name: str, reason: str, reason_data: str, state_value: str
) -> None:
    """AWS's way to test alarm actions: the state holds until the next evaluation changes it;
    the actions run when the state differs from the current one."""
    if reason_data is not None:
        try:
            json.loads(reason_data)
        except ValueError:
            raise InvalidFormat("StateReasonData is not valid JSON") from None
    if alarm_name not in self.alarms:
        raise ResourceNotFound(f"Alarm {alarm_name} not found")
    if state_value not in ALARM_STATES:
        raise ValidationError(
            f"Value '{state_value}' at 'stateValue' failed to satisfy constraint: "
            "Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]"
        )
    from .ticks import evaluate_composites  # composites follow their children at once

    alarm = self.alarms[alarm_name]
    with LOCK:
        changed = alarm.state_value != state_value
        change = transition(
            self,
            alarm,
            state=state_value,
            reason=reason,
            reason_data=reason_data or "{}",
            at=CLOCK.now(),
        )
    if changed:
        run_actions(self, change)
        evaluate_composites(self, CLOCK.now())


def put_composite_alarm(self: CloudWatchResponse) -> ActionResult:
    if self._get_param("ActionsSuppressor"):
        raise AlarmFeatureNotSupported(
            "ActionsSuppressor on composite alarms is not supported by localcloud"
        )
    composite: dict[str, Any] = {
        "name": self._get_param("AlarmName"),
        "namespace": None,
        "metric_name": None,
        "comparison_operator": None,
        "evaluation_periods": None,
        "period": None,
        "threshold": None,
        "statistic": None,
        "description": self._get_param("AlarmDescription"),
        "dimensions": [],
        "alarm_actions": self._get_param("AlarmActions", []),
        "ok_actions": self._get_param("OKActions", []),
        "insufficient_data_actions": self._get_param("InsufficientDataActions", []),
        "actions_enabled": self._get_bool_param("ActionsEnabled"),
        "rule": self._get_param("AlarmRule"),
        "tags": self._get_param("Tags", []),
    }
    self.cloudwatch_backend.put_metric_alarm(**composite)
    return EmptyResult()


def describe_alarm_history(self: CloudWatchResponse) -> ActionResult:
    items = _history_items(
        history_of(self.cloudwatch_backend),
        name=self._get_param("AlarmName"),
        kinds=self._get_param("AlarmTypes") or ["MetricAlarm", "CompositeAlarm"],
        item_type=self._get_param("HistoryItemType"),
        start=self._get_param("StartDate"),
        end=self._get_param("EndDate"),
    )
    if (self._get_param("ScanBy") or "TimestampDescending") == "TimestampDescending":
        items.reverse()
    offset = int(self._get_param("NextToken") or 0)
    limit = int(self._get_param("MaxRecords") or 100)
    page = items[offset : offset + limit]
    result: dict[str, Any] = {"AlarmHistoryItems": page}
    if offset + limit < len(items):
        result["NextToken"] = str(offset + limit)
    return ActionResult(result)


def _history_items(
    history: list[dict[str, Any]],
    *,
    name: str | None,
    kinds: list[str],
    item_type: str | None,
    start: datetime | None,
    end: datetime | None,
) -> list[dict[str, Any]]:
    def wanted(item: dict[str, Any]) -> bool:
        return (
            (name is None or item["AlarmName"] == name)
            and item["AlarmType"] in kinds
            and (item_type is None or item["HistoryItemType"] == item_type)
            and (start is None or item["Timestamp"] >= _aware(start))
            and (end is None or item["Timestamp"] <= _aware(end))
        )

    return [item for item in list(history) if wanted(item)]


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def patch_moto() -> None:
    if hasattr(CloudWatchResponse, "describe_alarm_history"):
        return  # already patched (a second LocalCloud in this process)
    CloudWatchBackend.put_metric_alarm = _put_metric_alarm(CloudWatchBackend.put_metric_alarm)  # type: ignore[method-assign]
    CloudWatchBackend.put_metric_data = _put_metric_data(CloudWatchBackend.put_metric_data)  # type: ignore[method-assign]
    CloudWatchBackend.set_alarm_state = set_alarm_state  # type: ignore[method-assign]
    CloudWatchBackend.get_metric_data = get_metric_data  # type: ignore[method-assign]
    CloudWatchResponse.put_composite_alarm = put_composite_alarm  # type: ignore[attr-defined]
    CloudWatchResponse.describe_alarm_history = describe_alarm_history  # type: ignore[attr-defined]
