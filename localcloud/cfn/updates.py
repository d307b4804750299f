"""Updates that CloudFormation makes in place, where moto replaces the resource.

moto updates an `AWS::Events::Rule` by deleting it and creating one under a newly generated name.
On AWS a rule without a `Name` keeps its name (and ARN) when its schedule, pattern or targets
change ("Update requires: No interruption"), so whatever names it, a function's invoke permission
(`SourceArn`) for one, keeps working. Here the new rule gets the old name.
"""

from typing import Any

_INSTALLED_MARK = "_localcloud_in_place"


def install_rule_updates_in_place() -> None:
    from moto.events.models import Rule

    if getattr(Rule, _INSTALLED_MARK, False):
        return
    original = Rule.update_from_cloudformation_json

    def update(
        cls: Any,
        *,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        if not cloudformation_json.get("Properties", {}).get("Name"):
            new_resource_name = original_resource.name
        return original(
            original_resource=original_resource,
            new_resource_name=new_resource_name,
            cloudformation_json=cloudformation_json,
            account_id=account_id,
            region_name=region_name,
        )

    setattr(Rule, "update_from_cloudformation_json", classmethod(update))  # noqa: B010
    setattr(Rule, _INSTALLED_MARK, True)
