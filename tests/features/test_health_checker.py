"""A target that fails alerts once, then recovers: the launched health checker's schedule fires
as the local clock moves, it probes a real HTTP server on 127.0.0.1, and tells the on-call topic
when the target goes down (after the failure threshold) and when it comes back."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pytest_bdd import given, parsers, scenarios, then, when

from tests.support.http_receiver import HttpReceiver

from .conftest import Cloud, Subscriber, subscribe

scenarios("health_checker.feature")

SCHEDULE_SECONDS = 60


@given(
    "the health checker launched through Service Catalog checking a local HTTP target every "
    "minute, alerting after 2 failures",
    target_fixture="checked",
)
def health_checker(cloud: Cloud, receiver: Callable[[], HttpReceiver]) -> dict[str, Any]:
    target = receiver()
    targets = [{"name": "checkout", "type": "http", "url": f"{target.url}/health"}]
    outputs = cloud.launch(
        "health-checker",
        TargetsJson=json.dumps(targets),
        AllowPrivateNetworks="true",
        FailureThreshold="2",
        ScheduleRate="rate(1 minute)",
    ).outputs
    return {"target": target, "subscriber": subscribe(cloud, outputs["AlertTopicArn"], "oncall")}


def _scheduled_runs(cloud: Cloud, target: HttpReceiver, runs: int) -> None:
    """Let the schedule fire until the target has been probed RUNS more times."""
    wanted = len(target.requests) + runs
    cloud.advance_until(lambda: len(target.requests) >= wanted, SCHEDULE_SECONDS * (runs + 2))
    assert len(target.requests) == wanted


@when(parsers.parse("the target answers with errors for {runs:d} scheduled runs"))
def target_fails(cloud: Cloud, checked: dict[str, Any], runs: int) -> None:
    checked["target"].default.status = 500
    _scheduled_runs(cloud, checked["target"], runs)


@when("the target answers normally at the next scheduled run")
def target_recovers(cloud: Cloud, checked: dict[str, Any]) -> None:
    checked["target"].default.status = 200
    _scheduled_runs(cloud, checked["target"], 1)


def _one_message(cloud: Cloud, subscriber: Subscriber) -> str:
    cloud.advance(0)
    messages = subscriber.poll()
    assert len(messages) == 1, messages
    return f"{messages[0].get('Subject')}\n{messages[0]['Message']}"


@then("the on-call topic receives one alert that the target is down")
def alert_down(cloud: Cloud, checked: dict[str, Any]) -> None:
    text = _one_message(cloud, checked["subscriber"])
    assert "1 down, 0 recovered" in text and "checkout" in text


@then("the on-call topic receives one message that the target recovered")
def alert_recovered(cloud: Cloud, checked: dict[str, Any]) -> None:
    text = _one_message(cloud, checked["subscriber"])
    assert "0 down, 1 recovered" in text and "checkout" in text
