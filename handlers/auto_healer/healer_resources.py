"""Read-only facts about the resource to heal: tags, state, Auto Scaling membership, deployments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from oncall_shared.aws import client


@dataclass(frozen=True)
class Ec2Facts:
    instance_id: str
    state: str
    root_device_type: str
    tags: dict[str, str]


@dataclass(frozen=True)
class EcsFacts:
    cluster: str
    service: str
    arn: str
    status: str
    tags: dict[str, str]
    primary_deployment: str | None


def describe_instance(instance_id: str) -> Ec2Facts | None:
    """The instance, or None when it does not exist (terminated long ago, wrong account)."""
    try:
        answer = client("ec2").describe_instances(InstanceIds=[instance_id])
    except ClientError as error:
        if _code(error) in ("InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"):
            return None
        raise
    instances = [i for r in answer.get("Reservations", []) for i in r.get("Instances", [])]
    if not instances:
        return None
    instance = instances[0]
    return Ec2Facts(
        instance_id=instance_id,
        state=str(instance.get("State", {}).get("Name", "unknown")),
        root_device_type=str(instance.get("RootDeviceType", "unknown")),
        tags=_ec2_tags(instance.get("Tags", [])),
    )


def auto_scaling_group_of(instance_id: str) -> str | None:
    answer = client("autoscaling").describe_auto_scaling_instances(InstanceIds=[instance_id])
    for member in answer.get("AutoScalingInstances", []):
        if member.get("InstanceId") == instance_id:
            return str(member["AutoScalingGroupName"])
    return None


def instance_state(instance_id: str) -> str:
    facts = describe_instance(instance_id)
    return facts.state if facts is not None else "not-found"


def describe_service(cluster: str, service: str) -> EcsFacts | None:
    try:
        answer = client("ecs").describe_services(
            cluster=cluster, services=[service], include=["TAGS"]
        )
    except ClientError as error:
        if _code(error) == "ClusterNotFoundException":
            return None
        raise
    services = answer.get("services", [])
    if not services:
        return None
    found = services[0]
    return EcsFacts(
        cluster=cluster,
        service=service,
        arn=str(found["serviceArn"]),
        status=str(found.get("status", "UNKNOWN")),
        tags={str(t["key"]): str(t.get("value", "")) for t in found.get("tags", [])},
        primary_deployment=primary_deployment(found.get("deployments", [])),
    )


def primary_deployment(deployments: list[dict[str, Any]]) -> str | None:
    for deployment in deployments:
        if deployment.get("status") == "PRIMARY":
            return str(deployment["id"])
    return None


def _ec2_tags(tags: list[dict[str, Any]]) -> dict[str, str]:
    return {str(tag["Key"]): str(tag.get("Value", "")) for tag in tags}


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
