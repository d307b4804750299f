"""moto's EventBridge, re-wired: our pattern matcher and validation, state-aware delivery to
Lambda/SNS/SQS targets, event times from the clock, schedules planned on the clock."""

from __future__ import annotations

import copy
import json
from typing import Any

from ..clock import CLOCK
from . import events, patterns, schedules
from .moto_sns import patch

_installed = False


def install() -> None:
    global _installed  # noqa: PLW0603 - moto's classes are patched once per process
    if _installed:
        return
    from moto.events import models

    _patch_patterns(models)
    _patch_delivery(models)
    _patch_rule_lifecycle(models)
    patch(models, "unix_time", CLOCK.now)  # PutEvents without Time: the clock's now
    _installed = True


def _patch_patterns(models: Any) -> None:
    from moto.events.exceptions import InvalidEventPatternException

    original_parse = models.EventPatternParser.parse

    def parse(self: Any) -> dict[str, Any]:
        pattern: dict[str, Any] = original_parse(self)
        try:
            patterns.validate(pattern)
        except patterns.PatternError as error:
            raise InvalidEventPatternException(reason=str(error)) from None
        return pattern

    def matches_event(self: Any, event: Any) -> bool:
        return patterns.matches(self._pattern or {}, json.loads(json.dumps(event)))

    patch(models.EventPatternParser, "parse", parse)
    patch(models.EventPattern, "matches_event", matches_event)
    from moto.events.responses import EventsHandler

    patch(EventsHandler, "test_event_pattern", test_event_pattern)


# TestEventPattern requires these in the event, as AWS documents.
_REQUIRED_EVENT_FIELDS = ("id", "account", "source", "time", "region", "resources", "detail-type")


def test_event_pattern(self: Any) -> str:
    """TestEventPattern (moto lacks it): our matcher, AWS's checks on the event."""
    from moto.events.exceptions import ValidationException
    from moto.events.models import EventPattern

    pattern = EventPattern.load(self._get_param("EventPattern"))
    try:
        event = json.loads(self._get_param("Event") or "")
    except ValueError:
        raise ValidationException("Parameter Event is not valid: not JSON") from None
    missing = [name for name in _REQUIRED_EVENT_FIELDS if name not in event]
    if missing:
        raise ValidationException(f"Parameter Event is not valid: missing {', '.join(missing)}")
    return json.dumps({"Result": pattern.matches_event(event)})


def _patch_delivery(models: Any) -> None:
    original_send = models.Rule.send_to_targets

    def send_to_targets(self: Any, event: Any, transform_input: bool = True) -> None:
        # A rule without an event pattern is a schedule: it never matches events on the bus.
        if self.state != "ENABLED" or self.event_pattern._raw_pattern is None:
            return
        if not self.event_pattern.matches_event(event):
            return
        others = events.deliver(self, events.as_delivered(event))
        if others:
            rest = copy.copy(self)
            rest.targets = others
            original_send(rest, event, transform_input)

    patch(models.Rule, "send_to_targets", send_to_targets)


def _patch_rule_lifecycle(models: Any) -> None:
    backend_class = models.EventsBackend
    patch(backend_class, "put_rule", _putting_rule(backend_class.put_rule))
    patch(backend_class, "delete_rule", _deleting_rule(backend_class.delete_rule))
    patch(backend_class, "enable_rule", _switching_rule(backend_class.enable_rule, events.plan))
    patch(backend_class, "disable_rule", _switching_rule(backend_class.disable_rule, events.unplan))


def _putting_rule(original: Any) -> Any:
    """PutRule checks the schedule expression first, then (re)plans the rule's schedule."""

    def put_rule(self: Any, name: str, **kwargs: Any) -> Any:
        from moto.events.exceptions import ValidationException

        expression = kwargs.get("scheduled_expression")
        if expression:
            try:
                schedules.parse(expression, CLOCK.now())
            except schedules.ScheduleError as error:
                message = f"Parameter ScheduleExpression is not valid: {error}"
                raise ValidationException(message) from None
        rule = original(self, name, **kwargs)
        events.plan(rule)
        return rule

    return put_rule


def _deleting_rule(original: Any) -> Any:
    def delete_rule(self: Any, name: str, event_bus_arn: str | None) -> None:
        rule = _find_rule(self, name, event_bus_arn)
        original(self, name, event_bus_arn)
        if rule is not None and _find_rule(self, name, event_bus_arn) is None:
            events.unplan(rule)

    return delete_rule


def _switching_rule(original: Any, then: Any) -> Any:
    """EnableRule plans the schedule again (counting from now); DisableRule drops it."""

    def switch(self: Any, name: str, event_bus_arn: str | None) -> bool:
        found = bool(original(self, name, event_bus_arn))
        rule = _find_rule(self, name, event_bus_arn)
        if rule is not None:
            then(rule)
        return found

    return switch


def _find_rule(backend: Any, name: str, event_bus_arn: str | None) -> Any:
    bus = backend.event_buses.get(backend._normalize_event_bus_arn(event_bus_arn))
    return None if bus is None else bus.rules.get(name)
