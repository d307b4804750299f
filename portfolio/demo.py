"""The README's main job in one process: build, bootstrap, publish and launch every product on
an in-process localcloud, then print what was created."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from portfolio import render
from portfolio.aws import AwsClients, Target
from portfolio.launch import LaunchResult
from portfolio.workflow import (
    BuiltCatalog,
    Echo,
    open_clients,
    prepare,
    run_bootstrap,
    run_launch,
    run_publish,
    run_status,
)


def run_demo(config_path: Path, dist_dir: Path, environment: str, echo: Echo) -> None:
    echo(f"== build ({config_path.name} -> {dist_dir})")
    built = prepare(config_path, dist_dir, echo)
    with open_clients(Target(), local=True) as clients:
        echo(f"== local AWS at {clients.target.endpoint_url}")
        echo("== bootstrap")
        for region, outcome in run_bootstrap(clients, built, echo).items():
            echo(f"{region}: bootstrap stack {outcome}")
        echo("== publish")
        run_publish(clients, built, lambda change: echo(render.progress_line(change)))
        echo(render.status_text(run_status(clients, built)))
        for log_group in create_demo_prerequisites(clients, built, environment):
            echo(f"== demo application log group {log_group} (what log-processor watches)")
        results = _launch_all(clients, built, environment, echo)
        echo("== what was created")
        for result in results:
            _describe_launch(clients, built, result, echo)


def create_demo_prerequisites(
    clients: AwsClients, built: BuiltCatalog, environment: str
) -> list[str]:
    """Create the log groups the launch parameters point at (LogGroupName).

    In a real account they belong to the applications being watched and exist already; an empty
    local AWS has none, and a subscription filter on a missing log group fails the stack.
    """
    region = clients.target.region or built.desired.regions[0]
    logs = clients.client("logs", region)
    created = []
    for product in built.desired.products:
        name = built.config.launch_parameters(product, environment).get("LogGroupName")
        existing = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] if name else []
        if name and name not in {group["logGroupName"] for group in existing}:
            logs.create_log_group(logGroupName=name)
            created.append(name)
    return created


def _launch_all(
    clients: AwsClients, built: BuiltCatalog, environment: str, echo: Echo
) -> list[LaunchResult]:
    results = []
    for product in built.desired.products:
        echo(f"== launch {product} --env {environment}")
        results.append(
            run_launch(
                clients,
                built,
                product,
                environment,
                overrides={},
                echo=lambda line: echo(f"  {line}"),
            )
        )
    return results


def _describe_launch(
    clients: AwsClients, built: BuiltCatalog, result: LaunchResult, echo: Echo
) -> None:
    region = clients.target.region or built.desired.regions[0]
    echo(f"{result.provisioned_product}: version {result.version}, stack {result.stack_arn}")
    for key, value in sorted(result.outputs.items()):
        echo(f"  output {key} = {value}")
    if not result.stack_arn:
        return
    resources = _stack_resources(clients.client("cloudformation", region), result.stack_arn)
    rows = [
        (
            r["ResourceType"],
            r["LogicalResourceId"],
            r.get("PhysicalResourceId", "-"),
            r["ResourceStatus"],
        )
        for r in resources
    ]
    echo(render.table(("TYPE", "LOGICAL ID", "PHYSICAL ID", "STATUS"), rows))
    alarms = [
        r["PhysicalResourceId"]
        for r in resources
        if r["ResourceType"] == "AWS::CloudWatch::Alarm" and r.get("PhysicalResourceId")
    ]
    _describe_alarms(clients.client("cloudwatch", region), alarms, echo)


def _stack_resources(cfn: Any, stack: str) -> list[dict[str, Any]]:
    pages = cfn.get_paginator("list_stack_resources").paginate(StackName=stack)
    return [r for page in pages for r in page["StackResourceSummaries"]]


def _describe_alarms(cloudwatch: Any, names: list[str], echo: Echo) -> None:
    # DescribeAlarms takes at most 100 names per call.
    for start in range(0, len(names), 100):
        alarms = cloudwatch.describe_alarms(AlarmNames=names[start : start + 100])["MetricAlarms"]
        for alarm in alarms:
            actions = ", ".join(alarm.get("AlarmActions", [])) or "none"
            echo(f"  alarm {alarm['AlarmName']}: {alarm['StateValue']}, actions -> {actions}")
