"""Fixtures for the event-delivery tests: boto3 clients, a control client, HTTP receivers and a
guard that fails a test if anything in this process connects to a non-loopback address."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from localcloud.control import ControlClient
from localcloud.server import LocalCloud
from tests.support.http_receiver import HttpReceiver


@pytest.fixture
def aws(local_endpoint: str) -> Callable[..., Any]:
    def client(service: str, region: str = "us-east-1") -> Any:
        return boto3.client(
            service,
            endpoint_url=local_endpoint,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return client


@pytest.fixture
def control(local_endpoint: str) -> Iterator[ControlClient]:
    client = ControlClient(local_endpoint)
    yield client
    client.set_auto_confirm(False)  # a server switch: it outlives reset_state


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    server = HttpReceiver()
    yield server
    server.close()


@pytest.fixture
def advance(localcloud: LocalCloud) -> Callable[[float], float]:
    return localcloud.advance


class ConnectGuard:
    """Records every connect() to a non-loopback address (and refuses it)."""

    def __init__(self) -> None:
        self.attempts: list[Any] = []

    def check(self, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else address
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            self.attempts.append(address)
            raise AssertionError(f"connect() to non-loopback {address!r}")


@pytest.fixture
def connect_guard(monkeypatch: pytest.MonkeyPatch) -> ConnectGuard:
    guard = ConnectGuard()
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        guard.check(address)
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        guard.check(address)
        return original_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        guard.check((host, 0))  # a DNS lookup of another name would leave the machine too
        return original_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return guard


RECORDING_HANDLER = """
import json, os, boto3

def handler(event, context):
    # Write what arrived where the test can read it: an SQS queue on the local endpoint.
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=os.environ["RECORD_QUEUE_URL"], MessageBody=json.dumps(event))
    return {"ok": True}
"""


def make_function(
    aws: Callable[..., Any],
    name: str,
    source: str = RECORDING_HANDLER,
    environment: dict[str, str] | None = None,
) -> str:
    """A real Python function (zip built here) with its own role; returns its ARN."""
    import io
    import json
    import zipfile

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
    role = aws("iam").create_role(
        RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps(trust)
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    answer = aws("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": buffer.getvalue()},
        Environment={"Variables": environment or {}},
    )
    return str(answer["FunctionArn"])
