"""Scenarios across every part: build -> publish -> launch through Service Catalog -> run the
launched function's packaged code against the launched resources."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.aws import subscribe_inbox
from tests.support.http_receiver import HttpReceiver

from .conftest import LaunchedTool

EVENTS = Path(__file__).resolve().parents[1] / "events"


@pytest.fixture
def slack() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    yield receiver
    receiver.close()


def _alarm_event(alarm_arn: str, state: str, previous: str, timestamp: str) -> dict[str, Any]:
    event = json.loads((EVENTS / "alarm_eventbridge_state_change.json").read_text())
    event = copy.deepcopy(event)
    name = alarm_arn.rsplit(":", 1)[1]
    event.update(region="us-east-1", resources=[alarm_arn])
    event["detail"].update(alarmName=name)
    event["detail"]["state"].update(value=state, timestamp=timestamp)
    event["detail"]["previousState"]["value"] = previous
    return event


def _subscribe_queue(aws: Callable[[str], Any], topic_arn: str) -> str:
    return subscribe_inbox(aws("sns"), aws("sqs"), topic_arn, "oncall-inbox")


def _drain(aws: Callable[[str], Any], queue_url: str) -> list[dict[str, Any]]:
    response = aws("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in response.get("Messages", [])]


def _create_alarm(aws: Callable[[str], Any], name: str) -> str:
    cloudwatch = aws("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/ApiGateway",
        MetricName="Latency",
        Statistic="p99",
        Period=60,
        EvaluationPeriods=1,
        Threshold=2000,
        ComparisonOperator="GreaterThanThreshold",
    )
    return str(cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"])


def _alert_handler_with_slack(
    launch_tool: Callable[..., LaunchedTool], aws: Callable[[str], Any], slack: HttpReceiver
) -> tuple[LaunchedTool, str]:
    """The alert handler launched with its Slack webhook in a real (local) secret."""
    secret_arn = aws("secretsmanager").create_secret(
        Name="oncall/slack", SecretString=json.dumps({"webhook_url": f"{slack.url}/hooks/T1"})
    )["ARN"]
    return launch_tool("alert-handler", SlackSecretArn=secret_arn), str(secret_arn)


def test_alarm_reaches_slack_and_email_once_then_resolves(
    launch_tool: Callable[..., LaunchedTool], aws: Callable[[str], Any], slack: HttpReceiver
) -> None:
    tool, secret_arn = _alert_handler_with_slack(launch_tool, aws, slack)
    assert tool.environment["SLACK_SECRET_ARN"] == secret_arn
    assert secret_arn not in json.dumps(tool.outputs)
    inbox = _subscribe_queue(aws, tool.outputs["AlertTopicArn"])
    alarm_arn = _create_alarm(aws, "checkout-latency")

    firing = _alarm_event(alarm_arn, "ALARM", "OK", "2026-11-28T09:15:31.476+0000")
    first = tool.invoke(firing)
    assert first.returncode == 0, first.stderr[-2000:]
    assert [request.path for request in slack.requests] == ["/hooks/T1"]
    assert "checkout-latency" in json.dumps(slack.requests[0].json())
    assert len(_drain(aws, inbox)) == 1

    retry = tool.invoke(firing)  # Lambda's asynchronous retry delivers the same event again
    assert retry.returncode == 0, retry.stderr[-2000:]
    assert len(slack.requests) == 1
    assert _drain(aws, inbox) == []

    resolved = _alarm_event(alarm_arn, "OK", "ALARM", "2026-11-28T09:45:02.100+0000")
    assert tool.invoke(resolved).returncode == 0
    assert len(slack.requests) == 2
    assert "OK" in json.dumps(slack.requests[1].json())


def test_slack_outage_fails_the_invocation_and_the_retry_delivers(
    launch_tool: Callable[..., LaunchedTool], aws: Callable[[str], Any], slack: HttpReceiver
) -> None:
    tool, _ = _alert_handler_with_slack(launch_tool, aws, slack)
    inbox = _subscribe_queue(aws, tool.outputs["AlertTopicArn"])
    alarm_arn = _create_alarm(aws, "orders-queue-depth")
    event = _alarm_event(alarm_arn, "ALARM", "OK", "2026-11-28T10:00:00.000+0000")
    slack.default.status = 503

    failed = tool.invoke(event)
    assert failed.returncode != 0
    assert "DeliveryError" in failed.stderr
    assert len(_drain(aws, inbox)) == 1  # e-mail went out and is not sent again below

    slack.default.status = 200
    retried = tool.invoke(event)
    assert retried.returncode == 0, retried.stderr[-2000:]
    assert slack.requests[-1].path == "/hooks/T1"
    assert _drain(aws, inbox) == []


def _logs_event(log_group: str, messages: list[str]) -> dict[str, Any]:
    import base64
    import gzip

    payload = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": log_group,
        "logStream": "2026/11/28/[$LATEST]0f1e2d3c",
        "subscriptionFilters": ["oncall-log-processor"],
        "logEvents": [
            {
                "id": str(36000000000000000000000000 + index),
                "timestamp": 1764320000000 + index,
                "message": message,
            }
            for index, message in enumerate(messages)
        ],
    }
    data = base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()
    return {"awslogs": {"data": data}}


def test_log_errors_in_the_watched_group_alert_the_on_call_topic(
    launch_tool: Callable[..., LaunchedTool], aws: Callable[[str], Any]
) -> None:
    aws("logs").create_log_group(logGroupName="/aws/app/checkout")
    tool = launch_tool("log-processor", LogGroupName="/aws/app/checkout")
    filters = aws("logs").describe_subscription_filters(logGroupName="/aws/app/checkout")
    assert [f["destinationArn"] for f in filters["subscriptionFilters"]] == [
        tool.outputs["FunctionArn"]
    ]
    inbox = _subscribe_queue(aws, tool.outputs["AlertTopicArn"])
    lines = ["GET /health 200"] * 50 + [
        "ERROR payment declined for order 1234",
        "Traceback (most recent call last):",
        "ERROR payment declined for order 1235",
    ] * 3

    result = tool.invoke(_logs_event("/aws/app/checkout", lines))
    assert result.returncode == 0, result.stderr[-2000:]
    alerts = _drain(aws, inbox)
    assert len(alerts) == 1
    assert "/aws/app/checkout" in alerts[0]["Message"]

    own = tool.invoke(_logs_event(tool.outputs["LogGroupName"], ["ERROR " * 5] * 20))
    assert own.returncode == 0, own.stderr[-2000:]
    assert _drain(aws, inbox) == []


def test_health_checker_alerts_when_a_target_goes_down_and_when_it_recovers(
    launch_tool: Callable[..., LaunchedTool], aws: Callable[[str], Any], slack: HttpReceiver
) -> None:
    target = slack  # any real HTTP server on 127.0.0.1 will do as the checked endpoint
    targets = [{"name": "checkout", "type": "http", "url": f"{target.url}/health"}]
    tool = launch_tool(
        "health-checker",
        TargetsJson=json.dumps(targets),
        AllowPrivateNetworks="true",
        FailureThreshold="2",
    )
    inbox = _subscribe_queue(aws, tool.outputs["AlertTopicArn"])
    scheduled = json.loads((EVENTS / "health_scheduled_event.json").read_text())

    assert tool.invoke(scheduled).returncode == 0
    assert _drain(aws, inbox) == []  # healthy from the start: nothing to say
    target.default.status = 500
    assert tool.invoke(scheduled).returncode == 0
    assert _drain(aws, inbox) == []  # one failure is below the threshold (flap suppression)
    assert tool.invoke(scheduled).returncode == 0
    down = _drain(aws, inbox)
    assert len(down) == 1 and "checkout" in down[0]["Message"]
    target.default.status = 200
    assert tool.invoke(scheduled).returncode == 0
    recovered = _drain(aws, inbox)
    assert len(recovered) == 1 and "checkout" in recovered[0]["Message"]
    assert len(target.requests) == 4


def _instance_alarm_event(instance_id: str) -> dict[str, Any]:
    text = (EVENTS / "healer_eventbridge_ec2_instance_check.json").read_text()
    event = json.loads(text.replace("i-0123456789abcdef0", instance_id))
    event["region"] = "us-east-1"
    event["resources"] = [arn.replace("eu-west-1", "us-east-1") for arn in event["resources"]]
    return dict(event)


def _run_instance(aws: Callable[[str], Any], opted_in: bool) -> str:
    tags = [{"Key": "oncall:auto-heal", "Value": "true"}] if opted_in else []
    tags.append({"Key": "Name", "Value": "web-1"})
    reservation = aws("ec2").run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
    )
    return str(reservation["Instances"][0]["InstanceId"])


def test_auto_healer_reboots_only_opted_in_instances_and_reports_every_decision(
    launch_tool: Callable[..., LaunchedTool], aws: Callable[[str], Any]
) -> None:
    tool = launch_tool("auto-healer", DryRun="false")
    assert tool.environment["DRY_RUN"] == "false"
    inbox = _subscribe_queue(aws, tool.outputs["AlertTopicArn"])
    opted_in = _run_instance(aws, opted_in=True)
    left_alone = _run_instance(aws, opted_in=False)

    acted = tool.invoke(_instance_alarm_event(opted_in))
    assert acted.returncode == 0, acted.stderr[-2000:]
    skipped = tool.invoke(_instance_alarm_event(left_alone))
    assert skipped.returncode == 0, skipped.stderr[-2000:]
    again = tool.invoke(_instance_alarm_event(opted_in))  # inside the cooldown
    assert again.returncode == 0, again.stderr[-2000:]

    reports = [message["Message"] for message in _drain(aws, inbox)]
    assert len(reports) == 3, reports
    assert any(opted_in in report and "reboot" in report.lower() for report in reports)
    assert any(left_alone in report and "opt" in report.lower() for report in reports)
    assert any(opted_in in report and "cooldown" in report.lower() for report in reports)


def test_prod_launch_must_name_the_on_call_topic(
    launch_tool: Callable[..., LaunchedTool], aws: Callable[[str], Any]
) -> None:
    # Service Catalog evaluates the portfolio's TEMPLATE constraint before any stack exists.
    with pytest.raises(ClientError, match="AlertTopicArn must name the existing on-call"):
        launch_tool("health-checker", "prod", AlertTopicArn="")
    tool = launch_tool("health-checker", "prod")
    assert tool.outputs["AlertTopicArn"].endswith(":platform-oncall-prod")
    assert tool.environment["ENVIRONMENT"] == "prod"
