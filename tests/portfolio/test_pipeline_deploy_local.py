"""`build.py pipeline deploy` against localcloud: the change set first, then the stack; the
parameters are refused before any call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from build import cli
from catalog.config import load_config
from portfolio.aws import AwsClients, CallRecorder, Target
from portfolio.pipeline.deploy import STACK_NAME, PipelineParameters, plan_pipeline
from portfolio.pipeline.errors import PipelineError
from products.build import build_all

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
CONNECTION = (
    "arn:aws:codeconnections:us-east-1:123456789012:connection/0123abcd-4567-89ab-cdef-0123456789ab"
)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    build_all(load_config(REPO / "catalog.yaml"), out, check_versions=False)
    return out


def _deploy(dist: Path, endpoint: str, *extra: str) -> Result:
    arguments = ["--dist", str(dist), "pipeline", "deploy", "--no-build", "--yes"]
    arguments += ["--endpoint-url", endpoint, "--connection-arn", CONNECTION, *extra]
    return CliRunner().invoke(cli, arguments)


def _client(endpoint: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_create_then_nothing_then_an_update(dist: Path, cloud_endpoint: str) -> None:
    created = _deploy(dist, cloud_endpoint, "--repository", "my-org/oncall-catalog")
    assert created.exit_code == 0, created.output
    assert f"stack {STACK_NAME} (CREATE)" in created.output
    assert "Add     Pipeline " in created.output
    assert f"stack {STACK_NAME} CREATE_COMPLETE" in created.output
    pipeline = _client(cloud_endpoint, "codepipeline").get_pipeline(name="oncall-catalog-release")
    stages = [stage["name"] for stage in pipeline["pipeline"]["stages"]]
    assert stages[0] == "Source" and stages[-2:] == ["Approve", "DeployProd"]
    source = pipeline["pipeline"]["stages"][0]["actions"][0]["configuration"]
    assert source["FullRepositoryId"] == "my-org/oncall-catalog"
    projects = _client(cloud_endpoint, "codebuild").list_projects()["projects"]
    assert len(projects) == len(stages) - 2  # every stage but Source and Approve builds

    again = _deploy(dist, cloud_endpoint, "--repository", "my-org/oncall-catalog")
    assert again.exit_code == 0, again.output
    assert "up to date; nothing to do" in again.output

    moved = _deploy(dist, cloud_endpoint, "--repository", "my-org/renamed")
    assert moved.exit_code == 0, moved.output
    assert f"stack {STACK_NAME} (UPDATE)" in moved.output
    pipeline = _client(cloud_endpoint, "codepipeline").get_pipeline(name="oncall-catalog-release")
    source = pipeline["pipeline"]["stages"][0]["actions"][0]["configuration"]
    assert source["FullRepositoryId"] == "my-org/renamed"


def test_an_unchanged_stack_makes_no_write_beyond_the_probe(
    dist: Path, cloud_endpoint: str
) -> None:
    assert _deploy(dist, cloud_endpoint, "--repository", "a/b").exit_code == 0
    recorder = CallRecorder()
    cfn = AwsClients(Target(endpoint_url=cloud_endpoint), (recorder,)).client(
        "cloudformation", REGION
    )
    body = (dist / "infra" / "pipeline.json").read_text()
    assert plan_pipeline(cfn, body, PipelineParameters(CONNECTION, "a/b")) is None
    # A change set is how CloudFormation answers "what would change": created, then deleted.
    assert recorder.writes == ["CreateChangeSet", "DeleteChangeSet"]
    listed = _client(cloud_endpoint, "cloudformation").list_change_sets(StackName=STACK_NAME)
    assert [c for c in listed["Summaries"] if c["ExecutionStatus"] != "EXECUTE_COMPLETE"] == []


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--connection-arn", "arn:aws:codecommit:us-east-1:123456789012:x", "--connection-arn"),
        ("--repository", "just-a-name", "--repository 'just-a-name' is not OWNER/NAME"),
        ("--branch", "-oops", "--branch '-oops' is not a branch name"),
    ],
)
def test_bad_parameters_are_refused_before_any_call(
    tmp_path: Path, option: str, value: str, message: str
) -> None:
    values = {"--connection-arn": CONNECTION, "--repository": "a/b", "--branch": "main"}
    values[option] = value
    arguments = ["--dist", str(tmp_path / "no-build-here"), "pipeline", "deploy", "--no-build"]
    # Port 9 (discard) on loopback: any call would fail with a connection error instead.
    arguments += ["--endpoint-url", "http://127.0.0.1:9"]
    for key, text in values.items():
        arguments += [key, text]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 1
    assert message in result.output


def test_parameters_validate_in_code_too() -> None:
    with pytest.raises(PipelineError, match="--repository 'x' is not OWNER/NAME"):
        PipelineParameters(CONNECTION, "x").validate()
