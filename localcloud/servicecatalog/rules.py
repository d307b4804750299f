"""CloudFormation rule evaluation (TEMPLATE constraints and a template's own Rules section).

Rule functions per the CloudFormation docs: Fn::And, Fn::Contains, Fn::EachMemberEquals,
Fn::EachMemberIn, Fn::Equals, Fn::Not, Fn::Or, and Ref to a parameter. Fn::ValueOf/RefAll need
AWS-specific parameter types and live resources, which a local cloud does not have.
"""

from collections.abc import Callable
from typing import Any

from .exceptions import InvalidParametersException

Values = dict[str, Any]


def parameter_values(template: dict[str, Any], given: dict[str, str]) -> Values:
    """The value of every template parameter (given or default); list types become lists."""
    values: Values = {}
    for name, spec in (template.get("Parameters") or {}).items():
        raw = given.get(name, spec.get("Default"))
        if raw is None:
            continue
        text = str(raw)
        is_list = str(spec.get("Type", "String")).startswith(("List<", "CommaDelimitedList"))
        values[name] = [item.strip() for item in text.split(",")] if is_list else text
    return values


def _evaluate(node: Any, values: Values) -> Any:
    if isinstance(node, dict) and len(node) == 1:
        name, argument = next(iter(node.items()))
        if name == "Ref":
            return _ref(argument, values)
        function = _FUNCTIONS.get(name)
        if function is None:
            raise InvalidParametersException(f"Rule function {name} is not supported")
        return function(argument, values)
    if isinstance(node, list):
        return [_evaluate(item, values) for item in node]
    return node


def _ref(name: str, values: Values) -> Any:
    if name not in values:
        raise InvalidParametersException(f"Rule refers to unknown parameter {name!r}")
    return values[name]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _fn_and(argument: Any, values: Values) -> bool:
    return all(_truthy(_evaluate(item, values)) for item in argument)


def _fn_or(argument: Any, values: Values) -> bool:
    return any(_truthy(_evaluate(item, values)) for item in argument)


def _fn_not(argument: Any, values: Values) -> bool:
    return not _truthy(_evaluate(_as_list(argument)[0], values))


def _fn_equals(argument: Any, values: Values) -> bool:
    left, right = (_evaluate(item, values) for item in argument)
    return bool(_normalise(left) == _normalise(right))


def _fn_contains(argument: Any, values: Values) -> bool:
    allowed, value = (_evaluate(item, values) for item in argument)
    return _normalise(value) in [_normalise(item) for item in _as_list(allowed)]


def _fn_each_member_equals(argument: Any, values: Values) -> bool:
    members, value = (_evaluate(item, values) for item in argument)
    return all(_normalise(member) == _normalise(value) for member in _as_list(members))


def _fn_each_member_in(argument: Any, values: Values) -> bool:
    members, allowed = (_evaluate(item, values) for item in argument)
    allowed_set = {_normalise(item) for item in _as_list(allowed)}
    return all(_normalise(member) in allowed_set for member in _as_list(members))


def _normalise(value: Any) -> Any:
    # Parameter values arrive as strings; rule literals may be numbers or booleans.
    if isinstance(value, bool):
        return str(value).lower()
    return value if isinstance(value, list) else str(value)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


_FUNCTIONS: dict[str, Callable[[Any, Values], Any]] = {
    "Fn::And": _fn_and,
    "Fn::Or": _fn_or,
    "Fn::Not": _fn_not,
    "Fn::Equals": _fn_equals,
    "Fn::Contains": _fn_contains,
    "Fn::EachMemberEquals": _fn_each_member_equals,
    "Fn::EachMemberIn": _fn_each_member_in,
}


def rule_violations(rules: dict[str, Any], values: Values) -> list[str]:
    """Messages of every failed assertion whose rule condition holds."""
    violations: list[str] = []
    for rule_name, rule in (rules or {}).items():
        condition = rule.get("RuleCondition")
        if condition is not None and not _truthy(_evaluate(condition, values)):
            continue
        for assertion in rule.get("Assertions", []):
            if not _truthy(_evaluate(assertion.get("Assert"), values)):
                description = assertion.get("AssertDescription", "Assertion failed")
                violations.append(f"Rule {rule_name}: {description}")
    return violations


def check_rules_document(rules: Any) -> None:
    """A TEMPLATE constraint's Rules must be a map of rules, each with a list of Assertions."""
    if not isinstance(rules, dict) or not rules:
        raise InvalidParametersException(
            "TEMPLATE constraint Parameters must contain a non-empty Rules map"
        )
    for name, rule in rules.items():
        assertions = rule.get("Assertions") if isinstance(rule, dict) else None
        if not isinstance(assertions, list) or not assertions:
            raise InvalidParametersException(f"Rule {name!r} must have a non-empty Assertions list")
        for assertion in assertions:
            if not isinstance(assertion, dict) or "Assert" not in assertion:
                raise InvalidParametersException(f"Rule {name!r} has an assertion without Assert")
