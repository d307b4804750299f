"""The server itself: lifecycle, isolation, AWS-style errors (never HTML), raw-request validation,
and the `local` command."""

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

from localcloud import LocalCloud
from localcloud.commands import COMMANDS, local, local_clock, local_inbox
from localcloud.errors import LocalCloudError
from tests.localcloud.helpers import raw_call

ROOT = Path(__file__).resolve().parents[2]


def test_two_instances_are_independent_servers_with_fresh_state() -> None:
    with LocalCloud() as first:
        client = boto3.client(
            "sqs",
            endpoint_url=first.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="a",
            aws_secret_access_key="b",
        )
        client.create_queue(QueueName="left-over")
        assert first.endpoint_url.startswith("http://127.0.0.1:")
    with LocalCloud() as second:
        client = boto3.client(
            "sqs",
            endpoint_url=second.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="a",
            aws_secret_access_key="b",
        )
        assert client.list_queues().get("QueueUrls", []) == []
    with pytest.raises(LocalCloudError, match="not running"):
        _ = second.endpoint_url


def test_start_twice_and_busy_port_are_errors(localcloud: LocalCloud) -> None:
    with pytest.raises(LocalCloudError, match="already running"):
        localcloud.start()
    port = int(localcloud.endpoint_url.rsplit(":", 1)[1])
    with (
        pytest.raises(LocalCloudError, match=f"cannot listen on 127.0.0.1:{port}"),
        LocalCloud(port=port),
    ):
        pass


def test_reset_clears_service_catalog_and_moto(
    sc: Any, client_factory: Any, localcloud: LocalCloud
) -> None:
    sc.create_portfolio(DisplayName="P", ProviderName="X", IdempotencyToken="t")
    client_factory("sqs").create_queue(QueueName="q")
    localcloud.reset()
    assert sc.list_portfolios()["PortfolioDetails"] == []
    assert client_factory("sqs").list_queues().get("QueueUrls", []) == []


def test_moto_api_reset_also_clears_service_catalog(sc: Any, local_endpoint: str) -> None:
    sc.create_portfolio(DisplayName="P", ProviderName="X", IdempotencyToken="t")
    urllib.request.urlopen(
        urllib.request.Request(f"{local_endpoint}/moto-api/reset", method="POST"), timeout=10
    )
    assert sc.list_portfolios()["PortfolioDetails"] == []


def test_regions_have_separate_catalogs(client_factory: Any) -> None:
    east, west = client_factory("servicecatalog"), client_factory("servicecatalog", "eu-west-1")
    east.create_portfolio(DisplayName="P", ProviderName="X", IdempotencyToken="t")
    assert west.list_portfolios()["PortfolioDetails"] == []
    assert east.list_portfolios()["PortfolioDetails"][0]["ARN"].startswith(
        "arn:aws:catalog:us-east-1:123456789012:"
    )


def test_unsupported_service_catalog_operation_is_a_json_error(sc: Any) -> None:
    with pytest.raises(ClientError) as info:
        sc.create_service_action(
            Name="restart",
            DefinitionType="SSM_AUTOMATION",
            IdempotencyToken="c",
            Definition={"Name": "AWS-RestartEC2Instance", "Version": "1"},
        )
    assert info.value.response["Error"]["Code"] == "UnsupportedOperation"
    assert "CreateServiceAction" in info.value.response["Error"]["Message"]


def test_unknown_target_names_the_operation(local_endpoint: str) -> None:
    status, body = raw_call(local_endpoint, "AWS242ServiceCatalogService.MakeCoffee", {})
    assert (
        status == 400
        and body["__type"] == "UnknownOperationException"
        and "MakeCoffee" in body["message"]
    )


def test_operation_moto_lacks_answers_in_the_services_protocol(client_factory: Any) -> None:
    # A moto service operation without an implementation: AWS-style error, not an HTML page.
    with pytest.raises(ClientError) as info:
        client_factory("cloudwatch").put_anomaly_detector(
            SingleMetricAnomalyDetector={
                "Namespace": "AWS/Lambda",
                "MetricName": "Errors",
                "Stat": "Sum",
            }
        )
    assert info.value.response["Error"]["Code"] == "UnsupportedOperation"
    assert "PutAnomalyDetector" in info.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (
            {"ProviderName": "P", "IdempotencyToken": "t"},
            "Value null at 'displayName' failed to satisfy constraint: Member must not be null",
        ),
        (
            {"DisplayName": "x" * 101, "ProviderName": "P", "IdempotencyToken": "t"},
            "Member must have length less than or equal to 100",
        ),
        (
            {"DisplayName": "D", "ProviderName": "P", "IdempotencyToken": "-bad"},
            "regular expression pattern",
        ),
        (
            {"DisplayName": "D", "ProviderName": "P", "IdempotencyToken": "t", "Tags": "no"},
            "Member must be a list",
        ),
    ],
)
def test_raw_requests_are_validated_like_aws(
    local_endpoint: str, body: dict[str, Any], fragment: str
) -> None:
    status, answer = raw_call(local_endpoint, "AWS242ServiceCatalogService.CreatePortfolio", body)
    assert status == 400 and answer["__type"] == "ValidationException"
    assert fragment in answer["message"]


def test_bad_enum_and_malformed_json(local_endpoint: str) -> None:
    status, answer = raw_call(
        local_endpoint,
        "AWS242ServiceCatalogService.CreateProduct",
        {"Name": "n", "Owner": "o", "ProductType": "ZIP", "IdempotencyToken": "t"},
    )
    assert status == 400 and "Member must satisfy enum value set" in answer["message"]
    status, answer = raw_call(
        local_endpoint, "AWS242ServiceCatalogService.ListPortfolios", b"{not json"
    )
    assert status == 400 and answer["__type"] == "ValidationException"


def test_cbor_requests_get_a_clear_error(local_endpoint: str) -> None:
    request = urllib.request.Request(
        f"{local_endpoint}/service/AWS242ServiceCatalogService/operation/ListPortfolios",
        data=b"\xa0",
        method="POST",
        headers={"Content-Type": "application/cbor", "Smithy-Protocol": "rpc-v2-cbor"},
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    assert json.loads(info.value.read())["__type"] == "UnsupportedProtocol"


def test_local_command_is_exported_with_help() -> None:
    assert [local, local_clock, local_inbox] == COMMANDS
    result = CliRunner().invoke(local, ["--help"])
    assert result.exit_code == 0
    assert "--port" in result.output and "4566" in result.output and "--host" in result.output


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_local_command_serves_until_interrupted(stop_signal: signal.Signals) -> None:
    code = "from localcloud.commands import local; local(['--port', '0'])"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        # The whole banner is read line by line here: readline() buffers ahead, and
        # communicate() below reads the pipe itself, so lines left in that buffer would be lost.
        banner = _read_banner(process)
        first_line = banner[0]
        assert first_line.startswith("localcloud listening on http://127.0.0.1:"), banner
        endpoint = first_line.rsplit(" ", 1)[1].strip()
        client = boto3.client(
            "servicecatalog",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="a",
            aws_secret_access_key="b",
        )
        client.create_portfolio(DisplayName="From CLI", ProviderName="P", IdempotencyToken="t")
        assert [p["DisplayName"] for p in client.list_portfolios()["PortfolioDetails"]] == [
            "From CLI"
        ]
    finally:
        process.send_signal(stop_signal)
        try:
            # communicate() bounds the wait: a server that ignored the signal fails the test
            # instead of hanging the suite.
            out, _ = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode == 0
    assert f"export AWS_ENDPOINT_URL={endpoint}\n" in "".join(banner)
    assert "localcloud stopped" in out


def _read_banner(process: subprocess.Popen[str]) -> list[str]:
    """The lines the server prints before serving, up to its Ctrl-C hint."""
    assert process.stdout is not None
    lines: list[str] = []
    while not lines or lines[-1] != "Press Ctrl-C to stop.\n":
        line = process.stdout.readline()
        assert line, f"server ended before its banner was complete: {lines}"
        lines.append(line)
    return lines


def test_rest_json_service_errors_are_json(client_factory: Any) -> None:
    # Lambda speaks rest-json: an operation moto lacks must still parse as an AWS error.
    with pytest.raises(ClientError) as info:
        client_factory("lambda").put_runtime_management_config(
            FunctionName="f", UpdateRuntimeOn="Auto"
        )
    assert info.value.response["Error"]["Code"] in {
        "UnsupportedOperation",
        "ResourceNotFoundException",
    }


def test_s3_not_found_answers_stay_s3s(s3: Any) -> None:
    s3.create_bucket(Bucket="probe-bucket")
    with pytest.raises(ClientError) as info:
        s3.head_object(Bucket="probe-bucket", Key="missing")
    assert info.value.response["Error"]["Code"] == "404"
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket="probe-bucket", Key="missing")
    assert info.value.response["Error"]["Code"] == "NoSuchKey"
