"""The packaged auto_healer zip runs on its own against moto server: a live reboot.

One subprocess per tool (each costs seconds): malformed events are covered in-process by
test_app.py, with the same code the zip carries.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tests.support.aws import create_state_table, endpoint_env, topic_with_inbox

REGION = "us-east-1"
FIXTURE_IID = "i-0123456789abcdef0"


@pytest.fixture
def healer_server_aws(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # ~8 s saved per fresh backend
    topic, queue_url = topic_with_inbox(
        boto3.client("sns", region_name=REGION),
        boto3.client("sqs", region_name=REGION),
        "oncall-alerts",
        "healer-copies",
    )
    create_state_table(boto3.client("dynamodb", region_name=REGION), "healer-state")
    return {"topic": topic, "queue_url": queue_url, "endpoint": moto_server}


def _env(aws: dict[str, str]) -> dict[str, str]:
    return {
        **endpoint_env(aws["endpoint"], REGION),
        "ALERT_TOPIC_ARN": aws["topic"],
        "STATE_TABLE": "healer-state",
        "DRY_RUN": "false",
        "ENVIRONMENT": "prod",
        "POWERTOOLS_SERVICE_NAME": "auto_healer",
        "POWERTOOLS_METRICS_NAMESPACE": "OncallTools",
    }


def test_zip_reboots_an_opted_in_instance_end_to_end(
    healer_server_aws: dict[str, str], packaged_handler: Any, run_packaged: Any, event: Any
) -> None:
    instance_id = boto3.client("ec2", region_name=REGION).run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "oncall:auto-heal", "Value": "true"}]}
        ],
    )["Instances"][0]["InstanceId"]
    alarm = json.loads(
        json.dumps(event("healer_eventbridge_ec2_instance_check")).replace(FIXTURE_IID, instance_id)
    )
    extracted = packaged_handler("auto_healer")

    run = run_packaged(extracted, alarm, _env(healer_server_aws))

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.marker("POWERTOOLS_FROM").startswith(str(extracted))
    [decision] = run.result["decisions"]
    assert (decision["outcome"], decision["action"]) == ("acted", "reboot")
    sqs = boto3.client("sqs", region_name=REGION)
    [message] = sqs.receive_message(QueueUrl=healer_server_aws["queue_url"])["Messages"]
    assert (
        json.loads(message["Body"])["Subject"] == f"[prod] auto-healer: acted reboot {instance_id}"
    )
