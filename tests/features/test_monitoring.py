"""Monitoring Lambda Functions: a launched tool's function fails through Invoke until the
errors threshold of its environment is crossed; the alarm fires and the on-call topic's
subscriber gets CloudWatch's ALARM message, then the OK message once the function recovers."""

from __future__ import annotations

import base64
import gzip
import json
import math
from typing import Any

from pytest_bdd import given, scenarios, then, when

from catalog.cli_context import DEFAULT_CONFIG
from catalog.config import load_config

from .conftest import Cloud, subscribe

scenarios("monitoring.feature")

TOOL = "log-processor"
# Every handler expects a JSON object: a JSON string makes it raise (an Unhandled error).
FAILING_EVENT = b'"not an event the function can handle"'


def _control_message() -> bytes:
    """CloudWatch Logs' reachability probe: the handler acknowledges it and succeeds."""
    payload = {
        "messageType": "CONTROL_MESSAGE",
        "owner": "CloudwatchLogs",
        "logGroup": "",
        "logStream": "",
        "subscriptionFilters": [],
        "logEvents": [],
    }
    data = base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()
    return json.dumps({"awslogs": {"data": data}}).encode()


def _errors_alarm(cloud: Cloud, function_name: str) -> dict[str, Any]:
    alarms = cloud.client("cloudwatch").describe_alarms_for_metric(
        MetricName="Errors",
        Namespace="AWS/Lambda",
        Dimensions=[{"Name": "FunctionName", "Value": function_name}],
    )["MetricAlarms"]
    assert len(alarms) == 1, alarms
    return dict(alarms[0])


@given("an operational Lambda function", target_fixture="tool")
def operational_function(cloud: Cloud, world: dict[str, Any]) -> dict[str, Any]:
    log_group = load_config(DEFAULT_CONFIG).launch_parameters(TOOL, "dev")["LogGroupName"]
    cloud.client("logs").create_log_group(logGroupName=log_group)
    outputs = cloud.launch(TOOL).outputs
    answer = cloud.client("lambda").invoke(
        FunctionName=outputs["FunctionName"], Payload=_control_message()
    )
    assert "FunctionError" not in answer, answer["Payload"].read()
    alarm = _errors_alarm(cloud, outputs["FunctionName"])
    world["subscriber"] = subscribe(cloud, alarm["AlarmActions"][0], "oncall-team")
    # Operational: it ran fine, and its errors alarm has evaluated that to OK.
    name = alarm["AlarmName"]
    cloud.advance_until(lambda: cloud.alarm(name)["StateValue"] == "OK", 3 * alarm["Period"])
    return {"outputs": outputs, "alarm": alarm}


@when("it exceeds predefined error thresholds")
def exceed_error_threshold(cloud: Cloud, tool: dict[str, Any], world: dict[str, Any]) -> None:
    alarm = tool["alarm"]
    dev = load_config(DEFAULT_CONFIG).settings_for(TOOL, "dev")["alarms"]
    # The launched alarm carries the environment's settings from catalog.yaml.
    assert (alarm["Threshold"], alarm["Period"]) == (dev["errors_threshold"], dev["period_seconds"])
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    failures = math.ceil(alarm["Threshold"])
    for _ in range(failures):
        answer = cloud.client("lambda").invoke(
            FunctionName=tool["outputs"]["FunctionName"], Payload=FAILING_EVENT
        )
        assert answer.get("FunctionError") == "Unhandled"
    world["failures"] = failures


@then("CloudWatch should trigger an alarm and notify the on-call team via SNS")
def alarm_notifies_on_call(cloud: Cloud, tool: dict[str, Any], world: dict[str, Any]) -> None:
    alarm, subscriber = tool["alarm"], world["subscriber"]
    name, patience = alarm["AlarmName"], 3 * alarm["Period"]
    cloud.advance_until(lambda: cloud.alarm(name)["StateValue"] == "ALARM", patience)
    cloud.advance(0)  # the notification is a delivery due now
    alarmed = subscriber.alarm_notifications(name, "ALARM")
    assert len(alarmed) == 1, subscriber.alarm_messages
    assert alarmed[0]["Trigger"]["MetricName"] == "Errors"
    assert alarmed[0]["AlarmArn"] == alarm["AlarmArn"]
    # CloudWatch's reason quotes the datapoint: the Sum of the failures that were caused.
    assert f"[{float(world['failures'])}" in alarmed[0]["NewStateReason"]
    assert all(m["TopicArn"] == alarm["AlarmActions"][0] for m in subscriber.alarm_messages)

    # Recovery: no more failures; with TreatMissingData notBreaching the alarm returns to OK.
    cloud.advance_until(lambda: cloud.alarm(name)["StateValue"] == "OK", patience)
    cloud.advance(0)
    recovered = subscriber.alarm_notifications(name, "OK")
    assert sum(m["OldStateValue"] == "ALARM" for m in recovered) == 1, recovered
