"""Bootstrap: deploy dist/infra/bootstrap.json (artifact bucket, launch role) in a region.

Idempotent: when the deployed template and parameters equal ours, no write call is made.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.exceptions

from catalog.errors import BuildOutputError
from catalog.manifest import MANIFEST_NAME, Manifest
from portfolio.aws import error_code
from portfolio.errors import PublishError
from portfolio.polling import wait_for

STACK_NAME = "oncall-catalog-bootstrap"
_IN_PROGRESS_SUFFIX = "_IN_PROGRESS"
_GOOD = ("CREATE_COMPLETE", "UPDATE_COMPLETE")
# A failed update rolled back to the previous template: the stack works and can be updated.
_UPDATABLE = (*_GOOD, "UPDATE_ROLLBACK_COMPLETE")


def bootstrap_template(dist_dir: Path, manifest: Manifest) -> str:
    relative = manifest.infra.get("bootstrap", "")
    if not relative:
        raise BuildOutputError(f"{dist_dir / MANIFEST_NAME}: infra.bootstrap is missing")
    path = dist_dir / relative
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise BuildOutputError(f"{path}: not found; run `python build.py build`") from error


def bootstrap_parameters(
    template_body: str, organization_id: str | None, create_launch_role: bool = True
) -> dict[str, str]:
    """The stack's parameters; IAM is global, so only one region creates the launch role."""
    declared = json.loads(template_body).get("Parameters", {})
    values = {
        "OrganizationId": organization_id or "",
        "CreateLaunchRole": "true" if create_launch_role else "false",
    }
    return {key: value for key, value in values.items() if key in declared}


def deploy(
    cfn: Any,
    region: str,
    template_body: str,
    parameters: dict[str, str],
    progress: Callable[[str], None],
) -> str:
    """'created', 'updated' or 'unchanged'."""
    stack = _describe(cfn)
    listed = [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(parameters.items())]
    common = {
        "StackName": STACK_NAME,
        "TemplateBody": template_body,
        "Parameters": listed,
        "Capabilities": ["CAPABILITY_NAMED_IAM"],
    }
    if stack is None:
        cfn.create_stack(**common)
        _wait(cfn, region, progress)
        return "created"
    if str(stack["StackStatus"]).endswith(_IN_PROGRESS_SUFFIX):  # another run is deploying
        _wait(cfn, region, progress)
        stack = _describe(cfn) or stack
    if stack["StackStatus"] not in _UPDATABLE:
        raise PublishError(
            f"{region}: stack {STACK_NAME} is {stack['StackStatus']}; fix or "
            "delete it, then run bootstrap again"
        )
    if _same(cfn, stack, template_body, parameters):
        return "unchanged"
    cfn.update_stack(**common)
    _wait(cfn, region, progress)
    return "updated"


def _describe(cfn: Any) -> dict[str, Any] | None:
    try:
        stacks = cfn.describe_stacks(StackName=STACK_NAME)["Stacks"]
    except botocore.exceptions.ClientError as error:
        if error_code(error) == "ValidationError":  # CloudFormation's "does not exist"
            return None
        raise
    return stacks[0] if stacks else None


def _same(cfn: Any, stack: dict[str, Any], body: str, parameters: dict[str, str]) -> bool:
    deployed = cfn.get_template(StackName=STACK_NAME)["TemplateBody"]
    deployed_doc = json.loads(deployed) if isinstance(deployed, str) else deployed
    have = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    return bool(deployed_doc == json.loads(body) and have == parameters)


def _wait(cfn: Any, region: str, progress: Callable[[str], None]) -> None:
    def check() -> str | None:
        status = str(cfn.describe_stacks(StackName=STACK_NAME)["Stacks"][0]["StackStatus"])
        return None if status.endswith(_IN_PROGRESS_SUFFIX) else status

    final = wait_for(check, f"{region}: stack {STACK_NAME}")
    progress(f"{region}: stack {STACK_NAME} {final}")
    if final not in _UPDATABLE:
        raise PublishError(f"{region}: stack {STACK_NAME} ended {final}: {_failure_reason(cfn)}")


def _failure_reason(cfn: Any) -> str:
    events = cfn.describe_stack_events(StackName=STACK_NAME)["StackEvents"]
    reasons = [
        e.get("ResourceStatusReason", "")
        for e in events
        if str(e.get("ResourceStatus", "")).endswith("FAILED")
    ]
    return reasons[-1] if reasons else "no failure reason recorded"
