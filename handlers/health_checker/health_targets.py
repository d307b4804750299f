"""Target definitions for the health checker: parsed and validated once, before any probe runs.

check_settings is the tool's settings schema: `build`, `plan` and `launch` check a launch's
values with it (products/launch_values.py) and the handler parses TARGETS with the same functions.
A URL in an error is shown as scheme://host:port only: paths, queries and user:password carry
tokens, and errors reach logs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError
from health_netguard import literal_address, refusal_reason
from oncall_shared.aws import client, client_companion
from oncall_shared.errors import SettingsError
from oncall_shared.http import describe_url, url_problem
from oncall_shared.parameters import PARAMETER_MAX_AGE_SECONDS, ssm_parameter_text

# One invocation checks at most this many (see docs/handlers/health_checker.md, "Scale").
MAX_TARGETS = 1000
MAX_TIMEOUT_SECONDS = 60.0
MAX_LATENCY_MS = 300_000
# Names become DynamoDB keys and CloudWatch dimension values: keep them short and plain.
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_METHODS = frozenset({"GET", "HEAD", "POST", "OPTIONS"})
_COMMON_KEYS = frozenset({"name", "type", "latency_ms", "timeout_seconds"})
_HTTP_KEYS = _COMMON_KEYS | {
    "url",
    "method",
    "expected_status",
    "body_contains",
    "headers_secret_arn",
    "follow_redirects",
}
_TCP_KEYS = _COMMON_KEYS | {"host", "port"}


@dataclass(frozen=True)
class HttpTarget:
    name: str
    url: str
    method: str = "GET"
    expected_status: frozenset[int] = frozenset({200})
    body_contains: str | None = None
    latency_ms: int | None = None
    timeout_seconds: float | None = None
    headers_secret_arn: str | None = None
    follow_redirects: bool = True


@dataclass(frozen=True)
class TcpTarget:
    name: str
    host: str
    port: int
    latency_ms: int | None = None
    timeout_seconds: float | None = None


Target = HttpTarget | TcpTarget


def check_settings(values: Mapping[str, str], label: Callable[[str], str] = str) -> None:
    """The settings schema: VALUES are environment variables as the template sets them; LABEL
    names a variable where the value was written. A checker needs a source of targets."""
    inline = values.get("TARGETS", "").strip()
    listed = targets_json(inline, label("TARGETS")) if inline else None
    has_parameter = bool(values.get("TARGETS_SSM_PARAMETER", "").strip())
    # An inline "[]" counts as unset when the targets come from SSM (as the handler reads them).
    if listed is not None and not (listed == [] and has_parameter):
        allow_private = values.get("ALLOW_PRIVATE_NETWORKS", "").strip().lower() == "true"
        targets = parse_targets(listed, label("TARGETS"))
        refuse_literal_addresses(targets, label("TARGETS"), allow_private)
    elif listed is None and not has_parameter:
        raise SettingsError(
            f"{label('TARGETS')} and {label('TARGETS_SSM_PARAMETER')} are both empty: a health "
            "checker needs at least one source of targets"
        )


def refuse_literal_addresses(targets: list[Target], source: str, allow_private: bool) -> None:
    """An IP literal can be judged now, so a forbidden one is a settings error, not an outage."""
    for index, target in enumerate(targets):
        host = target.host if isinstance(target, TcpTarget) else urlsplit(target.url).hostname or ""
        address = literal_address(host)
        reason = refusal_reason(address, allow_private) if address is not None else None
        if reason is not None:
            raise SettingsError(f"{source}[{index}] host {host!r}: {reason}")


def targets_json(text: str, label: str) -> Any:
    """TARGETS text as JSON. A JSON error shows only where it is, never the text: URLs in it may
    carry tokens."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise SettingsError(
            f"{label}: is not valid JSON ({error.msg} at char {error.pos})"
        ) from None


def parse_targets(raw: Any, source: str) -> list[Target]:
    """Validate the whole TARGETS document; errors name ``source`` and the offending path."""
    if not isinstance(raw, list) or not raw:
        raise SettingsError(f"{source}: must be a non-empty JSON list of targets, got {_show(raw)}")
    if len(raw) > MAX_TARGETS:
        raise SettingsError(f"{source}: {len(raw)} targets, at most {MAX_TARGETS} are supported")
    targets = [_parse_one(item, f"{source}[{index}]") for index, item in enumerate(raw)]
    _require_unique_names(targets, source)
    return targets


def load_ssm_targets(name: str, setting: str = "TARGETS_SSM_PARAMETER") -> Any:
    """The target list held in SSM: the parameter ``name``, else every parameter under it.

    One SSM value holds at most 4 KB (Standard) or 8 KB (Advanced), about 30 or 65 targets; a
    longer list is split into parameters one level under ``name`` (``name/part-01`` ...), each a
    JSON list, joined in name order. GetParametersByPath is authorized on the path itself.
    """
    try:
        return _parse_json(f"{setting} (SSM parameter {name})", ssm_parameter_text(name))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ParameterNotFound":
            raise
    parts = _parameters_under(name)
    if not parts:
        raise SettingsError(
            f"{setting}={name!r}: SSM parameter does not exist, nor any parameter under {name}/"
        )
    joined: list[Any] = []
    for part in sorted(parts):
        document = _parse_json(f"{setting} (SSM parameter {name}/{part})", parts[part])
        if not isinstance(document, list):
            raise SettingsError(
                f"{setting} (SSM parameter {name}/{part})={_show(document)}: must be a JSON list"
            )
        joined.extend(document)
    return joined


def _parameters_under(path: str) -> dict[str, str]:
    """Values of the parameters one level under ``path``, by name relative to it (cached)."""
    from aws_lambda_powertools.utilities.parameters import SSMProvider
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    provider = client_companion(
        "health-ssm-path-provider", lambda: SSMProvider(boto3_client=client("ssm"))
    )
    try:
        values = provider.get_multiple(
            path, max_age=PARAMETER_MAX_AGE_SECONDS, decrypt=True, recursive=False
        )
    except GetParameterError as error:
        # Powertools wraps the AWS error; an access denial must reach the log as AWS said it.
        cause = error.__context__
        if isinstance(cause, ClientError | BotoCoreError):
            raise cause from None
        raise
    return {str(key): str(value) for key, value in values.items()}


def _parse_json(label: str, raw: str) -> Any:
    return targets_json(raw, label)


def _parse_one(item: Any, path: str) -> Target:
    if not isinstance(item, Mapping):
        raise SettingsError(f"{path}={_show(item)}: each target must be a JSON object")
    kind = item.get("type")
    if kind == "http":
        _reject_unknown_keys(item, _HTTP_KEYS, path)
        return _parse_http(item, path)
    if kind == "tcp":
        _reject_unknown_keys(item, _TCP_KEYS, path)
        return _parse_tcp(item, path)
    raise SettingsError(f"{path}.type={_show(kind)}: must be 'http' or 'tcp'")


def _parse_http(item: Mapping[str, Any], path: str) -> HttpTarget:
    method = _optional_str(item, "method", path) or "GET"
    if method.upper() not in _METHODS:
        raise SettingsError(f"{path}.method={method!r}: must be one of {sorted(_METHODS)}")
    body_contains = _optional_str(item, "body_contains", path)
    if body_contains is not None and method.upper() == "HEAD":
        raise SettingsError(f"{path}.body_contains: a HEAD response has no body to search")
    return HttpTarget(
        name=_name(item, path),
        url=_url(item, path),
        method=method.upper(),
        expected_status=_expected_status(item, path),
        body_contains=body_contains,
        latency_ms=_optional_int(item, "latency_ms", path, 1, MAX_LATENCY_MS),
        timeout_seconds=_optional_timeout(item, path),
        headers_secret_arn=_secret_arn(item, path),
        follow_redirects=_optional_bool(item, "follow_redirects", path, default=True),
    )


def _parse_tcp(item: Mapping[str, Any], path: str) -> TcpTarget:
    host = _optional_str(item, "host", path)
    if not host:
        raise SettingsError(f"{path}.host: required for a tcp target")
    port = _optional_int(item, "port", path, 1, 65_535)
    if port is None:
        raise SettingsError(f"{path}.port: required for a tcp target")
    return TcpTarget(
        name=_name(item, path),
        host=host,
        port=port,
        latency_ms=_optional_int(item, "latency_ms", path, 1, MAX_LATENCY_MS),
        timeout_seconds=_optional_timeout(item, path),
    )


def _name(item: Mapping[str, Any], path: str) -> str:
    name = item.get("name")
    if not isinstance(name, str) or not _NAME_PATTERN.match(name):
        raise SettingsError(
            f"{path}.name={_show(name)}: must be 1-64 chars of letters, digits, '.', '_', ':', '-'"
        )
    return name


def _url(item: Mapping[str, Any], path: str) -> str:
    url = item.get("url")
    if not isinstance(url, str):
        raise SettingsError(f"{path}.url: required for an http target (a string)")
    problem = url_problem(url)
    # Credentials in a URL end up in logs and alerts; headers belong in headers_secret_arn.
    if problem == "it carries user:password":
        problem += ", use headers_secret_arn for credentials"
    if problem is not None:
        raise SettingsError(f"{path}.url={describe_url(url)!r}: {problem}")
    return url


def _expected_status(item: Mapping[str, Any], path: str) -> frozenset[int]:
    raw = item.get("expected_status", [200])
    if not isinstance(raw, list) or not raw:
        raise SettingsError(f"{path}.expected_status={_show(raw)}: must be a non-empty list")
    for code in raw:
        if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 599:
            raise SettingsError(f"{path}.expected_status: {_show(code)} is not an HTTP status")
    return frozenset(raw)


def _secret_arn(item: Mapping[str, Any], path: str) -> str | None:
    arn = _optional_str(item, "headers_secret_arn", path)
    if arn is not None and not (arn.startswith("arn:") and ":secretsmanager:" in arn):
        raise SettingsError(f"{path}.headers_secret_arn={arn!r}: is not a Secrets Manager ARN")
    return arn


def _optional_timeout(item: Mapping[str, Any], path: str) -> float | None:
    raw = item.get("timeout_seconds")
    if raw is None:
        return None
    if (
        isinstance(raw, bool)
        or not isinstance(raw, int | float)
        or not 0 < raw <= MAX_TIMEOUT_SECONDS
    ):
        raise SettingsError(
            f"{path}.timeout_seconds={_show(raw)}: must be a number in (0, {MAX_TIMEOUT_SECONDS:g}]"
        )
    return float(raw)


def _optional_str(item: Mapping[str, Any], key: str, path: str) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise SettingsError(f"{path}.{key}={_show(value)}: must be a non-empty string")
    return value


def _optional_int(
    item: Mapping[str, Any], key: str, path: str, minimum: int, maximum: int
) -> int | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise SettingsError(f"{path}.{key}={_show(value)}: must be an integer {minimum}..{maximum}")
    return value


def _optional_bool(item: Mapping[str, Any], key: str, path: str, *, default: bool) -> bool:
    value = item.get(key, default)
    if not isinstance(value, bool):
        raise SettingsError(f"{path}.{key}={_show(value)}: must be true or false")
    return value


def _reject_unknown_keys(item: Mapping[str, Any], allowed: frozenset[str], path: str) -> None:
    # A typo such as "expected_staus" would otherwise silently fall back to the default.
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise SettingsError(f"{path}: unknown keys {unknown}; allowed: {sorted(allowed)}")


def _require_unique_names(targets: list[Target], source: str) -> None:
    seen: set[str] = set()
    for target in targets:
        if target.name in seen:
            raise SettingsError(f"{source}: target name {target.name!r} is used more than once")
        seen.add(target.name)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
