"""The real build (products.build.build_all) bootstrapped, published and launched on localcloud."""

from __future__ import annotations

from pathlib import Path

import botocore.exceptions
import pytest
from click.testing import CliRunner

from build import cli
from catalog.config import load_config
from catalog.manifest import Manifest
from portfolio.aws import AwsClients, CallRecorder, Target
from portfolio.demo import create_demo_prerequisites
from portfolio.desired import desired_catalog
from portfolio.workflow import (
    BuiltCatalog,
    run_bootstrap,
    run_launch,
    run_plan,
    run_publish,
    run_status,
)
from products.build import build_all
from products.spec import discover_products

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> BuiltCatalog:
    # check_versions=False: the real templates and packages, without tying this test to
    # whether products/versions.json was bumped for the handlers' latest edits (the build's
    # own tests cover that); every product is then version 0.0.0.
    dist = tmp_path_factory.mktemp("dist")
    config = load_config(REPO / "catalog.yaml")
    build_all(config, dist, check_versions=False)
    manifest = Manifest.load(dist)
    return BuiltCatalog(config, dist, manifest, desired_catalog(config.portfolio, manifest, dist))


@pytest.fixture
def published(prepared: BuiltCatalog, cloud_endpoint: str) -> AwsClients:
    clients = AwsClients(Target(endpoint_url=cloud_endpoint))
    assert set(run_bootstrap(clients, prepared, lambda line: None).values()) == {"created"}
    run_publish(clients, prepared, lambda change: None)
    return clients


def test_publish_of_the_real_build_is_complete_and_idempotent(
    prepared: BuiltCatalog, published: AwsClients, cloud_endpoint: str
) -> None:
    status = run_status(published, prepared)
    assert sorted(p.name for p in status.products) == sorted(prepared.desired.products)
    assert len(status.products) == len(discover_products())
    assert all(p.default_versions == [p.declared_version] for p in status.products)
    assert status.drift == []
    sc = published.client("servicecatalog", REGION)
    portfolio_id = status.portfolio_ids[REGION]
    constraints = sc.list_constraints_for_portfolio(PortfolioId=portfolio_id)["ConstraintDetails"]
    kinds = [c["Type"] for c in constraints]
    assert kinds.count("LAUNCH") == len(discover_products())
    assert kinds.count("TEMPLATE") == sum(
        len(p.template_constraints) for p in prepared.desired.products.values()
    )
    assert sc.list_principals_for_portfolio(PortfolioId=portfolio_id)["Principals"]
    assert sc.describe_portfolio(Id=portfolio_id)["TagOptions"]
    recorder = CallRecorder()
    again = AwsClients(Target(endpoint_url=cloud_endpoint), (recorder,))
    run_publish(again, prepared, lambda change: None)
    assert recorder.writes == []
    assert not run_plan(again, prepared).has_changes


def test_every_real_product_launches_for_dev_with_its_alarms(
    prepared: BuiltCatalog, published: AwsClients
) -> None:
    create_demo_prerequisites(published, prepared, "dev")
    cloudwatch = published.client("cloudwatch", REGION)
    cfn = published.client("cloudformation", REGION)
    for product in prepared.desired.products:
        result = run_launch(
            published, prepared, product, "dev", overrides={}, echo=lambda line: None
        )
        assert result.provisioned_product == f"{product}-dev"
        assert result.stack_arn
        resources = cfn.describe_stack_resources(StackName=result.stack_arn)["StackResources"]
        alarms = [
            r["PhysicalResourceId"]
            for r in resources
            if r["ResourceType"] == "AWS::CloudWatch::Alarm"
        ]
        assert alarms, f"{product} has no alarms"
        described = cloudwatch.describe_alarms(AlarmNames=alarms)["MetricAlarms"]
        assert len(described) == len(alarms)
        assert all(alarm["AlarmActions"] for alarm in described)


def test_prod_launch_without_an_oncall_topic_is_refused_by_the_template_constraint(
    prepared: BuiltCatalog, published: AwsClients
) -> None:
    product = next(name for name, p in prepared.desired.products.items() if p.template_constraints)
    with pytest.raises(botocore.exceptions.ClientError, match="AlertTopicArn must name"):
        run_launch(
            published,
            prepared,
            product,
            "prod",
            overrides={"AlertTopicArn": ""},
            echo=lambda line: None,
        )


def test_demo_command_runs_the_quick_start_end_to_end(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--dist", str(tmp_path / "dist"), "demo"])
    assert result.exit_code == 0, result.output
    output = result.output
    assert "us-east-1: bootstrap stack created" in output
    assert "portfolio us-east-1: port-" in output
    for product in discover_products():
        assert f"== launch {product} --env dev" in output
        assert f"{product}-dev: SUCCEEDED" in output
    assert "AWS::CloudWatch::Alarm" in output
    assert "  alarm oncall-" in output
