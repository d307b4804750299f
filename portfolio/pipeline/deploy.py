"""`python build.py pipeline deploy`: create or update the release pipeline stack.

Like publish, it shows the plan first: a CloudFormation change set of dist/infra/pipeline.json
with the given parameters, listed resource by resource; it is executed after a confirmation
(or --yes). The parameters are checked before any AWS call, with the template's own patterns.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import botocore.exceptions
import click

from catalog.cli_context import CliContext
from portfolio import render
from portfolio.aws import Target, error_code
from portfolio.pipeline.errors import PipelineError
from portfolio.polling import wait_for
from products.pipeline import BRANCH_PATTERN, CONNECTION_PATTERN, REPOSITORY_PATTERN

STACK_NAME = "oncall-catalog-pipeline"
NO_CHANGES = "didn't contain changes"
_IN_PROGRESS = "_IN_PROGRESS"
_UPDATABLE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE")
Echo = Callable[[str], None]


@dataclass(frozen=True)
class PipelineParameters:
    """The pipeline stack's parameters: where the source comes from."""

    connection_arn: str
    repository: str
    branch: str = "main"

    def validate(self) -> None:
        """Refuse a value the stack would refuse, naming the option and what it must be."""
        checks = (
            (
                "--connection-arn",
                self.connection_arn,
                CONNECTION_PATTERN,
                "a CodeConnections "
                "connection ARN (arn:aws:codeconnections:REGION:ACCOUNT:connection/ID)",
            ),
            ("--repository", self.repository, REPOSITORY_PATTERN, "OWNER/NAME"),
            ("--branch", self.branch, BRANCH_PATTERN, "a branch name"),
        )
        for option, value, pattern, expected in checks:
            if not re.match(pattern, value):
                raise PipelineError(f"{option} {value!r} is not {expected}")

    def as_cfn(self) -> list[dict[str, str]]:
        values = {
            "ConnectionArn": self.connection_arn,
            "FullRepositoryId": self.repository,
            "BranchName": self.branch,
        }
        return [{"ParameterKey": key, "ParameterValue": value} for key, value in values.items()]


@dataclass(frozen=True)
class ChangeSet:
    """A created change set and what it would do; no changes means the stack is up to date."""

    name: str
    kind: str  # CREATE or UPDATE
    changes: list[dict[str, str]]


def plan_pipeline(cfn: Any, body: str, parameters: PipelineParameters) -> ChangeSet | None:
    """Create a change set of BODY with PARAMETERS; None when nothing would change."""
    kind = _change_set_type(cfn)
    name = f"pipeline-deploy-{uuid.uuid4().hex[:12]}"
    cfn.create_change_set(
        StackName=STACK_NAME,
        ChangeSetName=name,
        ChangeSetType=kind,
        TemplateBody=body,
        Parameters=parameters.as_cfn(),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    described = wait_for(lambda: _settled_change_set(cfn, name), f"change set {name}")
    if described["Status"] == "FAILED":
        reason = str(described.get("StatusReason", ""))
        cfn.delete_change_set(StackName=STACK_NAME, ChangeSetName=name)
        if NO_CHANGES in reason:
            return None
        raise PipelineError(f"stack {STACK_NAME}: the change set failed: {reason}")
    return ChangeSet(name, kind, [_change_row(change) for change in described["Changes"]])


def _change_set_type(cfn: Any) -> str:
    stack = _describe(cfn)
    if stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS":
        return "CREATE"  # never created, or an earlier CREATE change set was not executed
    if str(stack["StackStatus"]).endswith(_IN_PROGRESS):
        raise PipelineError(f"stack {STACK_NAME} is {stack['StackStatus']}; wait and rerun")
    if stack["StackStatus"] not in _UPDATABLE:
        raise PipelineError(
            f"stack {STACK_NAME} is {stack['StackStatus']}; fix or delete it, then rerun"
        )
    return "UPDATE"


def _describe(cfn: Any) -> dict[str, Any] | None:
    try:
        stacks = cfn.describe_stacks(StackName=STACK_NAME)["Stacks"]
    except botocore.exceptions.ClientError as error:
        if error_code(error) == "ValidationError":  # CloudFormation's "does not exist"
            return None
        raise
    return stacks[0] if stacks else None


def _settled_change_set(cfn: Any, name: str) -> dict[str, Any] | None:
    described: dict[str, Any] = cfn.describe_change_set(StackName=STACK_NAME, ChangeSetName=name)
    return None if described["Status"].endswith(("_PENDING", _IN_PROGRESS)) else described


def _change_row(change: dict[str, Any]) -> dict[str, str]:
    resource = change.get("ResourceChange", {})
    return {
        "action": str(resource.get("Action", "")),
        "resource": str(resource.get("LogicalResourceId", "")),
        "type": str(resource.get("ResourceType", "")),
        "replacement": str(resource.get("Replacement", "-") or "-"),
    }


def change_set_table(change_set: ChangeSet) -> str:
    rows = [
        [row["action"], row["resource"], row["type"], row["replacement"]]
        for row in change_set.changes
    ]
    return render.table(["action", "resource", "type", "replacement"], rows)


def execute(cfn: Any, change_set: ChangeSet, echo: Echo) -> dict[str, str]:
    """Run CHANGE_SET, wait for the stack and return its outputs."""
    cfn.execute_change_set(StackName=STACK_NAME, ChangeSetName=change_set.name)
    final = wait_for(lambda: _settled_stack(cfn), f"stack {STACK_NAME}")
    echo(f"stack {STACK_NAME} {final}")
    if final not in _UPDATABLE or final == "UPDATE_ROLLBACK_COMPLETE":
        raise PipelineError(f"stack {STACK_NAME} ended {final}: {_failure_reason(cfn)}")
    stack = _describe(cfn) or {}
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def discard(cfn: Any, change_set: ChangeSet) -> None:
    cfn.delete_change_set(StackName=STACK_NAME, ChangeSetName=change_set.name)


def _settled_stack(cfn: Any) -> str | None:
    status = str(cfn.describe_stacks(StackName=STACK_NAME)["Stacks"][0]["StackStatus"])
    return None if status.endswith(_IN_PROGRESS) else status


def _failure_reason(cfn: Any) -> str:
    events = cfn.describe_stack_events(StackName=STACK_NAME)["StackEvents"]
    reasons = [
        str(event.get("ResourceStatusReason", ""))
        for event in events
        if str(event.get("ResourceStatus", "")).endswith("FAILED")
    ]
    return reasons[0] if reasons else "no failure reason recorded"


# -- the command -----------------------------------------------------------------------------


def pipeline_template(obj: CliContext) -> tuple[str, str]:
    """The built pipeline template and the region it goes to (the portfolio's first)."""
    from portfolio.workflow import prepare

    build = bool(click.get_current_context().meta.get("portfolio.build", True))
    built = prepare(obj.config_path, obj.dist_dir, build=build)
    relative = built.manifest.infra.get("pipeline", "")
    if not relative:
        raise PipelineError(f"{obj.dist_dir}: the build has no pipeline template; build again")
    body = (built.dist_dir / relative).read_text(encoding="utf-8")
    json.loads(body)  # a truncated file fails here, before any call
    return body, built.desired.regions[0]


def _confirmed(yes: bool) -> bool:
    if yes or not sys.stdin.isatty():
        return True
    return click.confirm("Apply this change set?", default=False)


def _deploy_options(command: Callable[..., Any]) -> Callable[..., Any]:
    from portfolio.commands import target_options

    command = target_options(command)
    command = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")(
        command
    )
    command = click.option(
        "--branch", default="main", show_default=True, help="The branch to release."
    )(command)
    command = click.option(
        "--repository", required=True, metavar="OWNER/NAME", help="The repository."
    )(command)
    return click.option(
        "--connection-arn",
        required=True,
        metavar="ARN",
        help="The CodeConnections connection to the repository host (AVAILABLE).",
    )(command)


@click.command("deploy")
@_deploy_options
@click.pass_obj
def deploy_pipeline(
    obj: CliContext,
    *,
    connection_arn: str,
    repository: str,
    branch: str,
    yes: bool,
    target: Target,
    local: bool,
) -> None:
    """Create or update the release pipeline stack (shows the change set first)."""
    from portfolio.workflow import open_clients

    parameters = PipelineParameters(connection_arn, repository, branch)
    parameters.validate()
    body, home = pipeline_template(obj)
    region = target.region or home
    with open_clients(target, local) as clients:
        cfn = clients.client("cloudformation", region)
        change_set = plan_pipeline(cfn, body, parameters)
        if change_set is None:
            click.echo(f"{region}: stack {STACK_NAME} is up to date; nothing to do")
            return
        click.echo(f"{region}: stack {STACK_NAME} ({change_set.kind})")
        click.echo(change_set_table(change_set))
        if not _confirmed(yes):
            discard(cfn, change_set)
            raise PipelineError("pipeline deploy cancelled; nothing was changed")
        outputs = execute(cfn, change_set, click.echo)
    for key, value in sorted(outputs.items()):
        click.echo(f"  {key} = {value}")
