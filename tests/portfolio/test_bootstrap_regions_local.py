"""The real bootstrap stack in two regions: one artifact bucket each, one (global) launch role."""

from __future__ import annotations

from pathlib import Path

import boto3
import yaml

from catalog.cli_context import DEFAULT_CONFIG
from portfolio.aws import AwsClients, Target
from portfolio.workflow import prepare, run_bootstrap

REGIONS = ["us-east-1", "eu-west-1"]


def _two_region_config(tmp_path: Path) -> Path:
    config = yaml.safe_load(DEFAULT_CONFIG.read_text())
    config["portfolio"]["regions"] = REGIONS
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def test_bootstrap_in_two_regions_creates_the_launch_role_once(
    local_endpoint: str, tmp_path: Path
) -> None:
    prepared = prepare(_two_region_config(tmp_path), tmp_path / "dist")
    clients = AwsClients(Target(endpoint_url=local_endpoint))
    lines: list[str] = []
    assert run_bootstrap(clients, prepared, lines.append) == dict.fromkeys(REGIONS, "created")
    assert run_bootstrap(clients, prepared, lines.append) == dict.fromkeys(REGIONS, "unchanged")
    iam = boto3.client(
        "iam",
        region_name="us-east-1",
        endpoint_url=local_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    assert iam.get_role(RoleName="OncallCatalogLaunchRole")["Role"]["RoleName"]
    for region in REGIONS:
        s3 = boto3.client(
            "s3",
            region_name=region,
            endpoint_url=local_endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        prefix = prepared.config.catalog["artifact_bucket_prefix"]
        assert (
            s3.head_bucket(Bucket=f"{prefix}-{region}")["ResponseMetadata"]["HTTPStatusCode"] == 200
        )
