"""Two regions, one failing for real (issue 11.5): every kind of failure names the region and
the step, and a publish whose writes are all done says so when only its status read fails.

Localcloud serves both regions; tests/support/region_proxy.py stands in front of it on
127.0.0.1 and fails the requests of one region: an AWS error, a closed connection, silence.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from build import cli
from portfolio.aws import AwsClients, Target
from tests.portfolio.conftest import BUCKET_PREFIX
from tests.support.region_proxy import CLOSE, DENY, FORWARD, SILENT, Request, region_proxy

V1 = {"alpha": ("1.0.0", "a1"), "beta": ("1.0.0", "b1")}
FIRST, SECOND = "us-east-1", "us-east-2"
READ_TIMEOUT = "3"


@pytest.fixture
def run(
    tmp_path: Path,
    portfolio_config: dict[str, Any],
    make_catalog: Any,
    make_dist: Any,
    cloud_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Result]:
    prepare_regions(cloud_endpoint)
    # Long enough for localcloud on a loaded machine, short enough for the silent cases.
    monkeypatch.setenv("CATALOG_READ_TIMEOUT", READ_TIMEOUT)
    config = make_catalog(
        tmp_path / "catalog.yaml", {**portfolio_config, "regions": [FIRST, SECOND]}
    )
    make_dist(tmp_path / "dist", V1)

    def invoke(*args: str, endpoint: str = cloud_endpoint) -> Result:
        arguments = ["--config", str(config), "--dist", str(tmp_path / "dist"), *args]
        return CliRunner().invoke(cli, [*arguments, "--no-build", "--endpoint-url", endpoint])

    return invoke


def prepare_regions(endpoint: str) -> None:
    """What bootstrap provides: an artifact bucket per region, the (global) launch role."""
    clients = AwsClients(Target(endpoint_url=endpoint))
    for region in (FIRST, SECOND):
        bucket = {"Bucket": f"{BUCKET_PREFIX}-{region}"}
        if region != "us-east-1":  # S3 refuses us-east-1 as a location constraint
            bucket["CreateBucketConfiguration"] = {"LocationConstraint": region}  # type: ignore[assignment]
        clients.client("s3", region).create_bucket(**bucket)
    clients.client("iam", FIRST).create_role(
        RoleName="OncallCatalogLaunchRole", AssumeRolePolicyDocument=TRUST_SERVICE_CATALOG
    )


TRUST_SERVICE_CATALOG = json.dumps(
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
)


def failing(region: str, action: str, service: str = "servicecatalog") -> Callable[[Request], str]:
    def rule(request: Request) -> str:
        return action if (request.region, request.service) == (region, service) else FORWARD

    return rule


def error_line(result: Result) -> str:
    [line] = [line for line in result.output.splitlines() if line.startswith("error: ")]
    return line


@pytest.mark.parametrize(
    ("action", "says"),
    [
        (DENY, "AccessDeniedException"),
        (CLOSE, "the connection closed without an answer"),
        (SILENT, "no answer within 3 s"),
    ],
)
def test_a_failing_read_in_the_second_region_names_it_and_the_step(
    run: Callable[..., Result], cloud_endpoint: str, action: str, says: str
) -> None:
    with region_proxy(cloud_endpoint, failing(SECOND, action)) as proxy:
        result = run("plan", endpoint=proxy)
    assert result.exit_code == 1, result.output
    line = error_line(result)
    assert line.startswith(f"error: {SECOND}: plan (reading the catalog): servicecatalog ")
    assert f" at {proxy}: " in line and says in line
    assert "cannot reach" not in line


@pytest.mark.parametrize(
    ("action", "says"),
    [(CLOSE, "the connection closed without an answer"), (SILENT, "no answer within 3 s")],
)
def test_a_write_failing_in_the_second_region_after_the_first_is_done_names_it(
    run: Callable[..., Result], cloud_endpoint: str, action: str, says: str
) -> None:
    def rule(request: Request) -> str:
        failing_write = request.region == SECOND and request.is_write
        return action if failing_write and request.service == "servicecatalog" else FORWARD

    with region_proxy(cloud_endpoint, rule) as proxy:
        result = run("publish", endpoint=proxy)
    assert result.exit_code == 1, result.output
    assert f"{FIRST}: " in result.output  # the first region's progress came first
    line = error_line(result)
    assert line.startswith(f"error: {SECOND}: publish: servicecatalog Create")
    assert f" at {proxy}: {says}" in line
    assert "cannot reach" not in line


def test_a_publish_whose_status_read_fails_says_the_publish_is_done(
    run: Callable[..., Result], cloud_endpoint: str
) -> None:
    """After the last write, the summary's first read (an S3 listing) fails: the error says
    the publish is done and names the read; status then shows the catalog as published."""
    writes_seen: list[Request] = []

    def rule(request: Request) -> str:
        if request.is_write:
            writes_seen.append(request)
        listing = request.service == "s3" and request.method == "GET"
        return SILENT if writes_seen and listing and request.region == SECOND else FORWARD

    with region_proxy(cloud_endpoint, rule) as proxy:
        result = run("publish", endpoint=proxy)
    assert result.exit_code == 1, result.output
    line = error_line(result)
    assert line.startswith(
        "error: publish done: every change was applied, but reading the status afterwards "
        f"failed: {SECOND}: status read after publish: s3 ListObjectsV2 at {proxy}: no answer"
    )
    assert line.endswith("; run `python build.py status` to see the catalog")
    status = run("status", "--json", "--check")
    assert status.exit_code == 0, status.output
    assert json.loads(status.output)["drift"] == []
