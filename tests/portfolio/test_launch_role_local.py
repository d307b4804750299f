"""What the launch role's narrowed statements rely on, on localcloud with the real alert handler
bootstrapped, published and launched: its key carries the tag the KMS statements require, and
with catalog.permissions_boundary_arn its roles carry the boundary while a launch without it is
refused by the TEMPLATE constraint before any resource exists. (localcloud does not evaluate IAM
policies: the conditions themselves are asserted over the policy document in
tests/products/test_launch_role_keys.py and test_permissions_boundary.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import botocore.exceptions
import pytest
import yaml

from catalog.cli_context import DEFAULT_CONFIG
from catalog.config import load_config
from catalog.manifest import Manifest
from portfolio.aws import AwsClients, Target
from portfolio.desired import desired_catalog
from portfolio.workflow import BuiltCatalog, run_bootstrap, run_launch, run_publish
from products.build import build_all
from products.key_policy import TOOL_KEY_TAG

REGION = "us-east-1"
PRODUCT = "alert-handler"
pytestmark = pytest.mark.slow


def _boundary_policy(clients: AwsClients) -> str:
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}],
    }
    created = clients.client("iam", REGION).create_policy(
        PolicyName="OncallToolsBoundary", PolicyDocument=json.dumps(document)
    )
    return str(created["Policy"]["Arn"])


def _catalog(root: Path, boundary: str | None = None) -> BuiltCatalog:
    document = yaml.safe_load(DEFAULT_CONFIG.read_text())
    if boundary:
        document["catalog"]["permissions_boundary_arn"] = boundary
    constraints = document["portfolio"]["template_constraints"]
    document["portfolio"]["template_constraints"] = {PRODUCT: constraints[PRODUCT]}
    path = root / "catalog.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    config = load_config(path)
    dist = root / "dist"
    build_all(config, dist, only=[PRODUCT], check_versions=False)
    manifest = Manifest.load(dist)
    desired = desired_catalog(config.portfolio, manifest, dist, permissions_boundary_arn=boundary)
    return BuiltCatalog(config, dist, manifest, desired)


def test_launched_roles_carry_the_boundary_and_a_launch_without_it_is_refused(
    cloud_endpoint: str, tmp_path: Path
) -> None:
    clients = AwsClients(Target(endpoint_url=cloud_endpoint))
    boundary = _boundary_policy(clients)
    built = _catalog(tmp_path, boundary)
    run_bootstrap(clients, built, lambda line: None)
    run_publish(clients, built, lambda change: None)

    with pytest.raises(botocore.exceptions.ClientError, match="PermissionsBoundaryArn must be"):
        run_launch(
            clients,
            built,
            PRODUCT,
            "dev",
            overrides={"PermissionsBoundaryArn": ""},
            echo=lambda line: None,
        )
    iam = clients.client("iam", REGION)
    assert not [r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("oncall-")]

    result = run_launch(clients, built, PRODUCT, "dev", overrides={}, echo=lambda line: None)
    cfn = clients.client("cloudformation", REGION)
    resources = cfn.describe_stack_resources(StackName=result.stack_arn)["StackResources"]
    roles = [r["PhysicalResourceId"] for r in resources if r["ResourceType"] == "AWS::IAM::Role"]
    assert roles
    for role in roles:
        described = iam.get_role(RoleName=role)["Role"]
        assert described["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary


def test_the_launched_key_carries_the_tag_the_launch_role_requires(
    cloud_endpoint: str, tmp_path: Path
) -> None:
    clients = AwsClients(Target(endpoint_url=cloud_endpoint))
    built = _catalog(tmp_path)
    run_bootstrap(clients, built, lambda line: None)
    run_publish(clients, built, lambda change: None)
    result = run_launch(clients, built, PRODUCT, "dev", overrides={}, echo=lambda line: None)
    cfn = clients.client("cloudformation", REGION)
    resources = cfn.describe_stack_resources(StackName=result.stack_arn)["StackResources"]
    [key] = [r["PhysicalResourceId"] for r in resources if r["ResourceType"] == "AWS::KMS::Key"]
    kms = clients.client("kms", REGION)
    tags = kms.list_resource_tags(KeyId=key)["Tags"]
    assert {"TagKey": TOOL_KEY_TAG, "TagValue": built.config.catalog["resource_prefix"]} in tags
    aliases = kms.list_aliases(KeyId=key)["Aliases"]
    assert [a["AliasName"] for a in aliases if a["AliasName"].startswith("alias/oncall-")]
