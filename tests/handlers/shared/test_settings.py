"""oncall_shared.settings: typed env readers whose errors name the variable and the value."""

from __future__ import annotations

import boto3
import pytest
from oncall_shared.errors import SettingsError
from oncall_shared.settings import (
    env_bool,
    env_int,
    env_json,
    env_str,
    load_json_setting,
    require_str,
)


def test_env_str_strips_and_treats_blank_as_unset(monkeypatch):
    monkeypatch.setenv("X_NAME", "  prod  ")
    monkeypatch.setenv("X_BLANK", "   ")
    assert env_str("X_NAME") == "prod"
    assert env_str("X_BLANK", "dflt") == "dflt"
    assert env_str("X_UNSET_SURELY") is None


def test_require_str_names_the_variable(monkeypatch):
    monkeypatch.setenv("X_EMPTY", "")
    with pytest.raises(SettingsError, match="X_EMPTY='': required setting is missing or empty"):
        require_str("X_EMPTY")


@pytest.mark.parametrize(
    ("raw", "kwargs", "message"),
    [
        ("abc", {}, "TIMEOUT='abc': is not an integer"),
        ("1.5", {}, "TIMEOUT='1.5': is not an integer"),
        ("0", {"minimum": 1}, "TIMEOUT='0': must be at least 1"),
        ("99", {"maximum": 10}, "TIMEOUT='99': must be at most 10"),
    ],
)
def test_env_int_rejects_with_name_and_value(monkeypatch, raw, kwargs, message):
    monkeypatch.setenv("TIMEOUT", raw)
    with pytest.raises(SettingsError, match=message):
        env_int("TIMEOUT", 5, **kwargs)


def test_env_int_default_and_value(monkeypatch):
    monkeypatch.delenv("TIMEOUT", raising=False)
    assert env_int("TIMEOUT", 5) == 5
    monkeypatch.setenv("TIMEOUT", " 7 ")
    assert env_int("TIMEOUT", 5, minimum=1, maximum=10) == 7


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("FALSE", False), ("1", True), ("no", False)]
)
def test_env_bool_words(monkeypatch, raw, expected):
    monkeypatch.setenv("DRY_RUN", raw)
    assert env_bool("DRY_RUN", not expected) is expected


def test_env_bool_rejects_other_words(monkeypatch):
    monkeypatch.setenv("DRY_RUN", "maybe")
    with pytest.raises(SettingsError, match="DRY_RUN='maybe': is not a boolean"):
        env_bool("DRY_RUN", True)


def test_env_json_reports_position(monkeypatch):
    monkeypatch.setenv("ROUTES", '{"critical": [}')
    with pytest.raises(
        SettingsError, match=r"""ROUTES='{"critical": \[}': is not valid JSON \(.* at char 14\)"""
    ):
        env_json("ROUTES", None)
    monkeypatch.setenv("ROUTES", '{"info": ["sns"]}')
    assert env_json("ROUTES", None) == {"info": ["sns"]}


def test_load_json_setting_prefers_inline_then_ssm_then_default(aws_env, monkeypatch):
    boto3.client("ssm").put_parameter(
        Name="/oncall/rules", Value='["from-ssm"]', Type="SecureString"
    )
    monkeypatch.delenv("RULES", raising=False)
    monkeypatch.delenv("RULES_SSM_PARAMETER", raising=False)
    assert load_json_setting("RULES", "RULES_SSM_PARAMETER", ["default"]) == ["default"]
    monkeypatch.setenv("RULES_SSM_PARAMETER", "/oncall/rules")
    assert load_json_setting("RULES", "RULES_SSM_PARAMETER", None) == ["from-ssm"]
    monkeypatch.setenv("RULES", '["inline"]')
    assert load_json_setting("RULES", "RULES_SSM_PARAMETER", None) == ["inline"]


def test_load_json_setting_errors_name_the_parameter(aws_env, monkeypatch):
    monkeypatch.delenv("RULES", raising=False)
    monkeypatch.setenv("RULES_SSM_PARAMETER", "/nope")
    with pytest.raises(
        SettingsError, match="RULES_SSM_PARAMETER='/nope': SSM parameter does not exist"
    ):
        load_json_setting("RULES", "RULES_SSM_PARAMETER", None)
    boto3.client("ssm").put_parameter(Name="/bad", Value="{oops", Type="String")
    monkeypatch.setenv("RULES_SSM_PARAMETER", "/bad")
    with pytest.raises(SettingsError, match=r"RULES_SSM_PARAMETER \(SSM parameter /bad\)='{oops'"):
        load_json_setting("RULES", "RULES_SSM_PARAMETER", None)
