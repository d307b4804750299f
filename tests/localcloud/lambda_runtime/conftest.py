"""Fixtures for the Lambda runtime tests: real zips, functions created through the local API."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.localcloud.lambda_runtime.functions import REGION, ROLE, zipped


@pytest.fixture
def aws(local_endpoint: str) -> Callable[[str], Any]:
    made: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in made:
            made[service] = boto3.client(
                service,
                endpoint_url=local_endpoint,
                region_name=REGION,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                # one attempt: a throttle or an error must reach the test as Lambda answered it
                config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
            )
        return made[service]

    return client


@pytest.fixture
def create_function(aws: Callable[[str], Any]) -> Callable[..., str]:
    """Create a function from handler source (app.py) through the Lambda API; its name."""

    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    aws("iam").create_role(
        RoleName=ROLE.rsplit("/", 1)[-1], AssumeRolePolicyDocument=json.dumps(trust)
    )

    def create(name: str, source: str, handler: str = "app.handler", **settings: Any) -> str:
        files = settings.pop("files", None) or {"app.py": source}
        aws("lambda").create_function(
            FunctionName=name,
            Runtime=settings.pop("Runtime", "python3.12"),
            Role=ROLE,
            Handler=handler,
            Code={"ZipFile": zipped(files)},
            **settings,
        )
        return name

    return create
