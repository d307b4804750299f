"""The packaged health_checker zip runs on its own against moto server and a local target.

One subprocess per tool (each costs seconds): malformed events are covered in-process by
test_app.py, with the same code the zip carries.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

from tests.support.aws import create_state_table, endpoint_env, topic_with_inbox

REGION = "us-east-1"


def _aws() -> dict[str, str]:
    topic, queue_url = topic_with_inbox(
        boto3.client("sns", region_name=REGION),
        boto3.client("sqs", region_name=REGION),
        "oncall-alerts",
        "health-copies",
    )
    create_state_table(boto3.client("dynamodb", region_name=REGION), "health-state")
    return {"topic": topic, "queue_url": queue_url}


def _env(moto_server: str, topic: str, target_url: str) -> dict[str, str]:
    return {
        **endpoint_env(moto_server, REGION),
        "ALERT_TOPIC_ARN": topic,
        "STATE_TABLE": "health-state",
        "TARGETS": json.dumps([{"name": "api", "type": "http", "url": target_url}]),
        "FAILURE_THRESHOLD": "1",
        "ALLOW_PRIVATE_NETWORKS": "true",
        "ENVIRONMENT": "prod",
        "POWERTOOLS_SERVICE_NAME": "health_checker",
        "POWERTOOLS_METRICS_NAMESPACE": "OncallTools",
    }


def test_zip_checks_a_target_and_alerts_on_the_transition(
    moto_server: str, packaged_handler: Any, run_packaged: Any, http_receiver: Any, event: Any
) -> None:
    aws = _aws()
    http_receiver.default.status = 503
    extracted = packaged_handler("health_checker")

    run = run_packaged(
        extracted,
        event("health_scheduled_event"),
        _env(moto_server, aws["topic"], http_receiver.url + "/health"),
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.marker("POWERTOOLS_FROM").startswith(str(extracted))
    assert run.result["transitions"] == [{"target": "api", "from": "unknown", "to": "unhealthy"}]
    assert http_receiver.requests[0].path == "/health"
    sqs = boto3.client("sqs", region_name=REGION)
    [message] = sqs.receive_message(QueueUrl=aws["queue_url"])["Messages"]
    assert json.loads(message["Body"])["Subject"] == "[prod] health checker: 1 down, 0 recovered"
    item = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName="health-state", Key={"pk": {"S": "target#api"}}
    )["Item"]
    assert item["status"]["S"] == "unhealthy"
