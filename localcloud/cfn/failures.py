"""Stack failures the way CloudFormation reports them.

moto creates a stack's resources inside the CreateStack call, so one failing resource makes the
API call itself fail (an error to the client, a half-built stack left CREATE_IN_PROGRESS). AWS
instead accepts the call and the stack ends ROLLBACK_COMPLETE with the reason in its events and
StackStatusReason. These wrappers give moto's Stack that behaviour.
"""

import logging
from collections.abc import Callable
from typing import Any

from .conditions import install_conditional_updates, reconcile_conditions

logger = logging.getLogger("localcloud.cfn")
_PATCHED_MARK = "_localcloud_failure_handling"


def failure_reason(error: Exception) -> str:
    """'<ErrorType>: <message>', the way a failed resource's reason reads in stack events."""
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
    # Forget the template's resources and outputs: moto's maps are lazy and would otherwise
    # try to create (or resolve) them again on the next DescribeStacks / ListStackResources.
    stack.resource_map._resource_json_map = {}
    stack.output_map._output_json_map = {}
    stack.status = "ROLLBACK_COMPLETE"
    stack.stack_status_reason = reason
    stack._add_stack_event("ROLLBACK_COMPLETE")


def unsupported_resource_types(template: dict[str, Any]) -> list[str]:
    """Types moto would skip with only a warning, leaving a 'complete' stack with holes."""
    from moto.cloudformation.parsing import NULL_MODELS, get_model_map

    known = get_model_map()
    resources = (template.get("Resources") or {}).values()
    types = {str(spec.get("Type", "")) for spec in resources if isinstance(spec, dict)}
    return sorted(
        t for t in types if t not in known and t not in NULL_MODELS and not t.startswith("Custom::")
    )


def _failing_create(original: Callable[[Any], None]) -> Callable[[Any], None]:
    def create_resources(stack: Any) -> None:
        unsupported = unsupported_resource_types(stack.template_dict)
        if unsupported:
            reason = f"Resource types not supported by localcloud: {', '.join(unsupported)}"
            _roll_back_creation(stack, reason)
            return
        try:
            original(stack)
        except Exception as error:  # any resource error fails the stack, reported with its reason
            logger.warning("localcloud: stack %s failed: %s", stack.name, error, exc_info=True)
            _roll_back_creation(stack, failure_reason(error))

    return create_resources


def _fail_update(stack: Any, reason: str, restore: Callable[[], None] | None = None) -> None:
    logger.warning("localcloud: update of stack %s failed: %s", stack.name, reason)
    stack._add_stack_event("UPDATE_FAILED", resource_status_reason=reason)
    stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason=reason)
    final = "UPDATE_ROLLBACK_COMPLETE"
    if restore is not None:
        try:
            restore()
        except Exception:  # the old template no longer applies cleanly: say so, as AWS would
            logger.exception("localcloud: rollback of stack %s failed", stack.name)
            final = "UPDATE_ROLLBACK_FAILED"
    stack.status = final
    stack.stack_status_reason = reason
    stack._add_stack_event(final)


def _failing_update(original: Callable[..., None]) -> Callable[..., None]:
    def update(stack: Any, template: str, *args: Any, **kwargs: Any) -> None:
        unsupported = unsupported_resource_types(stack.parse_template(template))
        if unsupported:
            _fail_update(
                stack, f"Resource types not supported by localcloud: {', '.join(unsupported)}"
            )
            return
        previous = (stack.template, stack.role_arn, dict(stack.parameters or {}), dict(stack.tags))

        def restore() -> None:
            # Roll back the way CloudFormation does: re-apply the previous template and values.
            old_template, role_arn, parameters, tags = previous
            original(stack, old_template, role_arn, parameters=parameters, tags=tags)
            reconcile_conditions(stack)

        try:
            original(stack, template, *args, **kwargs)
            reconcile_conditions(stack)
        except Exception as error:  # any resource error fails the update, which rolls back
            _fail_update(stack, failure_reason(error), restore)

    return update


def _existing_resources(stack: Any) -> list[Any]:
    # Resources whose Condition is false map to None in moto; AWS simply does not list them.
    return [resource for resource in stack.resource_map.values() if resource is not None]


def install_failure_handling() -> None:
    from moto.cloudformation.models import Stack

    if getattr(Stack, _PATCHED_MARK, False):
        return
    install_conditional_updates()
    setattr(Stack, "stack_resources", property(_existing_resources))  # noqa: B010
    setattr(Stack, "create_resources", _failing_create(Stack.create_resources))  # noqa: B010
    setattr(Stack, "update", _failing_update(Stack.update))  # noqa: B010
    setattr(Stack, _PATCHED_MARK, True)
