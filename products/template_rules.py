"""CloudFormation Rules evaluated on launch values, so `build`, `plan` and `launch` refuse what the
console would refuse (a template's own Rules, and the portfolio's TEMPLATE constraints).

The rule functions of the CloudFormation documentation that need no AWS lookup: Fn::And,
Fn::Contains, Fn::EachMemberEquals, Fn::EachMemberIn, Fn::Equals, Fn::Not, Fn::Or and Ref to a
parameter. (localcloud has its own evaluator: it emulates the service and imports nothing of ours.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from products.errors import BuildError

Values = Mapping[str, str | list[str]]


def parameter_values(template: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, Any]:
    """Every parameter's value (given, else its default); list types become lists."""
    values: dict[str, Any] = {}
    for name, spec in (template.get("Parameters") or {}).items():
        raw = given.get(name, spec.get("Default"))
        if raw is None:
            continue
        text = str(raw)
        listed = str(spec.get("Type", "String")).startswith(("List<", "CommaDelimitedList"))
        values[name] = [item.strip() for item in text.split(",")] if listed else text
    return values


def rule_violations(rules: Mapping[str, Any], values: Values) -> list[str]:
    """The AssertDescription of every failed assertion whose rule condition holds."""
    failed = []
    for rule in rules.values():
        condition = rule.get("RuleCondition")
        if condition is not None and not _truthy(_evaluate(condition, values)):
            continue
        for assertion in rule.get("Assertions", []):
            if not _truthy(_evaluate(assertion["Assert"], values)):
                failed.append(str(assertion.get("AssertDescription", "a rule's assertion failed")))
    return failed


def _evaluate(node: Any, values: Values) -> Any:
    if isinstance(node, dict) and len(node) == 1:
        name, argument = next(iter(node.items()))
        if name == "Ref":
            if argument not in values:
                raise BuildError(f"a rule refers to {argument!r}, not a parameter of the template")
            return values[argument]
        if name not in _FUNCTIONS:
            raise BuildError(f"rule function {name} cannot be checked before launch")
        return _FUNCTIONS[name](argument, values)
    if isinstance(node, list):
        return [_evaluate(item, values) for item in node]
    return node


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> Any:
    # Parameter values are strings; rule literals may be numbers or booleans.
    if isinstance(value, bool):
        return str(value).lower()
    return value if isinstance(value, list) else str(value)


def _truthy(value: Any) -> bool:
    return value.lower() == "true" if isinstance(value, str) else bool(value)


def _equals(argument: Any, values: Values) -> bool:
    left, right = (_text(_evaluate(item, values)) for item in argument)
    return bool(left == right)


def _contains(argument: Any, values: Values) -> bool:
    allowed, value = (_evaluate(item, values) for item in argument)
    return _text(value) in [_text(item) for item in _as_list(allowed)]


def _each_member_equals(argument: Any, values: Values) -> bool:
    members, value = (_evaluate(item, values) for item in argument)
    return all(_text(member) == _text(value) for member in _as_list(members))


def _each_member_in(argument: Any, values: Values) -> bool:
    members, allowed = (_evaluate(item, values) for item in argument)
    permitted = {_text(item) for item in _as_list(allowed)}
    return all(_text(member) in permitted for member in _as_list(members))


_FUNCTIONS: dict[str, Callable[[Any, Values], bool]] = {
    "Fn::And": lambda argument, values: all(_truthy(_evaluate(a, values)) for a in argument),
    "Fn::Or": lambda argument, values: any(_truthy(_evaluate(a, values)) for a in argument),
    "Fn::Not": lambda argument, values: not _truthy(_evaluate(_as_list(argument)[0], values)),
    "Fn::Equals": _equals,
    "Fn::Contains": _contains,
    "Fn::EachMemberEquals": _each_member_equals,
    "Fn::EachMemberIn": _each_member_in,
}
