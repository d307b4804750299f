"""The launched tool a drill works on: finding TOOL-ENV, its errors alarm, where the alarm
notifies, and the SetAlarmState drill that works on any AWS (shared by the CLI command in
portfolio/drill.py and the local cloud's live drill in portfolio/drill_live.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from portfolio.aws import AwsClients, unless_not_found
from portfolio.errors import PublishError
from portfolio.launch import provisioned_product_name

Echo = Callable[[str], None]
DRILL_REASON = "build.py drill: testing the on-call path (SetAlarmState)"
_USABLE_STATES = ("AVAILABLE", "TAINTED")


class DrillError(PublishError):
    """The drill cannot run or the on-call path did not behave (names what and the value)."""


@dataclass(frozen=True)
class LaunchedTool:
    """A provisioned product TOOL-ENV: its function, outputs and its errors alarm."""

    tool: str
    environment: str
    region: str
    name: str
    stack_arn: str
    outputs: dict[str, str]
    errors_alarm: dict[str, Any]
    instance: str | None = None  # a named instance (launch --instance); None: the default one

    @property
    def function_name(self) -> str:
        return self.outputs["FunctionName"]

    @property
    def alarm_name(self) -> str:
        return str(self.errors_alarm["AlarmName"])


@dataclass(frozen=True)
class Route:
    """One alarm action: a topic (or another action) and the topic's subscriptions."""

    action_arn: str
    subscriptions: list[dict[str, str]]


def find_launched_tool(
    clients: AwsClients, region: str, tool: str, environment: str, instance: str | None = None
) -> LaunchedTool:
    sc = clients.client("servicecatalog", region)
    name = provisioned_product_name(tool, environment, instance)
    answer = unless_not_found(lambda: sc.describe_provisioned_product(Name=name))
    if answer is None:
        raise DrillError(
            f"{region}: no provisioned product {name!r}; launch it first: "
            f"python build.py launch {tool} --env {environment}"
            + (f" --instance {instance}" if instance else "")
        )
    detail = answer["ProvisionedProductDetail"]
    if detail["Status"] not in _USABLE_STATES:
        raise DrillError(f"{region}: provisioned product {name!r} is {detail['Status']}")
    outputs = _outputs(sc, name)
    if "FunctionName" not in outputs:
        raise DrillError(f"{region}: provisioned product {name!r} has no FunctionName output")
    stack_arn = _stack_arn(sc, detail)
    alarm = _errors_alarm(clients, region, stack_arn, outputs["FunctionName"])
    return LaunchedTool(tool, environment, region, name, stack_arn, outputs, alarm, instance)


def _stack_arn(sc: Any, detail: dict[str, Any]) -> str:
    """The stack behind the provisioned product: Service Catalog names it as a record output."""
    record_id = detail.get("LastSuccessfulProvisioningRecordId") or detail["LastRecordId"]
    outputs = sc.describe_record(Id=record_id).get("RecordOutputs", [])
    for output in outputs:
        if output.get("OutputKey") == "CloudformationStackARN":
            return str(output["OutputValue"])
    raise DrillError(f"provisioned product {detail['Name']!r}: record {record_id} names no stack")


def _outputs(sc: Any, name: str) -> dict[str, str]:
    answer = sc.get_provisioned_product_outputs(ProvisionedProductName=name)
    return {o["OutputKey"]: str(o.get("OutputValue", "")) for o in answer.get("Outputs", [])}


def _errors_alarm(
    clients: AwsClients, region: str, stack_arn: str, function_name: str
) -> dict[str, Any]:
    """The stack's alarm on AWS/Lambda Errors of its function (the one on-call acts on)."""
    cloudformation = clients.client("cloudformation", region)
    pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_arn)
    names = [
        r["PhysicalResourceId"]
        for page in pages
        for r in page["StackResourceSummaries"]
        if r["ResourceType"] == "AWS::CloudWatch::Alarm" and r.get("PhysicalResourceId")
    ]
    for alarm in _describe_alarms(clients.client("cloudwatch", region), names):
        if _watches_errors_of(alarm, function_name):
            return alarm
    raise DrillError(f"{stack_arn}: no alarm on AWS/Lambda Errors of {function_name}")


def _describe_alarms(cloudwatch: Any, names: list[str]) -> list[dict[str, Any]]:
    alarms: list[dict[str, Any]] = []
    for start in range(0, len(names), 100):  # DescribeAlarms takes at most 100 names
        answer = cloudwatch.describe_alarms(AlarmNames=names[start : start + 100])
        alarms.extend(answer["MetricAlarms"])
    return alarms


def _watches_errors_of(alarm: dict[str, Any], function_name: str) -> bool:
    dimensions = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
    return (
        alarm.get("Namespace") == "AWS/Lambda"
        and alarm.get("MetricName") == "Errors"
        and dimensions.get("FunctionName") == function_name
    )


def notification_routes(clients: AwsClients, region: str, alarm: dict[str, Any]) -> list[Route]:
    """Where the alarm's ALARM and OK actions go, down to each topic's subscriptions."""
    sns = clients.client("sns", region)
    actions = dict.fromkeys([*alarm.get("AlarmActions", []), *alarm.get("OKActions", [])])
    return [Route(action, _subscriptions(sns, action)) for action in actions]


def _subscriptions(sns: Any, action_arn: str) -> list[dict[str, str]]:
    if not action_arn.startswith("arn:aws:sns:"):
        return []
    pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=action_arn)
    return [s for page in pages for s in page["Subscriptions"]]


def describe_alarm(alarm: dict[str, Any]) -> str:
    datapoints = alarm.get("DatapointsToAlarm") or alarm["EvaluationPeriods"]
    return (
        f"{alarm['Statistic']} of {alarm['MetricName']} "
        f"{_COMPARISONS.get(alarm['ComparisonOperator'], alarm['ComparisonOperator'])} "
        f"{alarm['Threshold']:g} in {datapoints} of {alarm['EvaluationPeriods']} period(s) "
        f"of {alarm['Period']} s; missing data: {alarm.get('TreatMissingData', 'missing')}"
    )


_COMPARISONS = {
    "GreaterThanOrEqualToThreshold": ">=",
    "GreaterThanThreshold": ">",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}


def echo_tool(tool: LaunchedTool, routes: list[Route], echo: Echo) -> None:
    echo(f"{tool.name} in {tool.region}: function {tool.function_name}")
    echo(f"  stack {tool.stack_arn}")
    echo(f"  errors alarm {tool.alarm_name} ({tool.errors_alarm['StateValue']}):")
    echo(f"    {describe_alarm(tool.errors_alarm)}")
    echo("  notifications go to:")
    for route in routes:
        echo(f"    {route.action_arn}")
        for subscription in route.subscriptions:
            echo(f"      {_subscription_line(subscription)}")
        if route.action_arn.startswith("arn:aws:sns:") and not route.subscriptions:
            echo("      (no subscriptions: nobody is told)")


def _subscription_line(subscription: dict[str, str]) -> str:
    arn = subscription.get("SubscriptionArn", "")
    state = "pending confirmation" if "PendingConfirmation" in arn else "confirmed"
    return f"{subscription['Protocol']} {subscription['Endpoint']} ({state})"


def set_state_drill(cloudwatch: Any, tool: LaunchedTool, echo: Echo) -> None:
    """ALARM then OK through SetAlarmState: the alarm's actions run for both changes."""
    echo(f"== SetAlarmState {tool.alarm_name}")
    for state in ("ALARM", "OK"):
        cloudwatch.set_alarm_state(
            AlarmName=tool.alarm_name, StateValue=state, StateReason=DRILL_REASON
        )
        now = cloudwatch.describe_alarms(AlarmNames=[tool.alarm_name])["MetricAlarms"][0]
        # On AWS an evaluation may run in between and set the state its data says again.
        seen = "" if now["StateValue"] == state else f" (now {now['StateValue']} again)"
        echo(f"  set to {state}: its {state} actions ran{seen}")


def echo_history(cloudwatch: Any, alarm_name: str, echo: Echo) -> None:
    echo(f"== alarm history of {alarm_name}")
    pages = cloudwatch.get_paginator("describe_alarm_history").paginate(
        AlarmName=alarm_name, HistoryItemType="StateUpdate"
    )
    items = [item for page in pages for item in page["AlarmHistoryItems"]]
    # AWS lists newest first; reading it backwards is oldest first, same-instant changes included.
    oldest_first = items[::-1]
    oldest_first.sort(key=lambda entry: entry["Timestamp"])
    for item in oldest_first:
        echo(f"  {item['Timestamp'].isoformat()}  {item['HistorySummary']}")
