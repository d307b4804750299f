"""`build.py bootstrap --spoke ACCOUNT` against localcloud: the spoke stack lands in ACCOUNT
(through an assumed role), trusts the deploy projects of that account's environments, and a
second run changes nothing; an account no environment uses is refused in one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import boto3
import pytest
import yaml
from click.testing import CliRunner, Result

from build import cli
from catalog.config import load_config
from portfolio.bootstrap import SPOKE_STACK_NAME
from products.build import build_all

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
PIPELINE_ACCOUNT = "123456789012"  # localcloud's default account: the caller's
PROD_ACCOUNT = "210987654321"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("spoke")
    data = yaml.safe_load((REPO / "catalog.yaml").read_text())
    data["environments"]["prod"]["account"] = PROD_ACCOUNT
    config_path = folder / "catalog.yaml"
    config_path.write_text(yaml.safe_dump(data, sort_keys=False))
    dist = folder / "dist"
    build_all(load_config(config_path), dist, check_versions=False)
    return config_path, dist


def _bootstrap(catalog: tuple[Path, Path], endpoint: str, account: str, *extra: str) -> Result:
    config_path, dist = catalog
    arguments = ["--config", str(config_path), "--dist", str(dist), "bootstrap", "--no-build"]
    arguments += ["--endpoint-url", endpoint, "--spoke", account, *extra]
    return CliRunner().invoke(cli, arguments)


def _as_account(endpoint: str, service: str, account: str) -> Any:
    client = boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    def add_header(request: Any, **kwargs: Any) -> None:
        request.headers["x-moto-account-id"] = account

    client.meta.events.register("before-send", add_header)
    return client


def test_the_spoke_stack_is_deployed_in_the_environment_account(
    catalog: tuple[Path, Path], cloud_endpoint: str
) -> None:
    result = _bootstrap(catalog, cloud_endpoint, PROD_ACCOUNT)
    assert result.exit_code == 0, result.output
    assert f"account {PROD_ACCOUNT}: spoke stack created" in result.output
    cfn = _as_account(cloud_endpoint, "cloudformation", PROD_ACCOUNT)
    (stack,) = cfn.describe_stacks(StackName=SPOKE_STACK_NAME)["Stacks"]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert parameters["PipelineAccountId"] == PIPELINE_ACCOUNT
    assert parameters["PipelineDeployRoleArns"] == (
        f"arn:aws:iam::{PIPELINE_ACCOUNT}:role/oncall-pipeline-deploy-prod"
    )
    iam = _as_account(cloud_endpoint, "iam", PROD_ACCOUNT)
    role = iam.get_role(RoleName="OncallCatalogDeployRole")["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(unquote(trust)) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"]["AWS"] == [
        f"arn:aws:iam::{PIPELINE_ACCOUNT}:role/oncall-pipeline-deploy-prod"
    ]
    assert iam.get_role(RoleName="OncallCatalogLaunchRole")["Role"]["Arn"].split(":")[4] == (
        PROD_ACCOUNT
    )
    again = _bootstrap(catalog, cloud_endpoint, PROD_ACCOUNT)
    assert f"account {PROD_ACCOUNT}: spoke stack unchanged" in again.output


def test_an_account_no_environment_uses_is_refused(
    catalog: tuple[Path, Path], cloud_endpoint: str
) -> None:
    result = _bootstrap(catalog, cloud_endpoint, "111122223333")
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: account 111122223333: no environment of catalog.yaml is deployed there "
        "(set environments.<env>.account to it first)"
    )


def test_a_malformed_account_is_refused(catalog: tuple[Path, Path], cloud_endpoint: str) -> None:
    result = _bootstrap(catalog, cloud_endpoint, "prod")
    assert result.exit_code == 1
    assert "--spoke 'prod' is not a 12-digit AWS account id" in result.output


def test_with_the_spoke_account_own_credentials_the_pipeline_account_is_asked_for(
    catalog: tuple[Path, Path], cloud_endpoint: str, tmp_path: Path
) -> None:
    # localcloud's credentials are its default account's: make that the spoke (the spoke
    # template does not depend on the accounts, so the module's build serves).
    config_path, dist = catalog
    data = yaml.safe_load(config_path.read_text())
    data["environments"]["staging"]["account"] = PIPELINE_ACCOUNT
    own = tmp_path / "catalog.yaml"
    own.write_text(yaml.safe_dump(data, sort_keys=False))
    refused = _bootstrap((own, dist), cloud_endpoint, PIPELINE_ACCOUNT)
    assert refused.exit_code == 1
    assert "pass --pipeline-account ACCOUNT" in refused.output
    done = _bootstrap(
        (own, dist), cloud_endpoint, PIPELINE_ACCOUNT, "--pipeline-account", PROD_ACCOUNT
    )
    assert done.exit_code == 0, done.output
    cfn = _as_account(cloud_endpoint, "cloudformation", PIPELINE_ACCOUNT)
    (stack,) = cfn.describe_stacks(StackName=SPOKE_STACK_NAME)["Stacks"]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert parameters["PipelineDeployRoleArns"] == (
        f"arn:aws:iam::{PROD_ACCOUNT}:role/oncall-pipeline-deploy-staging"
    )
