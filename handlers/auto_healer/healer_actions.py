"""The remediation actions, each followed by a check that it took effect."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from healer_resources import EcsFacts, instance_state, primary_deployment
from oncall_shared.aws import client
from oncall_shared.errors import OncallError

POLL_INTERVAL_SECONDS = 5.0
REBOOT = "reboot"
STOP_START = "stop-start"
FORCE_DEPLOYMENT = "force-new-deployment"
AUTOMATION = "ssm-automation"
_AUTOMATION_BAD_STATES = frozenset({"Failed", "Cancelled", "TimedOut", "CompletedWithFailure"})
# Stopping an EBS-backed instance commonly takes one to several minutes; starting one that we
# could not finish would leave it stopped, so stop/start needs this much function time up front.
STOP_START_MIN_SECONDS = 120.0


class ActionFailedError(OncallError):
    """The remediation call failed or did not take effect within the time available."""


@dataclass(frozen=True)
class PlannedAction:
    kind: str
    resource_id: str
    instance_id: str | None = None
    ecs: EcsFacts | None = None
    document: str | None = None

    @property
    def min_seconds(self) -> float:
        """Function time an action needs to finish and be verified."""
        return STOP_START_MIN_SECONDS if self.kind == STOP_START else 0.0

    def describe(self) -> str:
        if self.kind == AUTOMATION:
            return f"start SSM Automation {self.document!r} for {self.resource_id}"
        return f"{self.kind} {self.resource_id}"


def execute(action: PlannedAction, seconds_left: Callable[[], float]) -> str:
    """Run ``action`` and confirm its effect; returns what was verified, or raises."""
    runner = {
        REBOOT: _reboot,
        STOP_START: _stop_start,
        FORCE_DEPLOYMENT: _force_deployment,
        AUTOMATION: _automation,
    }[action.kind]
    try:
        return runner(action, seconds_left)
    except (ClientError, BotoCoreError) as error:
        # Any AWS failure after the reservation must reach the caller as ActionFailedError,
        # which releases the cooldown so Lambda's retry can try again.
        raise ActionFailedError(f"{action.describe()} failed: {error}") from error


def _reboot(action: PlannedAction, seconds_left: Callable[[], float]) -> str:
    instance_id = _instance(action)
    client("ec2").reboot_instances(InstanceIds=[instance_id])
    # A reboot keeps the instance "running"; status checks need minutes, and the alarm that
    # triggered us returns to OK when they pass. Here we confirm it did not stop or vanish.
    _wait_for_state(instance_id, "running", seconds_left)
    return f"instance {instance_id} rebooted and is running"


def _stop_start(action: PlannedAction, seconds_left: Callable[[], float]) -> str:
    """Stop and start moves an EBS-backed instance to healthy hardware (system check failure)."""
    instance_id = _instance(action)
    ec2 = client("ec2")
    ec2.stop_instances(InstanceIds=[instance_id])
    try:
        _wait_for_state(instance_id, "stopped", seconds_left)
    except ActionFailedError as error:
        raise ActionFailedError(f"{error}; it was NOT started again, check it by hand") from None
    ec2.start_instances(InstanceIds=[instance_id])
    _wait_for_state(instance_id, "running", seconds_left)
    return f"instance {instance_id} stopped and started again, now running"


def _force_deployment(action: PlannedAction, seconds_left: Callable[[], float]) -> str:
    ecs = action.ecs
    if ecs is None:
        raise ActionFailedError(f"{action.describe()}: no ECS service facts")
    answer = client("ecs").update_service(
        cluster=ecs.cluster, service=ecs.service, forceNewDeployment=True
    )
    # The answer describes the service after the update. A DescribeServices call right after
    # could still show the old deployment (ECS reads are eventually consistent), fail the action
    # and have Lambda's retry force another deployment.
    new_primary = primary_deployment(answer.get("service", {}).get("deployments", []))
    if new_primary is None or new_primary == ecs.primary_deployment:
        raise ActionFailedError(
            f"{action.describe()}: primary deployment is still {ecs.primary_deployment!r}"
        )
    return f"service {ecs.cluster}/{ecs.service} has new primary deployment {new_primary}"


def _automation(action: PlannedAction, seconds_left: Callable[[], float]) -> str:
    instance_id = _instance(action)
    ssm = client("ssm")
    execution_id = ssm.start_automation_execution(
        DocumentName=action.document, Parameters={"InstanceId": [instance_id]}
    )["AutomationExecutionId"]
    status = ssm.get_automation_execution(AutomationExecutionId=execution_id)[
        "AutomationExecution"
    ]["AutomationExecutionStatus"]
    if status in _AUTOMATION_BAD_STATES:
        raise ActionFailedError(f"{action.describe()}: execution {execution_id} is {status}")
    # Runbooks can run for many minutes; we confirm it started, the runbook reports the end.
    return f"automation execution {execution_id} for {instance_id} is {status}"


def _instance(action: PlannedAction) -> str:
    if action.instance_id is None:
        raise ActionFailedError(f"{action.describe()}: no instance id")
    return action.instance_id


def _wait_for_state(instance_id: str, wanted: str, seconds_left: Callable[[], float]) -> None:
    while True:
        state = instance_state(instance_id)
        if state == wanted:
            return
        if seconds_left() <= POLL_INTERVAL_SECONDS:
            raise ActionFailedError(
                f"instance {instance_id} is {state!r}, not {wanted!r}, when time ran out"
            )
        time.sleep(POLL_INTERVAL_SECONDS)
