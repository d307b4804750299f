"""The packaged alert_handler zip runs on its own: only the zip plus what Lambda's runtime ships."""

from __future__ import annotations

import json

import boto3

from tests.support.aws import create_state_table, endpoint_env, topic_with_inbox

REGION = "eu-west-1"


def _aws_for_alerts(webhook_url: str) -> dict[str, str]:
    topic, queue_url = topic_with_inbox(
        boto3.client("sns", region_name=REGION),
        boto3.client("sqs", region_name=REGION),
        "oncall-alerts",
        "copies",
    )
    create_state_table(boto3.client("dynamodb", region_name=REGION), "dedupe")
    secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="slack", SecretString=json.dumps({"webhook_url": webhook_url})
    )["ARN"]
    return {"topic": topic, "queue_url": queue_url, "secret": secret}


def _env(moto_server: str, aws: dict[str, str]) -> dict[str, str]:
    return {
        **endpoint_env(moto_server, REGION),
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
    assert {item["status"]["S"] for item in items} == {"COMPLETED"} and len(items) == 2


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


def test_a_traced_delivery_records_aws_calls_but_never_the_webhook_path(
    moto_server, packaged_handler, run_packaged, http_receiver, event, monkeypatch, xray_daemon
):
    # A Slack or Teams webhook's URL path is its secret: X-Ray's http.client patch would record
    # it, so only boto3 calls are traced.
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    secret_path = "/services/T0SECRET/B0SECRET/xoxsecret"
    aws = _aws_for_alerts(f"{http_receiver.url}{secret_path}")
    extracted = packaged_handler("alert_handler")
    env = {**_env(moto_server, aws), "LAMBDA_TASK_ROOT": str(extracted), **xray_daemon.env(True)}

    run = run_packaged(extracted, event("alarm_sns_metric"), env)

    assert run.returncode == 0, run.stdout + run.stderr
    assert sorted(run.result["alarms"][0]["sent"]) == ["slack", "sns"]
    assert http_receiver.requests[0].path == secret_path
    names = {document["name"] for document in xray_daemon.documents()}
    assert {"## lambda_handler", "sns", "dynamodb", "secretsmanager"} <= names
    assert not any("SECRET" in datagram for datagram in xray_daemon.datagrams)
