"""Launch preview (plans), recovery of a failed first launch, `launches` and `terminate`, against
a real localcloud with the fabricated products of conftest.py."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest
from click.testing import CliRunner, Result

from build import cli
from portfolio.errors import PublishError
from portfolio.launch import launch
from portfolio.launch_commands import COMMANDS
from portfolio.launch_plan import LaunchPreview, launch_with_preview
from portfolio.launches import launches_table, list_launches
from portfolio.polling import wait_for
from portfolio.terminate import NotLaunchedError, terminate_provisioned_product

V1 = {"alpha": ("1.0.0", "a1"), "beta": ("1.0.0", "b1")}
V2 = {"alpha": ("1.1.0", "a2"), "beta": ("1.0.0", "b1")}
REGION = "us-east-1"
REPO = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ["dev", "staging", "prod"]


class Previews:
    """A review that records every preview and answers APPROVE."""

    def __init__(self, approve: bool = True) -> None:
        self.approve = approve
        self.seen: list[LaunchPreview] = []

    def __call__(self, preview: LaunchPreview) -> bool:
        self.seen.append(preview)
        return self.approve


def previewed(harness: Any, env: str, review: Previews, lines: list[str] | None = None) -> Any:
    return launch_with_preview(
        harness.sc,
        REGION,
        "alpha",
        env,
        parameters={"Environment": env},
        progress=(lines if lines is not None else []).append,
        review=review,
    )


def plans_left(harness: Any) -> list[Any]:
    return list(harness.sc.list_provisioned_product_plans()["ProvisionedProductPlans"])


def is_launched(harness: Any, name: str) -> bool:
    try:
        harness.sc.describe_provisioned_product(Name=name)
    except botocore.exceptions.ClientError:
        return False
    return True


def test_a_first_launch_shows_every_resource_it_adds_then_runs(harness: Any) -> None:
    harness.publish(harness.desired(V1))
    review = Previews()
    result = previewed(harness, "dev", review)
    assert result is not None and result.outputs["QueueUrl"].endswith("/alpha-dev")
    (preview,) = review.seen
    assert preview.first_launch and preview.version == "1.0.0"
    assert preview.lines() == [
        "alpha-dev: launch to alpha 1.0.0: 1 to add",
        "  add                  Queue (AWS::SQS::Queue)",
    ]
    assert plans_left(harness) == []

    harness.publish(harness.desired(V2))  # new content, the same queue
    updated = previewed(harness, "dev", review)
    assert updated is not None and updated.version == "1.1.0"
    assert review.seen[-1].lines() == ["alpha-dev: update to alpha 1.1.0: no resource changes"]


def test_a_preview_not_approved_changes_nothing(harness: Any) -> None:
    harness.publish(harness.desired(V1))
    assert previewed(harness, "dev", Previews(approve=False)) is None
    assert not is_launched(harness, "alpha-dev")  # the plan's provisioned product went with it
    assert plans_left(harness) == []
    previewed(harness, "dev", Previews())
    declined = Previews(approve=False)
    moved = launch_with_preview(
        harness.sc,
        REGION,
        "alpha",
        "dev",
        parameters={"Environment": "staging"},
        progress=lambda line: None,
        review=declined,
    )
    assert moved is None
    assert declined.seen[0].lines()[1] == (
        "  replace              Queue (AWS::SQS::Queue): QueueName (by Environment)"
    )
    queues = harness.clients().client("sqs", REGION).list_queues()["QueueUrls"]
    assert [url.rsplit("/", 1)[1] for url in queues] == ["alpha-dev"]
    assert plans_left(harness) == []


def test_a_value_the_stack_refuses_is_reported_before_anything_changes(harness: Any) -> None:
    harness.publish(harness.desired(V1))
    review = Previews()
    with pytest.raises(
        PublishError,
        match=r"launch of alpha-qa refused before anything changed: Parameter 'Environment' "
        r"must be one of AllowedValues",
    ):
        launch_with_preview(
            harness.sc,
            REGION,
            "alpha",
            "qa",
            parameters={"Environment": "qa"},
            progress=lambda line: None,
            review=review,
        )
    assert review.seen == [] and not is_launched(harness, "alpha-qa")
    assert plans_left(harness) == []


def test_a_first_launch_the_stack_refused_is_terminated_and_launched_again(harness: Any) -> None:
    # The case: `--param Environment=qa` provisioned without a preview ends ERROR.
    harness.publish(harness.desired(V1))
    quiet = lambda line: None  # noqa: E731
    with pytest.raises(PublishError, match="provisioning of alpha-dev failed: Parameter"):
        launch(harness.sc, REGION, "alpha", "dev", parameters={"Environment": "qa"}, progress=quiet)
    failed = harness.sc.describe_provisioned_product(Name="alpha-dev")["ProvisionedProductDetail"]
    assert failed["Status"] == "ERROR"
    lines: list[str] = []
    result = previewed(harness, "dev", Previews(), lines)
    assert result is not None and result.provisioned_product_id != failed["Id"]
    assert lines[0] == (
        "alpha-dev: ERROR from a launch that never succeeded (Parameter 'Environment' must be "
        "one of AllowedValues); terminating it to launch again"
    )
    assert lines[1].startswith("alpha-dev: terminating (record ")
    assert "alpha-dev: SUCCEEDED" in lines
    # The launch without a preview recovers the same way.
    with pytest.raises(PublishError):
        launch(harness.sc, REGION, "beta", "dev", parameters={"Environment": "qa"}, progress=quiet)
    again = launch(
        harness.sc, REGION, "beta", "dev", parameters={"Environment": "dev"}, progress=quiet
    )
    assert again.outputs["QueueUrl"].endswith("/beta-dev")


def _provision(harness: Any, product: str, name: str) -> None:
    product_id = harness.product_id(product)
    (version,) = harness.sc.list_provisioning_artifacts(ProductId=product_id)[
        "ProvisioningArtifactDetails"
    ]
    path = harness.sc.list_launch_paths(ProductId=product_id)["LaunchPathSummaries"][0]
    record = harness.sc.provision_product(
        ProductId=product_id,
        ProvisioningArtifactId=version["Id"],
        PathId=path["Id"],
        ProvisionedProductName=name,
        ProvisioningParameters=[{"Key": "Environment", "Value": "staging"}],
        ProvisionToken=f"tok-{name}",
    )["RecordDetail"]["RecordId"]
    status = wait_for(
        lambda: {"SUCCEEDED": "SUCCEEDED", "FAILED": "FAILED"}.get(
            harness.sc.describe_record(Id=record)["RecordDetail"]["Status"]
        ),
        f"provisioning of {name}",
    )
    assert status == "SUCCEEDED"


def test_launches_lists_versions_instances_and_newer_versions(harness: Any) -> None:
    harness.publish(harness.desired(V1))
    for product, env in (("alpha", "dev"), ("alpha", "staging"), ("beta", "dev")):
        launch(harness.sc, REGION, product, env, parameters={"Environment": env}, progress=print)
    _provision(harness, "alpha", "alpha-blue-dev")  # another instance of alpha in dev
    _provision(harness, "alpha", "someone-elses")  # not a name of ours: not listed
    harness.publish(harness.desired(V2))
    found = list_launches(harness.sc, REGION, ["alpha", "beta"], ENVIRONMENTS)
    assert [(x.environment, x.name, x.version, x.newest, x.newer_published) for x in found] == [
        ("dev", "alpha-dev", "1.0.0", "1.1.0", True),
        ("dev", "alpha-blue-dev", "1.0.0", "1.1.0", True),
        ("dev", "beta-dev", "1.0.0", "1.0.0", False),
        ("staging", "alpha-staging", "1.0.0", "1.1.0", True),
    ]
    assert launches_table(found).splitlines() == [
        "ENVIRONMENT  PRODUCT  INSTANCE  VERSION  STATUS     NEWER PUBLISHED",
        "dev          alpha    -         1.0.0    AVAILABLE  1.1.0",
        "dev          alpha    blue      1.0.0    AVAILABLE  1.1.0",
        "dev          beta     -         1.0.0    AVAILABLE  no",
        "staging      alpha    -         1.0.0    AVAILABLE  1.1.0",
    ]
    assert list_launches(harness.sc, REGION, ["alpha"], ["prod"]) == []


def test_terminate_removes_the_product_and_names_one_that_does_not_exist(harness: Any) -> None:
    harness.publish(harness.desired(V1))
    launch(harness.sc, REGION, "alpha", "dev", parameters={"Environment": "dev"}, progress=print)
    lines: list[str] = []
    terminate_provisioned_product(harness.sc, "alpha-dev", lines.append)
    assert lines[0].startswith("alpha-dev: terminating (record ") and lines[-1] == (
        "alpha-dev: SUCCEEDED"
    )
    assert not is_launched(harness, "alpha-dev")
    assert harness.clients().client("sqs", REGION).list_queues().get("QueueUrls", []) == []
    with pytest.raises(NotLaunchedError, match="no provisioned product 'alpha-dev'"):
        terminate_provisioned_product(harness.sc, "alpha-dev", lines.append)


# --- through build.py ---------------------------------------------------------------------------


@pytest.fixture
def run(
    tmp_path: Path, portfolio_config: dict[str, Any], make_catalog: Any, cloud_endpoint: str
) -> Any:
    config = make_catalog(tmp_path / "catalog.yaml", portfolio_config)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(
            cli,
            [
                "--config",
                str(config),
                "--dist",
                str(tmp_path / "dist"),
                *args,
                "--endpoint-url",
                cloud_endpoint,
                "--no-build",
            ],
        )

    return invoke


@pytest.mark.parametrize("command", [c.name for c in COMMANDS])
def test_every_launch_command_has_help(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_launch_dry_run_prod_confirmation_launches_and_terminate(
    run: Any, harness: Any, tmp_path: Path, make_dist: Any
) -> None:
    make_dist(tmp_path / "dist", V1)
    assert run("publish").exit_code == 0
    refused = run("launch", "beta", "--env", "prod")
    assert refused.exit_code == 1
    assert "error: launch beta --env prod changes prod and needs a confirmation: not on a " in (
        refused.output
    )
    dry = run("launch", "beta", "--env", "prod", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines()[-3:] == [
        "beta-prod: launch to beta 1.0.0: 1 to add",
        "  add                  Queue (AWS::SQS::Queue)",
        "beta-prod: dry run, nothing changed (plan deleted)",
    ]
    assert not is_launched(harness, "beta-prod")
    launched = run("launch", "beta", "--env", "prod", "--yes")
    assert launched.exit_code == 0, launched.output
    assert "beta-prod: launch to beta 1.0.0: 1 to add" in launched.output
    assert "QueueUrl = " in launched.output
    listed = run("launches", "--env", "prod")
    assert listed.output.splitlines()[1].split() == [
        "prod",
        "beta",
        "-",
        "1.0.0",
        "AVAILABLE",
        "no",
    ]
    not_asked = run("terminate", "beta", "--env", "prod")
    assert not_asked.exit_code == 1 and "pass --yes to confirm; nothing changed" in not_asked.output
    gone = run("terminate", "beta", "--env", "prod", "--yes")
    assert gone.exit_code == 0, gone.output
    assert gone.output.splitlines()[-1] == "beta-prod terminated"
    missing = run("terminate", "beta", "--env", "prod", "--yes")
    assert missing.exit_code == 1
    assert "error: us-east-1: no provisioned product 'beta-prod'; nothing to terminate" in (
        missing.output
    )
    assert '"name": "beta-prod"' not in run("launches", "--json").output


def _on_a_terminal(args: list[str], answer: str) -> tuple[int, str]:
    """build.py ARGS with a real terminal as stdin (a pty) and ANSWER typed into it."""
    controller, terminal = pty.openpty()
    try:
        os.write(controller, answer.encode())
        done = subprocess.run(
            [sys.executable, str(REPO / "build.py"), *args],
            stdin=terminal,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(controller)
        os.close(terminal)
    return done.returncode, done.stdout + done.stderr


def test_prod_launch_on_a_terminal_asks_before_it_changes_anything(
    harness: Any,
    tmp_path: Path,
    portfolio_config: dict[str, Any],
    make_catalog: Any,
    make_dist: Any,
    cloud_endpoint: str,
) -> None:
    config = make_catalog(tmp_path / "catalog.yaml", portfolio_config)
    make_dist(tmp_path / "dist", V1)
    harness.publish(harness.desired(V1))
    args = ["--config", str(config), "--dist", str(tmp_path / "dist"), "launch", "beta"]
    args += ["--env", "prod", "--endpoint-url", cloud_endpoint, "--no-build"]
    code, output = _on_a_terminal(args, "n\n")
    assert code == 1, output
    assert "Apply these changes to prod? [y/N]" in output
    assert "error: launch of beta-prod cancelled; nothing changed" in output
    assert not is_launched(harness, "beta-prod") and plans_left(harness) == []
    code, output = _on_a_terminal(args, "y\n")
    assert code == 0, output
    assert "beta-prod (pp-" in output and is_launched(harness, "beta-prod")
