"""oncall_shared.tool: one failure metric for every tool, and X-Ray only for sampled invocations."""

from __future__ import annotations

import json
from typing import Any

import pytest
from oncall_shared.errors import BadEventError

TOOLS = ("alert_handler", "auto_healer", "health_checker", "log_processor")


@pytest.fixture
def any_tool_env(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Enough settings for every tool to load and read its settings."""
    topic = "arn:aws:sns:us-east-1:123456789012:oncall-alerts"
    for name, value in {
        "ALERT_TOPIC_ARN": topic,
        "DEDUPE_TABLE": "dedupe",
        "STATE_TABLE": "state",
        "TARGETS": '[{"name": "api", "type": "tcp", "host": "127.0.0.1", "port": 1}]',
    }.items():
        monkeypatch.setenv(name, value)


def emf_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if '"_aws"' in line]


@pytest.mark.parametrize("tool", TOOLS)
def test_every_tool_counts_a_rejected_event_as_failed_and_malformed(
    any_tool_env, load_handler, lambda_context, capsys, caplog, tool
):
    app = load_handler(tool)
    capsys.readouterr()

    with pytest.raises(BadEventError):
        app.lambda_handler(["not", "an", "object"], lambda_context)

    emf = emf_lines(capsys.readouterr().out)
    assert [m["RunsFailed"] for m in emf if "RunsFailed" in m] == [[1.0]]
    assert [m["MalformedEvents"] for m in emf if "MalformedEvents" in m] == [[1.0]]
    assert {m["_aws"]["CloudWatchMetrics"][0]["Namespace"] for m in emf} == {"OncallTools"}
    failure = [r for r in caplog.records if r.getMessage() == "invocation failed"]
    assert [(r.levelname, getattr(r, "error_type", None)) for r in failure] == [
        ("ERROR", "BadEventError")
    ]


@pytest.mark.parametrize("tool", TOOLS)
def test_every_tool_requires_the_metrics_namespace_at_cold_start(
    any_tool_env, load_handler, monkeypatch, tool
):
    from oncall_shared.errors import SettingsError

    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE")
    with pytest.raises(SettingsError, match="POWERTOOLS_METRICS_NAMESPACE=''"):
        load_handler(tool)


def _run_in_lambda(
    run_packaged: Any, extracted: Any, event: Any, daemon: Any, sampled: bool
) -> Any:
    env = {
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # no AWS call is expected; none may leave
        "POWERTOOLS_SERVICE_NAME": "log_processor",
        "POWERTOOLS_METRICS_NAMESPACE": "OncallTools",
        "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:oncall-alerts",
        "LAMBDA_TASK_ROOT": str(extracted),  # what tells Powertools it runs in Lambda
        **daemon.env(sampled),
    }
    return run_packaged(extracted, event, env)


def test_a_sampled_invocation_sends_its_handler_subsegment_to_the_daemon(
    packaged_handler, run_packaged, event, xray_daemon
):
    extracted = packaged_handler("log_processor")

    run = _run_in_lambda(run_packaged, extracted, event("logs_control_message"), xray_daemon, True)

    assert run.returncode == 0, run.stdout + run.stderr
    [handler] = [d for d in xray_daemon.documents() if d.get("name") == "## lambda_handler"]
    assert handler["trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    assert handler["parent_id"] == "53995c3f42cd8ad8"
    assert handler["annotations"] == {"ColdStart": True, "Service": "log_processor"}
    assert run.marker("XRAY_SDK_LOADED") == "True"


def test_an_unsampled_invocation_never_loads_the_xray_sdk(
    packaged_handler, run_packaged, event, xray_daemon
):
    extracted = packaged_handler("log_processor")

    run = _run_in_lambda(run_packaged, extracted, event("logs_control_message"), xray_daemon, False)

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.result == {"kind": "control", "alerted": False}
    assert run.marker("XRAY_SDK_LOADED") == "False"
    assert xray_daemon.documents() == []
