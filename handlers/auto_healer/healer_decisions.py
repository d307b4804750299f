"""Decide, for one trigger, whether to act, and carry the action out under the safety rules.

Order of the rules: the resource exists and is opted in (tag), is in a state worth healing,
is not an Auto Scaling group member, then dry run, then cooldown and hourly cap, then act and
verify. Every path ends in one Decision that says what happened and why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from healer_actions import (
    AUTOMATION,
    FORCE_DEPLOYMENT,
    REBOOT,
    STOP_START,
    ActionFailedError,
    PlannedAction,
    execute,
)
from healer_guard import GuardLimits, peek, release, reserve
from healer_resources import (
    Ec2Facts,
    auto_scaling_group_of,
    describe_instance,
    describe_service,
)
from healer_triggers import INSTANCE_CHECK, Ec2Issue, EcsIssue, Issue, Trigger

ACTED = "acted"
DRY_RUN = "dry-run"
SKIPPED = "skipped"
FAILED = "failed"
IGNORED = "ignored"


@dataclass(frozen=True)
class HealerPolicy:
    opt_in_tag_key: str
    dry_run: bool
    limits: GuardLimits
    automation_document: str | None


@dataclass(frozen=True)
class Decision:
    outcome: str
    trigger: str
    detail: str
    resource_id: str | None = None
    action: str | None = None


def decide(
    trigger: Trigger, policy: HealerPolicy, seconds_left: Callable[[], float], now: float
) -> Decision:
    if trigger.issue is None:
        return Decision(IGNORED, trigger.description, trigger.ignore_reason or "no issue")
    issue = trigger.issue
    try:
        planned = plan(issue, policy)
        if isinstance(planned, str):
            return Decision(SKIPPED, trigger.description, planned, issue.resource_id)
        return _carry_out(trigger, planned, policy, seconds_left, now)
    except (ClientError, BotoCoreError) as error:
        # Reported as a failed decision; the handler raises after publishing so Lambda retries.
        return Decision(FAILED, trigger.description, f"AWS call failed: {error}", issue.resource_id)


def plan(issue: Issue, policy: HealerPolicy) -> PlannedAction | str:
    """The action to take, or the reason to take none."""
    if isinstance(issue, Ec2Issue):
        return _plan_ec2(issue, policy)
    return _plan_ecs(issue, policy)


def _plan_ec2(issue: Ec2Issue, policy: HealerPolicy) -> PlannedAction | str:
    facts = describe_instance(issue.instance_id)
    if facts is None:
        return f"instance {issue.instance_id} not found"
    refusal = _ec2_refusal(facts, policy)
    if refusal is not None:
        return refusal
    return choose_ec2_action(issue, facts.root_device_type, policy.automation_document)


def choose_ec2_action(
    issue: Ec2Issue, root_device_type: str, automation_document: str | None
) -> PlannedAction | str:
    """Reboot for an instance check, stop/start (EBS only) for a system check, or the runbook."""
    if automation_document:
        return PlannedAction(
            AUTOMATION, issue.resource_id, issue.instance_id, document=automation_document
        )
    if issue.check == INSTANCE_CHECK:
        return PlannedAction(REBOOT, issue.resource_id, issue.instance_id)
    if root_device_type != "ebs":
        return (
            f"root device is {root_device_type!r}: stop/start would lose instance-store "
            "data; rely on EC2 automatic recovery (or a recover action on the alarm)"
        )
    return PlannedAction(STOP_START, issue.resource_id, issue.instance_id)


def _ec2_refusal(facts: Ec2Facts, policy: HealerPolicy) -> str | None:
    refusal = _opt_in_refusal(facts.tags, policy.opt_in_tag_key)
    if refusal is not None:
        return refusal
    if facts.state != "running":
        return f"instance state is {facts.state!r}; only running instances are healed"
    group = auto_scaling_group_of(facts.instance_id)
    if group is not None:
        return f"member of Auto Scaling group {group!r}: the group replaces unhealthy instances"
    return None


def _plan_ecs(issue: EcsIssue, policy: HealerPolicy) -> PlannedAction | str:
    facts = describe_service(issue.cluster, issue.service)
    if facts is None:
        return f"ECS service {issue.cluster}/{issue.service} not found"
    if facts.status != "ACTIVE":
        return f"ECS service status is {facts.status!r}; only ACTIVE services are healed"
    refusal = _opt_in_refusal(facts.tags, policy.opt_in_tag_key)
    if refusal is not None:
        return refusal
    return PlannedAction(FORCE_DEPLOYMENT, issue.resource_id, ecs=facts)


def _opt_in_refusal(tags: dict[str, str], key: str) -> str | None:
    value = tags.get(key)
    # Exactly "true": the IAM policy's aws:ResourceTag condition compares case-sensitively,
    # so a looser match here would only turn into AccessDenied at action time.
    if value == "true":
        return None
    shown = "missing" if value is None else repr(value)
    return f"not opted in: tag {key!r} is {shown} (must be 'true')"


def _carry_out(
    trigger: Trigger,
    action: PlannedAction,
    policy: HealerPolicy,
    seconds_left: Callable[[], float],
    now: float,
) -> Decision:
    resource = action.resource_id
    if policy.dry_run:
        blocked = peek(policy.limits, resource, now)
        suffix = f", but it would be skipped: {blocked}" if blocked else ""
        return Decision(
            DRY_RUN,
            trigger.description,
            f"would {action.describe()}{suffix}",
            resource,
            action.kind,
        )
    if seconds_left() < action.min_seconds:
        # Skipped, not failed: a retry would have no more time than this invocation.
        reason = (
            f"{action.kind} needs {action.min_seconds:.0f}s of function time, only "
            f"{max(seconds_left(), 0):.0f}s left; raise the function timeout"
        )
        return Decision(SKIPPED, trigger.description, reason, resource, action.kind)
    blocked = reserve(policy.limits, resource, action.kind, now)
    if blocked is not None:
        return Decision(SKIPPED, trigger.description, blocked, resource, action.kind)
    try:
        verified = execute(action, seconds_left)
    except ActionFailedError as error:
        release(policy.limits, resource)
        return Decision(FAILED, trigger.description, str(error), resource, action.kind)
    return Decision(ACTED, trigger.description, verified, resource, action.kind)
