"""oncall_shared.parameters: Powertools Parameters on our clients, cached for max_age."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from oncall_shared import parameters
from oncall_shared.aws import reset_clients
from oncall_shared.errors import SettingsError
from oncall_shared.settings import load_json_setting, secret_json_object


def _secret(value: str) -> str:
    return str(boto3.client("secretsmanager").create_secret(Name="s", SecretString=value)["ARN"])


def test_a_secret_is_read_once_within_max_age(aws_env):
    arn = _secret('{"webhook_url": "https://one"}')
    assert secret_json_object(arn, "slack") == {"webhook_url": "https://one"}
    boto3.client("secretsmanager").put_secret_value(
        SecretId=arn, SecretString='{"webhook_url": "https://two"}'
    )

    assert secret_json_object(arn, "slack") == {"webhook_url": "https://one"}  # cached
    reset_clients()  # a new container
    assert secret_json_object(arn, "slack") == {"webhook_url": "https://two"}


def test_a_rotated_secret_is_read_again_once_max_age_is_over(aws_env, monkeypatch):
    monkeypatch.setattr(parameters, "SECRET_MAX_AGE_SECONDS", 0)  # every read is past max_age
    arn = _secret('{"webhook_url": "https://one"}')
    secret_json_object(arn, "slack")
    boto3.client("secretsmanager").put_secret_value(
        SecretId=arn, SecretString='{"webhook_url": "https://two"}'
    )

    assert secret_json_object(arn, "slack") == {"webhook_url": "https://two"}


@pytest.mark.parametrize(("max_age", "seen"), [(300, ["one"]), (0, ["two"])])
def test_a_changed_ssm_parameter_is_seen_once_max_age_is_over(aws_env, monkeypatch, max_age, seen):
    monkeypatch.setattr(parameters, "PARAMETER_MAX_AGE_SECONDS", max_age)
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name="/oncall/rules", Value='["one"]', Type="SecureString")
    monkeypatch.delenv("RULES", raising=False)
    monkeypatch.setenv("RULES_SSM_PARAMETER", "/oncall/rules")
    assert load_json_setting("RULES", "RULES_SSM_PARAMETER", None) == ["one"]
    ssm.put_parameter(Name="/oncall/rules", Value='["two"]', Type="SecureString", Overwrite=True)

    assert load_json_setting("RULES", "RULES_SSM_PARAMETER", None) == seen


def test_aws_errors_reach_the_caller_as_aws_errors(aws_env):
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf"
    with pytest.raises(ClientError) as caught:
        secret_json_object(missing, "slack")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_secret_error_names_the_label_never_the_content(aws_env):
    arn = _secret("hooks.slack.com/not-json")
    with pytest.raises(SettingsError, match=r"^slack: SecretString is not JSON$"):
        secret_json_object(arn, "slack")
