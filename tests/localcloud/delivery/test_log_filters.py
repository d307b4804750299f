"""Subscription filter patterns: which messages they pass, and the ones refused at
PutSubscriptionFilter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.delivery.log_filters import FilterPatternError, compile_pattern

from .conftest import make_function


@pytest.mark.parametrize(
    ("pattern", "passes", "blocks"),
    [
        ("", "anything at all", None),
        ("ERROR", "2026 ERROR disk full", "2026 error disk full"),
        ("ERROR Exception", "ERROR: Exception raised", "ERROR only"),
        ('"disk full"', "ERROR disk full now", "disk is full"),
        ("?ERROR ?CRITICAL", "CRITICAL: down", "WARN: slow"),
        ("ERROR -Healthcheck", "ERROR in handler", "ERROR Healthcheck failed"),
        ('{ $.level = "ERROR" }', '{"level": "ERROR", "m": 1}', '{"level": "INFO"}'),
        ('{ $.level = "ERR*" }', '{"level": "ERROR"}', '{"level": "WARN"}'),
        ("{ $.latency > 500 }", '{"latency": 501}', '{"latency": 500}'),
        ('{ $.a.b != "x" }', '{"a": {"b": "y"}}', '{"a": {"b": "x"}}'),
        (
            '{ $.level = "ERROR" && $.code >= 500 }',
            '{"level": "ERROR", "code": 503}',
            '{"level": "ERROR", "code": 404}',
        ),
        (
            '{ $.level = "ERROR" || $.fatal = true }',
            '{"level": "INFO", "fatal": true}',
            '{"level": "INFO", "fatal": false}',
        ),
        ('{ $.level = "ERROR" }', '{"level": "ERROR"}', "ERROR but not JSON"),
    ],
)
def test_patterns(pattern: str, passes: str, blocks: str | None) -> None:
    matches = compile_pattern(pattern)
    assert matches(passes)
    if blocks is not None:
        assert not matches(blocks)


@pytest.mark.parametrize(
    ("pattern", "named"),
    [
        ("[ip, user, status=500]", "space-delimited"),
        ("%ERR.*%", "regular expressions"),
        ("{ ($.a = 1) || ($.b = 2) }", "parentheses"),
        ("?ERROR WARN", "mixed"),
        ('{ $.a ~ "x" }', "not a comparison"),
    ],
)
def test_unsupported_patterns_name_what_is_missing(pattern: str, named: str) -> None:
    with pytest.raises(FilterPatternError, match=named):
        compile_pattern(pattern)


def _function(aws: Callable[..., Any]) -> str:
    return make_function(aws, "sink")


def test_put_subscription_filter_refuses_an_unsupported_pattern(aws: Callable[..., Any]) -> None:
    logs = aws("logs")
    logs.create_log_group(logGroupName="app")
    with pytest.raises(ClientError) as caught:
        logs.put_subscription_filter(
            logGroupName="app",
            filterName="f",
            filterPattern="[ip, user]",
            destinationArn=_function(aws),
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "space-delimited" in caught.value.response["Error"]["Message"]


def test_a_group_takes_two_filters_and_they_stay_updatable(aws: Callable[..., Any]) -> None:
    logs = aws("logs")
    logs.create_log_group(logGroupName="app")
    arn = _function(aws)
    for name in ("one", "two"):
        logs.put_subscription_filter(
            logGroupName="app", filterName=name, filterPattern="", destinationArn=arn
        )
    logs.put_subscription_filter(
        logGroupName="app", filterName="two", filterPattern="ERROR", destinationArn=arn
    )
    with pytest.raises(ClientError) as caught:
        logs.put_subscription_filter(
            logGroupName="app", filterName="three", filterPattern="", destinationArn=arn
        )
    assert caught.value.response["Error"]["Code"] == "LimitExceededException"
    filters = logs.describe_subscription_filters(logGroupName="app")["subscriptionFilters"]
    assert {f["filterName"]: f["filterPattern"] for f in filters} == {"one": "", "two": "ERROR"}
