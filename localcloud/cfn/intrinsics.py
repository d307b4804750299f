"""AWS::NoValue inside lists, as CloudFormation treats it.

`[A, {"Fn::If": [Cond, B, {"Ref": "AWS::NoValue"}]}]` is `[A]` when Cond is false. moto drops
NoValue from maps but leaves None in lists, which breaks models that index each entry (an IAM
role's Policies, for one).
"""

from collections.abc import Callable
from typing import Any

_PATCHED_MARK = "_localcloud_novalue_lists"


def _dropping_none_from_lists(original: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def clean_json(resource_json: Any, resources_map: Any) -> Any:
        cleaned = original(resource_json, resources_map)
        if isinstance(resource_json, list) and isinstance(cleaned, list):
            return [item for item in cleaned if item is not None]
        return cleaned

    setattr(clean_json, _PATCHED_MARK, True)
    return clean_json


def install_novalue_lists() -> None:
    from moto.cloudformation import parsing

    if getattr(parsing.clean_json, _PATCHED_MARK, False):
        return
    # clean_json recurses through the module global, so every nested list is covered too.
    setattr(parsing, "clean_json", _dropping_none_from_lists(parsing.clean_json))  # noqa: B010
