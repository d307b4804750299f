"""The packaged alert_handler zip runs on its own: only the zip plus what Lambda's runtime ships."""

from __future__ import annotations

import json

import boto3

REGION = "eu-west-1"


def _aws_for_alerts(webhook_url: str) -> dict[str, str]:
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="oncall-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="copies")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName="dedupe",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="slack", SecretString=json.dumps({"webhook_url": webhook_url})
    )["ARN"]
    return {"topic": topic, "queue_url": queue_url, "secret": secret}


def _env(moto_server: str, aws: dict[str, str]) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "ALERT_TOPIC_ARN": aws["topic"],
        "DEDUPE_TABLE": "dedupe",
        "SLACK_SECRET_ARN": aws["secret"],
        "ENVIRONMENT": "prod",
        "POWERTOOLS_SERVICE_NAME": "alert_handler",
        "POWERTOOLS_METRICS_NAMESPACE": "OncallTools",
    }


def test_zip_delivers_a_real_alarm_end_to_end(
    moto_server, packaged_handler, run_packaged, http_receiver, event, monkeypatch
):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    aws = _aws_for_alerts(f"{http_receiver.url}/services/T0/B0/x")
    extracted = packaged_handler("alert_handler")

    run = run_packaged(extracted, event("alarm_sns_metric"), _env(moto_server, aws))

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.marker("POWERTOOLS_FROM").startswith(str(extracted))
    assert sorted(run.result["alarms"][0]["sent"]) == ["slack", "sns"]
    assert http_receiver.requests[0].json()["attachments"][0]["color"] == "#D62728"
    sqs = boto3.client("sqs", region_name=REGION)
    [message] = sqs.receive_message(QueueUrl=aws["queue_url"])["Messages"]
    assert json.loads(message["Body"])["Subject"].startswith("[CRITICAL] ALARM: critical-checkout")
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName="dedupe")["Items"]
    assert {item["status"]["S"] for item in items} == {"sent"} and len(items) == 2


def test_zip_rejects_a_malformed_event_and_sends_nothing(
    moto_server, packaged_handler, run_packaged, http_receiver, event, monkeypatch
):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    aws = _aws_for_alerts(f"{http_receiver.url}/hook")
    extracted = packaged_handler("alert_handler")

    run = run_packaged(extracted, event("alarm_sns_not_json"), _env(moto_server, aws))

    assert run.returncode == 3
    assert (
        run.marker("ERROR")
        == "BadEventError: Records[0].Sns.Message is not JSON: Expecting value at char 0"
    )
    assert http_receiver.requests == []
    sqs = boto3.client("sqs", region_name=REGION)
    assert sqs.receive_message(QueueUrl=aws["queue_url"]).get("Messages", []) == []
