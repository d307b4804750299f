"""Event delivery: SNS subscriptions, EventBridge rules and schedules, CloudWatch Logs
subscription filters and S3 notifications, plus the control endpoint (/_localcloud/)."""

from __future__ import annotations

from . import control
from .state import DELIVERY

__all__ = ["DELIVERY", "control", "forget_endpoint", "install", "reset", "set_endpoint"]


def install() -> None:
    """Patch moto's delivery paths (once per process)."""
    from . import moto_events, moto_logs, moto_s3, moto_sns
    from .network import guard_requests

    guard_requests(lambda url, reason: DELIVERY.record_failure("moto", url, url, reason))
    moto_sns.install()
    moto_events.install()
    moto_logs.install()
    moto_s3.install()


def reset() -> None:
    """Forget the outbox, recorded failures and pending confirmations (with reset_state)."""
    from . import events

    DELIVERY.reset()
    events.reset()


def set_endpoint(endpoint_url: str) -> None:
    """Where links in SNS messages (SubscribeURL, UnsubscribeURL, SigningCertURL) point."""
    with DELIVERY.lock:
        DELIVERY.live_endpoints.append(endpoint_url)


def forget_endpoint(endpoint_url: str) -> None:
    """A server stopped: links point at the previous one still running."""
    with DELIVERY.lock:
        if endpoint_url in DELIVERY.live_endpoints:
            DELIVERY.live_endpoints.remove(endpoint_url)
