"""The accounts of a local pipeline run: one localcloud, one account id per environment.

localcloud (moto) keeps state per account id and maps the credentials STS AssumeRole issues to
the role's account, so acting in another account is assuming a role there. A member account of an
AWS Organization has `OrganizationAccountAccessRole` for its administrators; the local run uses
it to prepare each environment account once, as a platform team does before the first run:
the launch role the portfolio's LAUNCH constraint names, the deploy role the deploy stage assumes
(the spoke stack's two roles), and the application log groups the launch parameters point at
(they belong to the applications being watched and exist in a real account).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import botocore.exceptions

from catalog.config import CatalogConfig
from portfolio.aws import AwsClients, error_code
from portfolio.pipeline.deploy_stage import AssumedRoleClients

ADMIN_ROLE = "OrganizationAccountAccessRole"
Echo = Callable[[str], None]


def _trust(principal: dict[str, str]) -> str:
    statement = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": principal}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def as_account_admin(clients: AwsClients, account: str, region: str) -> AssumedRoleClients:
    role_arn = f"arn:aws:iam::{account}:role/{ADMIN_ROLE}"
    answer = clients.client("sts", region).assume_role(
        RoleArn=role_arn, RoleSessionName="local-pipeline-setup"
    )
    return AssumedRoleClients(clients, answer["Credentials"], role_arn)


def prepare_environment_account(
    clients: AwsClients,
    config: CatalogConfig,
    environment: str,
    *,
    with_deploy_role: bool = True,
) -> str:
    """Create the spoke roles and the application log groups in ENVIRONMENT's account."""
    target = config.deploy_target(environment)
    assert target.account is not None
    region = target.regions[0]
    pipeline_account = clients.account_id(region)
    admin = as_account_admin(clients, target.account, region)
    iam = admin.client("iam", region)
    launch_role = config.portfolio["launch_role"].get("local_role_name")
    if launch_role:
        _ensure_role(iam, launch_role, {"Service": "servicecatalog.amazonaws.com"})
    if with_deploy_role:
        principal = {"AWS": f"arn:aws:iam::{pipeline_account}:root"}
        _ensure_role(iam, config.pipeline.deploy_role_name, principal)
    for region_name in target.regions:
        ensure_log_groups(admin.client("logs", region_name), config, environment)
    return target.account


def _ensure_role(iam: Any, name: str, principal: dict[str, str]) -> None:
    try:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=_trust(principal))
    except botocore.exceptions.ClientError as error:
        if error_code(error) != "EntityAlreadyExists":
            raise


def ensure_log_groups(logs: Any, config: CatalogConfig, environment: str) -> None:
    for product in config.products:
        name = config.launch_parameters(product, environment).get("LogGroupName")
        if not name:
            continue
        existing = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        if name not in {group["logGroupName"] for group in existing}:
            logs.create_log_group(logGroupName=name)
