"""Decode the three ways a CloudWatch alarm state change reaches a Lambda into one AlarmChange.

Shapes accepted:
- SNS: Records[].Sns.Message is a JSON *string* (AlarmName, NewStateValue, Trigger, ...).
- EventBridge: detail-type "CloudWatch Alarm State Change", resources [alarm ARN], detail {...}.
- Direct alarm action (principal lambda.alarms.cloudwatch.amazonaws.com): {alarmArn, alarmData}.
The region is always taken from an ARN: the SNS "Region" field is a human name ("EU (Ireland)").

Each shape is read through its Powertools event data class (SNSEvent, EventBridgeEvent,
CloudWatchAlarmEvent, and CloudWatchAlarmData for the camelCase alarm body both of the last two
carry). The data classes only name the fields: a missing one is a KeyError and a wrong type goes
unnoticed, so every field is checked here first and a bad one is a BadEventError naming it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes import (
    CloudWatchAlarmEvent,
    EventBridgeEvent,
    SNSEvent,
)
from aws_lambda_powertools.utilities.data_classes.cloud_watch_alarm_event import (
    CloudWatchAlarmData,
)
from aws_lambda_powertools.utilities.data_classes.sns_event import SNSEventRecord

from oncall_shared.errors import BadEventError

ALARM_STATES = frozenset({"OK", "ALARM", "INSUFFICIENT_DATA"})
EVENTBRIDGE_DETAIL_TYPE = "CloudWatch Alarm State Change"
# A region code (us-east-1, us-gov-west-1, cn-north-1) becomes a label of the endpoint's host
# name, so anything else would fail in botocore with an error that is not ours.
_REGION_CODE = re.compile(r"(?![0-9]+\Z)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")


@dataclass(frozen=True)
class AlarmChange:
    name: str
    arn: str
    account: str
    region: str
    new_state: str
    old_state: str | None
    reason: str
    timestamp: str  # normalised ISO-8601 UTC when parseable, else as sent
    description: str | None
    namespace: str | None  # None for metric-math and composite alarms
    metric_name: str | None
    dimensions: dict[str, str] | None
    source: str  # "sns" | "eventbridge" | "alarm_action"
    is_composite: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # The account of the watched metric when the alarm names one (cross-account observability:
    # an alarm in a monitoring account on another account's metric); None means the alarm's own.
    metric_account: str | None = None


@dataclass(frozen=True)
class ArnParts:
    partition: str
    service: str
    region: str
    account: str
    resource: str


def parse_arn(arn: str) -> ArnParts:
    parts = arn.split(":", 5) if isinstance(arn, str) else []
    if len(parts) != 6 or parts[0] != "arn" or not parts[3] or not parts[4]:
        raise BadEventError(
            f"ARN {clip(arn)!r} is not of the form arn:partition:service:region:account:resource"
        )
    region_code(parts[3], f"region of ARN {clip(arn)!r}")
    return ArnParts(parts[1], parts[2], parts[3], parts[4], parts[5])


def region_code(value: str, label: str) -> str:
    """``value`` when it is shaped like a region code, else a BadEventError naming ``label``."""
    if not _REGION_CODE.match(value):
        raise BadEventError(f"{label} {clip(value)!r} is not a region code such as us-east-1")
    return value


def clip(value: Any, limit: int = 200) -> Any:
    """A string cut to ``limit`` characters for an error message (events can be megabytes)."""
    return value[:limit] + "..." if isinstance(value, str) and len(value) > limit else value


def normalise_timestamp(value: str) -> str:
    """'2019-10-02T17:04:40.985+0000' -> canonical UTC, so dedupe keys match across sources."""
    for pattern in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            parsed = datetime.strptime(value, pattern)
        except ValueError:
            continue
        try:
            return parsed.astimezone(UTC).isoformat(timespec="milliseconds")
        except OverflowError:  # 0001-01-01T00:00:00+0100 is before year 1 in UTC
            raise BadEventError(f"alarm time {value!r} is out of range in UTC") from None
    return value


def parse_alarm_event(event: Any) -> list[AlarmChange]:
    """Every alarm change in ``event``; raises BadEventError before anything is acted on."""
    if not isinstance(event, Mapping):
        raise BadEventError(f"event is a {type(event).__name__}, expected a JSON object")
    if "Records" in event:
        _check_records(event)
        records = SNSEvent(dict(event)).records
        return [_from_sns_record(record, index) for index, record in enumerate(records)]
    if event.get("detail-type") == EVENTBRIDGE_DETAIL_TYPE:
        return [alarm_from_eventbridge(event)]
    if "alarmData" in event:
        return [alarm_from_alarm_action(event)]
    raise BadEventError(
        f"event with keys {sorted(event)[:10]} is not an SNS alarm notification, "
        f"an EventBridge '{EVENTBRIDGE_DETAIL_TYPE}' event or an alarm action payload"
    )


def _check_records(event: Mapping[str, Any]) -> None:
    records = event["Records"]
    if not isinstance(records, list) or not records:
        raise BadEventError("event.Records is empty or not a list")


def _from_sns_record(record: SNSEventRecord, index: int) -> AlarmChange:
    raw = record.raw_event
    sns = raw.get("Sns") if isinstance(raw, Mapping) else None
    if not isinstance(sns, Mapping) or not isinstance(sns.get("Message"), str):
        raise BadEventError(f"Records[{index}] has no Sns.Message string (not an SNS record)")
    try:
        message = json.loads(record.sns.message)
    except json.JSONDecodeError as exc:
        raise BadEventError(
            f"Records[{index}].Sns.Message is not JSON: {exc.msg} at char {exc.pos}"
        ) from None
    except (ValueError, RecursionError) as exc:
        # Python refuses integers over 4,300 digits (ValueError) and nesting deeper than its
        # recursion limit: both are messages no alarm sends.
        raise BadEventError(f"Records[{index}].Sns.Message is not usable JSON: {exc}") from None
    # TopicArn is optional here (only old messages without AlarmArn need it).
    return alarm_from_sns_message(message, topic_arn=str(record.sns.get("TopicArn", "")))


def alarm_from_sns_message(message: Any, topic_arn: str = "") -> AlarmChange:
    if not isinstance(message, Mapping):
        raise BadEventError("SNS alarm message is not a JSON object")
    name = required_str(message, "AlarmName", "SNS alarm message")
    arn = _sns_alarm_arn(message, name, topic_arn)
    trigger = _sub_mapping(message, "Trigger")
    namespace, metric, dimensions = _sns_metric(trigger)
    return AlarmChange(
        name=name,
        arn=arn,
        account=str(message.get("AWSAccountId") or parse_arn(arn).account),
        region=parse_arn(arn).region,
        new_state=_state(message.get("NewStateValue"), "NewStateValue"),
        old_state=_optional_state(message.get("OldStateValue")),
        reason=str(message.get("NewStateReason") or ""),
        timestamp=normalise_timestamp(
            required_str(message, "StateChangeTime", "SNS alarm message")
        ),
        description=optional_str(message.get("AlarmDescription")),
        namespace=namespace,
        metric_name=metric,
        dimensions=dimensions,
        source="sns",
        is_composite="AlarmRule" in message,
        raw=message,
        metric_account=_single_query_account(trigger.get("Metrics")),
    )


def _sns_alarm_arn(message: Mapping[str, Any], name: str, topic_arn: str) -> str:
    """Current messages carry AlarmArn; older ones: borrow region/partition from the topic."""
    arn = message.get("AlarmArn")
    if isinstance(arn, str) and arn:
        parse_arn(arn)
        return arn
    if not topic_arn:
        raise BadEventError(
            f"SNS alarm message for {name!r} has no AlarmArn and the record has no TopicArn"
        )
    topic = parse_arn(topic_arn)
    account = str(message.get("AWSAccountId") or topic.account)
    return f"arn:{topic.partition}:cloudwatch:{topic.region}:{account}:alarm:{name}"


def _sns_metric(trigger: Mapping[str, Any]) -> tuple[str | None, str | None, dict[str, str] | None]:
    # Metric-math alarms carry Trigger.Metrics and no MetricName; composite alarms have no Trigger.
    if not trigger.get("MetricName"):
        return _sns_single_query_metric(trigger.get("Metrics"))
    return (
        optional_str(trigger.get("Namespace")),
        _metric_name(trigger["MetricName"]),
        _sns_dimensions(trigger.get("Dimensions")),
    )


def _sns_single_query_metric(
    queries: Any,
) -> tuple[str | None, str | None, dict[str, str] | None]:
    """An alarm defined by a Metrics list of one plain MetricStat still watches one metric (the
    EventBridge and alarm-action shapes are read the same way); anything else is math."""
    if not isinstance(queries, list) or len(queries) != 1 or not isinstance(queries[0], Mapping):
        return None, None, None
    metric = _sub_mapping(_sub_mapping(queries[0], "MetricStat"), "Metric")
    if not metric.get("MetricName"):
        return None, None, None
    return (
        optional_str(metric.get("Namespace")),
        _metric_name(metric["MetricName"]),
        _sns_dimensions(metric.get("Dimensions")),
    )


def _sns_dimensions(items: Any) -> dict[str, str]:
    # SNS alarm messages write dimension keys in lower case ("name", "value"); accept either.
    if items is None:
        return {}
    if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
        raise BadEventError(f"alarm Dimensions={clip(items)!r} is not a list of objects")
    pairs = [
        (item.get("name", item.get("Name")), item.get("value", item.get("Value"))) for item in items
    ]
    return _dimension_dict(pairs)


def _dimension_dict(pairs: Any) -> dict[str, str]:
    dimensions: dict[str, str] = {}
    for name, value in pairs:
        if not isinstance(name, str) or not isinstance(value, str):
            raise BadEventError(
                f"alarm dimension {clip(name)!r}={clip(value)!r} is not a name and value string"
            )
        dimensions[name] = value
    return dimensions


def alarm_from_eventbridge(event: Mapping[str, Any]) -> AlarmChange:
    wrapped = EventBridgeEvent(dict(event))
    if not isinstance(wrapped.get("detail"), Mapping):
        raise BadEventError("EventBridge alarm event has no 'detail' object")
    resources = wrapped.get("resources")
    if not isinstance(resources, list) or not resources or not isinstance(resources[0], str):
        raise BadEventError("EventBridge alarm event has no alarm ARN in 'resources'")
    detail = CloudWatchAlarmData(dict(wrapped.detail))
    account = str(wrapped.get("account") or "")
    return _from_alarm_data(detail, wrapped.resources[0], account, "eventbridge", event)


def alarm_from_alarm_action(event: Mapping[str, Any]) -> AlarmChange:
    wrapped = CloudWatchAlarmEvent(dict(event))
    arn = wrapped.get("alarmArn")
    if not isinstance(arn, str) or not arn:
        raise BadEventError("alarm action payload has no 'alarmArn'")
    if not isinstance(wrapped.get("alarmData"), Mapping):
        raise BadEventError("alarm action payload has no 'alarmData' object")
    account = str(wrapped.get("accountId") or "")
    return _from_alarm_data(wrapped.alarm_data, wrapped.alarm_arn, account, "alarm_action", event)


def _from_alarm_data(
    data: CloudWatchAlarmData, arn: str, account: str, source: str, raw: Mapping[str, Any]
) -> AlarmChange:
    """EventBridge 'detail' and alarm-action 'alarmData' share one camelCase shape."""
    arn_parts = parse_arn(arn)
    _mapping(data.get("state"), "state")
    previous = _sub_mapping(data, "previousState")
    configuration = _sub_mapping(data, "configuration")
    namespace, metric, dimensions = _camel_metric(configuration)
    return AlarmChange(
        name=required_str(data, "alarmName", f"{source} alarm data"),
        arn=arn,
        account=account or arn_parts.account,
        region=arn_parts.region,
        new_state=_state(data.state.get("value"), "state.value"),
        old_state=_optional_state(previous.get("value")),
        reason=str(data.state.get("reason") or ""),
        timestamp=normalise_timestamp(
            required_str(data.state, "timestamp", f"{source} alarm state")
        ),
        description=optional_str(configuration.get("description")),
        namespace=namespace,
        metric_name=metric,
        dimensions=dimensions,
        source=source,
        is_composite="alarmRule" in configuration,
        raw=raw,
        metric_account=_single_query_account(configuration.get("metrics")),
    )


def _single_query_account(queries: Any) -> str | None:
    """AccountId of a one-query alarm's metric (SNS writes AccountId, the camelCase shapes
    accountId), or None when the query names no account."""
    if not isinstance(queries, list) or len(queries) != 1 or not isinstance(queries[0], Mapping):
        return None
    return optional_str(queries[0].get("AccountId") or queries[0].get("accountId"))


def _camel_metric(
    configuration: Mapping[str, Any],
) -> tuple[str | None, str | None, dict[str, str] | None]:
    """Only a single plain metricStat names one metric; math and composites give None."""
    metrics = configuration.get("metrics")
    if not isinstance(metrics, list) or len(metrics) != 1 or not isinstance(metrics[0], Mapping):
        return None, None, None
    metric = _sub_mapping(_sub_mapping(metrics[0], "metricStat"), "metric")
    if not metric.get("name"):
        return None, None, None
    dimensions = metric.get("dimensions") or {}
    if not isinstance(dimensions, Mapping):
        raise BadEventError(f"alarm metric dimensions={clip(dimensions)!r} is not an object")
    return (
        optional_str(metric.get("namespace")),
        _metric_name(metric["name"]),
        _dimension_dict(dimensions.items()),
    )


def _sub_mapping(container: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """The object under an optional ``key``: absent or null is empty, anything else malformed."""
    value = container.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BadEventError(f"alarm field {key!r}={clip(value)!r} is not an object")
    return value


def _mapping(value: Any, label: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise BadEventError(f"alarm '{label}' is missing or not an object")
    return value


def required_str(container: Mapping[str, Any], key: str, label: str) -> str:
    value = container.get(key)
    if not isinstance(value, str) or not value:
        raise BadEventError(
            f"{label} field {key!r} is missing or not a non-empty string (got {value!r})"
        )
    return value


def optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _state(value: Any, label: str) -> str:
    # A list or object here is unhashable: test the type before looking it up.
    if not isinstance(value, str) or value not in ALARM_STATES:
        raise BadEventError(f"{label}={clip(value)!r} is not one of {sorted(ALARM_STATES)}")
    return value


def _optional_state(value: Any) -> str | None:
    return value if isinstance(value, str) and value in ALARM_STATES else None


def _metric_name(value: Any) -> str:
    if not isinstance(value, str):
        raise BadEventError(f"alarm metric name {clip(value)!r} is not a string")
    return value
