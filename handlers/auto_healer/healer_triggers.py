"""Turn an incoming event into healing requests, validating the whole event before any action.

Accepted: CloudWatch alarm state changes (EventBridge, SNS, direct alarm action) via
oncall_shared.events, and EventBridge "ECS Service Action" / "ECS Deployment State Change".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from oncall_shared.errors import BadEventError
from oncall_shared.events import AlarmChange, parse_alarm_event, parse_arn

INSTANCE_CHECK = "StatusCheckFailed_Instance"
SYSTEM_CHECK = "StatusCheckFailed_System"
ECS_DETAIL_TYPES = frozenset({"ECS Service Action", "ECS Deployment State Change"})
# Only this ECS event describes a service that a fresh deployment can plausibly fix.
ECS_HEALABLE_EVENTS = frozenset({"SERVICE_TASK_START_IMPAIRED"})
_ECS_METRIC_NAMESPACES = frozenset({"AWS/ECS", "ECS/ContainerInsights"})


@dataclass(frozen=True)
class Ec2Issue:
    instance_id: str
    check: str  # INSTANCE_CHECK or SYSTEM_CHECK

    @property
    def resource_id(self) -> str:
        return self.instance_id


@dataclass(frozen=True)
class EcsIssue:
    cluster: str
    service: str

    @property
    def resource_id(self) -> str:
        return f"ecs:{self.cluster}/{self.service}"


Issue = Ec2Issue | EcsIssue


@dataclass(frozen=True)
class Home:
    """The account and region the healer runs in: the only place its clients act on.

    A resource named elsewhere (an alarm action from another account, an event forwarded from
    another region) must be ignored: a same-named instance or service here is not the one that
    is failing.
    """

    account: str
    region: str

    def out_of_reach(self, what: str, account: str, region: str) -> str | None:
        """Why ``what`` (in account/region) is not ours to heal, or None when it is."""
        if account != self.account:
            return f"{what} is in account {account}, healer runs in {self.account}"
        if region != self.region:
            return f"{what} is in {region}, healer runs in {self.region}"
        return None


@dataclass(frozen=True)
class Trigger:
    """What happened, and either the issue to heal or why the event calls for nothing."""

    description: str
    issue: Issue | None = None
    ignore_reason: str | None = None


def parse_triggers(event: Any, home: Home) -> list[Trigger]:
    if isinstance(event, Mapping) and event.get("source") == "aws.ecs":
        return [_ecs_trigger(event, home)]
    return [_alarm_trigger(alarm, home) for alarm in parse_alarm_event(event)]


def _alarm_trigger(alarm: AlarmChange, home: Home) -> Trigger:
    description = f"alarm {alarm.name!r} {alarm.old_state or '?'} -> {alarm.new_state}"
    if alarm.new_state != "ALARM":
        return Trigger(
            description, ignore_reason=f"alarm state is {alarm.new_state}, nothing to heal"
        )
    # Account and region come from the alarm's ARN; its dimensions name resources there, or in
    # the account its metric names (an alarm in a monitoring account on another's metric).
    elsewhere = home.out_of_reach("alarm", alarm.account, alarm.region) or home.out_of_reach(
        "alarm's metric", alarm.metric_account or alarm.account, alarm.region
    )
    if elsewhere:
        return Trigger(description, ignore_reason=elsewhere)
    if alarm.metric_name is None or alarm.dimensions is None:
        return Trigger(
            description, ignore_reason="alarm has no single metric (metric math or composite)"
        )
    issue = _issue_from_metric(alarm.namespace, alarm.metric_name, alarm.dimensions)
    if issue is None:
        reason = f"metric {alarm.namespace}/{alarm.metric_name} is not one the healer acts on"
        return Trigger(description, ignore_reason=reason)
    return Trigger(f"{description} on {alarm.namespace}/{alarm.metric_name}", issue=issue)


def _issue_from_metric(
    namespace: str | None, metric: str, dimensions: Mapping[str, str]
) -> Issue | None:
    if namespace == "AWS/EC2" and metric in (INSTANCE_CHECK, SYSTEM_CHECK):
        instance_id = dimensions.get("InstanceId")
        return Ec2Issue(instance_id, metric) if instance_id else None
    if namespace in _ECS_METRIC_NAMESPACES:
        cluster, service = dimensions.get("ClusterName"), dimensions.get("ServiceName")
        return EcsIssue(cluster, service) if cluster and service else None
    return None


def _ecs_trigger(raw: Mapping[str, Any], home: Home) -> Trigger:
    event = EventBridgeEvent(dict(raw))
    # The data class raises KeyError on absent fields: check presence first, for a clear error.
    detail_type = event.get("detail-type")
    # Type first: a list or object is unhashable and cannot be looked up in the set.
    if not isinstance(detail_type, str) or detail_type not in ECS_DETAIL_TYPES:
        raise BadEventError(
            f"aws.ecs event detail-type={detail_type!r} is not one of {sorted(ECS_DETAIL_TYPES)}"
        )
    if not isinstance(event.get("detail"), Mapping):
        raise BadEventError(f"{detail_type} event has no 'detail' object")
    name = event.detail.get("eventName")
    if not isinstance(name, str) or not name:
        raise BadEventError(f"{detail_type} event detail.eventName={name!r} is missing")
    cluster, service = _ecs_service_from_event(event)
    description = f"ECS {name} for service {cluster}/{service}"
    if name not in ECS_HEALABLE_EVENTS:
        return Trigger(
            description, ignore_reason=f"ECS event {name} is not healed by a new deployment"
        )
    service_arn = parse_arn(event["resources"][0])  # checked by _ecs_service_from_event
    elsewhere = home.out_of_reach("service", service_arn.account, service_arn.region)
    if elsewhere:
        return Trigger(description, ignore_reason=elsewhere)
    return Trigger(description, issue=EcsIssue(cluster, service))


def _ecs_service_from_event(event: EventBridgeEvent) -> tuple[str, str]:
    resources = event.get("resources")
    if not isinstance(resources, list) or not resources or not isinstance(resources[0], str):
        raise BadEventError("ECS service event has no service ARN in 'resources'")
    resource = parse_arn(resources[0]).resource
    if not resource.startswith("service/"):
        raise BadEventError(f"ECS event resource {resources[0]!r} is not a service ARN")
    path = resource.removeprefix("service/").split("/")
    if len(path) == 2:
        return path[0], path[1]
    # Old-format service ARNs (service/<name>) lack the cluster: take it from detail.clusterArn.
    cluster_arn = event.detail.get("clusterArn")
    if not isinstance(cluster_arn, str):
        raise BadEventError(f"ECS event service {resources[0]!r} has no cluster and no clusterArn")
    return parse_arn(cluster_arn).resource.removeprefix("cluster/"), path[-1]
