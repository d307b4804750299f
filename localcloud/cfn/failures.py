"""Stack failures the way CloudFormation reports them.

moto creates a stack's resources inside the CreateStack call, so one failing resource makes the
API call itself fail (an error to the client, a half-built stack left CREATE_IN_PROGRESS). AWS
instead accepts the call and the stack ends ROLLBACK_COMPLETE with the reason in its events and
StackStatusReason. These wrappers give moto's Stack that behaviour.
"""

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("localcloud.cfn")
_PATCHED_MARK = "_localcloud_failure_handling"


def failure_reason(error: Exception) -> str:
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return f"{type(error).__name__}: {message}"


def _roll_back_creation(stack: Any, reason: str) -> None:
    stack._add_stack_event("CREATE_FAILED", resource_status_reason=reason)
    stack._add_stack_event("ROLLBACK_IN_PROGRESS", resource_status_reason=reason)
    try:
        stack.resource_map.delete()
    except (
        Exception
    ):  # rollback is best effort, as in CloudFormation (DELETE_FAILED resources stay)
        logger.exception("localcloud: rollback of %s left resources behind", stack.name)
    # Forget the template's resources so later listings do not lazily create them again.
    stack.resource_map._resource_json_map = {}
    stack.status = "ROLLBACK_COMPLETE"
    stack.stack_status_reason = reason
    stack._add_stack_event("ROLLBACK_COMPLETE")


def _failing_create(original: Callable[[Any], None]) -> Callable[[Any], None]:
    def create_resources(stack: Any) -> None:
        try:
            original(stack)
        except Exception as error:  # any resource error fails the stack, reported with its reason
            logger.warning("localcloud: stack %s failed: %s", stack.name, error)
            _roll_back_creation(stack, failure_reason(error))

    return create_resources


def _failing_update(original: Callable[..., None]) -> Callable[..., None]:
    def update(stack: Any, *args: Any, **kwargs: Any) -> None:
        try:
            original(stack, *args, **kwargs)
        except Exception as error:  # moto cannot restore the old resources; the status says so
            reason = failure_reason(error)
            logger.warning("localcloud: update of stack %s failed: %s", stack.name, reason)
            stack._add_stack_event("UPDATE_FAILED", resource_status_reason=reason)
            stack.status = "UPDATE_ROLLBACK_COMPLETE"
            stack.stack_status_reason = reason
            stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")

    return update


def install_failure_handling() -> None:
    from moto.cloudformation.models import Stack

    if getattr(Stack, _PATCHED_MARK, False):
        return
    setattr(Stack, "create_resources", _failing_create(Stack.create_resources))  # noqa: B010
    setattr(Stack, "update", _failing_update(Stack.update))  # noqa: B010
    setattr(Stack, _PATCHED_MARK, True)
