"""catalog.permissions_boundary_arn on localcloud: the real alert handler, bootstrapped, published
and launched, creates its role with the boundary; a launch without it is refused by the TEMPLATE
constraint before any resource exists. (localcloud does not evaluate IAM policies: the launch
role's iam:PermissionsBoundary condition is asserted over the policy document in
tests/products/test_permissions_boundary.py.)"""

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


def _bounded_catalog(root: Path, boundary: str) -> BuiltCatalog:
    document = yaml.safe_load(DEFAULT_CONFIG.read_text())
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
    built = _bounded_catalog(tmp_path, boundary)
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
