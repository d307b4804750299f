"""`build.py local`: the clock follows real time (sped up with --speed) and the banner names the
control endpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import boto3
import pytest
from click.testing import CliRunner

from build import cli
from localcloud.commands import local
from localcloud.control import ControlClient

ROOT = Path(__file__).parents[3]
T = TypeVar("T")


def test_help_documents_speed_and_auto_confirm() -> None:
    result = CliRunner().invoke(local, ["--help"])
    assert result.exit_code == 0
    assert "--speed" in result.output and "--sns-auto-confirm" in result.output


@pytest.mark.parametrize("speed", ["0", "-2", "fast", "4000"])
def test_a_bad_speed_is_refused_naming_the_option(speed: str) -> None:
    result = CliRunner().invoke(local, ["--port", "0", "--speed", speed])
    assert result.exit_code == 2
    assert "Invalid value for '--speed'" in result.output


def _poll(probe: Callable[[], T], done: Callable[[T], bool], limit: float = 60.0) -> T:
    """Poll a running server as a client would (the bound only stops a broken server hanging)."""
    deadline = time.monotonic() + limit
    value = probe()
    while not done(value):
        assert time.monotonic() < deadline, f"still not done: {value}"
        time.sleep(0.05)
        value = probe()
    return value


def test_the_clock_runs_sped_up_and_fires_schedules() -> None:
    code = "from localcloud.commands import local; local(['--port', '0', '--speed', '3600'])"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        banner = _read_banner(process)
        endpoint = banner[0].rsplit(" ", 1)[1].strip()
        assert any(f"control endpoint {endpoint}/_localcloud/" in line for line in banner)
        assert any("3600x real time" in line for line in banner)
        control = ControlClient(endpoint)
        start = control.now()
        _poll(control.now, lambda now: now >= start + 600)  # 10 clock minutes pass on their own

        sqs = _client("sqs", endpoint)
        url = _queue_ticked_every_minute(sqs, endpoint)
        _poll(
            lambda: sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
            ),
            lambda answer: int(answer["Attributes"]["ApproximateNumberOfMessages"]) >= 2,
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            out, _ = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode == 0
    assert "localcloud stopped" in out


def test_a_manual_clock_moves_only_when_asked_and_the_inbox_shows_what_sns_mailed() -> None:
    code = "from localcloud.commands import local; local(['--port', '0', '--manual-clock'])"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    try:
        banner = _read_banner(process)
        endpoint = banner[0].rsplit(" ", 1)[1].strip()
        assert any("Clock: manual" in line for line in banner)
        control = ControlClient(endpoint)
        start = control.now()
        sns = _client("sns", endpoint)
        topic = sns.create_topic(Name="alerts")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="me@example.com")
        runner = CliRunner()
        inbox = ["local-inbox", "--endpoint-url", endpoint]
        confirmed = runner.invoke(cli, [*inbox, "--confirm", "--clear"])
        assert "AWS Notification - Subscription Confirmation" in confirmed.output
        assert "confirmed 1 subscription(s)" in confirmed.output
        sns.publish(TopicArn=topic, Subject="disk full", Message="host-1 at 99%")
        mails = runner.invoke(cli, [*inbox, "--to", "me@example.com", "--full", "--clear"])
        assert mails.exit_code == 0, mails.output
        assert "to me@example.com: disk full" in mails.output
        assert "    host-1 at 99%" in mails.output
        assert control.outbox() == []

        sqs = _client("sqs", endpoint)
        url = _queue_ticked_every_minute(sqs, endpoint)
        assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
        assert control.now() == start  # nothing moved it
        moved = runner.invoke(cli, ["local-clock", "--endpoint-url", endpoint, "--advance", "60"])
        assert moved.exit_code == 0, moved.output
        assert "advanced 60 s" in moved.output
        assert len(sqs.receive_message(QueueUrl=url)["Messages"]) == 1
        assert control.now() == start + 60
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)


def test_manual_clock_and_speed_exclude_each_other() -> None:
    result = CliRunner().invoke(local, ["--port", "0", "--manual-clock", "--speed", "10"])
    assert result.exit_code == 2
    assert "--manual-clock and --speed exclude each other" in result.output


def _queue_ticked_every_minute(sqs: Any, endpoint: str) -> str:
    """A queue that a rate(1 minute) rule sends its scheduled events to; its URL."""
    url = str(sqs.create_queue(QueueName="ticks")["QueueUrl"])
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = _client("events", endpoint)
    events.put_rule(Name="tick", ScheduleExpression="rate(1 minute)")
    events.put_targets(Rule="tick", Targets=[{"Id": "q", "Arn": arn}])
    return url


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="a",
        aws_secret_access_key="b",
    )


def _read_banner(process: subprocess.Popen[str]) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    while not lines or lines[-1] != "Press Ctrl-C to stop.\n":
        line = process.stdout.readline()
        assert line, f"server ended before its banner was complete: {lines}"
        lines.append(line)
    return lines
