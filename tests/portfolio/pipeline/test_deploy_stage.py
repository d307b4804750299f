"""The deploy stage against localcloud with tiny products: the pipeline's own account, another
account through its deploy role and the imported portfolio, and the ways that stops."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog.config import load_config
from portfolio.aws import AwsClients, Target
from portfolio.desired import desired_catalog
from portfolio.pipeline.deploy_stage import DeployError, deploy_environment
from portfolio.pipeline.local_accounts import as_account_admin, prepare_environment_account
from portfolio.publish import publish
from portfolio.workflow import BuiltCatalog, environment_accounts
from products.permissions import DEPLOY, DEPLOY_FROM_PIPELINE_ACCOUNT
from tests.portfolio.conftest import PORTFOLIO, REGION, write_catalog, write_dist

PROD_ACCOUNT = "333333333333"


def _built(tmp_path: Path, *, prod_account: str | None, shared: bool = True) -> BuiltCatalog:
    path = write_catalog(tmp_path / "catalog.yaml", dict(PORTFOLIO, template_constraints={}))
    document = yaml.safe_load(path.read_text())
    if prod_account:  # prod is a YAML alias of dev there: give it its own mapping
        document["environments"]["prod"] = dict(document["environments"]["prod"])
        document["environments"]["prod"]["account"] = prod_account
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    config = load_config(path)
    manifest = write_dist(tmp_path / "dist", {"alpha": ("1.0.0", "a"), "beta": ("1.0.0", "b")})
    accounts = environment_accounts(config) if shared else ()
    desired = desired_catalog(
        config.portfolio, manifest, tmp_path / "dist", environment_accounts=accounts
    )
    return BuiltCatalog(config, tmp_path / "dist", manifest, desired)


@pytest.fixture
def clients(harness: Any) -> AwsClients:
    return AwsClients(Target(endpoint_url=harness.endpoint))


def _queues(clients: AwsClients, account: str | None) -> list[str]:
    acting = as_account_admin(clients, account, REGION) if account else clients
    urls = acting.client("sqs", REGION).list_queues().get("QueueUrls", [])
    return sorted(url.rsplit("/", 1)[-1] for url in urls)


def test_an_environment_without_an_account_is_launched_in_the_pipelines_own(
    tmp_path: Path, clients: AwsClients
) -> None:
    built = _built(tmp_path, prod_account=PROD_ACCOUNT)
    publish(clients, built.desired, lambda change: None)
    result = deploy_environment(clients, built, "dev", lambda line: None)
    assert result.account == "123456789012"
    assert sorted(r.provisioned_product for r in result.launches) == ["alpha-dev", "beta-dev"]
    assert _queues(clients, None) == ["alpha-dev", "beta-dev"]


def test_another_account_imports_the_share_and_launches_there(
    tmp_path: Path, clients: AwsClients
) -> None:
    built = _built(tmp_path, prod_account=PROD_ACCOUNT)
    publish(clients, built.desired, lambda change: None)
    prepare_environment_account(clients, built.config, "prod")
    lines: list[str] = []
    result = deploy_environment(clients, built, "prod", lines.append)
    assert result.account == PROD_ACCOUNT
    assert _queues(clients, PROD_ACCOUNT) == ["alpha-prod", "beta-prod"]
    assert _queues(clients, None) == []  # nothing in the pipeline's account
    role = f"arn:aws:iam::{PROD_ACCOUNT}:role/OncallCatalogDeployRole"
    spoke_sc = as_account_admin(clients, PROD_ACCOUNT, REGION).client("servicecatalog", REGION)
    imported = spoke_sc.list_accepted_portfolio_shares()["PortfolioDetails"]
    assert [p["DisplayName"] for p in imported] == [PORTFOLIO["display_name"]]
    principals = spoke_sc.list_principals_for_portfolio(PortfolioId=imported[0]["Id"])
    assert [p["PrincipalARN"] for p in principals["Principals"]] == [role]
    assert f"prod: account {PROD_ACCOUNT} as {role}" in lines
    # A second run (the next release) finds the import done and updates the products.
    again = deploy_environment(clients, built, "prod", lambda line: None)
    assert len(again.launches) == 2


def test_an_account_without_the_deploy_role_stops_with_one_line(
    tmp_path: Path, clients: AwsClients
) -> None:
    built = _built(tmp_path, prod_account=PROD_ACCOUNT)
    publish(clients, built.desired, lambda change: None)
    prepare_environment_account(clients, built.config, "prod", with_deploy_role=False)
    with pytest.raises(DeployError) as raised:
        deploy_environment(clients, built, "prod", lambda line: None)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(
        f"prod: account {PROD_ACCOUNT} has no usable deploy role OncallCatalogDeployRole"
    )
    assert f"build.py bootstrap --spoke {PROD_ACCOUNT}" in message
    assert _queues(clients, PROD_ACCOUNT) == []


def test_a_portfolio_not_shared_with_the_account_stops_naming_account_and_role(
    tmp_path: Path, clients: AwsClients
) -> None:
    built = _built(tmp_path, prod_account=PROD_ACCOUNT, shared=False)
    publish(clients, built.desired, lambda change: None)
    prepare_environment_account(clients, built.config, "prod")
    with pytest.raises(DeployError) as raised:
        deploy_environment(clients, built, "prod", lambda line: None)
    message = str(raised.value)
    assert message.startswith(f"prod: {REGION}: account {PROD_ACCOUNT} cannot accept the share")
    assert f"as arn:aws:iam::{PROD_ACCOUNT}:role/OncallCatalogDeployRole" in message
    assert "(ResourceNotFoundException)" in message
    assert _queues(clients, PROD_ACCOUNT) == []


def test_publish_shares_the_portfolio_with_every_environment_account(
    tmp_path: Path, clients: AwsClients
) -> None:
    built = _built(tmp_path, prod_account=PROD_ACCOUNT)
    assert [(s.kind, s.principal_id) for s in built.desired.shares] == [("ACCOUNT", PROD_ACCOUNT)]
    with_org = dict(PORTFOLIO, shares={"organization_id": "o-abcdefghij"})
    desired = desired_catalog(
        with_org, built.manifest, built.dist_dir, environment_accounts=(PROD_ACCOUNT,)
    )
    # An organization share reaches (and is imported in) every member account already.
    assert [(s.kind, s.principal_id) for s in desired.shares] == [("ORGANIZATION", "o-abcdefghij")]


# The deploy stage asks the account for its own role only because an emulator may let a missing
# role be assumed; on AWS the role has no iam:GetRole, gets AccessDenied and goes on (by design).
_TOLERATED_UNDECLARED = {"iam:GetRole"}


def test_a_deploy_in_another_account_calls_only_declared_actions(
    tmp_path: Path, harness: Any
) -> None:
    from tests.portfolio.test_permissions_recorded import OperationRecorder, _undeclared

    built = _built(tmp_path, prod_account=PROD_ACCOUNT)
    setup = AwsClients(Target(endpoint_url=harness.endpoint))
    publish(setup, built.desired, lambda change: None)
    prepare_environment_account(setup, built.config, "prod")
    recorder = OperationRecorder()
    recorded = AwsClients(Target(endpoint_url=harness.endpoint), (recorder,))
    for _ in range(2):  # the first imports the share and provisions, the second updates
        deploy_environment(recorded, built, "prod", lambda line: None)
    # Both sides were recorded: the pipeline account's and the spoke's (through the role).
    assert {"sts:AssumeRole", "servicecatalog:AcceptPortfolioShare"} <= recorder.operations
    assert "servicecatalog:UpdateProvisionedProduct" in recorder.operations
    declared = (*DEPLOY, *DEPLOY_FROM_PIPELINE_ACCOUNT)
    assert _undeclared(recorder.operations - _TOLERATED_UNDECLARED, declared) == ["sts:AssumeRole"]
