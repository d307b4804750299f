"""Fixtures for the localcloud tests: boto3 clients on the local endpoint that check every raw
Service Catalog response against botocore's output shape and every error code against the
operation's declared errors."""

import json
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from localcloud.shapes import response_problems

# localcloud.pytest_plugin is registered for the whole suite in pyproject.toml (addopts).

# Errors every AWS JSON service may answer with, beyond those an operation declares.
COMMON_ERRORS = {"ValidationException", "UnsupportedOperation", "UnknownOperationException"}


def check_raw_response(http_response: Any, model: Any, **_: Any) -> None:
    document = json.loads(http_response.content or b"{}")
    if http_response.status_code >= 300:
        declared = {shape.name for shape in model.error_shapes} | COMMON_ERRORS
        assert set(document) == {"__type", "message"}, f"{model.name}: error body {document}"
        assert document["__type"] in declared, f"{model.name} cannot answer {document['__type']}"
        return
    problems = response_problems(document, model.output_shape)
    assert not problems, (
        f"{model.name} response breaks botocore's shape: {[str(p) for p in problems]}"
    )


@pytest.fixture
def client_factory(local_endpoint: str) -> Callable[..., Any]:
    made: dict[tuple[str, str], Any] = {}

    def make(service: str, region: str = "us-east-1") -> Any:
        if (service, region) not in made:
            client = boto3.client(
                service,
                endpoint_url=local_endpoint,
                region_name=region,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            if service == "servicecatalog":
                client.meta.events.register("after-call.servicecatalog", check_raw_response)
            made[(service, region)] = client
        return made[(service, region)]

    return make


@pytest.fixture
def sc(client_factory: Callable[..., Any]) -> Any:
    return client_factory("servicecatalog")


@pytest.fixture
def s3(client_factory: Callable[..., Any]) -> Any:
    return client_factory("s3")


def wait_for(probe: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 120.0) -> Any:
    """Poll like a client of the real service would; fail with the last value seen.

    The timeout only stops a hang (a record that never completes): it is no performance bound,
    so it is far above what a loaded 2-core machine needs (5 s was hit under load)."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not done(value):
        assert time.monotonic() < deadline, f"still not done after {timeout}s: {value}"
        time.sleep(0.02)
        value = probe()
    return value
