"""moto's other outbound HTTP (here: a Firehose HTTP endpoint destination) reaches loopback
addresses only; anything else is refused before a connection is tried."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.control import ControlClient
from tests.support.http_receiver import HttpReceiver

from .conftest import ConnectGuard


def _stream_to(aws: Callable[..., Any], url: str) -> Any:
    aws("s3").create_bucket(Bucket="firehose-backup")
    firehose = aws("firehose")
    firehose.create_delivery_stream(
        DeliveryStreamName="out",
        HttpEndpointDestinationConfiguration={
            "EndpointConfiguration": {"Url": url},
            "S3Configuration": {
                "RoleARN": "arn:aws:iam::123456789012:role/firehose",
                "BucketARN": "arn:aws:s3:::firehose-backup",
            },
        },
    )
    return firehose


def test_a_loopback_http_destination_gets_the_records(
    aws: Callable[..., Any], receiver: HttpReceiver
) -> None:
    firehose = _stream_to(aws, f"{receiver.url}/ingest")
    firehose.put_record(DeliveryStreamName="out", Record={"Data": b"hello"})
    [request] = receiver.requests
    assert request.path == "/ingest"
    assert len(request.json()["records"]) == 1


def test_another_address_is_refused_without_connecting(
    aws: Callable[..., Any], control: ControlClient, connect_guard: ConnectGuard
) -> None:
    firehose = _stream_to(aws, "https://collector.example.com/ingest")
    with pytest.raises(ClientError):
        firehose.put_record(DeliveryStreamName="out", Record={"Data": b"hello"})
    assert connect_guard.attempts == []
    failures = control.delivery_failures()  # one per attempt: botocore retries the 500
    assert failures
    assert {f["target"] for f in failures} == {"https://collector.example.com/ingest"}
    assert all("loopback" in f["reason"] for f in failures)
