"""`build.py drill`: the SetAlarmState drill on any endpoint, and on a local cloud the real one
(Invoke failures -> alarm -> topic -> observer), through build.py's click group."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from build import cli
from catalog.cli_context import DEFAULT_CONFIG
from catalog.config import load_config
from localcloud import LocalCloud
from portfolio.aws import AwsClients, Target
from portfolio.drill_target import (
    DrillError,
    find_launched_tool,
    notification_routes,
    set_state_drill,
)
from portfolio.workflow import BuiltCatalog, prepare, run_bootstrap, run_launch, run_publish
from tests.support.http_receiver import HttpReceiver

REGION = "us-east-1"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltCatalog:
    return prepare(DEFAULT_CONFIG, tmp_path_factory.mktemp("drill") / "dist")


@pytest.fixture
def clients(local_endpoint: str, built: BuiltCatalog) -> AwsClients:
    """The real catalog published into a fresh local cloud."""
    clients = AwsClients(Target(endpoint_url=local_endpoint, region=REGION))
    run_bootstrap(clients, built, echo=lambda message: None)
    run_publish(clients, built, progress=lambda change: None)
    return clients


def _launch(clients: AwsClients, built: BuiltCatalog, tool: str, **parameters: str) -> None:
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
    clients: AwsClients, built: BuiltCatalog, local_endpoint: str
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
    clients: AwsClients, built: BuiltCatalog, local_endpoint: str
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


def _errors_threshold(tool: str, environment: str) -> int:
    config = load_config(DEFAULT_CONFIG)
    return int(config.settings_for(tool, environment)["alarms"]["errors_threshold"])


def test_local_drill_fails_the_function_and_prints_the_alarm_and_ok_it_observed(
    tmp_path: Path,
) -> None:
    result = CliRunner().invoke(
        cli,
        ["--dist", str(tmp_path / "dist"), "drill", "health-checker", "--env", "dev", "--local"],
    )
    assert result.exit_code == 0, result.output
    threshold = _errors_threshold("health-checker", "dev")
    out = result.output
    assert f"invoked oncall-health-checker-dev {threshold} time(s) with a bad event" in out
    alarm = out.split("== ALARM notification from the real failures")[1]
    assert f"Threshold Crossed: 1 out of the last 1 datapoints [{float(threshold)} (" in alarm
    assert "== OK notification from the real failures" in out
    assert [summary for _, summary in _printed_history(out)] == [
        f"Alarm updated from {old} to {new}"
        for old, new in (
            ("INSUFFICIENT_DATA", "ALARM"),
            ("ALARM", "OK"),
            ("OK", "ALARM"),
            ("ALARM", "OK"),
        )
    ]


@pytest.fixture
def served_local(tmp_path: Path) -> Iterator[str]:
    """`build.py local --port 0` in its own process, stopped afterwards; its endpoint."""
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "local", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=tmp_path,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("localcloud listening on http://127.0.0.1:"), first
        yield first.rsplit(" ", 1)[1].strip()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise


def _aws_cli(endpoint: str, *args: str) -> Any:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    done = subprocess.run(
        [sys.executable, "-m", "awscli", "--endpoint-url", endpoint, "--output", "json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _printed_history(output: str) -> list[tuple[datetime.datetime, str]]:
    lines = output.split("== alarm history of ")[1].splitlines()[1:]
    entries = [line.strip().split("  ", 1) for line in lines if line.startswith("  ")]
    return [(datetime.datetime.fromisoformat(when), summary) for when, summary in entries]


def _cli_time(value: Any) -> datetime.datetime:
    # The CLI prints the wire's form: epoch seconds (JSON protocol) or ISO 8601 (query protocol).
    if isinstance(value, int | float):
        return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
    return datetime.datetime.fromisoformat(value)


@pytest.mark.slow
def test_drill_against_build_py_local_shows_the_history_the_aws_cli_shows(
    tmp_path: Path, served_local: str
) -> None:
    endpoint = served_local
    dist = ["--dist", str(tmp_path / "dist")]
    target = ["--endpoint-url", endpoint]
    for command in (
        ["bootstrap"],
        ["publish", "-y"],
        ["launch", "health-checker", "--env", "dev"],
    ):
        step = CliRunner().invoke(cli, [*dist, *command, *target])
        assert step.exit_code == 0, step.output
    drilled = CliRunner().invoke(cli, [*dist, "drill", "health-checker", "--env", "dev", *target])
    assert drilled.exit_code == 0, drilled.output
    assert "== OK notification from the real failures" in drilled.output
    shown = _aws_cli(
        endpoint,
        "cloudwatch",
        "describe-alarm-history",
        "--alarm-name",
        "oncall-health-checker-dev-errors",
        "--history-item-type",
        "StateUpdate",
    )["AlarmHistoryItems"]
    from_cli = sorted((_cli_time(item["Timestamp"]), item["HistorySummary"]) for item in shown)
    printed = _printed_history(drilled.output)
    assert len(printed) == 4
    assert sorted(printed) == from_cli


def test_an_endpoint_that_is_not_a_local_cloud_gets_no_clock_and_is_never_contacted() -> None:
    from portfolio.drill import _served_clock

    assert _served_clock(None) is None
    # Not loopback: refused before any connection (the tests may reach only 127.0.0.1).
    assert _served_clock("https://monitoring.us-east-1.amazonaws.com") is None
    other = HttpReceiver()  # an endpoint on this machine that is not localcloud
    try:
        assert _served_clock(other.url) is None
    finally:
        other.close()
    assert [request.path for request in other.requests] == ["/_localcloud/clock"]


@pytest.mark.parametrize(
    ("comparison", "threshold", "failures"),
    [
        ("GreaterThanOrEqualToThreshold", 5.0, 5),
        ("GreaterThanOrEqualToThreshold", 1.5, 2),
        ("GreaterThanThreshold", 1.0, 2),
        ("GreaterThanThreshold", 0.5, 1),
    ],
)
def test_the_breach_is_read_from_the_alarm(
    comparison: str, threshold: float, failures: int
) -> None:
    from portfolio.drill_live import Breach

    alarm = {
        "AlarmName": "a",
        "Statistic": "Sum",
        "Threshold": threshold,
        "ComparisonOperator": comparison,
        "Period": 60,
        "EvaluationPeriods": 3,
    }
    assert Breach.of(alarm) == Breach(failures, 3, 60)
    assert Breach.of({**alarm, "DatapointsToAlarm": 2}).periods == 2


def test_an_alarm_errors_cannot_cross_is_one_clear_error() -> None:
    from portfolio.drill_live import Breach

    alarm = {"AlarmName": "odd", "Statistic": "Sum", "Threshold": 1.0, "Period": 60}
    with pytest.raises(DrillError, match="alarm odd: comparison LessThanThreshold"):
        Breach.of({**alarm, "ComparisonOperator": "LessThanThreshold", "EvaluationPeriods": 1})
    with pytest.raises(DrillError, match="alarm odd: statistic Average is not Sum"):
        Breach.of({**alarm, "Statistic": "Average", "ComparisonOperator": "GreaterThanThreshold"})


def test_prod_errors_alarm_needs_failures_in_several_periods_and_the_drill_provides_them(
    clients: AwsClients, built: BuiltCatalog, local_endpoint: str, localcloud: LocalCloud
) -> None:
    from portfolio.drill_live import LiveDrill

    # The shipped prod topic lives in prod's own account; this launch runs in the caller's, so
    # its on-call topic is one of the caller's (as it is when prod is deployed there).
    topic_name = built.config.launch_parameters("auto-healer", "prod")["AlertTopicArn"]
    topic = _client(local_endpoint, "sns").create_topic(Name=topic_name.rsplit(":", 1)[1])
    overrides = {"AlertTopicArn": topic["TopicArn"]}
    run_launch(clients, built, "auto-healer", "prod", overrides=overrides, echo=lambda line: None)
    tool = find_launched_tool(clients, REGION, "auto-healer", "prod")
    prod = built.config.settings_for("auto-healer", "prod")["alarms"]
    assert tool.errors_alarm["EvaluationPeriods"] == prod["evaluation_periods"] > 1
    lines: list[str] = []
    drill = LiveDrill(clients, tool, localcloud.advance, lines.append)
    drill.subscribe()
    drill.run()
    invoked = [line for line in lines if line.startswith("  invoked ")]
    assert len(invoked) == prod["evaluation_periods"]
    assert f"{prod['errors_threshold']} time(s)" in invoked[0]
    assert "== OK notification from the real failures, received by the observer" in lines
