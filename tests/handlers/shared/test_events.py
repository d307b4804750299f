"""oncall_shared.events: one AlarmChange from SNS, EventBridge and direct alarm-action payloads."""

from __future__ import annotations

import json

import pytest
from oncall_shared.errors import BadEventError
from oncall_shared.events import normalise_timestamp, parse_alarm_event, parse_arn

ARN = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:critical-checkout-api-5xx"


def test_sns_metric_alarm(event):
    [alarm] = parse_alarm_event(event("alarm_sns_metric"))
    assert (alarm.name, alarm.arn, alarm.account) == (
        "critical-checkout-api-5xx",
        ARN,
        "123456789012",
    )
    assert alarm.region == "eu-west-1"  # not the message's "EU (Ireland)"
    assert (alarm.old_state, alarm.new_state) == ("OK", "ALARM")
    assert alarm.timestamp == "2026-11-28T09:15:31.476+00:00"
    assert (alarm.namespace, alarm.metric_name) == ("AWS/ApiGateway", "5XXError")
    assert alarm.dimensions == {"ApiName": "checkout-api", "Stage": "prod"}
    assert alarm.source == "sns" and not alarm.is_composite
    assert alarm.raw["Region"] == "EU (Ireland)"


def test_sns_metric_math_alarm_has_no_single_metric(event):
    [alarm] = parse_alarm_event(event("alarm_sns_metric_math"))
    assert (alarm.namespace, alarm.metric_name, alarm.dimensions) == (None, None, None)
    assert alarm.description is None  # AlarmDescription is null in the message


def _sns_with_trigger(event, change):
    """The metric-math SNS fixture with its Trigger changed by ``change``."""
    payload = event("alarm_sns_metric_math")
    sns = payload["Records"][0]["Sns"]
    message = json.loads(sns["Message"])
    change(message["Trigger"])
    sns["Message"] = json.dumps(message)
    return payload


def test_sns_alarm_defined_by_one_metric_query_names_that_metric(event):
    # An alarm created with a Metrics list of one MetricStat (as some tools do) still watches
    # one metric; the EventBridge and alarm-action forms of it are read the same way.
    def single_query(trigger):
        trigger["Metrics"] = [
            {
                "Id": "m1",
                "MetricStat": {
                    "Metric": {
                        "Dimensions": [{"value": "i-0123456789abcdef0", "name": "InstanceId"}],
                        "MetricName": "StatusCheckFailed_System",
                        "Namespace": "AWS/EC2",
                    },
                    "Period": 60,
                    "Stat": "Maximum",
                },
                "ReturnData": True,
            }
        ]

    [alarm] = parse_alarm_event(_sns_with_trigger(event, single_query))
    assert (alarm.namespace, alarm.metric_name) == ("AWS/EC2", "StatusCheckFailed_System")
    assert alarm.dimensions == {"InstanceId": "i-0123456789abcdef0"}
    assert alarm.metric_account is None  # the query names no account: the alarm's own


def test_the_account_of_a_one_query_alarms_metric_is_read_in_every_shape(event):
    def other_account(trigger):
        trigger["Metrics"] = [
            {
                "Id": "m1",
                "AccountId": "999999999999",
                "MetricStat": {
                    "Metric": {"MetricName": "CPUUtilization", "Namespace": "AWS/ECS"},
                    "Period": 60,
                    "Stat": "Average",
                },
            }
        ]

    [via_sns] = parse_alarm_event(_sns_with_trigger(event, other_account))
    bus = event("alarm_eventbridge_state_change")
    bus["detail"]["configuration"]["metrics"][0]["accountId"] = "999999999999"
    [via_bus] = parse_alarm_event(bus)
    assert via_sns.metric_account == via_bus.metric_account == "999999999999"


def test_sns_alarm_on_one_expression_is_still_math(event):
    def single_expression(trigger):
        trigger["Metrics"] = [{"Id": "e1", "Expression": "ANOMALY_DETECTION_BAND(m1)"}]

    [alarm] = parse_alarm_event(_sns_with_trigger(event, single_expression))
    assert (alarm.namespace, alarm.metric_name, alarm.dimensions) == (None, None, None)


@pytest.mark.parametrize(
    "name", ["alarm_sns_composite", "alarm_eventbridge_composite", "alarm_action_composite"]
)
def test_composite_alarms(event, name):
    [alarm] = parse_alarm_event(event(name))
    assert alarm.is_composite and alarm.metric_name is None
    assert alarm.arn.endswith(":alarm:checkout-degraded")
    assert alarm.timestamp == "2026-11-28T09:15:32.640+00:00"
    assert alarm.description.startswith("[critical]")


def test_eventbridge_and_sns_forms_of_one_change_agree(event):
    [via_sns] = parse_alarm_event(event("alarm_sns_metric"))
    [via_bus] = parse_alarm_event(event("alarm_eventbridge_state_change"))
    fields = (
        "name",
        "arn",
        "account",
        "region",
        "new_state",
        "old_state",
        "timestamp",
        "namespace",
        "metric_name",
        "dimensions",
        "description",
        "reason",
    )
    assert {f: getattr(via_sns, f) for f in fields} == {f: getattr(via_bus, f) for f in fields}
    assert via_bus.source == "eventbridge"


def test_direct_alarm_action(event):
    [alarm] = parse_alarm_event(event("alarm_action_direct"))
    assert alarm.source == "alarm_action" and alarm.name == "warning-queue-backlog"
    assert alarm.metric_name == "ApproximateNumberOfMessagesVisible"
    assert alarm.dimensions == {"QueueName": "orders"}


def test_old_sns_message_without_alarm_arn_borrows_from_topic(event):
    payload = event("alarm_sns_metric")
    message = json.loads(payload["Records"][0]["Sns"]["Message"])
    del message["AlarmArn"]
    payload["Records"][0]["Sns"]["Message"] = json.dumps(message)
    [alarm] = parse_alarm_event(payload)
    assert alarm.arn == ARN and alarm.region == "eu-west-1"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda e: e["Records"][0]["Sns"].pop("Message"),
            "Records\\[0\\] has no Sns.Message string",
        ),
        (
            lambda e: e["Records"][0]["Sns"].update(Message="[1]"),
            "SNS alarm message is not a JSON object",
        ),
        (lambda e: e.update(Records="x"), "Records is empty or not a list"),
    ],
)
def test_sns_shape_errors(event, mutate, message):
    payload = event("alarm_sns_metric")
    mutate(payload)
    with pytest.raises(BadEventError, match=message):
        parse_alarm_event(payload)


def test_missing_fields_are_named(event):
    payload = event("alarm_action_direct")
    del payload["alarmData"]["state"]["timestamp"]
    with pytest.raises(
        BadEventError, match="alarm_action alarm state field 'timestamp' is missing"
    ):
        parse_alarm_event(payload)
    payload = event("alarm_eventbridge_state_change")
    payload["resources"] = ["not-an-arn"]
    with pytest.raises(BadEventError, match="ARN 'not-an-arn' is not of the form"):
        parse_alarm_event(payload)


def test_arn_and_timestamp_helpers():
    assert parse_arn("arn:aws-cn:cloudwatch:cn-north-1:1:alarm:a:b").resource == "alarm:a:b"
    assert normalise_timestamp("2019-10-02T17:04:40.985+0000") == "2019-10-02T17:04:40.985+00:00"
    assert normalise_timestamp("2019-10-02T19:04:40+0200") == "2019-10-02T17:04:40.000+00:00"
    assert normalise_timestamp("yesterday") == "yesterday"
