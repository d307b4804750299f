"""Bootstrap: deploy dist/infra/bootstrap.json (artifact bucket, launch role) in a region, or
with --spoke ACCOUNT dist/infra/spoke.json (launch role, the pipeline's deploy role) in an
environment's account.

Idempotent: when the deployed template and parameters equal ours, no write call is made.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import botocore.exceptions

from catalog.config import CatalogConfig
from catalog.errors import BuildOutputError
from catalog.manifest import MANIFEST_NAME, Manifest
from portfolio.aws import AwsClients, error_code, timeouts
from portfolio.errors import PublishError
from portfolio.polling import wait_for
from portfolio.stack_events import BootstrapWatcher

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
    *,
    stack_name: str = STACK_NAME,
) -> str:
    """'created', 'updated' or 'unchanged'."""
    stack = _describe(cfn, stack_name)
    listed = [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(parameters.items())]
    common = {
        "StackName": stack_name,
        "TemplateBody": template_body,
        "Parameters": listed,
        "Capabilities": ["CAPABILITY_NAMED_IAM"],
    }
    if stack is None:
        cfn.create_stack(**common)
        _wait(cfn, region, progress, stack_name)
        return "created"
    if str(stack["StackStatus"]).endswith(_IN_PROGRESS_SUFFIX):  # another run is deploying
        _wait(cfn, region, progress, stack_name)
        stack = _describe(cfn, stack_name) or stack
    if stack["StackStatus"] not in _UPDATABLE:
        raise PublishError(
            f"{region}: stack {stack_name} is {stack['StackStatus']}; fix or "
            "delete it, then run bootstrap again"
        )
    if _same(cfn, stack, template_body, parameters, stack_name):
        return "unchanged"
    cfn.update_stack(**common)
    _wait(cfn, region, progress, stack_name)
    return "updated"


def _describe(cfn: Any, stack_name: str = STACK_NAME) -> dict[str, Any] | None:
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except botocore.exceptions.ClientError as error:
        if error_code(error) == "ValidationError":  # CloudFormation's "does not exist"
            return None
        raise
    return stacks[0] if stacks else None


def _same(
    cfn: Any, stack: dict[str, Any], body: str, parameters: dict[str, str], stack_name: str
) -> bool:
    deployed = cfn.get_template(StackName=stack_name)["TemplateBody"]
    deployed_doc = json.loads(deployed) if isinstance(deployed, str) else deployed
    have = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    return bool(deployed_doc == json.loads(body) and have == parameters)


def _wait(cfn: Any, region: str, progress: Callable[[str], None], stack_name: str) -> None:
    watch = BootstrapWatcher(cfn, progress, f"{region}: ")  # the stack's events as they come

    def check() -> str | None:
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        watch(stack)
        status = str(stack["StackStatus"])
        return None if status.endswith(_IN_PROGRESS_SUFFIX) else status

    final = wait_for(check, f"{region}: stack {stack_name}")
    progress(f"{region}: stack {stack_name} {final}")
    if final not in _UPDATABLE:
        reason = _failure_reason(cfn, stack_name)
        raise PublishError(f"{region}: stack {stack_name} ended {final}: {reason}")


def _failure_reason(cfn: Any, stack_name: str) -> str:
    events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
    reasons = [
        e.get("ResourceStatusReason", "")
        for e in events
        if str(e.get("ResourceStatus", "")).endswith("FAILED")
    ]
    return reasons[-1] if reasons else "no failure reason recorded"


# -- the spoke stack: once per account an environment uses ----------------------------------

SPOKE_STACK_NAME = "oncall-catalog-spoke"
# The administrator role AWS Organizations creates in every account it creates.
DEFAULT_ADMIN_ROLE = "OrganizationAccountAccessRole"
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")


def spoke_template(dist_dir: Path, manifest: Manifest) -> str:
    relative = manifest.infra.get("spoke", "")
    if not relative:
        raise BuildOutputError(f"{dist_dir / MANIFEST_NAME}: infra.spoke is missing; build again")
    return (dist_dir / relative).read_text(encoding="utf-8")


def spoke_parameters(config: CatalogConfig, account: str, pipeline_account: str) -> dict[str, str]:
    """The pipeline account and the deploy project roles of the environments in ACCOUNT."""
    from products.pipeline import deploy_project_role_name

    environments = [
        env for env in config.environment_names if config.deploy_target(env).account == account
    ]
    if not environments:
        raise PublishError(
            f"account {account}: no environment of {config.path.name} is deployed there "
            "(set environments.<env>.account to it first)"
        )
    roles = [
        f"arn:aws:iam::{pipeline_account}:role/{deploy_project_role_name(config, env)}"
        for env in environments
    ]
    return {"PipelineAccountId": pipeline_account, "PipelineDeployRoleArns": ",".join(roles)}


def spoke_cloudformation(
    clients: AwsClients, region: str, account: str, admin_role: str
) -> tuple[Any, str]:
    """A CloudFormation client acting in ACCOUNT, and the account the credentials came from.

    The current credentials when they are ACCOUNT's; otherwise ADMIN_ROLE assumed in ACCOUNT.
    """
    if not _ROLE_NAME.match(admin_role):
        raise PublishError(f"--assume-role {admin_role!r} is not an IAM role name")
    current = clients.account_id(region)
    if current == account:
        return clients.client("cloudformation", region), current
    role_arn = f"arn:aws:iam::{account}:role/{admin_role}"
    try:
        answer = clients.client("sts", region).assume_role(
            RoleArn=role_arn, RoleSessionName="oncall-catalog-spoke-bootstrap"
        )
    except botocore.exceptions.ClientError as error:
        raise PublishError(
            f"account {account}: cannot assume {role_arn} from account {current} "
            f"({error_code(error)}); use credentials of account {account} (--profile) or "
            "--assume-role NAME of a role you may assume there"
        ) from error
    return _client_as(clients, "cloudformation", region, answer["Credentials"]), current


def _client_as(clients: AwsClients, service: str, region: str, credentials: Any) -> Any:
    session = boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    endpoint = {"endpoint_url": clients.target.endpoint_url} if clients.target.endpoint_url else {}
    connect, read = timeouts()
    config = botocore.config.Config(
        retries={"mode": "standard", "max_attempts": 8}, connect_timeout=connect, read_timeout=read
    )
    client = session.client(service, region_name=region, config=config, **endpoint)
    clients.log.attach(client)  # bounded waits, --debug lines and error labels as every client
    return client


def deploy_spoke(
    clients: AwsClients,
    config: CatalogConfig,
    template_body: str,
    account: str,
    *,
    admin_role: str,
    pipeline_account: str | None,
    progress: Callable[[str], None],
) -> str:
    """Deploy the spoke stack in ACCOUNT: 'created', 'updated' or 'unchanged'.

    The pipeline account is PIPELINE_ACCOUNT, else the account of the credentials used.
    """
    for option, value in (("--spoke", account), ("--pipeline-account", pipeline_account)):
        if value is not None and not re.match(r"^[0-9]{12}$", value):
            raise PublishError(f"{option} {value!r} is not a 12-digit AWS account id")
    region = clients.target.region or config.portfolio["regions"][0]  # IAM is global: one region
    cfn, current = spoke_cloudformation(clients, region, account, admin_role)
    if pipeline_account is None and current == account:
        raise PublishError(
            f"account {account}: the credentials are this account's own, so the pipeline's "
            "account is unknown; pass --pipeline-account ACCOUNT"
        )
    parameters = spoke_parameters(config, account, pipeline_account or current)
    return deploy(cfn, region, template_body, parameters, progress, stack_name=SPOKE_STACK_NAME)
