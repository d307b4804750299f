"""alert_handler settings, read from the environment at the start of each invocation.

check_settings is the tool's settings schema: the handler parses ROUTES with it at run time, and
`build`, `plan` and `launch` check a launch's values with it before anything runs
(products/launch_values.py), so a bad route is refused where it is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from oncall_shared.errors import SettingsError
from oncall_shared.settings import (
    env_int,
    env_str,
    parse_json_text,
    require_str,
)

CHANNELS = ("pagerduty", "slack", "teams", "sns")
# The PagerDuty Events v2 severities, so a severity maps 1:1 onto a PagerDuty event.
SEVERITIES = ("critical", "error", "warning", "info")
DEFAULT_ROUTES: dict[str, tuple[str, ...]] = {
    "critical": ("pagerduty", "slack", "teams", "sns"),
    "warning": ("slack", "teams", "sns"),
    "info": ("sns",),
}
# DynamoDB TTL deletes lazily; two days covers Lambda's async retry window (up to 6 h) with room.
DEFAULT_DEDUPE_TTL_HOURS = 48


@dataclass(frozen=True)
class AlertSettings:
    environment: str
    topic_arn: str
    dedupe_table: str
    dedupe_ttl_hours: int
    secret_arns: dict[str, str]  # channel -> secret ARN, only for channels that are on
    routes: dict[str, tuple[str, ...]]
    default_severity: str

    def channel_enabled(self, channel: str) -> bool:
        return channel == "sns" or channel in self.secret_arns


def check_settings(values: Mapping[str, str], label: Callable[[str], str] = str) -> None:
    """The settings schema: VALUES are environment variables as the template sets them (absent
    when a launch does not decide them); LABEL names a variable where the value was written."""
    routes = routes_setting(values.get("ROUTES", ""), label("ROUTES"))
    _default_severity(values.get("DEFAULT_SEVERITY", ""), routes, label("DEFAULT_SEVERITY"))


def routes_setting(text: str, label: str = "ROUTES") -> dict[str, tuple[str, ...]]:
    """ROUTES from its text (blank: the default routes)."""
    if not text.strip():
        return dict(DEFAULT_ROUTES)
    return parse_routes(parse_json_text(label, text.strip()), label)


def _default_severity(text: str, routes: Mapping[str, Any], label: str) -> str:
    severity = (text.strip() or "warning").lower()
    if severity not in routes:
        raise SettingsError(
            f"{label}={severity!r}: not a severity in ROUTES ({', '.join(sorted(routes))}); "
            "ROUTES needs a route for it, the severity of alarms that name none"
        )
    return severity


def load_settings() -> AlertSettings:
    routes = routes_setting(env_str("ROUTES", "") or "")
    default_severity = _default_severity(
        env_str("DEFAULT_SEVERITY", "") or "", routes, "DEFAULT_SEVERITY"
    )
    return AlertSettings(
        environment=env_str("ENVIRONMENT", "unknown") or "unknown",
        topic_arn=require_str("ALERT_TOPIC_ARN"),
        dedupe_table=require_str("DEDUPE_TABLE"),
        dedupe_ttl_hours=env_int("DEDUPE_TTL_HOURS", DEFAULT_DEDUPE_TTL_HOURS, 1, 24 * 30),
        secret_arns=_secret_arns(),
        routes=routes,
        default_severity=default_severity,
    )


def _secret_arns() -> dict[str, str]:
    names = {
        "slack": "SLACK_SECRET_ARN",
        "teams": "TEAMS_SECRET_ARN",
        "pagerduty": "PAGERDUTY_SECRET_ARN",
    }
    found = {channel: env_str(variable) for channel, variable in names.items()}
    return {channel: arn for channel, arn in found.items() if arn}


def parse_routes(raw: Any, label: str = "ROUTES") -> dict[str, tuple[str, ...]]:
    """ROUTES is {"severity": ["channel", ...]}; unknown channels are a typo worth failing on."""
    if raw is None:
        return dict(DEFAULT_ROUTES)
    if not isinstance(raw, dict) or not raw:
        raise SettingsError(
            f"{label}={raw!r}: must be a non-empty JSON object of severity -> channels"
        )
    routes = {str(key).lower(): _route_channels(key, value, label) for key, value in raw.items()}
    unknown = sorted(set(routes) - set(SEVERITIES))
    if unknown:
        raise SettingsError(
            f"{label}: severity {unknown[0]!r} is not one of {', '.join(SEVERITIES)}"
        )
    return routes


def _route_channels(severity: Any, channels: Any, label: str) -> tuple[str, ...]:
    if not isinstance(channels, list) or not all(isinstance(item, str) for item in channels):
        raise SettingsError(f"{label}: {severity!r}={channels!r} must be a list of channel names")
    unknown = [item for item in channels if item not in CHANNELS]
    if unknown:
        raise SettingsError(
            f"{label}: channel {unknown[0]!r} (severity {severity!r}) is not one of "
            f"{', '.join(CHANNELS)}"
        )
    return tuple(dict.fromkeys(channels))  # keep order, drop repeats
