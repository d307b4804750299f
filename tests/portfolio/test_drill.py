"""`build.py drill`: the SetAlarmState drill on any endpoint, and on a local cloud the real one
(Invoke failures -> alarm -> topic -> observer), through build.py's click group."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from build import cli
from portfolio.aws import AwsClients, Target
from portfolio.drill import (
    DrillError,
    find_launched_tool,
    notification_routes,
    set_state_drill,
)
from portfolio.workflow import Prepared, prepare, run_bootstrap, run_launch, run_publish
from products.cli_context import DEFAULT_CONFIG

REGION = "us-east-1"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    return prepare(DEFAULT_CONFIG, tmp_path_factory.mktemp("drill") / "dist")


@pytest.fixture
def clients(local_endpoint: str, built: Prepared) -> AwsClients:
    """The real catalog published into a fresh local cloud."""
    clients = AwsClients(Target(endpoint_url=local_endpoint, region=REGION))
    run_bootstrap(clients, built, echo=lambda message: None)
    run_publish(clients, built, progress=lambda change: None)
    return clients


def _launch(clients: AwsClients, built: Prepared, tool: str, **parameters: str) -> None:
    run_launch(clients, built, tool, "dev", overrides=parameters, echo=lambda line: None)


def _client(endpoint: str, service: str) -> Any:
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_drill_help_explains_both_drills() -> None:
    result = CliRunner().invoke(cli, ["drill", "--help"])
    assert result.exit_code == 0, result.output
    for words in ("SetAlarmState", "--local", "--endpoint-url", "--env", "TOOL-ENV"):
        assert words in result.output


def test_finds_the_launched_tool_its_errors_alarm_and_where_it_notifies(
    clients: AwsClients, built: Prepared, local_endpoint: str
) -> None:
    _launch(clients, built, "alert-handler", AlertEmail="oncall@example.com")
    tool = find_launched_tool(clients, REGION, "alert-handler", "dev")
    assert tool.function_name == "oncall-alert-handler-dev"
    assert tool.alarm_name == "oncall-alert-handler-dev-errors"
    dev = built.config.settings_for("alert-handler", "dev")["alarms"]
    assert tool.errors_alarm["Threshold"] == dev["errors_threshold"]
    routes = notification_routes(clients, REGION, tool.errors_alarm)
    assert [route.action_arn for route in routes] == [tool.outputs["AlertTopicArn"]]
    assert [(s["Protocol"], s["Endpoint"]) for s in routes[0].subscriptions] == [
        ("email", "oncall@example.com")
    ]


def test_set_alarm_state_runs_the_alarm_actions_for_alarm_and_ok(
    clients: AwsClients, built: Prepared, local_endpoint: str
) -> None:
    _launch(clients, built, "auto-healer")
    tool = find_launched_tool(clients, REGION, "auto-healer", "dev")
    sqs, sns = _client(local_endpoint, "sqs"), _client(local_endpoint, "sns")
    queue_url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    sns.subscribe(
        TopicArn=tool.outputs["AlertTopicArn"],
        Protocol="sqs",
        Endpoint=queue_arn["Attributes"]["QueueArn"],
    )
    lines: list[str] = []
    cloudwatch = clients.client("cloudwatch", REGION)
    set_state_drill(cloudwatch, tool, lines.append)
    bodies = [
        json.loads(json.loads(m["Body"])["Message"])
        for m in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    ]
    assert [(b["AlarmName"], b["NewStateValue"]) for b in bodies] == [
        (tool.alarm_name, "ALARM"),
        (tool.alarm_name, "OK"),
    ]
    assert lines[-1] == "  set to OK: its OK actions ran"


def test_a_tool_that_is_not_launched_is_one_clear_error(
    clients: AwsClients, local_endpoint: str, tmp_path: Path
) -> None:
    with pytest.raises(DrillError, match="no provisioned product 'health-checker-staging'"):
        find_launched_tool(clients, REGION, "health-checker", "staging")
    result = CliRunner().invoke(
        cli,
        ["drill", "health-checker", "--env", "staging", "--endpoint-url", local_endpoint],
    )
    assert result.exit_code == 1
    assert (
        result.output.strip()
        .splitlines()[-1]
        .startswith(
            "error: us-east-1: no provisioned product 'health-checker-staging'; launch it first"
        )
    )
