"""Resources whose Condition changes on a stack update, handled as CloudFormation does.

moto's update treats every resource whose template text or referenced parameters changed as a
modification, whatever its Condition now says. So a resource whose condition turned false was
"updated" with the new (now meaningless) property values, which fails (a subscription filter
with an empty LogGroupName) and fails the whole update; and one whose condition turned true was
never created when its own properties did not change. CloudFormation instead deletes the first
and creates the second.
"""

from collections.abc import Callable
from typing import Any

_PATCHED_MARK = "_localcloud_conditional_updates"


def condition_holds(resource_map: Any, spec: Any) -> bool:
    """Whether a resource's Condition (if any) is true with the map's current parameters."""
    condition = spec.get("Condition") if isinstance(spec, dict) else None
    return condition is None or bool(resource_map.lazy_condition_map[condition])


def _delete_if_present(resource_map: Any, logical_id: str, spec: dict[str, Any]) -> None:
    existing = resource_map._parsed_resources.pop(logical_id, None)
    if existing is not None:
        resource_map._delete_resource(existing, spec)


def reconcile_conditions(stack: Any) -> None:
    """Create / delete resources whose Condition flipped with new parameter values."""
    resource_map = stack.resource_map
    for logical_id, spec in list(resource_map._resource_json_map.items()):
        if not isinstance(spec, dict) or spec.get("Condition") is None:
            continue
        existing = resource_map._parsed_resources.get(logical_id)
        if not condition_holds(resource_map, spec):
            _delete_if_present(resource_map, logical_id, spec)
        elif existing is None:
            resource_map._parsed_resources.pop(logical_id, None)
            resource_map[logical_id]  # moto's lazy map creates the resource on first access


def _condition_aware(original: Callable[..., Any]) -> Callable[..., Any]:
    def parse_and_update_resource(
        logical_id: str,
        resource_json: dict[str, Any],
        resources_map: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        # moto has loaded the new parameters' conditions before it modifies resources.
        if not condition_holds(resources_map, resource_json):
            _delete_if_present(resources_map, logical_id, resource_json)
            return None
        if resources_map._parsed_resources.get(logical_id) is None:
            resources_map._parsed_resources.pop(logical_id, None)
            return resources_map[logical_id]  # it did not exist: create, do not update
        return original(logical_id, resource_json, resources_map, account_id, region_name)

    return parse_and_update_resource


def install_conditional_updates() -> None:
    from moto.cloudformation import parsing

    if getattr(parsing, _PATCHED_MARK, False):
        return
    patched = _condition_aware(parsing.parse_and_update_resource)
    setattr(parsing, "parse_and_update_resource", patched)  # noqa: B010
    setattr(parsing, _PATCHED_MARK, True)
