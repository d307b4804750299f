"""alert_handler settings, read from the environment at the start of each invocation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oncall_shared.errors import SettingsError
from oncall_shared.settings import (
    env_int,
    env_json,
    env_str,
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


def load_settings() -> AlertSettings:
    routes = parse_routes(env_json("ROUTES", None))
    default_severity = (env_str("DEFAULT_SEVERITY", "warning") or "warning").lower()
    if default_severity not in routes:
        raise SettingsError(
            f"DEFAULT_SEVERITY={default_severity!r}: not a severity in ROUTES {sorted(routes)}"
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


def parse_routes(raw: Any) -> dict[str, tuple[str, ...]]:
    """ROUTES is {"severity": ["channel", ...]}; unknown channels are a typo worth failing on."""
    if raw is None:
        return dict(DEFAULT_ROUTES)
    if not isinstance(raw, dict) or not raw:
        raise SettingsError(
            f"ROUTES={raw!r}: must be a non-empty JSON object of severity -> channels"
        )
    routes = {str(key).lower(): _route_channels(key, value) for key, value in raw.items()}
    unknown = sorted(set(routes) - set(SEVERITIES))
    if unknown:
        raise SettingsError(f"ROUTES={raw!r}: unknown severity {unknown}; use {list(SEVERITIES)}")
    return routes


def _route_channels(severity: Any, channels: Any) -> tuple[str, ...]:
    if not isinstance(channels, list) or not all(isinstance(item, str) for item in channels):
        raise SettingsError(f"ROUTES[{severity!r}]={channels!r}: must be a list of channel names")
    unknown = [item for item in channels if item not in CHANNELS]
    if unknown:
        raise SettingsError(
            f"ROUTES[{severity!r}]={channels!r}: unknown channel(s) {unknown}; use {list(CHANNELS)}"
        )
    return tuple(dict.fromkeys(channels))  # keep order, drop repeats
