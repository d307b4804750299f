"""Updating a launched tool so that a conditional resource's Condition flips, as CloudFormation
does it: the resource is deleted when its condition turns false and created when it turns true,
and the provisioned product stays AVAILABLE (it used to fail and end TAINTED)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from portfolio.aws import AwsClients
from portfolio.workflow import BuiltCatalog, run_launch

from .conftest import LaunchedTool

WATCHED = "/aws/app/checkout"


def _filters(aws: Callable[[str], Any]) -> list[str]:
    answer = aws("logs").describe_subscription_filters(logGroupName=WATCHED)
    return [f["destinationArn"] for f in answer["subscriptionFilters"]]


def _stack_resources(aws: Callable[[str], Any], stack_arn: str) -> set[str]:
    listed = aws("cloudformation").list_stack_resources(StackName=stack_arn)
    return {r["LogicalResourceId"] for r in listed["StackResourceSummaries"]}


def _relaunch(published: tuple[BuiltCatalog, AwsClients], log_group: str) -> str:
    prepared, clients = published
    result = run_launch(
        clients,
        prepared,
        "log-processor",
        "dev",
        overrides={"LogGroupName": log_group},
        echo=lambda message: None,
    )
    return result.stack_arn or ""


def _status(aws: Callable[[str], Any]) -> str:
    answer = aws("servicecatalog").describe_provisioned_product(Name="log-processor-dev")
    return str(answer["ProvisionedProductDetail"]["Status"])


def test_clearing_the_watched_group_deletes_the_filter_and_setting_it_creates_it(
    launch_tool: Callable[..., LaunchedTool],
    aws: Callable[[str], Any],
    published: tuple[BuiltCatalog, AwsClients],
) -> None:
    aws("logs").create_log_group(logGroupName=WATCHED)
    tool = launch_tool("log-processor", LogGroupName=WATCHED)
    assert _filters(aws) == [tool.outputs["FunctionArn"]]

    stack_arn = _relaunch(published, "")
    assert _status(aws) == "AVAILABLE"
    assert _filters(aws) == []
    resources = _stack_resources(aws, stack_arn)
    assert "LogGroupSubscription" not in resources and "Function" in resources

    _relaunch(published, WATCHED)
    assert _status(aws) == "AVAILABLE"
    assert _filters(aws) == [tool.outputs["FunctionArn"]]
    assert "LogGroupSubscription" in _stack_resources(aws, stack_arn)


def _topics(aws: Callable[[str], Any]) -> set[str]:
    return {t["TopicArn"].rsplit(":", 1)[1] for t in aws("sns").list_topics()["Topics"]}


def test_switching_to_an_existing_on_call_topic_deletes_the_tools_own_topic_and_back(
    launch_tool: Callable[..., LaunchedTool],
    aws: Callable[[str], Any],
    published: tuple[BuiltCatalog, AwsClients],
) -> None:
    oncall = aws("sns").create_topic(Name="platform-oncall")["TopicArn"]
    tool = launch_tool("health-checker")
    own = tool.outputs["AlertTopicArn"]
    assert own.rsplit(":", 1)[1] in _topics(aws)

    prepared, clients = published
    switched = run_launch(
        clients,
        prepared,
        "health-checker",
        "dev",
        overrides={"AlertTopicArn": oncall},
        echo=lambda message: None,
    )
    assert switched.outputs["AlertTopicArn"] == oncall
    assert _topics(aws) == {"platform-oncall"}
    errors = aws("cloudwatch").describe_alarms(AlarmNames=["oncall-health-checker-dev-errors"])
    assert errors["MetricAlarms"][0]["AlarmActions"] == [oncall]

    back = run_launch(
        clients,
        prepared,
        "health-checker",
        "dev",
        overrides={"AlertTopicArn": ""},
        echo=lambda message: None,
    )
    assert back.outputs["AlertTopicArn"] == own
    assert _topics(aws) == {"platform-oncall", own.rsplit(":", 1)[1]}
