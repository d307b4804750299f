"""Alarms on the handlers' own (EMF) metrics must name the dimensions the handlers emit."""

from __future__ import annotations

from typing import Any

from products.widgets import METRICS_NAMESPACE


def _own_metric_alarms(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        and resource["Properties"].get("Namespace") == METRICS_NAMESPACE
    ]


def test_the_log_processor_alarms_on_scans_cut_short(templates: dict[str, Any]) -> None:
    [alarm] = _own_metric_alarms(templates["log-processor"])
    assert alarm["MetricName"] == "ScansCutShort"
    assert "raise the function's timeout" in alarm["AlarmDescription"]["Fn::Sub"]


def test_own_metric_alarms_use_the_dimensions_the_handler_emits(
    templates: dict[str, Any],
) -> None:
    # Powertools adds "service" (POWERTOOLS_SERVICE_NAME) to every metric; the handlers add the
    # function name where a per-stack alarm needs it. An alarm on other dimensions never fires.
    checked = 0
    for template in templates.values():
        function = template["Resources"]["Function"]["Properties"]
        service = function["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        namespace = function["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
        for alarm in _own_metric_alarms(template):
            assert namespace == METRICS_NAMESPACE
            dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
            assert dimensions == {"FunctionName": {"Ref": "Function"}, "service": service}
            checked += 1
    assert checked >= 1
