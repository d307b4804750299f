"""Auto-healer fixtures: moto EC2/ECS/Auto Scaling/DynamoDB/SNS and an SNS readback queue."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

TOOL_DIR = Path(__file__).resolve().parents[3] / "handlers" / "auto_healer"
if str(TOOL_DIR) not in sys.path:
    sys.path.insert(0, str(TOOL_DIR))

REGION = "us-east-1"
# moto accepts any AMI id when its default images are not loaded (see healer_aws).
EXAMPLE_AMI = "ami-12c6146b"


@dataclass
class HealerAws:
    table: str
    topic_arn: str
    queue_url: str

    def alerts(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs", region_name=REGION)
        found: list[dict[str, Any]] = []
        while True:
            messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def item(self, pk: str) -> dict[str, Any] | None:
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        return dynamodb.get_item(TableName=self.table, Key={"pk": {"S": pk}}).get("Item")

    def launch_instance(self, tags: list[dict[str, str]] | None = None, **options: Any) -> str:
        ec2 = boto3.client("ec2", region_name=REGION)
        spec: dict[str, Any] = {"ImageId": EXAMPLE_AMI, "MinCount": 1, "MaxCount": 1, **options}
        if tags:
            spec["TagSpecifications"] = [{"ResourceType": "instance", "Tags": tags}]
        return str(ec2.run_instances(**spec)["Instances"][0]["InstanceId"])

    def instance_state(self, instance_id: str) -> str:
        ec2 = boto3.client("ec2", region_name=REGION)
        reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
        return str(reservations[0]["Instances"][0]["State"]["Name"])

    def create_service(self, cluster: str, service: str, tags: list[dict[str, str]] | None) -> str:
        ecs = boto3.client("ecs", region_name=REGION)
        ecs.create_cluster(clusterName=cluster)
        ecs.register_task_definition(
            family="web",
            containerDefinitions=[{"name": "web", "image": "nginx", "memory": 128}],
        )
        options: dict[str, Any] = {"tags": tags} if tags else {}
        answer = ecs.create_service(
            cluster=cluster, serviceName=service, taskDefinition="web", desiredCount=1, **options
        )
        return str(answer["service"]["serviceArn"])

    def primary_deployment(self, cluster: str, service: str) -> str:
        ecs = boto3.client("ecs", region_name=REGION)
        found = ecs.describe_services(cluster=cluster, services=[service])["services"][0]
        return next(d["id"] for d in found["deployments"] if d["status"] == "PRIMARY")


@pytest.fixture
def healer_aws(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> HealerAws:
    # moto loads ~1300 default AMIs into every fresh EC2 backend (~8 s); the tests need none.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName="healer-state",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    sns = boto3.client("sns", region_name=REGION)
    topic_arn = sns.create_topic(Name="oncall-alerts")["TopicArn"]
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="healer-readback")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
    for name, value in {
        "STATE_TABLE": "healer-state",
        "ALERT_TOPIC_ARN": topic_arn,
        "POWERTOOLS_SERVICE_NAME": "auto_healer",
        "DRY_RUN": "false",
    }.items():
        monkeypatch.setenv(name, value)
    for name in (
        "OPT_IN_TAG_KEY",
        "COOLDOWN_MINUTES",
        "MAX_ACTIONS_PER_HOUR",
        "AUTOMATION_DOCUMENT",
    ):
        monkeypatch.delenv(name, raising=False)
    return HealerAws("healer-state", topic_arn, queue_url)


@pytest.fixture
def no_poll_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """State polling after an action waits 0 s between reads (moto changes state at once)."""
    import healer_actions

    monkeypatch.setattr(healer_actions, "POLL_INTERVAL_SECONDS", 0.0)


EventFactory = Callable[[str], dict[str, Any]]
