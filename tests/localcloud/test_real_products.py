"""The catalog's own products, built in-process, published and launched through localcloud.

Every resource a launched product declares (whose condition holds) must exist in its stack, and
its alarms must be visible through DescribeAlarms with actions.
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from catalog.config import load_config
from products.build import build_all
from tests.localcloud.conftest import wait_for

CONFIG = Path(__file__).resolve().parents[2] / "catalog.yaml"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, dict[str, Any]]:
    config = load_config(CONFIG)
    out = tmp_path_factory.mktemp("dist")
    # Versions are the lead's concern; here only the template and package content matter.
    build_all(config, out, check_versions=False)
    return config, out, json.loads((out / "manifest.json").read_text())


def bootstrap(aws: Callable[..., Any], out: Path) -> None:
    template = json.loads((out / "infra" / "bootstrap.json").read_text())
    parameters = (
        [{"ParameterKey": "OrganizationId", "ParameterValue": ""}]
        if "OrganizationId" in template.get("Parameters", {})
        else []
    )
    cloudformation = aws("cloudformation")
    cloudformation.create_stack(
        StackName="catalog-bootstrap",
        TemplateBody=json.dumps(template),
        Parameters=parameters,
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    stack = cloudformation.describe_stacks(StackName="catalog-bootstrap")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")


def publish(
    aws: Callable[..., Any], out: Path, manifest: dict[str, Any], portfolio_id: str, name: str
) -> tuple[str, str]:
    bucket = f"{manifest['artifact_bucket_prefix']}-{REGION}"
    entry = manifest["products"][name]
    s3, sc = aws("s3"), aws("servicecatalog")
    s3.put_object(
        Bucket=bucket, Key=entry["package_key"], Body=(out / entry["package"]).read_bytes()
    )
    s3.put_object(
        Bucket=bucket, Key=entry["template_key"], Body=(out / entry["template"]).read_bytes()
    )
    url = f"https://{bucket}.s3.{REGION}.amazonaws.com/{entry['template_key']}"
    created = sc.create_product(
        Name=name,
        Owner=entry["owner"],
        ProductType="CLOUD_FORMATION_TEMPLATE",
        IdempotencyToken=f"p-{name}",
        ProvisioningArtifactParameters={
            "Name": entry["version"],
            "Info": {"LoadTemplateFromURL": url},
            "Type": "CLOUD_FORMATION_TEMPLATE",
        },
    )
    product_id = created["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
    sc.associate_product_with_portfolio(ProductId=product_id, PortfolioId=portfolio_id)
    return product_id, created["ProvisioningArtifactDetail"]["Id"]


def true_conditions(aws: Callable[..., Any], stack_arn: str, template: dict[str, Any]) -> set[str]:
    """Logical ids the stack must hold: unconditional ones plus those whose condition is met."""
    listed = aws("cloudformation").list_stack_resources(StackName=stack_arn)[
        "StackResourceSummaries"
    ]
    present = {r["LogicalResourceId"] for r in listed}
    conditions_met = {template["Resources"][r].get("Condition") for r in present} - {None}
    return {
        name
        for name, spec in template["Resources"].items()
        if spec.get("Condition") is None or spec["Condition"] in conditions_met
    }


@pytest.mark.slow
@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_every_product_launches_with_all_resources(
    built: tuple[Any, Path, dict[str, Any]], environment: str, client_factory: Callable[..., Any]
) -> None:
    config, out, manifest = built
    aws = client_factory
    bootstrap(aws, out)
    aws("logs").create_log_group(
        logGroupName=config.launch_parameters("log-processor", environment)["LogGroupName"]
    )
    sc = aws("servicecatalog")
    portfolio_id = sc.create_portfolio(
        DisplayName="On-call Tools", ProviderName="Platform", IdempotencyToken="portfolio"
    )["PortfolioDetail"]["Id"]
    role_name = config.portfolio["launch_role"]["local_role_name"]
    for name in manifest["products"]:
        product_id, artifact_id = publish(aws, out, manifest, portfolio_id, name)
        sc.create_constraint(
            PortfolioId=portfolio_id,
            ProductId=product_id,
            Type="LAUNCH",
            IdempotencyToken=f"l-{name}",
            Parameters=json.dumps({"LocalRoleName": role_name}),
        )
        wait_for(
            lambda p=product_id, a=artifact_id: sc.describe_provisioning_artifact(
                ProductId=p, ProvisioningArtifactId=a
            ),
            lambda answer: answer["Status"] == "AVAILABLE",
        )
        parameters = config.launch_parameters(name, environment)
        record = sc.provision_product(
            ProductId=product_id,
            ProvisioningArtifactId=artifact_id,
            ProvisionedProductName=f"{name}-{environment}",
            ProvisionToken=f"t-{name}",
            ProvisioningParameters=[{"Key": k, "Value": v} for k, v in parameters.items()],
        )
        done = wait_for(
            lambda r=record["RecordDetail"]["RecordId"]: sc.describe_record(Id=r),
            lambda answer: answer["RecordDetail"]["Status"] in ("SUCCEEDED", "FAILED"),
        )
        assert done["RecordDetail"]["Status"] == "SUCCEEDED", (
            name,
            done["RecordDetail"]["RecordErrors"],
        )
        stack_arn = next(
            o["OutputValue"]
            for o in done["RecordOutputs"]
            if o["OutputKey"] == "CloudformationStackARN"
        )
        template = json.loads((out / manifest["products"][name]["template"]).read_text())
        listed = aws("cloudformation").list_stack_resources(StackName=stack_arn)[
            "StackResourceSummaries"
        ]
        assert {r["LogicalResourceId"] for r in listed} == true_conditions(aws, stack_arn, template)
        stack_name = stack_arn.split("/")[1]
        alarms = [
            a
            for a in aws("cloudwatch").describe_alarms()["MetricAlarms"]
            if any(d.get("Value", "").startswith(stack_name) for d in a.get("Dimensions", []))
            or a["AlarmName"].startswith(stack_name)
        ]
        declared = [r for r in listed if r["ResourceType"] == "AWS::CloudWatch::Alarm"]
        assert declared and all(a["AlarmActions"] for a in alarms)
    assert len(aws("cloudwatch").describe_alarms()["MetricAlarms"]) >= 4 * 3
