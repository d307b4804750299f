"""alert_severity: tags first, then the naming convention, then the default."""

from __future__ import annotations

import importlib

import boto3
import pytest
from alert_severity import resolve_severity, severity_from_tags, severity_from_text
from botocore.exceptions import ClientError
from oncall_shared.events import parse_alarm_event

KNOWN = frozenset({"critical", "error", "warning", "info"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("critical-checkout-5xx", "critical"),
        ("WARNING_queue_depth", "warning"),
        ("info.nightly-report", "info"),
        ("checkout [Critical] latency", "critical"),
        ("[error] payment failures", "error"),
        ("checkout-critical-path", None),  # only a prefix or a bracketed token counts
        ("information-service-cpu", None),
        ("criticality-high", None),
        ("", None),
    ],
)
def test_naming_convention(text, expected):
    assert severity_from_text(text, KNOWN) == expected


def test_convention_only_returns_routed_severities():
    assert severity_from_text("error-payments", frozenset({"critical", "warning"})) is None


def test_tag_keys_and_unknown_values():
    assert severity_from_tags({"Severity": "Critical"}, KNOWN) == "critical"
    assert severity_from_tags({"oncall:severity": "info", "severity": "critical"}, KNOWN) == "info"
    assert severity_from_tags({"severity": "p1"}, KNOWN) is None


def test_tag_lookup_falls_back_when_the_alarm_is_unknown(alert_stack, event):
    [alarm] = parse_alarm_event(event("alarm_sns_metric_math"))  # alarm does not exist in moto
    decision = resolve_severity(alarm, KNOWN, "warning")
    assert (decision.severity, decision.source) == ("warning", "default")


def test_description_is_used_when_the_name_says_nothing(alert_stack, event):
    [alarm] = parse_alarm_event(event("alarm_sns_composite"))
    decision = resolve_severity(alarm, KNOWN, "info")
    assert (decision.severity, decision.source) == ("critical", "description")


def test_throttling_is_raised_not_hidden(alert_stack, event, monkeypatch):
    # The module as currently imported: load_handler() in other tests re-imports tool modules.
    alert_severity = importlib.import_module("alert_severity")

    class Throttled:
        def list_tags_for_resource(self, **_: str) -> None:
            raise ClientError(
                {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "ListTagsForResource"
            )

    monkeypatch.setattr(alert_severity, "client", lambda *_: Throttled())
    alert_severity.clear_tag_cache()
    [alarm] = parse_alarm_event(event("alarm_sns_metric"))
    with pytest.raises(ClientError, match="Throttling"):
        alert_severity.resolve_severity(alarm, KNOWN, "warning")


def test_tags_are_cached(alert_stack, event, tag_alarm):
    alert_severity = importlib.import_module("alert_severity")
    resolve_severity = alert_severity.resolve_severity

    alert_severity.clear_tag_cache()
    tag_alarm("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:critical-checkout-api-5xx", "info")
    [alarm] = parse_alarm_event(event("alarm_sns_metric"))
    assert resolve_severity(alarm, KNOWN, "warning").severity == "info"
    boto3.client("cloudwatch", region_name="eu-west-1").untag_resource(
        ResourceARN=alarm.arn, TagKeys=["oncall:severity"]
    )
    assert resolve_severity(alarm, KNOWN, "warning").severity == "info"  # cached for 5 minutes
    alert_severity.clear_tag_cache()
    assert resolve_severity(alarm, KNOWN, "warning").severity == "critical"  # name convention
