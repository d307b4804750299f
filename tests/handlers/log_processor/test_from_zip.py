"""The packaged log_processor zip runs on its own: only the zip plus what Lambda's runtime ships."""

from __future__ import annotations

import json

import boto3

from tests.support.aws import endpoint_env, topic_with_inbox


def _topic_with_queue() -> tuple[str, str]:
    return topic_with_inbox(
        boto3.client("sns", region_name="us-east-1"),
        boto3.client("sqs", region_name="us-east-1"),
        "oncall-alerts",
        "copies",
    )


def _env(moto_server: str, topic: str) -> dict[str, str]:
    return {
        **endpoint_env(moto_server, "us-east-1"),
        "ALERT_TOPIC_ARN": topic,
        "OWN_LOG_GROUP": "/aws/lambda/oncall-log-processor-prod",
        "ENVIRONMENT": "prod",
        "POWERTOOLS_SERVICE_NAME": "log_processor",
        "POWERTOOLS_METRICS_NAMESPACE": "OncallTools",
    }


def test_zip_processes_a_subscription_batch_and_alerts(
    moto_server, packaged_handler, run_packaged, event
):
    topic, queue_url = _topic_with_queue()
    extracted = packaged_handler("log_processor")

    run = run_packaged(
        extracted, event("logs_subscription_lambda_errors"), _env(moto_server, topic)
    )

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.marker("POWERTOOLS_FROM").startswith(str(extracted))
    assert run.result["counts"]["errors"] == 6 and run.result["alerted"] is True
    assert '"RuleMatches"' in run.stdout  # EMF written to stdout, as CloudWatch Logs picks it up
    [message] = boto3.client("sqs", region_name="us-east-1").receive_message(QueueUrl=queue_url)[
        "Messages"
    ]
    assert json.loads(message["Body"])["Subject"].endswith("in /aws/lambda/orders")


def test_zip_rejects_bad_base64_and_sends_nothing(
    moto_server, packaged_handler, run_packaged, event
):
    topic, queue_url = _topic_with_queue()
    extracted = packaged_handler("log_processor")

    run = run_packaged(extracted, event("logs_bad_base64"), _env(moto_server, topic))

    assert run.returncode == 3
    assert run.marker("ERROR").startswith("BadEventError: awslogs.data is not valid base64")
    sqs = boto3.client("sqs", region_name="us-east-1")
    assert sqs.receive_message(QueueUrl=queue_url).get("Messages", []) == []
