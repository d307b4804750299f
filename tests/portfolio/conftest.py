"""Fixtures of the publish tests: a small dist/ written the way build writes it, and configs."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog.manifest import Manifest
from localcloud import LocalCloud
from portfolio import apply
from portfolio.aws import AwsClients, CallRecorder, Target
from portfolio.desired import DesiredCatalog, desired_catalog
from portfolio.publish import publish

BUCKET_PREFIX = "test-artifacts"

PORTFOLIO: dict[str, Any] = {
    "display_name": "On-call Tools (test)",
    "description": "Test portfolio",
    "provider_name": "Platform Engineering",
    "regions": ["us-east-1"],
    "launch_role": {"local_role_name": "OncallCatalogLaunchRole"},
    "principals": [
        {"type": "IAM_PATTERN", "arn": "arn:aws:iam:::role/PlatformEngineer*"},
        {"type": "IAM", "arn": "arn:aws:iam::123456789012:role/Oncall"},
    ],
    "tag_options": {"team": ["platform"], "cost-center": ["ops", "sre"]},
    "retention": {"keep_active": 2, "deactivate_after": 3},
    "template_constraints": {
        "alpha": [
            {
                "description": "prod needs an on-call topic",
                "rules": {
                    "ProdTopic": {
                        "RuleCondition": {"Fn::Equals": [{"Ref": "Environment"}, "prod"]},
                        "Assertions": [
                            {
                                "Assert": {
                                    "Fn::Not": [{"Fn::Equals": [{"Ref": "AlertTopicArn"}, ""]}]
                                },
                                "AssertDescription": "prod requires AlertTopicArn",
                            }
                        ],
                    }
                },
            }
        ],
    },
}


@pytest.fixture(autouse=True)
def short_read_after_create_lag(monkeypatch: pytest.MonkeyPatch) -> None:
    # localcloud reads are consistent at once: only a create answered with a deleted resource
    # (a replayed token) waits this long before it is retried, and the tests need not wait 30 s.
    monkeypatch.setattr(apply, "CREATED_VISIBLE_WITHIN_SECONDS", 1.0)


# The catalog infrastructure in miniature: the regional artifact bucket and the launch role.
BOOTSTRAP_TEMPLATE: dict[str, Any] = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {"OrganizationId": {"Type": "String", "Default": ""}},
    "Resources": {
        "ArtifactBucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"BucketName": {"Fn::Sub": f"{BUCKET_PREFIX}-${{AWS::Region}}"}},
        },
        "LaunchRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": "OncallCatalogLaunchRole",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "sts:AssumeRole",
                            "Principal": {"Service": "servicecatalog.amazonaws.com"},
                        }
                    ],
                },
            },
        },
    },
}

CATALOG_YAML = """
catalog: {artifact_bucket_prefix: test-artifacts, resource_prefix: test}
environments:
  dev: &settings
    memory_mb: 256
    timeout_seconds: 60
    log_retention_days: 14
    reserved_concurrency: 2
    tracing: PassThrough
    alarms: {period_seconds: 300, evaluation_periods: 1, errors_threshold: 5,
             throttles_threshold: 5, duration_ratio: 0.9, dlq_depth_threshold: 1}
  prod: *settings
products:
  alpha: {description: The alpha tool, owner: Platform}
  beta: {description: The beta tool, owner: Platform}
"""


def write_catalog(path: Path, portfolio: dict[str, Any]) -> Path:
    """A catalog.yaml for the fabricated products, with PORTFOLIO as its portfolio section."""
    document = yaml.safe_load(CATALOG_YAML)
    document["portfolio"] = portfolio
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def template_body(product: str, marker: str) -> dict[str, Any]:
    """A tiny product template with the contract's Environment and AlertTopicArn parameters."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"{product} ({marker})",
        "Parameters": {
            "Environment": {"Type": "String", "AllowedValues": ["dev", "staging", "prod"]},
            "AlertTopicArn": {"Type": "String", "Default": ""},
        },
        "Rules": {
            "KnownEnvironment": {
                "Assertions": [
                    {
                        "Assert": {
                            "Fn::Contains": [["dev", "staging", "prod"], {"Ref": "Environment"}]
                        },
                        "AssertDescription": "Environment must be dev, staging or prod",
                    }
                ]
            }
        },
        "Resources": {
            "Queue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"QueueName": {"Fn::Sub": f"{product}-${{Environment}}"}},
            }
        },
        "Outputs": {"QueueUrl": {"Value": {"Ref": "Queue"}}},
    }


def write_dist(
    dist: Path,
    versions: dict[str, tuple[str, str]],
    history: dict[str, dict[str, str]] | None = None,
) -> Manifest:
    """Write dist/ for products {name: (version, marker)}; a new marker is new content.
    HISTORY is what the build found recorded for older versions: {name: {version: hash}}."""
    products = {}
    for name, (version, marker) in versions.items():
        products[name] = _write_product(dist, name, version, marker)
        products[name]["version_history"] = (history or {}).get(name, {})
    (dist / "infra").mkdir(parents=True, exist_ok=True)
    (dist / "infra" / "bootstrap.json").write_text(json.dumps(BOOTSTRAP_TEMPLATE, indent=2))
    manifest = {
        "artifact_bucket_prefix": BUCKET_PREFIX,
        "infra": {"bootstrap": "infra/bootstrap.json"},
        "products": products,
    }
    (dist / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return Manifest.load(dist)


def _write_product(dist: Path, name: str, version: str, marker: str) -> dict[str, Any]:
    # As the build writes them: the template names its package's content-addressed key, and the
    # content hash is the template's sha256 (so it covers the package too).
    package = f"code of {name} {marker}".encode()
    package_sha = hashlib.sha256(package).hexdigest()
    tool = name.replace("-", "_")
    body = template_body(name, marker)
    body["Metadata"] = {"PackageKey": f"packages/{tool}/{package_sha}.zip"}
    template = json.dumps(body, sort_keys=True).encode()
    template_sha = hashlib.sha256(template).hexdigest()
    (dist / "templates").mkdir(parents=True, exist_ok=True)
    (dist / "packages").mkdir(parents=True, exist_ok=True)
    (dist / "templates" / f"{name}.json").write_bytes(template)
    (dist / "packages" / f"{tool}-{package_sha}.zip").write_bytes(package)
    return {
        "version": version,
        "content_hash": template_sha,
        "description": f"The {name} tool",
        "owner": "Platform",
        "distributor": "Platform",
        "support_email": "oncall@example.com",
        "support_url": "https://example.com/oncall",
        "template": f"templates/{name}.json",
        "template_key": f"templates/{name}/{template_sha}.json",
        "package": f"packages/{tool}-{package_sha}.zip",
        "package_key": f"packages/{tool}/{package_sha}.zip",
    }


@pytest.fixture
def make_catalog() -> Callable[[Path, dict[str, Any]], Path]:
    return write_catalog


@pytest.fixture
def portfolio_config() -> dict[str, Any]:
    return copy.deepcopy(PORTFOLIO)


WriteDist = Callable[..., Manifest]


@pytest.fixture
def make_dist() -> WriteDist:
    """write_dist(dist_dir, {product: (version, marker)}, history=None) -> manifest."""
    return write_dist


# --- against a real localcloud over HTTP -----------------------------------------------------


REGION = "us-east-1"


class Harness:
    """Publishes fabricated builds into the local endpoint and reads the result back."""

    def __init__(self, endpoint: str, root: Path, portfolio: dict[str, Any]) -> None:
        self.endpoint = endpoint
        self.root = root
        self.portfolio = portfolio
        self._builds = 0
        self.sc = self.clients().client("servicecatalog", REGION)
        self.clients().client("s3", REGION).create_bucket(Bucket=f"{BUCKET_PREFIX}-{REGION}")
        # What the bootstrap stack provides in a real account: the LAUNCH constraint's role.
        self.clients().client("iam", REGION).create_role(
            RoleName="OncallCatalogLaunchRole",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "sts:AssumeRole",
                            "Principal": {"Service": "servicecatalog.amazonaws.com"},
                        }
                    ],
                }
            ),
        )

    def clients(self, *hooks: Callable[..., None]) -> AwsClients:
        return AwsClients(Target(endpoint_url=self.endpoint), hooks)

    def desired(self, versions: dict[str, tuple[str, str]]) -> DesiredCatalog:
        self._builds += 1
        dist = self.root / f"dist{self._builds}"
        dist.mkdir(parents=True)
        return desired_catalog(self.portfolio, write_dist(dist, versions), dist, commit="test")

    def publish(self, desired: DesiredCatalog, *hooks: Callable[..., None]) -> CallRecorder:
        recorder = CallRecorder()
        publish(self.clients(recorder, *hooks), desired, lambda change: None)
        return recorder

    def product_id(self, name: str) -> str:
        for detail in self.sc.search_products_as_admin()["ProductViewDetails"]:
            if detail["ProductViewSummary"]["Name"] == name:
                return str(detail["ProductViewSummary"]["ProductId"])
        raise AssertionError(f"product {name} not found")

    def versions(self, name: str) -> dict[str, tuple[str, bool]]:
        """{version name: (guidance, active)} of a product."""
        details = self.sc.list_provisioning_artifacts(ProductId=self.product_id(name))[
            "ProvisioningArtifactDetails"
        ]
        return {d["Name"]: (d["Guidance"], d["Active"]) for d in details}

    def snapshot(self) -> dict[str, Any]:
        """Everything publish manages, without generated ids: equal snapshots = same state."""
        portfolios = self.sc.list_portfolios()["PortfolioDetails"]
        result: dict[str, Any] = {"portfolios": sorted(p["DisplayName"] for p in portfolios)}
        for portfolio in portfolios:
            pid = portfolio["Id"]
            result["principals"] = sorted(
                p["PrincipalARN"]
                for p in self.sc.list_principals_for_portfolio(PortfolioId=pid)["Principals"]
            )
            result["tag_options"] = sorted(
                (t["Key"], t["Value"]) for t in self.sc.describe_portfolio(Id=pid)["TagOptions"]
            )
            result["constraints"] = sorted(
                (c["Type"], c.get("Description", ""))
                for c in self.sc.list_constraints_for_portfolio(PortfolioId=pid)[
                    "ConstraintDetails"
                ]
            )
        products = self.sc.search_products_as_admin()["ProductViewDetails"]
        result["products"] = sorted(
            (
                d["ProductViewSummary"]["Name"],
                sorted(
                    (v["Name"], v["Description"].split()[0], v["Guidance"], v["Active"])
                    for v in self.sc.list_provisioning_artifacts(
                        ProductId=d["ProductViewSummary"]["ProductId"]
                    )["ProvisioningArtifactDetails"]
                ),
            )
            for d in products
        )
        return result


@pytest.fixture(scope="session")
def publish_cloud() -> Iterator[LocalCloud]:
    """One localcloud per worker process (state is per process; each test resets it)."""
    with LocalCloud() as cloud:
        yield cloud


@pytest.fixture
def cloud_endpoint(publish_cloud: LocalCloud) -> str:
    publish_cloud.reset()
    return publish_cloud.endpoint_url


@pytest.fixture
def harness(cloud_endpoint: str, tmp_path: Path, portfolio_config: dict[str, Any]) -> Harness:
    return Harness(cloud_endpoint, tmp_path, portfolio_config)
