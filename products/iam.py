"""Small helpers for least-privilege IAM statements built with awacs.

Products declare their permissions with these helpers next to their builders; the meta-test reads
the generated templates back and fails on wildcard actions or unjustified wildcard resources.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from awacs.aws import Action, Allow, Condition, Statement

# Actions that AWS does not let a policy scope to a resource: "*" is the tightest resource there is.
# Only the ones our templates grant are listed, so the tests' check stays as tight as it can be.
# https://docs.aws.amazon.com/service-authorization/latest/reference/ lists them per service.
ACTIONS_WITHOUT_RESOURCE_SCOPE = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "ec2:DescribeInstances",
        "ec2:DescribeNetworkInterfaces",
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
        "autoscaling:DescribeAutoScalingInstances",
        "kms:CreateKey",
        "cloudformation:ValidateTemplate",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeVpcs",
        "logs:DescribeLogGroups",
        "logs:DescribeResourcePolicies",
        "logs:DescribeIndexPolicies",
        "kms:ListAliases",
        "cloudformation:GetTemplateSummary",
    }
)


@dataclass(frozen=True)
class Grant:
    """One statement of a role's policy, present only when the template condition WHEN holds.

    A statement whose resource is switched off by a condition cannot stay in the policy (IAM
    rejects a statement without resources), so conditional grants go in their own inline policy
    that the condition adds or removes whole.
    """

    statement: Statement
    when: str | None = None


def statement(
    actions: Sequence[Action],
    resources: Sequence[Any],
    condition: Condition | None = None,
    sid: str | None = None,
) -> Statement:
    """An Allow statement; resources may be strings or CloudFormation intrinsic functions."""
    kwargs: dict[str, Any] = {"Effect": Allow, "Action": list(actions), "Resource": list(resources)}
    if condition is not None:
        kwargs["Condition"] = condition
    if sid is not None:
        kwargs["Sid"] = sid
    return Statement(**kwargs)


def allow(
    actions: Sequence[Action],
    resources: Sequence[Any],
    condition: Condition | None = None,
    sid: str | None = None,
    when: str | None = None,
) -> Grant:
    """A grant of ACTIONS on RESOURCES, optionally only when template condition WHEN holds."""
    return Grant(statement(actions, resources, condition, sid), when)
