"""The publish commands through build.py's click group, against a real localcloud."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from build import cli
from portfolio.commands import COMMANDS

V1 = {"alpha": ("1.0.0", "a1"), "beta": ("1.0.0", "b1")}
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def run(tmp_path: Path, portfolio_config: dict[str, Any], make_catalog: Any) -> Any:
    config = make_catalog(tmp_path / "catalog.yaml", portfolio_config)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(
            cli, ["--config", str(config), "--dist", str(tmp_path / "dist"), *args]
        )

    return invoke


@pytest.mark.parametrize("command", [c.name for c in COMMANDS])
def test_every_command_has_help(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_bootstrap_plan_publish_plan_status_launch(
    run: Any, cloud_endpoint: str, tmp_path: Path, make_dist: Any
) -> None:
    make_dist(tmp_path / "dist", V1)
    target = ["--endpoint-url", cloud_endpoint, "--no-build"]
    assert "us-east-1: bootstrap stack created" in run("bootstrap", *target).output
    first = run("plan", "--detailed-exitcode", *target)
    assert first.exit_code == 2, first.output
    assert "create" in first.output
    assert run("plan", *target).exit_code == 0  # changes pending is success without the flag
    as_json = json.loads(run("plan", "--json", *target).output)
    assert as_json["changes_pending"] is True
    published = run("publish", *target)
    assert published.exit_code == 0, published.output
    assert "portfolio us-east-1: port-" in published.output
    assert "drift: none" in published.output
    republished = run("publish", *target)
    assert republished.exit_code == 0, republished.output
    assert "\n0 write call(s)" in republished.output
    again = run("plan", "--detailed-exitcode", *target)
    assert again.exit_code == 0, again.output
    assert "0 to create, 0 to update, 0 to delete" in again.output
    launched = run("launch", "alpha", "--env", "dev", *target)
    assert launched.exit_code == 0, launched.output
    assert "alpha-dev" in launched.output
    assert "QueueUrl = " in launched.output
    assert "bootstrap stack unchanged" in run("bootstrap", *target).output


def test_publish_refuses_changed_content_without_bump(
    run: Any, cloud_endpoint: str, tmp_path: Path, make_dist: Any
) -> None:
    target = ["--endpoint-url", cloud_endpoint, "--no-build"]
    make_dist(tmp_path / "dist", V1)
    run("bootstrap", *target)
    assert run("publish", *target).exit_code == 0
    make_dist(tmp_path / "dist", {**V1, "beta": ("1.0.0", "b2")})
    refused = run("publish", *target)
    assert refused.exit_code == 1
    assert "error: beta version '1.0.0' is already published" in refused.output
    assert "bump" in refused.output


def test_rollback_command(run: Any, cloud_endpoint: str, tmp_path: Path, make_dist: Any) -> None:
    target = ["--endpoint-url", cloud_endpoint, "--no-build"]
    make_dist(tmp_path / "dist", V1)
    run("bootstrap", *target)
    run("publish", *target)
    make_dist(tmp_path / "dist", {**V1, "alpha": ("1.1.0", "a2")})
    run("publish", *target)
    result = run("rollback", "alpha", "--to", "1.0.0", *target)
    assert result.exit_code == 0, result.output
    assert "us-east-1: alpha rolled back to 1.0.0 (1 version(s) changed)" in result.output
    status = json.loads(run("status", "--json", *target).output)
    alpha = next(p for p in status["products"] if p["name"] == "alpha")
    assert alpha["default_versions"] == ["1.0.0"]


def test_status_judges_older_versions_by_the_history_of_the_given_build(
    run: Any, cloud_endpoint: str, tmp_path: Path, make_dist: Any
) -> None:
    """status compares published versions with the records of the catalog that --config and
    --dist describe, not with this repository's products/versions.json (no 'alpha' there)."""
    target = ["--endpoint-url", cloud_endpoint, "--no-build"]
    make_dist(tmp_path / "dist", V1)
    run("bootstrap", *target)
    run("publish", *target)
    recorded_elsewhere = {"alpha": {"1.0.0": "0" * 64}}
    make_dist(tmp_path / "dist", {**V1, "alpha": ("1.1.0", "a2")}, recorded_elsewhere)
    assert run("publish", *target).exit_code == 0
    status = json.loads(run("status", "--json", *target).output)
    assert [d for d in status["drift"] if "alpha: version 1.0.0" in d] == [
        "us-east-1: alpha: version 1.0.0 records hash "
        f"{status_hash(status, 'alpha', '1.0.0')[:12]}, the build has 000000000000 "
        "(content changed without a version bump)"
    ]


def status_hash(status: dict[str, Any], product: str, version: str) -> str:
    entry = next(p for p in status["products"] if p["name"] == product)
    return str(next(v["content_hash"] for v in entry["versions"] if v["name"] == version))


def test_local_launch_runs_everything_in_one_process(
    run: Any, tmp_path: Path, make_dist: Any
) -> None:
    make_dist(tmp_path / "dist", V1)
    result = run("launch", "beta", "--env", "dev", "--local", "--no-build")
    assert result.exit_code == 0, result.output
    assert "beta-dev" in result.output


def test_without_credentials_the_error_suggests_local(
    run: Any, tmp_path: Path, make_dist: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    make_dist(tmp_path / "dist", V1)
    result = run("plan", "--no-build")
    assert result.exit_code == 1
    assert result.output.startswith("error: no AWS credentials found")
    assert "--local" in result.output


def test_two_publish_processes_at_once_leave_one_version_per_hash(
    run: Any, cloud_endpoint: str, tmp_path: Path, make_dist: Any, harness: Any
) -> None:
    """Two CI jobs publishing the same build at the same time, as separate processes (the
    harness fixture has created the bucket and launch role, like bootstrap)."""
    make_dist(tmp_path / "dist", V1)
    target = ["--endpoint-url", cloud_endpoint, "--no-build"]
    command = [
        sys.executable,
        str(REPO / "build.py"),
        "--config",
        str(tmp_path / "catalog.yaml"),
        "--dist",
        str(tmp_path / "dist"),
        "publish",
        *target,
    ]
    processes = [
        subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    snapshot = harness.snapshot()
    assert snapshot["portfolios"] == ["On-call Tools (test)"]
    assert [(name, len(versions)) for name, versions in snapshot["products"]] == [
        ("alpha", 1),
        ("beta", 1),
    ]
