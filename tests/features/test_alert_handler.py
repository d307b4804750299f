"""An alarm reaches Slack and PagerDuty once each, then resolves: an application's alarm fires
on the local clock, CloudWatch puts the state change on the default event bus, the launched
alert handler's rule invokes it, and it posts to real webhook receivers on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pytest_bdd import given, scenarios, then, when

from tests.support.http_receiver import HttpReceiver

from .conftest import Cloud

scenarios("alert_handler.feature")

ALARM = "critical-checkout-5xx"
NAMESPACE = "Checkout"


def _secret(cloud: Cloud, name: str, value: dict[str, str]) -> str:
    answer = cloud.client("secretsmanager").create_secret(Name=name, SecretString=json.dumps(value))
    return str(answer["ARN"])


@given(
    "the alert handler launched through Service Catalog with Slack and PagerDuty webhooks",
    target_fixture="channels",
)
def alert_handler(cloud: Cloud, receiver: Callable[[], HttpReceiver]) -> dict[str, HttpReceiver]:
    slack, pagerduty = receiver(), receiver()
    pagerduty.default.status = 202
    cloud.launch(
        "alert-handler",
        AlarmNamePrefix="critical-checkout",
        SlackSecretArn=_secret(cloud, "oncall/slack", {"webhook_url": f"{slack.url}/hooks/T1"}),
        PagerDutySecretArn=_secret(
            cloud,
            "oncall/pagerduty",
            {"routing_key": "R0UT1NGKEY", "events_url": f"{pagerduty.url}/v2/enqueue"},
        ),
    )
    return {"slack": slack, "pagerduty": pagerduty}


@given("a critical alarm on an application metric")
def application_alarm(cloud: Cloud) -> None:
    cloud.client("cloudwatch").put_metric_alarm(
        AlarmName=ALARM,
        Namespace=NAMESPACE,
        MetricName="5xx",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=10,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )


def _put_errors(cloud: Cloud, count: float) -> None:
    cloud.client("cloudwatch").put_metric_data(
        Namespace=NAMESPACE, MetricData=[{"MetricName": "5xx", "Value": count}]
    )


def _keep_reporting(
    cloud: Cloud, value: float, until: Callable[[], bool], minutes: int = 5
) -> None:
    """The application reports VALUE every minute until UNTIL holds, then MINUTES more, in
    which a duplicate delivery (Lambda's retries) would show."""
    waited = 0
    while not until():
        assert waited < minutes * 60, f"not done after {waited} s of local time"
        _put_errors(cloud, value)
        cloud.advance(60)
        waited += 60
    for _ in range(minutes):
        _put_errors(cloud, value)
        cloud.advance(60)


def _posts_at_least(channels: dict[str, HttpReceiver], posts: int) -> Callable[[], bool]:
    return lambda: min(len(c.requests) for c in channels.values()) >= posts


@when("the application metric breaches the alarm's threshold")
def breach(cloud: Cloud, channels: dict[str, HttpReceiver]) -> None:
    _keep_reporting(cloud, 42, _posts_at_least(channels, 1))
    assert cloud.alarm(ALARM)["StateValue"] == "ALARM"


@when("the application metric is back to normal")
def back_to_normal(cloud: Cloud, channels: dict[str, HttpReceiver]) -> None:
    _keep_reporting(cloud, 0, _posts_at_least(channels, 2))
    assert cloud.alarm(ALARM)["StateValue"] == "OK"


@then("Slack and PagerDuty each receive the alarm once")
def received_once(channels: dict[str, HttpReceiver]) -> None:
    slack, pagerduty = channels["slack"].requests, channels["pagerduty"].requests
    assert [r.path for r in slack] == ["/hooks/T1"], [r.json()["text"] for r in slack]
    assert ALARM in json.dumps(slack[0].json())
    assert [r.path for r in pagerduty] == ["/v2/enqueue"]
    event: dict[str, Any] = pagerduty[0].json()
    assert (event["event_action"], event["routing_key"]) == ("trigger", "R0UT1NGKEY")


@then("Slack says the alarm is resolved and PagerDuty gets a resolve event")
def resolved(channels: dict[str, HttpReceiver]) -> None:
    slack, pagerduty = channels["slack"].requests, channels["pagerduty"].requests
    assert len(slack) == 2 and len(pagerduty) == 2
    assert "OK" in json.dumps(slack[1].json())
    assert pagerduty[1].json()["event_action"] == "resolve"
    assert pagerduty[1].json()["dedup_key"] == pagerduty[0].json()["dedup_key"]
