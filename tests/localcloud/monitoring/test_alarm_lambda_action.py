"""An alarm action naming a Lambda function invokes it with the direct alarm-action payload,
through the runtime's asynchronous path and the function's resource policy."""

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from localcloud.server import LocalCloud
from tests.localcloud.lambda_runtime.functions import ROLE, log_messages, zipped
from tests.localcloud.monitoring.alarm_support import alarm, put_alarm, put_values

SHARED = Path(__file__).resolve().parents[3] / "handlers" / "shared"
if str(SHARED) not in sys.path:
    sys.path.insert(0, str(SHARED))

from oncall_shared.events import parse_alarm_event  # noqa: E402

RECORDER = 'import json\n\ndef handler(event, context):\n    print("EVENT " + json.dumps(event))\n'
PRINCIPAL = "lambda.alarms.cloudwatch.amazonaws.com"


def create_role(aws: Callable[[str], Any]) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    aws("iam").create_role(
        RoleName=ROLE.rsplit("/", 1)[-1], AssumeRolePolicyDocument=json.dumps(trust)
    )


def recorder_function(aws: Callable[[str], Any]) -> str:
    """A function that prints every event it gets (its log group is the test's inbox)."""
    create_role(aws)
    answer = aws("lambda").create_function(
        FunctionName="alarm-recorder",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zipped({"app.py": RECORDER})},
    )
    return str(answer["FunctionArn"])


def recorded_events(aws: Callable[[str], Any]) -> list[dict[str, Any]]:
    lines = [line for line in log_messages(aws, "alarm-recorder") if line.startswith("EVENT ")]
    return [json.loads(line.removeprefix("EVENT ")) for line in lines]


def test_a_lambda_action_receives_the_alarm_action_payload(
    client_factory: Callable[..., Any], localcloud: LocalCloud
) -> None:
    function_arn = recorder_function(client_factory)
    cw = client_factory("cloudwatch")
    put_alarm(cw, AlarmActions=[function_arn], AlarmDescription="Errors on the checker")
    alarm_arn = alarm(cw)["AlarmArn"]
    client_factory("lambda").add_permission(
        FunctionName="alarm-recorder",
        StatementId="alarms",
        Action="lambda:InvokeFunction",
        Principal=PRINCIPAL,
        SourceArn=alarm_arn,
    )
    put_values(cw, localcloud, 9)
    localcloud.advance(60)
    [event] = recorded_events(client_factory)
    assert (event["source"], event["alarmArn"], event["region"]) == (
        "aws.cloudwatch",
        alarm_arn,
        "us-east-1",
    )
    data = event["alarmData"]
    assert data["state"]["value"] == "ALARM"
    assert data["state"]["reasonData"] == alarm(cw)["StateReasonData"]
    assert data["previousState"]["value"] == "INSUFFICIENT_DATA"
    assert "reasonData" not in data["previousState"]  # a new alarm has none yet
    assert data["configuration"]["description"] == "Errors on the checker"
    [change] = parse_alarm_event(event)
    assert (change.source, change.name, change.metric_name) == ("alarm_action", "errors", "Errors")


def test_without_permission_the_function_is_not_invoked_and_the_action_fails(
    client_factory: Callable[..., Any], localcloud: LocalCloud
) -> None:
    function_arn = recorder_function(client_factory)
    cw = client_factory("cloudwatch")
    put_alarm(cw, AlarmActions=[function_arn])
    put_values(cw, localcloud, 9)
    localcloud.advance(60)
    assert recorded_events(client_factory) == []
    [action] = cw.describe_alarm_history(AlarmName="errors", HistoryItemType="Action")[
        "AlarmHistoryItems"
    ]
    assert action["HistorySummary"].startswith(f"Failed to execute action {function_arn}")


def test_a_failing_function_moves_its_errors_alarm(
    client_factory: Callable[..., Any], localcloud: LocalCloud
) -> None:
    create_role(client_factory)
    client_factory("lambda").create_function(
        FunctionName="failing",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={
            "ZipFile": zipped(
                {"app.py": "def handler(event, context):\n    raise ValueError('boom')\n"}
            )
        },
    )
    cw = client_factory("cloudwatch")
    cw.put_metric_alarm(
        AlarmName="failing-errors",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": "failing"}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=2,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )
    for _ in range(2):
        answer = client_factory("lambda").invoke(FunctionName="failing", Payload=b"{}")
        assert answer["FunctionError"] == "Unhandled"
    localcloud.advance(60)
    found = alarm(cw, "failing-errors")
    assert found["StateValue"] == "ALARM"
    assert json.loads(found["StateReasonData"])["recentDatapoints"] == [2.0]
