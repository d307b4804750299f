"""What an alarm state change sends: the SNS alarm message, the direct Lambda alarm-action
payload and the EventBridge "CloudWatch Alarm State Change" event, in CloudWatch's shapes
(the ones handlers/shared/oncall_shared/events.py decodes)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import botocore.session

from .evaluation import alarm_period, aws_time

# SNS alarm messages name the region as CloudWatch's console did when the format was fixed
# ("EU (Ireland)", not botocore's newer "Europe (Ireland)").
_REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)",
    "eu-west-2": "EU (London)",
    "eu-west-3": "EU (Paris)",
    "eu-central-1": "EU (Frankfurt)",
    "eu-north-1": "EU (Stockholm)",
    "eu-south-1": "EU (Milan)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
    "ap-northeast-2": "Asia Pacific (Seoul)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)",
    "ap-south-1": "Asia Pacific (Mumbai)",
    "ca-central-1": "Canada (Central)",
    "sa-east-1": "South America (Sao Paulo)",
}
EVENT_DETAIL_TYPE = "CloudWatch Alarm State Change"


def region_name(region: str) -> str:
    if region in _REGION_NAMES:
        return _REGION_NAMES[region]
    partitions = botocore.session.get_session().get_data("endpoints")["partitions"]
    for partition in partitions:
        described = partition.get("regions", {}).get(region, {}).get("description")
        if described:
            return str(described)
    return region


@dataclass(frozen=True)
class StateChange:
    """One transition of one alarm, everything the three messages need."""

    alarm: Any  # moto's Alarm, already in the new state
    account_id: str
    region: str
    old_state: str
    old_reason: str
    old_reason_data: str
    old_timestamp: float
    new_state: str
    new_reason: str
    new_reason_data: str
    timestamp: float

    @property
    def is_composite(self) -> bool:
        return self.alarm.rule is not None


def sns_subject(change: StateChange) -> str:
    """'ALARM: "name" in US East (N. Virginia)', cut to SNS's limit (under 100 characters)."""
    where = f" in {region_name(change.region)}"
    prefix = f"{change.new_state}: "
    room = 99 - len(prefix) - len(where) - 2
    name = (
        change.alarm.name
        if len(change.alarm.name) <= room
        else change.alarm.name[: room - 3] + "..."
    )
    return f'{prefix}"{name}"{where}'


def sns_message(change: StateChange) -> str:
    alarm = change.alarm
    message: dict[str, Any] = {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description or None,
        "AWSAccountId": change.account_id,
        "AlarmConfigurationUpdatedTimestamp": aws_time(
            _epoch(alarm.configuration_updated_timestamp)
        ),
        "NewStateValue": change.new_state,
        "NewStateReason": change.new_reason,
        "StateChangeTime": aws_time(change.timestamp),
        "Region": region_name(change.region),
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": change.old_state,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
    }
    if change.is_composite:
        message["AlarmRule"] = alarm.rule
    else:
        message["Trigger"] = _trigger(alarm)
    return json.dumps(message)


def _trigger(alarm: Any) -> dict[str, Any]:
    trigger: dict[str, Any] = {}
    if not alarm.metric_data_queries:
        extended = alarm.extended_statistic
        trigger.update(
            MetricName=alarm.metric_name,
            Namespace=alarm.namespace,
            StatisticType="ExtendedStatistic" if extended else "Statistic",
            Statistic=extended or str(alarm.statistic).upper(),
            Unit=alarm.unit,
            Dimensions=[{"value": d.value, "name": d.name} for d in alarm.dimensions],
        )
    trigger.update(
        Period=alarm_period(alarm),
        EvaluationPeriods=int(alarm.evaluation_periods),
        DatapointsToAlarm=int(alarm.datapoints_to_alarm or alarm.evaluation_periods),
        ComparisonOperator=alarm.comparison_operator,
        Threshold=float(alarm.threshold),
        TreatMissingData=alarm.treat_missing_data or "missing",
        EvaluateLowSampleCountPercentile=alarm.evaluate_low_sample_count_percentile or "",
    )
    if alarm.metric_data_queries:
        trigger["Metrics"] = [_sns_query(query) for query in alarm.metric_data_queries]
    return trigger


def _sns_query(query: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": query.id}
    if query.expression:
        entry.update(Expression=query.expression, Label=query.label)
    else:
        stat = query.metric_stat
        entry["MetricStat"] = {
            "Metric": {
                "Dimensions": [{"value": d.value, "name": d.name} for d in stat.metric.dimensions],
                "MetricName": stat.metric.metric_name,
                "Namespace": stat.metric.namespace,
            },
            "Period": int(stat.period),
            "Stat": stat.stat,
        }
    entry["ReturnData"] = query.return_data is None or str(query.return_data).lower() != "false"
    return entry


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def alarm_data(change: StateChange) -> dict[str, Any]:
    """The camelCase detail shared by the EventBridge event and the Lambda alarm action."""
    state: dict[str, Any] = {"value": change.new_state, "reason": change.new_reason}
    if change.new_reason_data and change.new_reason_data != "{}":
        state["reasonData"] = change.new_reason_data
    state["timestamp"] = aws_time(change.timestamp)
    previous: dict[str, Any] = {"value": change.old_state, "reason": change.old_reason}
    if change.old_reason_data and change.old_reason_data != "{}":
        previous["reasonData"] = change.old_reason_data
    previous["timestamp"] = aws_time(change.old_timestamp)
    return {
        "alarmName": change.alarm.name,
        "state": state,
        "previousState": previous,
        "configuration": _configuration(change),
    }


def _configuration(change: StateChange) -> dict[str, Any]:
    alarm = change.alarm
    if change.is_composite:
        return {"alarmRule": alarm.rule, "description": alarm.description}
    return {"description": alarm.description, "metrics": _camel_metrics(alarm)}


def _camel_metrics(alarm: Any) -> list[dict[str, Any]]:
    if not alarm.metric_data_queries:
        metric = {
            "namespace": alarm.namespace,
            "name": alarm.metric_name,
            "dimensions": {d.name: d.value for d in alarm.dimensions},
        }
        stat = alarm.extended_statistic or alarm.statistic
        query_id = str(uuid.uuid5(uuid.NAMESPACE_URL, alarm.alarm_arn))
        metric_stat = {"metric": metric, "period": alarm_period(alarm), "stat": stat}
        if alarm.unit:
            metric_stat["unit"] = alarm.unit
        return [{"id": query_id, "metricStat": metric_stat, "returnData": True}]
    return [_camel_query(query) for query in alarm.metric_data_queries]


def _camel_query(query: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": query.id}
    if query.expression:
        entry.update(expression=query.expression, label=query.label)
    else:
        stat = query.metric_stat
        metric = {
            "namespace": stat.metric.namespace,
            "name": stat.metric.metric_name,
            "dimensions": {d.name: d.value for d in stat.metric.dimensions},
        }
        entry["metricStat"] = {"metric": metric, "period": int(stat.period), "stat": stat.stat}
        if stat.unit:
            entry["metricStat"]["unit"] = stat.unit
    entry["returnData"] = query.return_data is None or str(query.return_data).lower() != "false"
    return entry


def lambda_payload(change: StateChange) -> bytes:
    payload = {
        "source": "aws.cloudwatch",
        "alarmArn": change.alarm.alarm_arn,
        "accountId": change.account_id,
        "time": aws_time(change.timestamp),
        "region": change.region,
        "alarmData": alarm_data(change),
    }
    return json.dumps(payload).encode()


def event_entry(change: StateChange) -> dict[str, Any]:
    """A PutEvents entry for the default bus (EventBridge adds id, account, region). Time is
    epoch seconds, as a PutEvents request carries it (moto formats it for delivery)."""
    return {
        "Source": "aws.cloudwatch",
        "DetailType": EVENT_DETAIL_TYPE,
        "Resources": [change.alarm.alarm_arn],
        "Detail": json.dumps(alarm_data(change)),
        "Time": change.timestamp,
        "EventBusName": "default",
    }
