"""The health checker handler end to end: real local targets, moto DynamoDB/SNS/SSM/Secrets."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from oncall_shared.errors import BadEventError, SettingsError

from tests.support.http_receiver import Gate, barrier_hold

Targets = Callable[[list[dict[str, Any]]], None]


@pytest.fixture
def app(
    health_aws: Any, monkeypatch: pytest.MonkeyPatch, load_handler: Callable[[str], Any]
) -> Any:
    monkeypatch.setenv("ALLOW_PRIVATE_NETWORKS", "true")
    monkeypatch.setenv("FAILURE_THRESHOLD", "2")
    return load_handler("health_checker")


def run(app: Any, event: Callable[[str], dict[str, Any]], lambda_context: Any) -> dict[str, Any]:
    return app.lambda_handler(event("health_scheduled_event"), lambda_context)


def test_alerts_only_after_threshold_failures_and_again_on_recovery(
    app: Any,
    health_aws: Any,
    http_receiver: Any,
    set_targets: Targets,
    event: Any,
    lambda_context: Any,
) -> None:
    set_targets([{"name": "api", "type": "http", "url": http_receiver.url + "/health"}])
    http_receiver.script(200).script(500).script(503).script(500).script(200)

    assert run(app, event, lambda_context)["transitions"] == []  # healthy baseline
    assert run(app, event, lambda_context)["transitions"] == []  # 1st failure: below threshold 2
    assert health_aws.alerts() == []
    down = run(app, event, lambda_context)  # 2nd consecutive failure: DOWN
    assert down["transitions"] == [{"target": "api", "from": "healthy", "to": "unhealthy"}]
    assert run(app, event, lambda_context)["transitions"] == []  # still down: no repeat alert
    up = run(app, event, lambda_context)
    assert up["transitions"] == [{"target": "api", "from": "unhealthy", "to": "healthy"}]

    alerts = health_aws.alerts()
    assert [a["Subject"] for a in alerts] == [
        "[test] health checker: 1 down, 0 recovered",
        "[test] health checker: 0 down, 1 recovered",
    ]
    assert "DOWN       api: GET http://127.0.0.1:" in alerts[0]["Message"]
    assert "HTTP 503, expected [200] (2 consecutive failures)" in alerts[0]["Message"]
    assert "RECOVERED  api" in alerts[1]["Message"]
    item = health_aws.item("api")
    assert item["status"]["S"] == "healthy" and item["consecutive_failures"]["N"] == "0"
    assert int(item["expires_at"]["N"]) > time.time() + 29 * 86400


def test_flapping_target_never_alerts(
    app: Any,
    health_aws: Any,
    http_receiver: Any,
    set_targets: Targets,
    event: Any,
    lambda_context: Any,
) -> None:
    set_targets([{"name": "flappy", "type": "http", "url": http_receiver.url}])
    for status in (200, 500, 200, 500, 200, 500):
        http_receiver.script(status)
    for _ in range(6):
        run(app, event, lambda_context)
    assert health_aws.alerts() == []


def test_checks_run_concurrently(
    app: Any,
    health_aws: Any,
    make_http_receiver: Any,
    set_targets: Targets,
    event: Any,
    lambda_context: Any,
) -> None:
    # Each server answers only once all four requests are in flight at the same time (4 s at
    # most, under the 5 s check timeout): checks run one after another would all get a 503.
    all_in_flight = barrier_hold(4, timeout=4.0)
    receivers = [make_http_receiver() for _ in range(4)]
    for receiver in receivers:
        receiver.script(200, hold=all_in_flight)
    set_targets(
        [{"name": f"slow{i}", "type": "http", "url": r.url} for i, r in enumerate(receivers)]
    )
    summary = run(app, event, lambda_context)
    assert summary["healthy"] == 4


def test_mixed_http_and_tcp_with_one_alert_listing_every_transition(
    app: Any,
    health_aws: Any,
    monkeypatch: pytest.MonkeyPatch,
    http_receiver: Any,
    tcp_listener: int,
    closed_port: int,
    set_targets: Targets,
    event: Any,
    lambda_context: Any,
) -> None:
    monkeypatch.setenv("FAILURE_THRESHOLD", "1")
    http_receiver.default.status = 500
    set_targets(
        [
            {"name": "web", "type": "http", "url": http_receiver.url},
            {"name": "db-up", "type": "tcp", "host": "127.0.0.1", "port": tcp_listener},
            {"name": "db-down", "type": "tcp", "host": "127.0.0.1", "port": closed_port},
        ]
    )
    summary = run(app, event, lambda_context)
    assert summary["checked"] == 3 and summary["healthy"] == 1
    assert {t["target"] for t in summary["transitions"]} == {"web", "db-down"}
    alerts = health_aws.alerts()
    assert len(alerts) == 1
    assert alerts[0]["Subject"] == "[test] health checker: 2 down, 0 recovered"


def test_metrics_are_emitted_per_target(
    app: Any,
    health_aws: Any,
    http_receiver: Any,
    set_targets: Targets,
    event: Any,
    lambda_context: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    set_targets([{"name": "api", "type": "http", "url": http_receiver.url}])
    run(app, event, lambda_context)
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    by_metric = {
        declared["Name"]: m
        for m in emf
        if "Target" in m
        for declared in m["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    }
    assert scalar(by_metric["Availability"]["Availability"]) == 1.0
    assert by_metric["Availability"]["Target"] == "api"
    assert scalar(by_metric["LatencyMs"]["LatencyMs"]) >= 0
    totals = next(m for m in emf if "TargetsChecked" in m)
    assert scalar(totals["TargetsChecked"]) == 1.0 and scalar(totals["TargetsFailing"]) == 0.0


def scalar(value: Any) -> float:
    """EMF values may be a number or a list of samples."""
    return float(value[0] if isinstance(value, list) else value)


def test_targets_from_ssm_and_headers_from_secrets_manager(
    app: Any,
    health_aws: Any,
    monkeypatch: pytest.MonkeyPatch,
    http_receiver: Any,
    event: Any,
    lambda_context: Any,
) -> None:
    secret_arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="health/api-headers", SecretString=json.dumps({"Authorization": "Bearer s3cr3t"})
    )["ARN"]
    targets = [
        {"name": "api", "type": "http", "url": http_receiver.url, "headers_secret_arn": secret_arn}
    ]
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/oncall/health/targets", Value=json.dumps(targets), Type="String"
    )
    monkeypatch.delenv("TARGETS", raising=False)
    monkeypatch.setenv("TARGETS_SSM_PARAMETER", "/oncall/health/targets")
    assert run(app, event, lambda_context)["healthy"] == 1
    assert http_receiver.requests[0].headers["Authorization"] == "Bearer s3cr3t"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("FAILURE_THRESHOLD", "abc", "FAILURE_THRESHOLD='abc': is not an integer"),
        ("CHECK_TIMEOUT_SECONDS", "0", "CHECK_TIMEOUT_SECONDS='0': must be at least 1"),
        ("ALLOW_PRIVATE_NETWORKS", "maybe", "ALLOW_PRIVATE_NETWORKS='maybe': is not a boolean"),
        ("TARGETS", "[{not json", "TARGETS: is not valid JSON ("),
        ("TARGETS", '[{"name": "a", "type": "tcp", "host": "h", "port": 0}]', "TARGETS[0].port=0"),
        ("STATE_TABLE", "", "STATE_TABLE='': required setting is missing"),
    ],
)
def test_bad_settings_fail_naming_variable_and_value_and_probe_nothing(
    app: Any,
    health_aws: Any,
    monkeypatch: pytest.MonkeyPatch,
    http_receiver: Any,
    set_targets: Targets,
    event: Any,
    lambda_context: Any,
    variable: str,
    value: str,
    message: str,
) -> None:
    set_targets([{"name": "api", "type": "http", "url": http_receiver.url}])
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        run(app, event, lambda_context)
    assert message in str(raised.value)
    assert http_receiver.requests == []
    assert health_aws.alerts() == []


def test_metadata_ip_literal_is_a_settings_error_even_with_private_allowed(
    app: Any, health_aws: Any, set_targets: Targets, event: Any, lambda_context: Any
) -> None:
    set_targets(
        [{"name": "imds", "type": "http", "url": "http://169.254.169.254/latest/meta-data/"}]
    )
    with pytest.raises(
        SettingsError, match=r"TARGETS\[0\] host '169.254.169.254': instance metadata"
    ):
        run(app, event, lambda_context)


def test_loopback_literal_is_refused_when_private_networks_are_not_allowed(
    app: Any,
    health_aws: Any,
    monkeypatch: pytest.MonkeyPatch,
    set_targets: Targets,
    event: Any,
    lambda_context: Any,
) -> None:
    monkeypatch.setenv("ALLOW_PRIVATE_NETWORKS", "false")
    set_targets([{"name": "local", "type": "tcp", "host": "127.0.0.1", "port": 22}])
    with pytest.raises(SettingsError, match=r"host '127.0.0.1': loopback address"):
        run(app, event, lambda_context)


def test_missing_secret_is_a_settings_error_before_any_probe(
    app: Any,
    health_aws: Any,
    http_receiver: Any,
    set_targets: Targets,
    event: Any,
    lambda_context: Any,
) -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf"
    set_targets(
        [{"name": "api", "type": "http", "url": http_receiver.url, "headers_secret_arn": arn}]
    )
    with pytest.raises(SettingsError, match=r"target 'api' headers_secret_arn=.*cannot be read"):
        run(app, event, lambda_context)
    assert http_receiver.requests == []


@pytest.mark.parametrize("bad_event", [[], "tick", None, 42])
def test_non_object_event_is_rejected_with_nothing_probed_or_sent(
    app: Any,
    health_aws: Any,
    http_receiver: Any,
    set_targets: Targets,
    lambda_context: Any,
    bad_event: Any,
) -> None:
    set_targets([{"name": "api", "type": "http", "url": http_receiver.url}])
    with pytest.raises(BadEventError, match=r"event must be a JSON object"):
        app.lambda_handler(bad_event, lambda_context)
    assert http_receiver.requests == []
    assert health_aws.alerts() == []


def test_failed_run_emits_runs_failed_metric(
    app: Any,
    health_aws: Any,
    monkeypatch: pytest.MonkeyPatch,
    set_targets: Targets,
    event: Any,
    lambda_context: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    set_targets([{"name": "api", "type": "tcp", "host": "127.0.0.1", "port": 1}])
    monkeypatch.setenv("FAILURE_THRESHOLD", "0")
    with pytest.raises(SettingsError):
        run(app, event, lambda_context)
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [scalar(m["RunsFailed"]) for m in emf if "RunsFailed" in m] == [1.0]


def test_target_timeout_overrides_the_default(
    app: Any,
    health_aws: Any,
    http_receiver: Any,
    set_targets: Targets,
    event: Any,
    lambda_context: Any,
) -> None:
    # The server gives up holding its answer after 2 s and sends a 503: under the default 5 s
    # timeout the check would report that 503; only the target's 0.3 s makes it time out first.
    http_receiver.script(200, hold=Gate(timeout=2.0))
    set_targets(
        [{"name": "slow", "type": "http", "url": http_receiver.url, "timeout_seconds": 0.3}]
    )
    summary = run(app, event, lambda_context)  # CHECK_TIMEOUT_SECONDS stays at its default 5
    assert summary["healthy"] == 0
    assert "timed out" in health_aws.item("slow")["last_detail"]["S"]


def test_a_full_target_list_is_probed_in_one_wave(
    app: Any,
    health_aws: Any,
    make_http_receiver: Any,
    set_targets: Targets,
    event: Any,
    lambda_context: Any,
) -> None:
    # Every server answers only once all 100 requests are in flight at the same time: a pool
    # smaller than the target list would leave probes queued, the barrier would give up after
    # 10 s (under the 15 s check timeout) and every waiting probe would get a 503.
    all_in_flight = barrier_hold(100, timeout=10.0)
    receivers = [make_http_receiver() for _ in range(20)]  # 5 concurrent requests each
    for receiver in receivers:
        receiver.default.hold = all_in_flight
    set_targets(
        [
            {"name": f"t{i}", "type": "http", "url": receivers[i % 20].url, "timeout_seconds": 15}
            for i in range(100)
        ]
    )
    summary = run(app, event, lambda_context)
    assert summary["checked"] == 100
    assert summary["healthy"] == 100


def test_template_placeholder_empty_targets_falls_back_to_ssm(
    app: Any,
    health_aws: Any,
    monkeypatch: pytest.MonkeyPatch,
    http_receiver: Any,
    event: Any,
    lambda_context: Any,
) -> None:
    # The product template passes TARGETS="[]" when the launcher chose an SSM parameter.
    targets = [{"name": "api", "type": "http", "url": http_receiver.url}]
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/oncall/targets", Value=json.dumps(targets), Type="String"
    )
    monkeypatch.setenv("TARGETS", "[]")
    monkeypatch.setenv("TARGETS_SSM_PARAMETER", "/oncall/targets")
    assert run(app, event, lambda_context)["checked"] == 1


@pytest.mark.parametrize("inline", ["[]", None])
def test_no_targets_anywhere_is_a_settings_error(
    app: Any,
    health_aws: Any,
    monkeypatch: pytest.MonkeyPatch,
    event: Any,
    lambda_context: Any,
    inline: str | None,
) -> None:
    if inline is None:
        monkeypatch.delenv("TARGETS", raising=False)
    else:
        monkeypatch.setenv("TARGETS", inline)
    with pytest.raises(SettingsError, match=r"TARGETS_SSM_PARAMETER='': no targets to check"):
        run(app, event, lambda_context)


def test_missing_ssm_parameter_names_the_parameter(
    app: Any, health_aws: Any, monkeypatch: pytest.MonkeyPatch, event: Any, lambda_context: Any
) -> None:
    monkeypatch.delenv("TARGETS", raising=False)
    monkeypatch.setenv("TARGETS_SSM_PARAMETER", "/oncall/missing")
    with pytest.raises(
        SettingsError, match=r"TARGETS_SSM_PARAMETER='/oncall/missing': SSM parameter"
    ):
        run(app, event, lambda_context)


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ({"X-Token": "a\r\nInjected: yes"}, "header 'X-Token' has an invalid name or value"),
        ({"Bad Name": "v"}, "header 'Bad Name' has an invalid name or value"),
        (["not", "an", "object"], "must be a JSON object of header: value strings"),
    ],
)
def test_malformed_header_secret_is_a_settings_error_without_echoing_it(
    app: Any,
    health_aws: Any,
    http_receiver: Any,
    set_targets: Targets,
    event: Any,
    lambda_context: Any,
    secret: Any,
    message: str,
) -> None:
    arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="health/bad-headers", SecretString=json.dumps(secret)
    )["ARN"]
    set_targets(
        [{"name": "api", "type": "http", "url": http_receiver.url, "headers_secret_arn": arn}]
    )
    with pytest.raises(SettingsError) as raised:
        run(app, event, lambda_context)
    assert message in str(raised.value)
    assert "Injected" not in str(raised.value)
    assert http_receiver.requests == []
