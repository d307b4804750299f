"""The function's resource policy (AddPermission / AWS::Lambda::Permission) for a delivery."""

from __future__ import annotations

import fnmatch
from typing import Any

from .errors import DeliveryDenied

_INVOKE_ACTIONS = {"lambda:invokefunction", "lambda:*", "*"}


def check_delivery_allowed(
    function: Any, principal: str, source_arn: str | None, source_account: str | None
) -> None:
    """DeliveryDenied unless an Allow statement names this service and its conditions hold."""
    for statement in function.policy.statements:
        if _allows(statement, principal, source_arn, source_account):
            return
    raise DeliveryDenied(
        f"the resource policy of function {function.function_name} does not allow {principal} "
        f"to invoke it (source {source_arn or 'unknown'}, account {source_account or 'unknown'})"
    )


def _allows(
    statement: dict[str, Any], principal: str, source_arn: str | None, source_account: str | None
) -> bool:
    if statement.get("Effect", "Allow") != "Allow":
        return False
    if str(statement.get("Action", "")).lower() not in _INVOKE_ACTIONS:
        return False
    if not _principal_matches(statement.get("Principal"), principal):
        return False
    return _conditions_hold(statement.get("Condition") or {}, source_arn, source_account)


def _principal_matches(granted: Any, principal: str) -> bool:
    if granted in ("*", principal):
        return True
    if isinstance(granted, dict):
        services = granted.get("Service", [])
        services = [services] if isinstance(services, str) else services
        return principal in services or granted.get("AWS") == "*"
    return False


def _conditions_hold(
    conditions: dict[str, Any], source_arn: str | None, source_account: str | None
) -> bool:
    known = {"aws:sourcearn": source_arn, "aws:sourceaccount": source_account}
    for operator, tests in conditions.items():
        for key, expected in tests.items():
            actual = known.get(key.lower())
            if key.lower() not in known:
                continue  # other keys (aws:PrincipalOrgID) are not evaluated locally
            if actual is None or not _matches(operator, actual, expected):
                return False
    return True


def _matches(operator: str, actual: str, expected: Any) -> bool:
    options = expected if isinstance(expected, list) else [expected]
    if operator.lower() in ("arnlike", "stringlike"):
        return any(fnmatch.fnmatchcase(actual, str(option)) for option in options)
    return any(actual == str(option) for option in options)
