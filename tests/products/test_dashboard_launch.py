"""A launched tool's dashboard on localcloud: the stack creates it, CloudWatch holds the body with
the launch's concrete names, and the launch reports its URL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

from catalog.cli_context import DEFAULT_CONFIG
from portfolio.aws import AwsClients, Target
from portfolio.workflow import prepare, run_bootstrap, run_launch, run_publish
from products.dashboard import concrete_body, dashboard_name, dashboard_widgets, launch_values
from products.spec import discover_products

REGION = "us-east-1"
WATCHED_LOG_GROUP = "/aws/app/demo"


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_launch_creates_the_dashboard_with_concrete_names(
    local_endpoint: str, tmp_path: Path
) -> None:
    prepared = prepare(DEFAULT_CONFIG, tmp_path / "dist")
    clients = AwsClients(Target(endpoint_url=local_endpoint, region=REGION))
    run_bootstrap(clients, prepared, echo=lambda message: None)
    run_publish(clients, prepared, progress=lambda change: None)
    # The log group catalog.yaml's launch parameters subscribe the log processor to.
    _client("logs", local_endpoint).create_log_group(logGroupName=WATCHED_LOG_GROUP)
    result = run_launch(
        clients, prepared, "log-processor", "dev", overrides={}, echo=lambda message: None
    )

    product = discover_products()["log-processor"]
    name = dashboard_name(product, prepared.config, "dev")
    assert result.outputs["DashboardUrl"] == (
        f"https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}"
        f"#dashboards:name={name}"
    )
    stored = _client("cloudwatch", local_endpoint).get_dashboard(DashboardName=name)
    body = json.loads(stored["DashboardBody"])
    account_id = (result.stack_arn or "").split(":")[4]
    values = launch_values(product, prepared.config, "dev", REGION, account_id)
    assert body == concrete_body(dashboard_widgets(product, prepared.config), values)
    text = json.dumps(body)
    assert "${" not in text and "Fn::" not in text
    assert '"FunctionName", "oncall-log-processor-dev"' in text
    alarms = body["widgets"][0]["properties"]["alarms"]
    alarm_arns = f"arn:aws:cloudwatch:{REGION}:{account_id}:alarm"
    assert f"{alarm_arns}:oncall-log-processor-dev-errors" in alarms

    # Deleting the stack deletes the dashboard with it.
    _client("cloudformation", local_endpoint).delete_stack(StackName=result.stack_arn)
    listed = _client("cloudwatch", local_endpoint).list_dashboards()["DashboardEntries"]
    assert name not in [entry["DashboardName"] for entry in listed]
