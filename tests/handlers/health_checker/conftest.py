"""Health-checker fixtures: moto resources the handler needs, real TCP listeners, SNS readback."""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.ports import free_loopback_port

TOOL_DIR = Path(__file__).resolve().parents[3] / "handlers" / "health_checker"
if str(TOOL_DIR) not in sys.path:
    # Module tests import health_* directly; app tests go through load_handler.
    sys.path.insert(0, str(TOOL_DIR))


@dataclass
class HealthAws:
    table: str
    topic_arn: str
    queue_url: str

    def alerts(self) -> list[dict[str, Any]]:
        """SNS notifications delivered to the subscribed queue (Subject, Message, ...)."""
        sqs = boto3.client("sqs", region_name="us-east-1")
        found: list[dict[str, Any]] = []
        while True:
            answer = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            messages = answer.get("Messages", [])
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def item(self, name: str) -> dict[str, Any] | None:
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        return dynamodb.get_item(TableName=self.table, Key={"pk": {"S": f"target#{name}"}}).get(
            "Item"
        )


@pytest.fixture
def health_aws(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> HealthAws:
    """State table + alert topic (with an SQS subscriber to read alerts back) and the env vars."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(
        TableName="health-state",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    sns = boto3.client("sns", region_name="us-east-1")
    topic_arn = sns.create_topic(Name="oncall-alerts")["TopicArn"]
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName="alerts-readback")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
    monkeypatch.setenv("STATE_TABLE", "health-state")
    monkeypatch.setenv("ALERT_TOPIC_ARN", topic_arn)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "health_checker")
    monkeypatch.delenv("TARGETS_SSM_PARAMETER", raising=False)
    return HealthAws("health-state", topic_arn, queue_url)


@pytest.fixture
def set_targets(monkeypatch: pytest.MonkeyPatch) -> Callable[[list[dict[str, Any]]], None]:
    def apply(targets: list[dict[str, Any]]) -> None:
        monkeypatch.setenv("TARGETS", json.dumps(targets))

    return apply


@pytest.fixture
def tcp_listener() -> Iterator[int]:
    """A real listening TCP socket on 127.0.0.1; yields its port."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield server.getsockname()[1]
    server.close()


@pytest.fixture
def closed_port() -> int:
    """A port that was just free on 127.0.0.1 and has nothing listening on it."""
    return free_loopback_port()


@dataclass
class TlsServer:
    port: int
    cert_file: Path


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 'localhost' (made once: RSA key generation is slow)."""
    import subprocess

    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_server(tls_cert: tuple[Path, Path]) -> Iterator[TlsServer]:
    """A real HTTPS server on 127.0.0.1 presenting the self-signed 'localhost' certificate."""
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    cert, key = tls_cert

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = f"tls ok for {self.headers.get('Host')}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield TlsServer(int(server.server_address[1]), cert)
    server.shutdown()
    server.server_close()
