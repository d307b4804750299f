"""Bucket-policy enforcement that ignores statements it cannot evaluate.

moto enforces bucket policies for principal "*" but skips their Condition blocks, so a common
statement such as "Deny s3:* when aws:SecureTransport is false" becomes an unconditional Deny and
every local PutObject/GetObject is Forbidden. Every local request is plain HTTP from the local
machine, so conditions (SecureTransport, PrincipalOrgID, SourceVpce, ...) cannot be judged as AWS
would; localcloud enforces only the unconditional statements.
"""

import json
from collections.abc import Callable
from typing import Any

_PATCHED_MARK = "_localcloud_policy_conditions"


def unconditional_statements(policy_text: str) -> str:
    document = json.loads(policy_text)
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    document["Statement"] = [s for s in statements if not s.get("Condition")]
    return json.dumps(document)


def _permission_without_conditions(original: Callable[..., Any]) -> Callable[..., Any]:
    def get_permission(bucket: Any, action: str, resource: str) -> Any:
        from moto.iam.access_control import IAMPolicy, PermissionResult

        if bucket.policy is None:
            return original(bucket, action, resource)
        policy = IAMPolicy(unconditional_statements(bucket.policy.decode()))
        result = policy.is_action_permitted(action, resource)
        return result if result is not None else PermissionResult.NEUTRAL

    return get_permission


def install_policy_condition_handling() -> None:
    from moto.s3.models import FakeBucket

    if getattr(FakeBucket, _PATCHED_MARK, False):
        return
    setattr(FakeBucket, "get_permission", _permission_without_conditions(FakeBucket.get_permission))  # noqa: B010
    setattr(FakeBucket, _PATCHED_MARK, True)
