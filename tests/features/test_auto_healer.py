"""An opted-in impaired instance is healed and an untagged one is left alone: a status-check
alarm on each instance fires on the local clock, CloudWatch puts its state change on the
default event bus, the auto-healer's rule invokes the launched function, and its report of
every decision reaches the on-call topic."""

from __future__ import annotations

from typing import Any

from pytest_bdd import given, scenarios, then, when

from .conftest import Cloud, Subscriber, subscribe

scenarios("auto_healer.feature")

OPT_IN = {"Key": "oncall:auto-heal", "Value": "true"}
CHECK = "StatusCheckFailed_Instance"


@given("the auto-healer launched through Service Catalog with dry run off", target_fixture="healer")
def auto_healer(cloud: Cloud) -> dict[str, Any]:
    outputs = cloud.launch("auto-healer", DryRun="false").outputs
    return {"subscriber": subscribe(cloud, outputs["AlertTopicArn"], "oncall")}


def _run_instance(cloud: Cloud, name: str, tags: list[dict[str, str]]) -> str:
    reservation = cloud.client("ec2").run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [*tags, {"Key": "Name", "Value": name}]}
        ],
    )
    return str(reservation["Instances"][0]["InstanceId"])


@given("two running instances, one opted in to auto-healing and one without the tag")
def instances(cloud: Cloud, healer: dict[str, Any]) -> None:
    healer["opted_in"] = _run_instance(cloud, "web-1", [OPT_IN])
    healer["untagged"] = _run_instance(cloud, "web-2", [])


@given("an alarm on the failed status checks of each instance")
def status_check_alarms(cloud: Cloud, healer: dict[str, Any]) -> None:
    for instance_id in (healer["opted_in"], healer["untagged"]):
        cloud.client("cloudwatch").put_metric_alarm(
            AlarmName=f"{instance_id}-instance-check",
            Namespace="AWS/EC2",
            MetricName=CHECK,
            Dimensions=[{"Name": "InstanceId", "Value": instance_id}],
            Statistic="Maximum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )


@when("both instances fail their status checks")
def status_checks_fail(cloud: Cloud, healer: dict[str, Any]) -> None:
    # EC2 publishes this metric itself; localcloud runs no status checks, so the step publishes
    # the datapoint EC2 would (see docs/localcloud.md, Limits).
    for instance_id in (healer["opted_in"], healer["untagged"]):
        cloud.client("cloudwatch").put_metric_data(
            Namespace="AWS/EC2",
            MetricData=[
                {
                    "MetricName": CHECK,
                    "Dimensions": [{"Name": "InstanceId", "Value": instance_id}],
                    "Value": 1.0,
                }
            ],
        )
    subscriber: Subscriber = healer["subscriber"]
    cloud.advance_until(lambda: subscriber.alert_count() >= 2, 300)
    cloud.advance(300)  # anything late (a duplicate report) would arrive in the meantime
    subscriber.poll()


def _report_about(healer: dict[str, Any], instance_id: str) -> str:
    reports = [m["Message"] for m in healer["subscriber"].alerts if instance_id in m["Message"]]
    assert len(reports) == 1, healer["subscriber"].alerts
    return str(reports[0])


@then("the opted-in instance is rebooted")
def opted_in_rebooted(healer: dict[str, Any]) -> None:
    report = _report_about(healer, healer["opted_in"])
    assert "mode LIVE" in report
    assert f"ACTED    {healer['opted_in']}" in report and "reboot" in report.lower()


@then("the untagged instance is left alone")
def untagged_left_alone(healer: dict[str, Any]) -> None:
    report = _report_about(healer, healer["untagged"])
    assert f"SKIPPED  {healer['untagged']}: not opted in" in report
