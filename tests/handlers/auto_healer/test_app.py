"""The auto-healer end to end against moto (EC2, ECS, Auto Scaling, DynamoDB, SNS).

SSM Automation is not in moto: those tests point the SSM endpoint at a real HTTP server on
127.0.0.1 that answers in the SSM JSON protocol, so botocore's real request/response path runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from oncall_shared.errors import BadEventError, SettingsError

FIXTURE_IID = "i-0123456789abcdef0"
REGION = "us-east-1"
OPT_IN = {"Key": "oncall:auto-heal", "Value": "true"}
EXECUTION_ID = "6f1a0b52-3c4d-4e5f-8a9b-0c1d2e3f4a5b"  # SSM requires 36 characters


@pytest.fixture
def app(healer_aws: Any, no_poll_wait: None, load_handler: Callable[[str], Any]) -> Any:
    return load_handler("auto_healer")


def for_instance(event: dict[str, Any], instance_id: str) -> dict[str, Any]:
    """The fixture with its placeholder instance id replaced (also inside SNS message strings)."""
    return json.loads(json.dumps(event).replace(FIXTURE_IID, instance_id))


def instance_check(event: Any, instance_id: str) -> dict[str, Any]:
    return for_instance(event("healer_eventbridge_ec2_instance_check"), instance_id)


def test_dry_run_is_the_default_and_reports_what_it_would_do(
    app: Any, healer_aws: Any, monkeypatch: pytest.MonkeyPatch, event: Any, lambda_context: Any
) -> None:
    monkeypatch.delenv("DRY_RUN")
    instance_id = healer_aws.launch_instance([OPT_IN])
    result = app.lambda_handler(instance_check(event, instance_id), lambda_context)
    (decision,) = result["decisions"]
    assert result["dry_run"] is True
    assert decision["outcome"] == "dry-run" and decision["detail"] == f"would reboot {instance_id}"
    assert healer_aws.item(f"resource#{instance_id}") is None  # no cooldown consumed
    (alert,) = healer_aws.alerts()
    assert alert["Subject"] == f"[test] auto-healer: dry-run reboot {instance_id}"
    assert "mode DRY RUN (no action taken)" in alert["Message"]


def test_instance_check_failure_reboots_an_opted_in_instance(
    app: Any, healer_aws: Any, event: Any, lambda_context: Any
) -> None:
    instance_id = healer_aws.launch_instance([OPT_IN])
    (decision,) = app.lambda_handler(instance_check(event, instance_id), lambda_context)[
        "decisions"
    ]
    assert decision["outcome"] == "acted" and decision["action"] == "reboot"
    assert decision["detail"] == f"instance {instance_id} rebooted and is running"
    assert healer_aws.item(f"resource#{instance_id}")["action"]["S"] == "reboot"
    (alert,) = healer_aws.alerts()
    assert alert["Subject"] == f"[test] auto-healer: acted reboot {instance_id}"
    assert "web-1-instance-check" in alert["Message"]


def test_system_check_failure_stops_and_starts_an_ebs_instance(
    app: Any, healer_aws: Any, event: Any, lambda_context: Any
) -> None:
    lambda_context.timeout_millis = 300_000  # the prod timeout leaves time to stop and start
    instance_id = healer_aws.launch_instance([OPT_IN])
    sns_event = for_instance(event("healer_sns_ec2_system_check"), instance_id)
    (decision,) = app.lambda_handler(sns_event, lambda_context)["decisions"]
    assert decision["outcome"] == "acted" and decision["action"] == "stop-start"
    assert "stopped and started again, now running" in decision["detail"]
    assert healer_aws.instance_state(instance_id) == "running"


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (None, "not opted in: tag 'oncall:auto-heal' is missing (must be 'true')"),
        ([{"Key": "oncall:auto-heal", "Value": "false"}], "tag 'oncall:auto-heal' is 'false'"),
        ([{"Key": "oncall:auto-heal", "Value": "True"}], "tag 'oncall:auto-heal' is 'True'"),
    ],
)
def test_instances_without_the_opt_in_tag_are_left_alone(
    app: Any, healer_aws: Any, event: Any, lambda_context: Any, tags: Any, expected: str
) -> None:
    instance_id = healer_aws.launch_instance(tags)
    (decision,) = app.lambda_handler(instance_check(event, instance_id), lambda_context)[
        "decisions"
    ]
    assert decision["outcome"] == "skipped" and expected in decision["detail"]
    assert healer_aws.item(f"resource#{instance_id}") is None
    (alert,) = healer_aws.alerts()
    assert alert["Subject"] == f"[test] auto-healer: skipped {instance_id}"


def test_custom_opt_in_tag_key_is_honoured(
    app: Any, healer_aws: Any, monkeypatch: pytest.MonkeyPatch, event: Any, lambda_context: Any
) -> None:
    monkeypatch.setenv("OPT_IN_TAG_KEY", "team:heal-me")
    instance_id = healer_aws.launch_instance([{"Key": "team:heal-me", "Value": "true"}])
    (decision,) = app.lambda_handler(instance_check(event, instance_id), lambda_context)[
        "decisions"
    ]
    assert decision["outcome"] == "acted"


def test_auto_scaling_group_members_are_left_to_the_group(
    app: Any, healer_aws: Any, event: Any, lambda_context: Any
) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    autoscaling = boto3.client("autoscaling", region_name=REGION)
    ec2.create_launch_template(
        LaunchTemplateName="web", LaunchTemplateData={"ImageId": "ami-12c6146b"}
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="web-asg",
        LaunchTemplate={"LaunchTemplateName": "web"},
        MinSize=1,
        MaxSize=1,
        AvailabilityZones=["us-east-1a"],
        Tags=[{**OPT_IN, "PropagateAtLaunch": True}],
    )
    instance_id = autoscaling.describe_auto_scaling_instances()["AutoScalingInstances"][0][
        "InstanceId"
    ]
    ec2.create_tags(Resources=[instance_id], Tags=[OPT_IN])
    (decision,) = app.lambda_handler(instance_check(event, instance_id), lambda_context)[
        "decisions"
    ]
    assert decision["outcome"] == "skipped"
    assert (
        decision["detail"]
        == "member of Auto Scaling group 'web-asg': the group replaces unhealthy instances"
    )


def test_stopped_instance_is_not_healed(
    app: Any, healer_aws: Any, event: Any, lambda_context: Any
) -> None:
    instance_id = healer_aws.launch_instance([OPT_IN])
    boto3.client("ec2", region_name=REGION).stop_instances(InstanceIds=[instance_id])
    (decision,) = app.lambda_handler(instance_check(event, instance_id), lambda_context)[
        "decisions"
    ]
    assert decision["outcome"] == "skipped" and "instance state is 'stopped'" in decision["detail"]
    assert healer_aws.instance_state(instance_id) == "stopped"


def test_unknown_instance_is_skipped(
    app: Any, healer_aws: Any, event: Any, lambda_context: Any
) -> None:
    (decision,) = app.lambda_handler(instance_check(event, "i-0fedcba9876543210"), lambda_context)[
        "decisions"
    ]
    assert (
        decision["outcome"] == "skipped"
        and decision["detail"] == "instance i-0fedcba9876543210 not found"
    )


def test_duplicate_delivery_is_stopped_by_the_cooldown(
    app: Any, healer_aws: Any, event: Any, lambda_context: Any
) -> None:
    instance_id = healer_aws.launch_instance([OPT_IN])
    app.lambda_handler(instance_check(event, instance_id), lambda_context)
    (second,) = app.lambda_handler(instance_check(event, instance_id), lambda_context)["decisions"]
    assert second["outcome"] == "skipped"
    assert "in cooldown after a recent action: 30 min left" in second["detail"]
    assert [a["Subject"].split(":")[1].split()[0] for a in healer_aws.alerts()] == [
        "acted",
        "skipped",
    ]


def test_hourly_cap_stops_a_storm(
    app: Any, healer_aws: Any, monkeypatch: pytest.MonkeyPatch, event: Any, lambda_context: Any
) -> None:
    monkeypatch.setenv("MAX_ACTIONS_PER_HOUR", "2")
    instances = [healer_aws.launch_instance([OPT_IN]) for _ in range(3)]
    outcomes = [
        app.lambda_handler(instance_check(event, i), lambda_context)["decisions"][0]
        for i in instances
    ]
    assert [d["outcome"] for d in outcomes] == ["acted", "acted", "skipped"]
    assert outcomes[2]["detail"] == "hourly cap reached: 2 actions already taken this hour"
    assert healer_aws.item(f"resource#{instances[2]}") is None


@pytest.mark.parametrize(
    "name", ["ecs_service_action_task_start_impaired", "healer_eventbridge_ecs_cpu_alarm"]
)
def test_ecs_service_gets_a_forced_new_deployment(
    app: Any, healer_aws: Any, event: Any, lambda_context: Any, name: str
) -> None:
    healer_aws.create_service(
        "prod-cluster", "orders", [{"key": "oncall:auto-heal", "value": "true"}]
    )
    before = healer_aws.primary_deployment("prod-cluster", "orders")
    (decision,) = app.lambda_handler(event(name), lambda_context)["decisions"]
    after = healer_aws.primary_deployment("prod-cluster", "orders")
    assert decision["outcome"] == "acted" and decision["action"] == "force-new-deployment"
    assert after != before and after in decision["detail"]
    assert healer_aws.item("resource#ecs:prod-cluster/orders") is not None


def test_a_stale_read_after_the_update_does_not_fail_a_forced_deployment(
    app: Any, healer_aws: Any, event: Any, lambda_context: Any
) -> None:
    # ECS reads are eventually consistent: DescribeServices right after UpdateService may still
    # show the old deployment. Such a read is injected into moto's real answers here; judged by
    # it, the action would fail and Lambda's retry would force yet another deployment.
    from oncall_shared.aws import client

    healer_aws.create_service(
        "prod-cluster", "orders", [{"key": "oncall:auto-heal", "value": "true"}]
    )
    before_update: list[Any] = []
    updated: list[bool] = []

    def stale_after_update(parsed: dict[str, Any], **_: Any) -> None:
        if not updated:
            before_update[:] = json.loads(json.dumps(parsed["services"], default=str))
        else:
            parsed["services"] = before_update

    ecs = client("ecs")
    ecs.meta.events.register("after-call.ecs.UpdateService", lambda **_: updated.append(True))
    ecs.meta.events.register("after-call.ecs.DescribeServices", stale_after_update)

    (decision,) = app.lambda_handler(
        event("ecs_service_action_task_start_impaired"), lambda_context
    )["decisions"]

    assert updated and decision["outcome"] == "acted"
    assert healer_aws.primary_deployment("prod-cluster", "orders") in decision["detail"]


def test_ecs_service_without_opt_in_is_skipped(
    app: Any, healer_aws: Any, event: Any, lambda_context: Any
) -> None:
    healer_aws.create_service("prod-cluster", "orders", None)
    before = healer_aws.primary_deployment("prod-cluster", "orders")
    (decision,) = app.lambda_handler(
        event("ecs_service_action_task_start_impaired"), lambda_context
    )["decisions"]
    assert decision["outcome"] == "skipped" and "not opted in" in decision["detail"]
    assert healer_aws.primary_deployment("prod-cluster", "orders") == before


def test_an_opted_in_service_is_left_alone_when_the_event_is_from_another_account(
    app: Any, healer_aws: Any, event: Any, lambda_context: Any
) -> None:
    # A same-named, opted-in service here is not the one the other account's event is about.
    healer_aws.create_service(
        "prod-cluster", "orders", [{"key": "oncall:auto-heal", "value": "true"}]
    )
    before = healer_aws.primary_deployment("prod-cluster", "orders")
    foreign = event("ecs_service_action_task_start_impaired")
    foreign["account"] = "999999999999"
    foreign["resources"] = ["arn:aws:ecs:us-east-1:999999999999:service/prod-cluster/orders"]
    (decision,) = app.lambda_handler(foreign, lambda_context)["decisions"]
    assert decision["outcome"] == "ignored" and "account 999999999999" in decision["detail"]
    assert healer_aws.primary_deployment("prod-cluster", "orders") == before


@pytest.mark.parametrize(
    "name",
    [
        "ecs_deployment_state_change_failed",
        "ecs_service_action_steady_state",
        "healer_eventbridge_ec2_instance_check_ok",
        "healer_eventbridge_ec2_other_region",
    ],
)
def test_ignored_events_are_logged_but_not_published(
    app: Any, healer_aws: Any, event: Any, lambda_context: Any, name: str
) -> None:
    (decision,) = app.lambda_handler(event(name), lambda_context)["decisions"]
    assert decision["outcome"] == "ignored"
    assert healer_aws.alerts() == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("healer_malformed_ecs_no_detail", "has no 'detail' object"),
        ("healer_malformed_ecs_bad_arn", "is not of the form"),
        ("alarm_sns_not_json", "is not JSON"),
    ],
)
def test_malformed_events_raise_and_send_nothing(
    app: Any, healer_aws: Any, event: Any, lambda_context: Any, name: str, message: str
) -> None:
    with pytest.raises(BadEventError, match=message):
        app.lambda_handler(event(name), lambda_context)
    assert healer_aws.alerts() == []


def test_one_malformed_record_stops_the_whole_batch_before_any_action(
    app: Any, healer_aws: Any, event: Any, lambda_context: Any
) -> None:
    instance_id = healer_aws.launch_instance([OPT_IN])
    batch = for_instance(event("healer_sns_ec2_system_check"), instance_id)
    batch["Records"].append(event("alarm_sns_not_json")["Records"][0])
    with pytest.raises(BadEventError):
        app.lambda_handler(batch, lambda_context)
    assert healer_aws.item(f"resource#{instance_id}") is None
    assert healer_aws.alerts() == []


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DRY_RUN", "perhaps", "DRY_RUN='perhaps': is not a boolean"),
        ("COOLDOWN_MINUTES", "-5", "COOLDOWN_MINUTES='-5': must be at least 1"),
        ("MAX_ACTIONS_PER_HOUR", "many", "MAX_ACTIONS_PER_HOUR='many': is not an integer"),
        ("STATE_TABLE", " ", "STATE_TABLE=' ': required setting is missing"),
        ("ALERT_TOPIC_ARN", "", "ALERT_TOPIC_ARN='': required setting is missing"),
    ],
)
def test_bad_settings_name_the_variable_and_act_on_nothing(
    app: Any,
    healer_aws: Any,
    monkeypatch: pytest.MonkeyPatch,
    event: Any,
    lambda_context: Any,
    variable: str,
    value: str,
    message: str,
) -> None:
    instance_id = healer_aws.launch_instance([OPT_IN])
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        app.lambda_handler(instance_check(event, instance_id), lambda_context)
    assert message in str(raised.value)
    assert healer_aws.item(f"resource#{instance_id}") is None


def ssm_answers(receiver: Any, status: str) -> None:
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    receiver.script(200, headers, json.dumps({"AutomationExecutionId": EXECUTION_ID}))
    receiver.script(
        200,
        headers,
        json.dumps(
            {
                "AutomationExecution": {
                    "AutomationExecutionId": EXECUTION_ID,
                    "AutomationExecutionStatus": status,
                }
            }
        ),
    )


def test_automation_document_replaces_the_builtin_ec2_action(
    app: Any,
    healer_aws: Any,
    monkeypatch: pytest.MonkeyPatch,
    http_receiver: Any,
    event: Any,
    lambda_context: Any,
) -> None:
    monkeypatch.setenv("AUTOMATION_DOCUMENT", "AWS-RestartEC2Instance")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", http_receiver.url)
    ssm_answers(http_receiver, "InProgress")
    instance_id = healer_aws.launch_instance([OPT_IN])
    (decision,) = app.lambda_handler(instance_check(event, instance_id), lambda_context)[
        "decisions"
    ]
    assert decision["outcome"] == "acted" and decision["action"] == "ssm-automation"
    expected = f"automation execution {EXECUTION_ID} for {instance_id} is InProgress"
    assert decision["detail"] == expected
    start, get = http_receiver.requests
    assert start.headers["X-Amz-Target"] == "AmazonSSM.StartAutomationExecution"
    assert start.json() == {
        "DocumentName": "AWS-RestartEC2Instance",
        "Parameters": {"InstanceId": [instance_id]},
    }
    assert get.json() == {"AutomationExecutionId": EXECUTION_ID}


def test_failed_action_is_published_releases_the_cooldown_and_raises_for_retry(
    app: Any,
    healer_aws: Any,
    monkeypatch: pytest.MonkeyPatch,
    http_receiver: Any,
    event: Any,
    lambda_context: Any,
) -> None:
    monkeypatch.setenv("AUTOMATION_DOCUMENT", "AWS-RestartEC2Instance")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", http_receiver.url)
    ssm_answers(http_receiver, "Failed")
    instance_id = healer_aws.launch_instance([OPT_IN])
    with pytest.raises(
        app.HealingFailedError,
        match=rf"{instance_id}: .*{EXECUTION_ID} is Failed",
    ):
        app.lambda_handler(instance_check(event, instance_id), lambda_context)
    (alert,) = healer_aws.alerts()
    assert alert["Subject"] == f"[test] auto-healer: failed ssm-automation {instance_id}"
    assert healer_aws.item(f"resource#{instance_id}") is None  # a retry may act again


def test_metrics_count_decisions_by_outcome(
    app: Any, healer_aws: Any, event: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    instance_id = healer_aws.launch_instance([OPT_IN])
    app.lambda_handler(instance_check(event, instance_id), lambda_context)
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    (blob,) = [m for m in emf if "ActionsTaken" in m]
    assert blob["ActionsTaken"] in (1.0, [1.0])
    assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "OncallTools"


def test_stop_start_is_skipped_when_the_function_lacks_time(
    app: Any, healer_aws: Any, event: Any, lambda_context: Any
) -> None:
    lambda_context.timeout_millis = 60_000  # a dev-sized timeout: too short to stop and start
    instance_id = healer_aws.launch_instance([OPT_IN])
    sns_event = for_instance(event("healer_sns_ec2_system_check"), instance_id)
    (decision,) = app.lambda_handler(sns_event, lambda_context)["decisions"]
    assert decision["outcome"] == "skipped"
    assert "stop-start needs 120s of function time" in decision["detail"]
    assert healer_aws.item(f"resource#{instance_id}") is None
    assert healer_aws.instance_state(instance_id) == "running"


def test_rejected_event_emits_runs_failed_metric(
    app: Any, healer_aws: Any, event: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(BadEventError):
        app.lambda_handler(event("healer_malformed_ecs_bad_arn"), lambda_context)
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [m["RunsFailed"] for m in emf if "RunsFailed" in m] in ([1.0], [[1.0]])


def test_several_records_give_one_report_listing_every_decision(
    app: Any, healer_aws: Any, event: Any, lambda_context: Any
) -> None:
    lambda_context.timeout_millis = 300_000
    healed = healer_aws.launch_instance([OPT_IN])
    untagged = healer_aws.launch_instance(None)
    batch = for_instance(event("healer_sns_ec2_system_check"), healed)
    batch["Records"].append(
        for_instance(event("healer_sns_ec2_system_check"), untagged)["Records"][0]
    )
    decisions = app.lambda_handler(batch, lambda_context)["decisions"]
    assert [d["outcome"] for d in decisions] == ["acted", "skipped"]
    (alert,) = healer_aws.alerts()
    assert alert["Subject"] == "[test] auto-healer: 1 acted, 1 skipped"
    assert f"ACTED    {healed}:" in alert["Message"] and f"SKIPPED  {untagged}:" in alert["Message"]
