"""oncall_shared.aws: one client per service and region, created lazily, with bounded retries."""

from __future__ import annotations

from oncall_shared import aws


def test_clients_are_cached_per_service_and_region(aws_env):
    first = aws.client("sns")
    assert aws.client("sns") is first
    assert aws.client("sns", "eu-west-1") is not first
    assert aws.client("sns", "eu-west-1").meta.region_name == "eu-west-1"
    aws.reset_clients()
    assert aws.client("sns") is not first


def test_client_config_has_timeouts_and_standard_retries(aws_env):
    config = aws.client("dynamodb").meta.config
    assert (config.connect_timeout, config.read_timeout) == (3, 10)
    assert config.retries == {"total_max_attempts": 5, "mode": "standard"}  # 5 calls in all


def test_endpoint_url_from_environment_is_honoured(aws_env, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    aws.reset_clients()
    assert aws.client("sqs").meta.endpoint_url == "http://127.0.0.1:4566"
