"""Fixtures for the alarm tests: boto3 clients on the local endpoint (builders in
alarm_support.py). Time only moves through `localcloud.advance`."""

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def cw(client_factory: Callable[..., Any]) -> Any:
    return client_factory("cloudwatch")


@pytest.fixture
def sns(client_factory: Callable[..., Any]) -> Any:
    return client_factory("sns")


@pytest.fixture
def sqs(client_factory: Callable[..., Any]) -> Any:
    return client_factory("sqs")


@pytest.fixture
def events(client_factory: Callable[..., Any]) -> Any:
    return client_factory("events")
