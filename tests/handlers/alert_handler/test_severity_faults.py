"""Reading an alarm's tags when CloudWatch refuses: fall back to the convention, or fail loudly.

The refusals come from the local AWS over HTTP (`LocalCloud.inject_fault`), so the real client
parses them. Without the fault the local AWS answers an unknown alarm with no tags, which is why
a test against a missing alarm never reached the fallback.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from oncall_shared import aws as shared_aws
from oncall_shared.events import parse_alarm_event

from localcloud import LocalCloud
from tests.handlers.conftest import FAKE_AWS_ENV

KNOWN = frozenset({"critical", "error", "warning", "info"})
ALARM_REGION = "eu-west-1"  # alarm_sns_metric's alarm: "critical-checkout-api-5xx"


@pytest.fixture
def severity(local_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """alert_severity talking to localcloud, with an empty tag cache."""
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", local_endpoint)
    shared_aws.reset_clients()
    module = importlib.import_module("alert_severity")  # as imported now (tests reload tools)
    module.clear_tag_cache()
    yield module
    module.clear_tag_cache()
    shared_aws.reset_clients()


@pytest.fixture
def alarm(event: Any) -> Any:
    return parse_alarm_event(event("alarm_sns_metric"))[0]


def tag_alarm(name: str, severity: str) -> None:
    boto3.client("cloudwatch", region_name=ALARM_REGION).put_metric_alarm(
        AlarmName=name,
        MetricName="Errors",
        Namespace="AWS/Lambda",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        Tags=[{"Key": "severity", "Value": severity}],
    )


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("AccessDenied", "403 Forbidden"),
        ("AccessDeniedException", "400 Bad Request"),
        ("ResourceNotFound", "404 Not Found"),
        ("ResourceNotFoundException", "400 Bad Request"),
        ("InvalidParameterValue", "400 Bad Request"),
    ],
)
def test_no_usable_tags_falls_back_to_the_naming_convention(
    severity: ModuleType, localcloud: LocalCloud, alarm: Any, code: str, status: str
) -> None:
    tag_alarm(alarm.name, "info")  # readable, the tag would win: the refusal must hide it
    localcloud.inject_fault("monitoring", "ListTagsForResource", code, "no", status=status)
    decision = severity.resolve_severity(alarm, KNOWN, "warning")
    assert (decision.severity, decision.source) == ("critical", "name")


def test_readable_tags_win_over_the_convention(severity: ModuleType, alarm: Any) -> None:
    tag_alarm(alarm.name, "info")
    decision = severity.resolve_severity(alarm, KNOWN, "warning")
    assert (decision.severity, decision.source) == ("info", "tag")


def test_other_refusals_are_raised_so_lambda_retries_the_event(
    severity: ModuleType, localcloud: LocalCloud, alarm: Any
) -> None:
    # Not retried by the client (a 4xx that is not throttling): it reaches us on the first try.
    localcloud.inject_fault(
        "monitoring", "ListTagsForResource", "InvalidClientTokenId", "token", status="403 Forbidden"
    )
    with pytest.raises(ClientError, match="InvalidClientTokenId"):
        severity.resolve_severity(alarm, KNOWN, "warning")


def test_a_fallback_is_cached_like_tags(
    severity: ModuleType, localcloud: LocalCloud, alarm: Any
) -> None:
    fault = localcloud.inject_fault("monitoring", "ListTagsForResource", "AccessDenied", "no")
    severity.resolve_severity(alarm, KNOWN, "warning")
    severity.resolve_severity(alarm, KNOWN, "warning")
    assert fault.answered == 1


def warnings_logged(caplog: pytest.LogCaptureFixture) -> list[tuple[str, dict[str, str]]]:
    fields = ("alarm", "code", "tag", "value")
    return [
        (r.getMessage(), {f: getattr(r, f) for f in fields if hasattr(r, f)})
        for r in caplog.records
        if r.levelno == logging.WARNING
    ]


def test_the_fallback_is_logged_with_the_alarm_and_the_refusal(
    severity: ModuleType, localcloud: LocalCloud, alarm: Any, caplog: pytest.LogCaptureFixture
) -> None:
    localcloud.inject_fault("monitoring", "ListTagsForResource", "AccessDenied", "no")
    with caplog.at_level(logging.WARNING):
        severity.resolve_severity(alarm, KNOWN, "warning")
    assert warnings_logged(caplog) == [
        (
            "cannot read alarm tags; using the naming convention",
            {"alarm": alarm.arn, "code": "AccessDenied"},
        )
    ]


def test_an_unknown_tag_value_is_logged_and_an_absent_tag_is_not(
    severity: ModuleType, alarm: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert severity.severity_from_tags({}, KNOWN) is None
        assert severity.severity_from_tags({"severity": " P1 "}, KNOWN) is None
    assert warnings_logged(caplog) == [
        (
            "alarm tag has an unknown severity; using the convention",
            {"tag": "severity", "value": "p1"},
        )
    ]
