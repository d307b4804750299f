"""CloudFormation stack events while bootstrap and launch wait: each event once, oldest first.

DescribeStackEvents lists a stack's events newest first, every operation the stack ever had,
in pages. Each poll reads pages until it reaches an event already shown or one older than the
operation being watched, then shows what is new in the order it happened.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import botocore.exceptions

from portfolio.aws import error_code

Echo = Callable[[str], None]
_STACK_OUTPUT = "CloudformationStackARN"


class StackEvents:
    """The events of one stack operation (started at SINCE) that have not been shown yet."""

    def __init__(self, cfn: Any, echo: Echo, prefix: str = "") -> None:
        self._cfn = cfn
        self._echo = echo
        self._prefix = prefix
        self._shown: set[str] = set()
        self._denied = False

    def show_new(self, stack: str, since: datetime.datetime) -> None:
        """Echo STACK's events since SINCE not shown yet; quietly nothing once reading them
        was denied (the deploy permissions do not include DescribeStackEvents)."""
        if self._denied:
            return
        try:
            new = self._unseen(stack, since)
        except botocore.exceptions.ClientError as error:
            if error_code(error) == "ValidationError":  # the stack is gone (or not there yet)
                return
            if error_code(error) not in ("AccessDenied", "AccessDeniedException"):
                raise
            self._denied = True
            self._echo(f"{self._prefix}stack events not shown: {error_code(error)}")
            return
        for event in reversed(new):
            self._shown.add(str(event["EventId"]))
            self._echo(self._prefix + event_line(event))

    def _unseen(self, stack: str, since: datetime.datetime) -> list[dict[str, Any]]:
        new: list[dict[str, Any]] = []
        for page in self._cfn.get_paginator("describe_stack_events").paginate(StackName=stack):
            for event in page.get("StackEvents", []):
                if event["EventId"] in self._shown or event["Timestamp"] < since:
                    return new
                new.append(event)
        return new


def event_line(event: dict[str, Any]) -> str:
    reason = event.get("ResourceStatusReason")
    return (
        f"{event.get('LogicalResourceId', '-')} ({event.get('ResourceType', '-')}) "
        f"{event.get('ResourceStatus', '-')}" + (f": {reason}" if reason else "")
    )


def operation_start(stack: dict[str, Any]) -> datetime.datetime:
    """When the stack's current operation started: its last update, else its creation."""
    return stack.get("LastUpdatedTime") or stack["CreationTime"]  # type: ignore[no-any-return]


class BootstrapWatcher:
    """Called with each DescribeStacks answer while bootstrap waits."""

    def __init__(self, cfn: Any, echo: Echo, prefix: str = "") -> None:
        self._events = StackEvents(cfn, echo, prefix)

    def __call__(self, stack: dict[str, Any]) -> None:
        self._events.show_new(str(stack["StackId"]), operation_start(stack))


class LaunchWatcher:
    """Called with each DescribeRecord answer while launch waits: the provisioned product's
    stack is the record output CloudformationStackARN (or, once the record has ended without
    it, the provisioned product's PhysicalId)."""

    def __init__(self, sc: Any, cfn: Any, echo: Echo, prefix: str = "") -> None:
        self._sc = sc
        self._events = StackEvents(cfn, echo, prefix)
        self._stack: str | None = None

    def __call__(self, response: dict[str, Any]) -> None:
        record = response["RecordDetail"]
        stack = self._stack or self._stack_of(response)
        if stack is None:
            return
        self._stack = stack
        self._events.show_new(stack, record["CreatedTime"])

    def _stack_of(self, response: dict[str, Any]) -> str | None:
        for output in response.get("RecordOutputs", []):
            if output.get("OutputKey") == _STACK_OUTPUT and output.get("OutputValue"):
                return str(output["OutputValue"])
        record = response["RecordDetail"]
        if record.get("Status") not in ("SUCCEEDED", "FAILED"):
            return None  # not created yet, or not reported yet: the next poll looks again
        detail = self._sc.describe_provisioned_product(Id=record["ProvisionedProductId"])
        physical = detail["ProvisionedProductDetail"].get("PhysicalId")
        return str(physical) if physical else None
