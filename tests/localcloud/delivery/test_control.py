"""The control endpoint over real HTTP: the clock, validation errors as JSON, the client."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from localcloud.control import ControlClient, ControlError
from localcloud.delivery.network import NonLoopbackEndpoint

from .conftest import ConnectGuard


def _raw(endpoint: str, method: str, route: str, body: bytes | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(f"{endpoint}/_localcloud/{route}", data=body, method=method)
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_advance_runs_what_falls_due_and_answers_the_new_time(
    aws: Callable[..., Any], control: ControlClient
) -> None:
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName="ticks")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    aws("events").put_rule(Name="tick", ScheduleExpression="rate(1 minute)")
    aws("events").put_targets(Rule="tick", Targets=[{"Id": "q", "Arn": arn}])
    before = control.now()
    assert any(
        label.endswith("rule/tick") for label in (p["label"] for p in control.clock()["pending"])
    )
    assert control.advance(180) == before + 180
    answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    assert len(answer["Messages"]) == 3


def test_the_clock_reads_as_epoch_and_iso(control: ControlClient, local_endpoint: str) -> None:
    status, document = _raw(local_endpoint, "GET", "clock")
    assert status == 200
    assert document["time"].endswith("Z") and isinstance(document["now"], float)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({}, 'field "seconds" is required'),
        ({"seconds": "ten"}, "must be a number, got 'ten'"),
        ({"seconds": True}, "must be a number, got True"),
        ({"seconds": -1}, "got -1"),
        ({"seconds": 10**9}, "got 1000000000"),
    ],
)
def test_a_bad_advance_is_a_json_error_naming_the_field(
    local_endpoint: str, body: dict[str, Any], named: str
) -> None:
    status, document = _raw(local_endpoint, "POST", "clock/advance", json.dumps(body).encode())
    assert status == 400
    assert document["error"] in ("MissingField", "InvalidField")
    assert named in document["message"]


def test_the_client_raises_the_endpoints_message(control: ControlClient) -> None:
    with pytest.raises(ControlError, match='field "seconds" must be from 0'):
        control.advance(-5)


def test_a_body_that_is_not_json_is_named(local_endpoint: str) -> None:
    status, document = _raw(local_endpoint, "POST", "clock/advance", b"seconds=5")
    assert (status, document["error"]) == (400, "InvalidJson")
    assert "seconds=5" in document["message"]


def test_an_unknown_route_is_a_json_404_listing_the_routes(local_endpoint: str) -> None:
    status, document = _raw(local_endpoint, "GET", "clocks")
    assert status == 404
    assert "GET /_localcloud/clocks" in document["message"]
    assert "POST /_localcloud/clock/advance" in document["message"]


def test_auto_confirm_takes_only_a_boolean(local_endpoint: str, control: ControlClient) -> None:
    status, document = _raw(
        local_endpoint, "POST", "sns/auto-confirm", json.dumps({"enabled": "yes"}).encode()
    )
    assert status == 400
    assert "got 'yes'" in document["message"]
    assert _raw(local_endpoint, "GET", "sns/auto-confirm")[1] == {"enabled": False}


def test_the_client_refuses_a_non_loopback_endpoint_without_connecting(
    connect_guard: ConnectGuard,
) -> None:
    with pytest.raises(NonLoopbackEndpoint):
        ControlClient("http://192.0.2.10:4566")
    assert connect_guard.attempts == []
