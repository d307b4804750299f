"""Typed readers for environment settings; every failure names the variable and its value."""

from __future__ import annotations

import json
import os
from typing import Any

from botocore.exceptions import ClientError

from oncall_shared.errors import SettingsError
from oncall_shared.parameters import secret_value, ssm_parameter_text

_TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
_FALSE_WORDS = frozenset({"false", "0", "no", "off"})


def env_str(name: str, default: str | None = None) -> str | None:
    """Return the stripped value of ``name``; unset or blank means ``default``."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip()


def require_str(name: str) -> str:
    value = env_str(name)
    if value is None:
        raise SettingsError(
            f"{name}={os.environ.get(name, '')!r}: required setting is missing or empty"
        )
    return value


def env_int(name: str, default: int, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = env_str(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: is not an integer") from None
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name}={raw!r}: must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{name}={raw!r}: must be at most {maximum}")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = env_str(name)
    if raw is None:
        return default
    word = raw.lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise SettingsError(f"{name}={raw!r}: is not a boolean (use true or false)")


def env_json(name: str, default: Any) -> Any:
    raw = env_str(name)
    if raw is None:
        return default
    return _parse_json(name, raw)


def load_json_setting(inline_var: str, ssm_var: str, default: Any) -> Any:
    """JSON from ``inline_var``, else from the SSM parameter named in ``ssm_var``, else ``default``.

    The inline value wins so a template can override a shared parameter for one stack.
    """
    inline = env_str(inline_var)
    if inline is not None:
        return _parse_json(inline_var, inline)
    parameter_name = env_str(ssm_var)
    if parameter_name is None:
        return default
    return _parse_json(
        f"{ssm_var} (SSM parameter {parameter_name})", _read_parameter(ssm_var, parameter_name)
    )


def _read_parameter(ssm_var: str, parameter_name: str) -> str:
    try:
        return ssm_parameter_text(parameter_name)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ParameterNotFound":
            raise
        raise SettingsError(f"{ssm_var}={parameter_name!r}: SSM parameter does not exist") from None


def parse_json_text(label: str, raw: str) -> Any:
    """RAW parsed as JSON; an error starts with LABEL and shows the text (at most 200 chars)."""
    return _parse_json(label, raw)


def _parse_json(label: str, raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        shown = raw if len(raw) <= 200 else raw[:200] + "..."
        raise SettingsError(
            f"{label}={shown!r}: is not valid JSON ({exc.msg} at char {exc.pos})"
        ) from None


def secret_json_object(
    secret_arn: str, label: str, expected: str = "a JSON object"
) -> dict[str, Any]:
    """The JSON object a Secrets Manager secret holds. Errors start with LABEL, say what was
    EXPECTED and never show the secret's content: it holds credentials. AWS errors of the read
    itself are raised as they are. The value is cached (parameters.SECRET_MAX_AGE_SECONDS)."""
    raw = secret_value(secret_arn)
    if not isinstance(raw, str):
        raise SettingsError(f"{label}: SecretString is missing (binary secrets are not supported)")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise SettingsError(f"{label}: SecretString is not JSON") from None
    if not isinstance(value, dict):
        raise SettingsError(f"{label}: SecretString must be {expected}")
    return value


def require_metrics_namespace() -> str:
    """Powertools raises at the end of the invocation, after the work is done, when no metrics
    namespace is set; checking at cold start turns that into a clear settings error."""
    return require_str("POWERTOOLS_METRICS_NAMESPACE")
