"""Scenarios across every part: build -> publish -> launch through Service Catalog -> run the
launched function's packaged code against the launched resources."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.handlers.conftest import HttpReceiver

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
    sqs = aws("sqs")
    queue_url = sqs.create_queue(QueueName="oncall-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    aws("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return queue_url


def _drain(aws: Callable[[str], Any], queue_url: str) -> list[dict[str, Any]]:
    response = aws("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in response.get("Messages", [])]


def _create_alarm(aws: Callable[[str], Any], name: str) -> str:
    cloudwatch = aws("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=name, Namespace="AWS/ApiGateway", MetricName="Latency", Statistic="p99",
        Period=60, EvaluationPeriods=1, Threshold=2000, ComparisonOperator="GreaterThanThreshold",
    )
    return str(cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"])


def test_alarm_reaches_slack_and_email_once_then_resolves(
    launch_tool: Callable[..., LaunchedTool], aws: Callable[[str], Any], slack: HttpReceiver
) -> None:
    secret_arn = aws("secretsmanager").create_secret(
        Name="oncall/slack", SecretString=json.dumps({"webhook_url": f"{slack.url}/hooks/T1"})
    )["ARN"]
    tool = launch_tool("alert-handler", SlackSecretArn=secret_arn)
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
    secret_arn = aws("secretsmanager").create_secret(
        Name="oncall/slack", SecretString=json.dumps({"webhook_url": f"{slack.url}/hooks/T1"})
    )["ARN"]
    tool = launch_tool("alert-handler", SlackSecretArn=secret_arn)
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
