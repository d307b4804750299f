"""Event decoding for the auto-healer: accepted shapes, ignored ones, malformed ones."""

from __future__ import annotations

from typing import Any

import pytest
from healer_triggers import SYSTEM_CHECK, Ec2Issue, EcsIssue, Home, parse_triggers
from oncall_shared.errors import BadEventError

IID = "i-0123456789abcdef0"
ACCOUNT = "123456789012"  # the account of every fixture
US_EAST_1 = Home(ACCOUNT, "us-east-1")


def test_eventbridge_instance_check_alarm_becomes_an_ec2_issue(event: Any) -> None:
    (trigger,) = parse_triggers(event("healer_eventbridge_ec2_instance_check"), US_EAST_1)
    assert trigger.issue == Ec2Issue(IID, "StatusCheckFailed_Instance")
    assert "web-1-instance-check" in trigger.description and "OK -> ALARM" in trigger.description


def test_sns_wrapped_system_check_alarm_becomes_an_ec2_issue(event: Any) -> None:
    (trigger,) = parse_triggers(event("healer_sns_ec2_system_check"), US_EAST_1)
    assert trigger.issue == Ec2Issue(IID, SYSTEM_CHECK)


def test_ecs_metric_alarm_becomes_an_ecs_issue(event: Any) -> None:
    (trigger,) = parse_triggers(event("healer_eventbridge_ecs_cpu_alarm"), US_EAST_1)
    assert trigger.issue == EcsIssue("prod-cluster", "orders")


@pytest.mark.parametrize(
    "name", ["ecs_service_action_task_start_impaired", "ecs_service_action_old_arn_format"]
)
def test_ecs_task_start_impaired_becomes_an_ecs_issue(event: Any, name: str) -> None:
    (trigger,) = parse_triggers(event(name), US_EAST_1)
    assert trigger.issue == EcsIssue("prod-cluster", "orders")
    assert trigger.description == "ECS SERVICE_TASK_START_IMPAIRED for service prod-cluster/orders"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("healer_eventbridge_ec2_instance_check_ok", "alarm state is OK, nothing to heal"),
        ("healer_eventbridge_ec2_other_region", "alarm is in eu-west-1, healer runs in us-east-1"),
        ("ecs_service_action_steady_state", "ECS event SERVICE_STEADY_STATE is not healed"),
        ("ecs_deployment_state_change_failed", "SERVICE_DEPLOYMENT_FAILED is not healed"),
        ("alarm_sns_metric_math", "no single metric"),
        ("alarm_eventbridge_composite", "no single metric"),
    ],
)
def test_events_that_call_for_nothing_carry_the_reason(event: Any, name: str, reason: str) -> None:
    # The SNS/EventBridge fixtures borrowed from the alert handler live in eu-west-1.
    region = "eu-west-1" if name.startswith("alarm_") else "us-east-1"
    (trigger,) = parse_triggers(event(name), Home(ACCOUNT, region))
    assert trigger.issue is None
    assert reason in (trigger.ignore_reason or "")


def test_an_alarm_from_another_account_is_not_healed_here(event: Any) -> None:
    # Alarm actions may invoke a function in another account; the instance it names is there.
    (trigger,) = parse_triggers(
        event("healer_eventbridge_ec2_instance_check"), Home("999999999999", "us-east-1")
    )
    assert trigger.issue is None
    assert trigger.ignore_reason == "alarm is in account 123456789012, healer runs in 999999999999"


def test_an_alarm_on_another_accounts_metric_is_not_healed_here(event: Any) -> None:
    # Cross-account observability: the alarm lives here, the service it watches does not.
    raw = event("healer_eventbridge_ecs_cpu_alarm")
    raw["detail"]["configuration"]["metrics"][0]["accountId"] = "999999999999"
    (trigger,) = parse_triggers(raw, US_EAST_1)
    assert trigger.issue is None
    assert trigger.ignore_reason == (
        "alarm's metric is in account 999999999999, healer runs in 123456789012"
    )


def test_an_alarm_naming_its_own_account_for_the_metric_is_healed(event: Any) -> None:
    raw = event("healer_eventbridge_ecs_cpu_alarm")
    raw["detail"]["configuration"]["metrics"][0]["accountId"] = ACCOUNT
    (trigger,) = parse_triggers(raw, US_EAST_1)
    assert trigger.issue == EcsIssue("prod-cluster", "orders")


@pytest.mark.parametrize(
    ("home", "reason"),
    [
        (Home(ACCOUNT, "eu-west-1"), "service is in us-east-1, healer runs in eu-west-1"),
        (
            Home("999999999999", "us-east-1"),
            "service is in account 123456789012, healer runs in 999999999999",
        ),
    ],
)
def test_an_ecs_event_about_a_service_elsewhere_is_not_healed_here(
    event: Any, home: Home, reason: str
) -> None:
    # An event forwarded from another bus names a service there, not the same-named one here.
    (trigger,) = parse_triggers(event("ecs_service_action_task_start_impaired"), home)
    assert trigger.issue is None
    assert trigger.ignore_reason == reason


def test_unrelated_metric_alarm_is_ignored_naming_the_metric(event: Any) -> None:
    (trigger,) = parse_triggers(event("alarm_eventbridge_state_change"), Home(ACCOUNT, "eu-west-1"))
    assert trigger.issue is None
    assert trigger.ignore_reason == "metric AWS/ApiGateway/5XXError is not one the healer acts on"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("healer_malformed_ecs_no_detail", "ECS Service Action event has no 'detail' object"),
        ("healer_malformed_ecs_bad_arn", "ARN 'orders' is not of the form"),
        ("alarm_sns_not_json", "Sns.Message is not JSON"),
    ],
)
def test_malformed_events_raise_bad_event_error(event: Any, name: str, message: str) -> None:
    with pytest.raises(BadEventError, match=message):
        parse_triggers(event(name), US_EAST_1)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (
            {"source": "aws.ecs", "detail-type": "ECS Task State Change"},
            "detail-type='ECS Task State Change'",
        ),
        ({"hello": "world"}, "is not an SNS alarm notification"),
        ([], "expected a JSON object"),
        ({"Records": []}, "Records is empty"),
    ],
)
def test_unsupported_shapes_raise_bad_event_error(bad: Any, message: str) -> None:
    with pytest.raises(BadEventError, match=message):
        parse_triggers(bad, US_EAST_1)


def test_ecs_event_without_event_name_is_malformed(event: Any) -> None:
    broken = event("ecs_service_action_task_start_impaired")
    del broken["detail"]["eventName"]
    with pytest.raises(BadEventError, match=r"detail.eventName=None is missing"):
        parse_triggers(broken, US_EAST_1)
