"""The packaged log_processor zip runs on its own: only the zip plus what Lambda's runtime ships."""

from __future__ import annotations

import json

import boto3


def _topic_with_queue() -> tuple[str, str]:
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topic = sns.create_topic(Name="oncall-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="copies")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
    return topic, queue_url


def _env(moto_server: str, topic: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
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
