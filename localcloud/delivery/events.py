"""EventBridge delivery: matching rules (ENABLED only) send the event to their targets (Lambda
through the runtime, SNS, SQS; others through moto), with Input / InputPath /
InputTransformer; scheduled rules fire from clock jobs re-planned whenever the rule changes."""

from __future__ import annotations

import copy
import datetime
import json
import logging
import uuid
from typing import Any

from ..clock import CLOCK, _Scheduled
from . import schedules
from .functions import invoke_function, trace_header
from .state import DELIVERY

logger = logging.getLogger("localcloud.delivery")
RuleKey = tuple[str, str, str, str]  # account, region, bus, rule name
_PLANNED: dict[RuleKey, _Scheduled] = {}


def iso_seconds(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_delivered(event: dict[str, Any]) -> dict[str, Any]:
    """The event as targets see it: ISO time, no moto bookkeeping."""
    delivered = copy.deepcopy(event)
    delivered.pop("ingestion-time", None)
    if isinstance(delivered.get("time"), int | float):
        delivered["time"] = iso_seconds(float(delivered["time"]))
    return delivered


def target_input(target: dict[str, Any], event: dict[str, Any]) -> str:
    """What the target receives: the event, or Input, InputPath or InputTransformer's result."""
    if target.get("Input") is not None:
        return str(target["Input"])
    if target.get("InputPath"):
        return json.dumps(_json_path(event, str(target["InputPath"])))
    transformer = target.get("InputTransformer")
    if transformer:
        from moto.events.utils import EventTemplateParser

        result = EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event={**event, "ingestion-time": CLOCK.now()},  # type: ignore[typeddict-item]
        )
        return result if isinstance(result, str) else json.dumps(result)
    return json.dumps(event)


def _json_path(event: dict[str, Any], path: str) -> Any:
    """The simple JSONPath forms EventBridge's InputPath takes: $ and $.a.b."""
    if path == "$":
        return event
    if not path.startswith("$."):
        raise ValueError(f"InputPath {path!r} is not supported by localcloud (use $.field.field)")
    node: Any = event
    for key in path[2:].split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def send_to_function(rule: Any, target: dict[str, Any], payload: str) -> None:
    invoke_function(
        "events",
        target["Arn"],
        payload.encode(),
        principal="events.amazonaws.com",
        source_arn=rule.arn,
        trace_header=trace_header(),
    )


def send_to_topic(rule: Any, target: dict[str, Any], payload: str) -> None:
    from moto.sns.models import sns_backends

    arn = str(target["Arn"])
    sns_backends[arn.split(":")[4]][arn.split(":")[3]].publish(message=payload, arn=arn)


def send_to_queue(rule: Any, target: dict[str, Any], payload: str) -> None:
    from moto.sqs.models import sqs_backends

    arn = str(target["Arn"])
    group_id = target.get("SqsParameters", {}).get("MessageGroupId")
    backend = sqs_backends[arn.split(":")[4]][arn.split(":")[3]]
    backend.send_message(queue_name=arn.split(":")[5], message_body=payload, group_id=group_id)


SENDERS = {"lambda": send_to_function, "sns": send_to_topic, "sqs": send_to_queue}


def deliver(rule: Any, event: dict[str, Any]) -> list[dict[str, Any]]:
    """Send EVENT to the rule's Lambda/SNS/SQS targets; returns the targets left to moto."""
    others = []
    for target in list(rule.targets):
        service = str(target["Arn"]).split(":")[2]
        sender = SENDERS.get(service)
        if sender is None:
            others.append(target)
            continue
        try:
            sender(rule, target, target_input(target, event))
        except Exception as error:  # a deleted queue or topic: recorded, other targets go on
            logger.warning("rule %s could not deliver to %s: %r", rule.arn, target["Arn"], error)
            DELIVERY.record_failure("events", rule.arn, str(target["Arn"]), repr(error))
    return others


# -- schedules ----------------------------------------------------------------------------


def _key(rule: Any) -> RuleKey:
    return (rule.account_id, rule.region_name, rule.event_bus_name, rule.name)


def unplan(rule: Any) -> None:
    entry = _PLANNED.pop(_key(rule), None)
    if entry is not None:
        CLOCK.cancel(entry)


def plan(rule: Any, schedule: schedules.Schedule | None = None) -> None:
    """(Re)plan the rule's next scheduled run; nothing when it is disabled or unscheduled."""
    unplan(rule)
    if not rule.scheduled_expression or rule.state != "ENABLED":
        return
    schedule = schedule or schedules.parse(rule.scheduled_expression, CLOCK.now())
    due = schedule.next_after(CLOCK.now())
    if due is None:
        return
    _PLANNED[_key(rule)] = CLOCK.call_at(
        due, lambda: _fire(rule, schedule), f"events schedule {rule.arn}"
    )


def _fire(rule: Any, schedule: schedules.Schedule) -> None:
    _PLANNED.pop(_key(rule), None)
    if _current_rule(rule) is not rule or rule.state != "ENABLED":
        return  # replaced, deleted or disabled since it was planned
    deliver(rule, scheduled_event(rule))
    plan(rule, schedule)


def _current_rule(rule: Any) -> Any:
    from moto.events.models import events_backends

    backend = events_backends[rule.account_id][rule.region_name]
    bus = backend.event_buses.get(rule.event_bus_name)
    return None if bus is None else bus.rules.get(rule.name)


def scheduled_event(rule: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": rule.account_id,
        "time": iso_seconds(CLOCK.now()),
        "region": rule.region_name,
        "resources": [rule.arn],
        "detail": {},
    }


def reset() -> None:
    _PLANNED.clear()  # the clock dropped the jobs themselves
