"""Channel credentials from Secrets Manager, cached per container for a few minutes.

The cache (Powertools Parameters, oncall_shared.parameters: 300 s) keeps a Slack storm from
calling GetSecretValue per alarm; the expiry lets a rotated webhook URL take effect without a
redeploy. Secret values never appear in logs or errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from oncall_shared.errors import SettingsError
from oncall_shared.http import describe_url, url_problem
from oncall_shared.settings import secret_json_object

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class WebhookSecret:
    webhook_url: str


@dataclass(frozen=True)
class PagerDutySecret:
    routing_key: str
    events_url: str


def secret_json(secret_arn: str) -> dict[str, Any]:
    return secret_json_object(secret_arn, f"secret {secret_arn!r}")


def webhook_secret(secret_arn: str) -> WebhookSecret:
    value = secret_json(secret_arn)
    return WebhookSecret(
        webhook_url=_checked_url(secret_arn, "webhook_url", value.get("webhook_url"))
    )


def pagerduty_secret(secret_arn: str) -> PagerDutySecret:
    value = secret_json(secret_arn)
    routing_key = value.get("routing_key")
    if not isinstance(routing_key, str) or not routing_key.strip():
        raise SettingsError(f"secret {secret_arn!r} field 'routing_key': missing or empty")
    events_url = value.get("events_url") or PAGERDUTY_EVENTS_URL
    return PagerDutySecret(routing_key.strip(), _checked_url(secret_arn, "events_url", events_url))


def _checked_url(secret_arn: str, field: str, url: Any) -> str:
    """https only; plain http is accepted for loopback so local receivers can stand in."""
    if not isinstance(url, str) or not url.strip():
        raise SettingsError(f"secret {secret_arn!r} field {field!r}: missing or empty")
    # The URL itself is a credential (a webhook's path is its token): errors show
    # scheme://host:port only.
    shown = describe_url(url.strip())
    problem = url_problem(url.strip())
    if problem is not None:
        raise SettingsError(f"secret {secret_arn!r} field {field!r}: {shown!r}: {problem}")
    parts = urlsplit(url.strip())
    loopback = parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK_HOSTS
    if parts.scheme != "https" and not loopback:
        raise SettingsError(
            f"secret {secret_arn!r} field {field!r}: {shown!r}: scheme {parts.scheme!r} is not "
            "https"
        )
    return url.strip()
