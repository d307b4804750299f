"""oncall_shared.tool: one failure metric for every tool, and X-Ray only for sampled invocations."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from oncall_shared.errors import BadEventError

TOOLS = ("alert_handler", "auto_healer", "health_checker", "log_processor")
TRACE_ROOT = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8"


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


@pytest.fixture
def xray_daemon() -> Iterator[socket.socket]:
    """A UDP socket on 127.0.0.1 standing where Lambda's X-Ray daemon listens."""
    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    daemon.bind(("127.0.0.1", 0))
    daemon.setblocking(False)  # the run has ended: whatever was sent is queued already
    yield daemon
    daemon.close()


def _received(daemon: socket.socket) -> list[dict[str, Any]]:
    """Segment documents sent so far (each datagram: a JSON header line, then the document)."""
    documents = []
    while True:
        try:
            datagram = daemon.recv(65_536)
        except BlockingIOError:
            return documents
        documents.append(json.loads(datagram.decode("utf-8").split("\n", 1)[1]))


def _run_in_lambda(
    run_packaged: Callable[..., Any], extracted: Any, event: Any, sampled: str, port: int
) -> Any:
    env = {
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "log_processor",
        "POWERTOOLS_METRICS_NAMESPACE": "OncallTools",
        "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:oncall-alerts",
        "LAMBDA_TASK_ROOT": str(extracted),  # what tells Powertools it runs in Lambda
        "AWS_LAMBDA_FUNCTION_NAME": "oncall-log-processor",
        "_X_AMZN_TRACE_ID": f"{TRACE_ROOT};Sampled={sampled}",
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{port}",
    }
    return run_packaged(extracted, event, env)


def test_a_sampled_invocation_sends_its_handler_subsegment_to_the_daemon(
    packaged_handler, run_packaged, event, xray_daemon
):
    extracted = packaged_handler("log_processor")
    port = xray_daemon.getsockname()[1]

    run = _run_in_lambda(run_packaged, extracted, event("logs_control_message"), "1", port)

    assert run.returncode == 0, run.stdout + run.stderr
    [handler] = [d for d in _received(xray_daemon) if d.get("name") == "## lambda_handler"]
    assert handler["trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    assert handler["parent_id"] == "53995c3f42cd8ad8"
    assert handler["annotations"] == {"ColdStart": True, "Service": "log_processor"}
    assert run.marker("XRAY_SDK_LOADED") == "True"


def test_an_unsampled_invocation_never_loads_the_xray_sdk(
    packaged_handler, run_packaged, event, xray_daemon
):
    extracted = packaged_handler("log_processor")
    port = xray_daemon.getsockname()[1]

    run = _run_in_lambda(run_packaged, extracted, event("logs_control_message"), "0", port)

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.result == {"kind": "control", "alerted": False}
    assert run.marker("XRAY_SDK_LOADED") == "False"
    assert _received(xray_daemon) == []
