"""End-to-end scenarios: publish the real build to the local AWS, launch a tool through Service
Catalog, then run the launched function's own code (fetched from the artifact bucket the stack
points at) with the function's own environment, against the same local AWS.

moto cannot invoke Lambda functions without Docker, so the invocation is a subprocess here; every
AWS call the handler makes goes to the local endpoint over HTTP.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from catalog.cli_context import DEFAULT_CONFIG
from portfolio.aws import AwsClients, Target
from portfolio.workflow import BuiltCatalog, prepare, run_bootstrap, run_launch, run_publish
from tests.support.aws import endpoint_env

REGION = "us-east-1"
RUNNER = """
import json, sys
class Context:
    function_name = "scenario"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:scenario"
    aws_request_id = "scenario-request"
    def get_remaining_time_in_millis(self):
        return 60000
import app
result = app.lambda_handler(json.loads(sys.stdin.read()), Context())
print("RESULT " + json.dumps(result, default=str))
"""


@dataclass
class LaunchedTool:
    """A tool launched through Service Catalog, with what it takes to invoke its function."""

    outputs: dict[str, str]
    code_dir: Path
    environment: dict[str, str]
    endpoint: str

    def invoke(self, event: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": os.environ.get("PATH", ""),
            **self.environment,
            **endpoint_env(self.endpoint, REGION),
            "PYTHONPATH": str(self.code_dir),
        }
        return subprocess.run(
            [sys.executable, "-c", RUNNER],
            input=json.dumps(event),
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )


@pytest.fixture
def aws(local_endpoint: str) -> Callable[[str], Any]:
    def client(service: str) -> Any:
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=local_endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return client


@pytest.fixture
def published(local_endpoint: str, tmp_path: Path) -> tuple[BuiltCatalog, AwsClients]:
    """The real build, bootstrapped and published into a fresh local AWS."""
    prepared = prepare(DEFAULT_CONFIG, tmp_path / "dist")
    clients = AwsClients(Target(endpoint_url=local_endpoint, region=REGION))
    run_bootstrap(clients, prepared, echo=lambda message: None)
    run_publish(clients, prepared, progress=lambda change: None)
    return prepared, clients


@pytest.fixture
def launch_tool(
    published: tuple[BuiltCatalog, AwsClients],
    aws: Callable[[str], Any],
    local_endpoint: str,
    tmp_path: Path,
) -> Callable[..., LaunchedTool]:
    prepared, clients = published

    def launch(product: str, environment: str = "dev", **parameters: str) -> LaunchedTool:
        result = run_launch(
            clients, prepared, product, environment, overrides=parameters, echo=lambda message: None
        )
        code_dir = _fetch_function_code(
            aws, result.stack_arn or "", tmp_path / f"{product}-{environment}"
        )
        configuration = aws("lambda").get_function_configuration(
            FunctionName=result.outputs["FunctionName"]
        )
        environment = configuration["Environment"]["Variables"]
        assert all(isinstance(value, str) for value in environment.values()), environment
        return LaunchedTool(result.outputs, code_dir, environment, local_endpoint)

    return launch


def _stack_parameters(aws: Callable[[str], Any], stack_arn: str) -> dict[str, str]:
    [stack] = aws("cloudformation").describe_stacks(StackName=stack_arn)["Stacks"]
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}


def _chosen(value: Any, template: dict[str, Any], parameters: dict[str, str]) -> str:
    """A package key, or the one an Fn::If on Fn::Equals(Ref, value) conditions picks."""
    if isinstance(value, str):
        return value
    condition, when_true, when_false = value["Fn::If"]
    reference, expected = template["Conditions"][condition]["Fn::Equals"]
    holds = parameters[reference["Ref"]] == expected
    return _chosen(when_true if holds else when_false, template, parameters)


def _fetch_function_code(aws: Callable[[str], Any], stack_arn: str, target: Path) -> Path:
    """The zip the launched stack's function points at, read from the regional bucket."""
    body = aws("cloudformation").get_template(StackName=stack_arn)["TemplateBody"]
    template = json.loads(body) if isinstance(body, str) else body
    code = template["Resources"]["Function"]["Properties"]["Code"]
    bucket = code["S3Bucket"]["Fn::Sub"].replace("${AWS::Region}", REGION)
    archive = target / "code.zip"
    target.mkdir(parents=True)
    key = _chosen(code["S3Key"], template, _stack_parameters(aws, stack_arn))
    archive.write_bytes(aws("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(target / "code")
    return target / "code"
