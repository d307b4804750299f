"""moto's CloudWatch Logs, re-wired: subscription filters apply their pattern (moto sent every
event), Lambda destinations go through the runtime, patterns are checked at
PutSubscriptionFilter, and an existing filter can be updated when the group has two."""

from __future__ import annotations

from typing import Any

from . import logs
from .log_filters import FilterPatternError, compile_pattern
from .moto_sns import patch

_installed = False


def install() -> None:
    global _installed  # noqa: PLW0603 - moto's classes are patched once per process
    if _installed:
        return
    from moto.logs.models import LogGroup, LogStream

    patch(LogStream, "_send_log_events", _sending_matches(LogStream._send_log_events))
    patch(LogGroup, "put_subscription_filter", _checking_filter(LogGroup.put_subscription_filter))
    _installed = True


def _sending_matches(original: Any) -> Any:
    """Only events matching the filter's pattern go on; Lambda through the runtime."""

    def send_log_events(
        self: Any, service: str, destination_arn: str, filter_name: str, log_events: Any
    ) -> None:
        subscription_filter = self.log_group.subscription_filters[filter_name]
        events = logs.matching_events(subscription_filter.filter_pattern, log_events)
        if not events:
            return
        if service == "lambda":
            logs.deliver_to_function(self, subscription_filter, events)
        else:
            original(self, service, destination_arn, filter_name, events)

    return send_log_events


def _checking_filter(original: Any) -> Any:
    """The pattern is checked first; an existing filter can be updated even with two."""

    def put_subscription_filter(
        self: Any, filter_name: str, filter_pattern: str, destination_arn: str, role_arn: str
    ) -> None:
        from moto.logs.exceptions import InvalidParameterException

        try:
            compile_pattern(filter_pattern or "")
        except FilterPatternError as error:
            raise InvalidParameterException(str(error)) from None
        existing = self.subscription_filters.get(filter_name)
        if existing is not None:  # moto refused updates once a group had two filters
            existing.update(filter_pattern, destination_arn, role_arn)
            return
        original(self, filter_name, filter_pattern, destination_arn, role_arn)

    return put_subscription_filter
