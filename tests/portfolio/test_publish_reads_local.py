"""A no-op publish reads the catalog once, in bulk: counted calls, never time (issue 12).

The count is of the API requests botocore sends (its before-call event on the clients
AwsClients creates): one per page of a listing, one per describe. The bound is 2·P + 6 reads
for P products, and no write.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from build import cli
from catalog.config import load_config
from catalog.manifest import Manifest
from portfolio.aws import AwsClients, CallRecorder, Target
from portfolio.desired import desired_catalog
from portfolio.workflow import (
    BuiltCatalog,
    run_bootstrap,
    run_publish,
    run_publish_and_summarize,
)
from products.build import build_all
from tests.portfolio.conftest import REGION, Harness, write_catalog, write_dist

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def read_bound(products: int) -> int:
    return 2 * products + 6


def tools(count: int) -> list[str]:
    return [f"tool-{i:03d}" for i in range(count)]


def synthetic_catalog(root: Path, portfolio: dict[str, Any], names: list[str]) -> BuiltCatalog:
    """Products NAMES, each with its LAUNCH and one TEMPLATE constraint like the real ones."""
    rules = portfolio["template_constraints"]["alpha"]
    portfolio = {**portfolio, "template_constraints": dict.fromkeys(names, rules)}
    dist = root / "dist"
    manifest = write_dist(dist, {name: ("1.0.0", f"m-{name}") for name in names})
    config = load_config(write_catalog(root / "catalog.yaml", portfolio))
    desired = desired_catalog(portfolio, manifest, dist, commit="test")
    return BuiltCatalog(config, dist, manifest, desired)


def noop_publish(endpoint: str, built: BuiltCatalog) -> CallRecorder:
    """What `publish` does when nothing changed: plan, show, summarize."""
    recorder = CallRecorder()
    clients = AwsClients(Target(endpoint_url=endpoint), (recorder,))
    status = run_publish_and_summarize(clients, built, lambda plan: True, lambda change: None)
    assert status.drift == []
    return recorder


@pytest.mark.parametrize("products", [4, 40, 100])
def test_a_noop_publish_reads_at_most_two_per_product_and_writes_nothing(
    harness: Harness, tmp_path: Path, portfolio_config: dict[str, Any], products: int
) -> None:
    built = synthetic_catalog(tmp_path, portfolio_config, tools(products))
    run_publish(harness.clients(), built, lambda change: None)
    recorder = noop_publish(harness.endpoint, built)
    assert recorder.writes == []
    assert len(recorder.reads) <= read_bound(products), recorder.lines()
    # One read serves plan and summary: the versions of each product are listed once.
    assert recorder.reads.count("ListProvisioningArtifacts") == products


def test_the_first_publish_after_a_change_still_reads_before_it_writes(
    harness: Harness, tmp_path: Path, portfolio_config: dict[str, Any]
) -> None:
    built = synthetic_catalog(tmp_path, portfolio_config, tools(4))
    recorder = CallRecorder()
    clients = AwsClients(Target(endpoint_url=harness.endpoint), (recorder,))
    status = run_publish_and_summarize(clients, built, lambda plan: True, lambda change: None)
    assert status.drift == []
    first_write = recorder.calls.index(recorder.writes[0])
    # Read to plan, read again right before writing (a change made meanwhile is seen).
    assert recorder.calls[:first_write].count("ListPortfolios") == 2
    assert noop_publish(harness.endpoint, built).writes == []


def test_constraint_changed_by_hand_is_seen_through_its_digest(
    harness: Harness, tmp_path: Path, portfolio_config: dict[str, Any]
) -> None:
    built = synthetic_catalog(tmp_path, portfolio_config, tools(2))
    run_publish(harness.clients(), built, lambda change: None)
    sc = harness.sc
    portfolio_id = sc.list_portfolios()["PortfolioDetails"][0]["Id"]
    listed = sc.list_constraints_for_portfolio(PortfolioId=portfolio_id)["ConstraintDetails"]
    launch = next(c for c in listed if c["Type"] == "LAUNCH")
    # An operator edits the parameters and writes a description of their own (no digest):
    # the plan describes that constraint and puts the config's role back.
    sc.update_constraint(
        Id=launch["ConstraintId"],
        Parameters='{"LocalRoleName": "SomeOtherRole"}',
        Description="edited by hand",
    )
    recorder = harness.publish(built.desired)
    assert recorder.writes == ["UpdateConstraint"]
    assert "DescribeConstraint" in recorder.reads
    assert noop_publish(harness.endpoint, built).writes == []


def test_publish_debug_prints_each_call_and_the_count(
    harness: Harness, tmp_path: Path, portfolio_config: dict[str, Any]
) -> None:
    # The products catalog.yaml of the fixtures declares: the CLI checks the build against it.
    built = synthetic_catalog(tmp_path, portfolio_config, ["alpha", "beta"])
    run_publish(harness.clients(), built, lambda change: None)
    config = tmp_path / "catalog.yaml"
    target = ["--endpoint-url", harness.endpoint, "--region", REGION, "--no-build"]
    arguments = ["--config", str(config), "--dist", str(built.dist_dir), "publish", "--debug"]
    result = CliRunner().invoke(cli, [*arguments, *target])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    calls = [line for line in lines if line.startswith("call: ")]
    # Each call as it ended: service, operation, kind, region, HTTP status, duration.
    listing = next(line for line in calls if " ListPortfolios " in line).split()
    assert listing[:6] == ["call:", "servicecatalog", "ListPortfolios", "(read)", REGION, "200"]
    assert listing[-1] == "ms" and listing[-2].isdigit()
    assert lines[-1] == f"{len(calls)} API calls ({len(calls)} reads, 0 writes)"
    assert len(calls) <= read_bound(2)


def test_a_noop_publish_of_the_real_build_reads_in_bulk(
    tmp_path: Path, cloud_endpoint: str
) -> None:
    # check_versions=False, as in test_real_build_local: the real templates and packages,
    # whatever products/versions.json says of the handlers' latest edits.
    config = load_config(REPO / "catalog.yaml")
    build_all(config, tmp_path, check_versions=False)
    manifest = Manifest.load(tmp_path)
    built = BuiltCatalog(
        config, tmp_path, manifest, desired_catalog(config.portfolio, manifest, tmp_path)
    )
    clients = AwsClients(Target(endpoint_url=cloud_endpoint))
    run_bootstrap(clients, built, lambda line: None)
    run_publish(clients, built, lambda change: None)
    recorder = noop_publish(cloud_endpoint, built)
    assert recorder.writes == []
    assert len(recorder.reads) <= read_bound(len(built.desired.products)), recorder.lines()


def test_the_benchmark_runs_and_prints_its_table() -> None:
    # A smoke run at a tiny size so the benchmark does not rot; its figures are asserted above.
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "publish_reads_bench.py"), "--products", "2"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    row = result.stdout.splitlines()[-1].split("|")
    assert [cell.strip() for cell in row[1:5]] == ["2", row[2].strip(), "0", "10"]
    assert int(row[2]) <= read_bound(2)
